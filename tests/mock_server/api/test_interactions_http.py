"""Raw Interactions shapes over plain HTTP (in-process ASGI), checked against schemas/interactions."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio.from_thread
import httpx
import pytest
from PIL import Image

from mock_server.app import create_app
from mock_server.settings import Settings
from mock_server.state.interaction_store import MemoryInteractionStore
from schemas.interactions import validator
from schemas.wire.sse import parse_sse

PRO, FLASH25 = "gemini-3-pro-image-preview", "gemini-2.5-flash-image"
KEY = {"x-goog-api-key": "test-key"}


def valid(name: str, document: Any) -> None:
    errors = [error.message for error in validator(name).iter_errors(document)]
    assert not errors, errors


def _decoded(block: dict[str, Any]) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(block["data"])))


@contextmanager
def client(**settings: Any) -> Iterator[httpx.Client]:
    """A synchronous client for the fake in-process (ASGI in a portal thread, as the contract runner does)."""
    transport = httpx.ASGITransport(app=create_app(Settings(**settings)))  # type: ignore[arg-type]
    with anyio.from_thread.start_blocking_portal() as portal:

        class Sync(httpx.BaseTransport):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                content = request.read()

                async def call() -> httpx.Response:
                    forwarded = httpx.Request(request.method, request.url, headers=request.headers, content=content)
                    response = await transport.handle_async_request(forwarded)
                    return httpx.Response(response.status_code, headers=response.headers,
                                          content=await response.aread())

                return portal.call(call)

        with httpx.Client(transport=Sync(), base_url="http://fake") as sync_client:
            yield sync_client


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with client() as sync_client:
        yield sync_client


@pytest.mark.parametrize("version", ["v1", "v1beta"])
def test_create_shape(http: httpx.Client, version: str) -> None:
    body = {"model": PRO, "input": "a cat", "response_format": {"type": "image", "aspect_ratio": "4:3",
                                                                "image_size": "1K", "mime_type": "image/jpeg"}}
    response = http.post(f"/{version}/interactions", json=body, headers=KEY)
    assert response.status_code == 200
    document = response.json()
    valid("interaction", document)
    assert list(document)[:8] == ["id", "object", "status", "model", "created", "updated", "service_tier", "steps"]
    assert document["object"] == "interaction" and document["service_tier"] == "standard"
    image = document["steps"][1]["content"][0]
    assert image["mime_type"] == "image/jpeg" and _decoded(image).size == (1200, 896)
    usage = document["usage"]
    assert usage["total_tokens"] == sum(usage[k] for k in ("total_input_tokens", "total_output_tokens",
                                                           "total_thought_tokens", "total_tool_use_tokens"))
    assert usage["total_cached_tokens"] == 0  # zero totals are emitted
    assert "output_text" not in document and "output_image" not in document


def test_input_spellings_and_deprecated_options(http: httpx.Client) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (600, 300), (200, 30, 30)).save(buffer, "PNG")
    data = base64.b64encode(buffer.getvalue()).decode()
    content_list = [{"type": "text", "text": "make it green"},
                    {"type": "image", "data": data, "mime_type": "image/png"}]
    response = http.post("/v1beta/interactions", headers=KEY, json={
        "model": FLASH25, "input": content_list, "response_modalities": ["image"],
        "generation_config": {"image_config": {"aspect_ratio": "21:9"}, "temperature": 0.3},
        "system_instruction": "be brief", "service_tier": "flex",
    })
    document = response.json()
    assert response.status_code == 200, document
    assert document["service_tier"] == "flex"
    [output] = document["steps"]  # 2.5 Flash Image does not think: no thought step
    assert [block["type"] for block in output["content"]] == ["image"]
    assert _decoded(output["content"][0]).size == (1536, 672)
    single = http.post("/v1/interactions", headers=KEY, json={"model": FLASH25, "input": content_list[0]})
    assert single.status_code == 200 and [b["type"] for b in single.json()["steps"][0]["content"]] == ["text", "image"]


def test_stateless_history_of_steps(http: httpx.Client) -> None:
    first = http.post("/v1/interactions", headers=KEY, json={"model": PRO, "input": "a tower", "store": False}).json()
    assert "id" not in first
    steps = [{"type": "user_input", "content": [{"type": "text", "text": "a tower"}]}, *first["steps"],
             {"type": "user_input", "content": [{"type": "text", "text": "add a flag"}]}]
    second = http.post("/v1/interactions", headers=KEY, json={"model": PRO, "input": steps})
    assert second.status_code == 200, second.text
    # A forged signature fails exactly as a generateContent history would.
    steps[1] = {"type": "thought", "signature": base64.b64encode(b"forged").decode()}
    forged = http.post("/v1/interactions", headers=KEY, json={"model": PRO, "input": steps})
    assert forged.status_code == 400 and forged.json()["error"]["code"] == "invalid_request"


def test_stream_framing(http: httpx.Client) -> None:
    response = http.post("/v1beta/interactions", headers=KEY, json={"model": PRO, "input": "a bridge", "stream": True})
    assert response.headers["content-type"].startswith("text/event-stream")
    text = response.text
    assert text.endswith("event: done\ndata: [DONE]\n\n")
    blocks = [block for block in text.split("\n\n") if block]
    events = parse_sse(text.rsplit("event: done", 1)[0].encode())
    for block, event in zip(blocks, events, strict=False):
        assert block.startswith(f"event: {event['event_type']}\ndata: ")
        valid("sse_event", event)
    kinds = [event["event_type"] for event in events]
    assert kinds == ["interaction.created", "interaction.status_update",
                     "step.start", "step.delta", "step.stop",
                     "step.start", "step.delta", "step.delta", "step.stop", "interaction.completed"]
    assert events[3]["delta"]["type"] == "thought_signature"
    assert [event["index"] for event in events[2:9]] == [1, 1, 1, 2, 2, 2, 2]
    assert "steps" not in events[-1]["interaction"] and events[-1]["interaction"]["usage"]["total_tokens"] > 0


def test_stream_cut_by_scenario(http: httpx.Client) -> None:
    response = http.post("/v1beta/interactions", headers={**KEY, "x-mock-scenario": "stream_cut"},
                         json={"model": FLASH25, "input": "a bridge", "stream": True})
    events = parse_sse(response.content)
    assert events[-1]["event_type"] == "error" and set(events[-1]["error"]) == {"message", "code"}
    valid("sse_event", events[-1])
    assert "[DONE]" not in response.text


@pytest.mark.parametrize(("body", "headers", "status", "code"), [
    ({"model": FLASH25, "input": "x", "response_format": {"type": "image", "image_size": "4K"}}, KEY, 400,
     "invalid_request"),
    ({"model": FLASH25, "input": "x", "response_format": {"type": "audio"}}, KEY, 400, "invalid_request"),
    ({"model": FLASH25, "input": "x", "generation_config": {"thinking_level": "low"}}, KEY, 400, "invalid_request"),
    ({"model": FLASH25, "input": "x", "store": False, "background": True}, KEY, 400, "invalid_request"),
    ({"model": FLASH25, "input": [{"type": "image", "data": "!!!", "mime_type": "image/png"}]}, KEY, 400,
     "invalid_request"),
    ({"input": "x"}, KEY, 400, "invalid_request"),
    ({"model": "gemini-9-imaginary", "input": "x"}, KEY, 404, "not_found"),
    ({"model": FLASH25, "input": "x"}, {}, 403, "permission_denied"),
])
def test_errors_in_the_interactions_envelope(http: httpx.Client, body: dict[str, Any], headers: dict[str, str],
                                             status: int, code: str) -> None:
    response = http.post("/v1beta/interactions", json=body, headers=headers)
    assert response.status_code == status, response.text
    valid("error", response.json())
    assert response.json()["error"]["code"] == code


def test_malformed_json_and_wrong_key() -> None:
    with client(api_keys=("right-key",)) as plain:
        bad_json = plain.post("/v1/interactions", content=b"{nope", headers={"x-goog-api-key": "right-key"})
        wrong = plain.post("/v1/interactions", json={"model": FLASH25, "input": "x"},
                           headers={"x-goog-api-key": "wrong-key"})
    assert bad_json.status_code == 400 and bad_json.json()["error"]["code"] == "invalid_request"
    assert wrong.status_code == 400 and "wrong-key" not in wrong.text


def test_get_cancel_delete(http: httpx.Client) -> None:
    created = http.post("/v1/interactions", headers=KEY, json={"model": FLASH25, "input": "a kettle"}).json()
    path = f"/v1/interactions/{created['id']}"
    fetched = http.get(path, headers=KEY, params={"stream": "false"}).json()
    valid("interaction", fetched)
    assert fetched["steps"][0] == {"type": "user_input", "content": [{"type": "text", "text": "a kettle"}]}
    no_input = http.get(path, headers=KEY, params={"include_input": "false"}).json()
    assert [step["type"] for step in no_input["steps"]] == ["model_output"]
    replayed = parse_sse(http.get(path, headers=KEY, params={"stream": "true"}).content.split(b"event: done")[0])
    assert replayed[-1]["event_type"] == "interaction.completed"
    not_running = http.post(f"{path}/cancel", headers=KEY)
    assert not_running.status_code == 400 and not_running.json()["error"]["code"] == "invalid_request"
    assert http.delete(path, headers=KEY).json() == {}
    assert http.get(path, headers=KEY).status_code == 404


def test_delete_can_answer_501_as_observed() -> None:
    with client(interactions_delete="not_implemented") as plain:
        response = plain.delete("/v1beta/interactions/v1_any", headers=KEY)
    assert response.status_code == 501
    assert response.json() == {"error": {"message": "Operation is not implemented, or supported, or enabled.",
                                         "code": "not_implemented"}}


def test_journal_and_prompt_marker(http: httpx.Client) -> None:
    failed = http.post("/v1/interactions", headers=KEY, json={"model": FLASH25, "input": "x [mock:rate_limited]"})
    assert failed.status_code == 429 and failed.json()["error"]["code"] == "resource_exhausted"
    assert failed.headers["retry-after"]
    entry = http.get("/_mock/requests").json()["requests"][-1]
    assert (entry["path"], entry["model"], entry["status"], entry["scenario"]) == (
        "/v1/interactions", FLASH25, 429, "rate_limited")
    assert "test-key" not in str(entry)


def test_store_is_bounded_by_bytes() -> None:
    clock = [0.0]
    store = MemoryInteractionStore(max_bytes=200, ttl_seconds=10, clock=lambda: clock[0])
    for number in range(5):
        store.put(f"v1_{number}", {"interaction": {"n": number, "pad": "x" * 40}, "history": None})
    assert store.bytes_used <= 200 and store.ids()[-1] == "v1_4" and store.get("v1_0") is None
    clock[0] = 11.0
    assert store.get("v1_4") is None and store.ids() == []
    assert store.delete("v1_3") is True and store.delete("v1_3") is False


def test_rule_matches_the_body_model_and_models_prefix_is_accepted(http: httpx.Client) -> None:
    rule = {"name": "pro-only", "match": {"model": "gemini-3-pro-*"}, "scenario": "overloaded"}
    assert http.post("/_mock/scenarios/rules", json=rule).status_code == 200
    refused = http.post("/v1/interactions", headers=KEY, json={"model": f"models/{PRO}", "input": "x"})
    served = http.post("/v1/interactions", headers=KEY, json={"model": f"models/{FLASH25}", "input": "x"})
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "unavailable"
    assert served.status_code == 200 and served.json()["model"] == FLASH25


def test_cli_options() -> None:
    from mock_server.cli import build_parser, settings_from_args

    args = build_parser().parse_args(["serve", "--interactions-delete", "not_implemented",
                                      "--interactions-store-bytes", "1000", "--interactions-ttl", "60"])
    settings = settings_from_args(args)
    assert (settings.interactions_delete, settings.interactions_store_bytes, settings.interactions_ttl_seconds) == (
        "not_implemented", 1000, 60)


def test_other_methods_get_405_in_the_interactions_envelope(http: httpx.Client) -> None:
    for method, path in (("GET", "/v1/interactions"), ("PUT", "/v1beta/interactions/v1_x"),
                         ("GET", "/v1/interactions/v1_x/cancel")):
        response = http.request(method, path, headers=KEY)
        assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed", path


def test_stream_resumes_after_last_event_id(http: httpx.Client) -> None:
    body = {"model": PRO, "input": "a lantern", "stream": True}
    created = parse_sse(http.post("/v1/interactions", headers=KEY, json=body).content.split(b"event: done")[0])
    assert [event["event_id"] for event in created] == [str(n) for n in range(1, len(created) + 1)]
    interaction_id = created[0]["interaction"]["id"]
    resumed = http.get(f"/v1/interactions/{interaction_id}", headers=KEY,
                       params={"stream": "true", "last_event_id": "3"})
    events = parse_sse(resumed.content.split(b"event: done")[0])
    assert [event["event_id"] for event in events] == [event["event_id"] for event in created[3:]]
    assert [event["event_type"] for event in events] == [event["event_type"] for event in created[3:]]
    bad = http.get(f"/v1/interactions/{interaction_id}", headers=KEY, params={"stream": "true", "last_event_id": "x"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_request"
