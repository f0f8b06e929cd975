"""Vertex AI's discovery-document Interactions methods (mock_server/api/vertex/interactions_rpc.py):
the transcoded ``interactions:create`` / ``:createStream`` / ``{id}:poll`` / ``:stream`` / ``:cancel`` and
the raw-body ``interactionsHttp``, as curl would send them: in-process and once on uvicorn."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import httpx
from PIL import Image

from mock_server.testing import RunningServer
from schemas import load_profile_book
from tests.support.fake import InProcess, error_of

BOOK = load_profile_book()
PRO = "gemini-3-pro-image-preview"
PARENT = "/v1beta1/projects/proj-1/locations/global"
BEARER = {"authorization": "Bearer ya29.fake-access-token"}


def proto_body(**interaction: Any) -> dict[str, Any]:
    """A CreateInteractionRequest: the interaction in proto-JSON (camelCase, oneof wrappers)."""
    return {"interaction": {"modelInteraction": {"model": PRO}} | interaction}


def events_of(body: bytes) -> list[dict[str, Any]]:
    """The JSON events of an SSE body, the closing ``[DONE]`` left out (and checked to be last)."""
    blocks = [block for block in body.decode().split("\n\n") if block.strip()]
    assert blocks[-1].endswith("data: [DONE]")
    return [json.loads(line[5:]) for block in blocks[:-1] for line in block.splitlines() if line.startswith("data:")]


def image_size(document: dict[str, Any]) -> tuple[int, int]:
    blocks = [block for step in document["steps"] if step["type"] == "model_output" for block in step["content"]
              if block["type"] == "image"]
    assert len(blocks) == 1
    with Image.open(io.BytesIO(base64.b64decode(blocks[0]["data"]))) as image:
        return image.size


def test_create_reads_the_proto_body_and_poll_reads_it_back(fake: InProcess) -> None:
    body = proto_body(stringContent="a red kite over dunes",
                      responseFormatList={"responseFormats": [{"image": {"aspectRatio": "16:9", "imageSize": "1K"}}]})
    created = fake.request("POST", f"{PARENT}/interactions:create", json=body, headers=BEARER)
    assert created.status_code == 200, created.text
    document = created.json()
    assert document["status"] == "completed" and document["model"] == PRO
    assert image_size(document) == BOOK.profiles[PRO].dimensions("16:9", "1K")
    polled = fake.request("GET", f"/v1beta1/interactions/{document['id']}:poll?stream=true", headers=BEARER)
    assert polled.headers["content-type"].startswith("application/json")  # the unary method never streams
    assert polled.json()["id"] == document["id"] and polled.json()["steps"][-1] == document["steps"][-1]
    scoped = fake.request("GET", f"{PARENT}/interactions/{document['id']}:poll", headers=BEARER)
    assert scoped.json() == polled.json()


def test_step_list_with_wrapped_content_and_a_resource_name(fake: InProcess) -> None:
    body = proto_body(
        stepList={"steps": [{"userInput": {"content": [{"text": {"text": "a teapot"}}]}}]},
        responseFormatSingleton={"image": {"aspectRatio": "9:16"}},
        id="ignored", status="COMPLETED")  # output-only fields in a request are ignored
    body["interaction"]["modelInteraction"]["model"] = f"publishers/google/models/{PRO}"
    created = fake.request("POST", f"{PARENT}/interactions:create", json=body, headers=BEARER)
    assert created.status_code == 200, created.text
    default_size = BOOK.profiles[PRO].default_image_size
    assert image_size(created.json()) == BOOK.profiles[PRO].dimensions("9:16", default_size)
    got = fake.request("GET", f"/v1beta1/interactions/{created.json()['id']}", headers=BEARER).json()
    assert got["steps"][0] == {"type": "user_input", "content": [{"type": "text", "text": "a teapot"}]}


def test_create_stream_streams_what_a_streamed_rest_create_streams(fake: InProcess) -> None:
    streamed = fake.request("POST", f"{PARENT}/interactions:createStream",
                            json=proto_body(stringContent="a lighthouse") | {"stream": False}, headers=BEARER)
    assert streamed.status_code == 200 and streamed.headers["content-type"].startswith("text/event-stream")
    rest = fake.request("POST", f"{PARENT}/interactions", headers=BEARER,
                        json={"model": PRO, "input": "a lighthouse", "stream": True})
    kinds = [event["event_type"] for event in events_of(streamed.content)]
    assert kinds == [event["event_type"] for event in events_of(rest.content)]
    assert kinds[0] == "interaction.created" and "step.delta" in kinds


def test_stream_resumes_after_last_event_id(fake: InProcess) -> None:
    created = fake.request("POST", f"{PARENT}/interactions:create", json=proto_body(stringContent="a fox"),
                           headers=BEARER).json()
    whole = events_of(fake.request("GET", f"/v1beta1/interactions/{created['id']}:stream", headers=BEARER).content)
    resumed = fake.request("GET", f"/v1beta1/interactions/{created['id']}:stream?lastEventId=2", headers=BEARER)
    assert resumed.headers["content-type"].startswith("text/event-stream")
    assert events_of(resumed.content) == [event for event in whole if int(event["event_id"]) > 2]
    rest = fake.request("GET", f"/v1beta1/interactions/{created['id']}?stream=true&last_event_id=2", headers=BEARER)
    assert events_of(rest.content) == events_of(resumed.content)


def test_interactions_http_takes_the_rest_body(fake: InProcess) -> None:
    created = fake.request("POST", f"{PARENT}/interactionsHttp", headers=BEARER,
                           json={"model": PRO, "input": "a kite", "response_format": [{"type": "image",
                                                                                       "aspect_ratio": "4:3"}]})
    assert created.status_code == 200, created.text
    assert image_size(created.json()) == BOOK.profiles[PRO].dimensions("4:3", BOOK.profiles[PRO].default_image_size)


def test_cancel_is_the_shared_cancel(fake: InProcess) -> None:
    created = fake.request("POST", f"{PARENT}/interactions:create", json=proto_body(stringContent="a fox"),
                           headers=BEARER).json()
    finished = fake.request("POST", f"/v1beta1/interactions/{created['id']}:cancel", headers=BEARER)
    assert finished.status_code == 400 and "cannot be cancelled" in error_of(finished)["message"]
    unknown = fake.request("POST", "/v1beta1/interactions/v1_nothing:cancel", headers=BEARER)
    assert unknown.status_code == 404 and error_of(unknown)["status"] == "NOT_FOUND"


def test_bad_requests_get_googles_envelope(fake: InProcess) -> None:
    def post(body: Any, **kwargs: Any) -> httpx.Response:
        return fake.request("POST", f"{PARENT}/interactions:create", headers=kwargs.pop("headers", BEARER),
                            **({"content": body} if isinstance(body, bytes) else {"json": body}), **kwargs)

    unknown_model = post({"interaction": {"modelInteraction": {"model": "gemini-0"}, "stringContent": "x"}})
    assert unknown_model.status_code == 404
    assert "Publisher Model `projects/proj-1/locations/global/publishers/google/models/gemini-0`" in (
        error_of(unknown_model)["message"])
    for bad in (proto_body(stringContent="x", bogusField=1), b"[1,2", {"interaction": "x"}, proto_body(),
                {"interaction": {"modelInteraction": "x", "stringContent": "y"}}):
        refused = post(bad)
        assert refused.status_code == 400, (bad, refused.text)
        assert error_of(refused)["status"] == "INVALID_ARGUMENT"
    assert post(proto_body(stringContent="x"), headers={}).status_code == 401
    missing = fake.request("GET", "/v1beta1/interactions/v1_nothing:poll", headers=BEARER)
    assert missing.status_code == 404 and error_of(missing)["code"] == 404


def test_create_stream_on_uvicorn(live_server: RunningServer) -> None:
    url = f"{live_server.base_url}{PARENT}/interactions:createStream"
    with httpx.Client(timeout=30) as client, client.stream(
            "POST", url, headers=BEARER | {"accept": "text/event-stream"},
            json=proto_body(stringContent="a harbour", responseFormatList={"responseFormats": [
                {"image": {"aspectRatio": "1:1"}}]})) as response:
        assert response.status_code == 200
        events = events_of(response.read())
    assert events[0]["event_type"] == "interaction.created" and events[-1]["event_type"] == "interaction.completed"
    interaction_id = events[0]["interaction"]["id"]
    polled = httpx.get(f"{live_server.base_url}/v1beta1/interactions/{interaction_id}:poll", headers=BEARER)
    assert polled.status_code == 200 and polled.json()["status"] == "completed"
