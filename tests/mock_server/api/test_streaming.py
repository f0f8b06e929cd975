"""streamGenerateContent: SDK streams over loopback, raw SSE framing, the JSON-array stream, errors."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import httpx
import pytest
from google import genai
from google.genai import errors, types
from PIL import Image

from mock_server.api.streaming import _body, _framed
from mock_server.instrument.scenarios import StreamPlan
from mock_server.settings import Settings
from mock_server.testing import RunningServer
from schemas import ModelProfile, load_profile_book, validator
from schemas import scenario_catalogue as catalogue
from tests.support.fake import API_KEY, InProcess, error_of, text_request

PRO = "gemini-3-pro-image-preview"
FLASH = "gemini-3.1-flash-image-preview"
SCENARIO_HEADER = catalogue()["headerName"]


def thinking_body(prompt: str = "a lighthouse at dawn", size: str = "1K") -> dict[str, Any]:
    body = text_request(prompt, aspectRatio="1:1", imageSize=size)
    body["generationConfig"]["thinkingConfig"] = {"includeThoughts": True}
    return body


def stream(fake: InProcess, model: str, body: dict[str, Any], alt: str | None = "sse",
           headers: dict[str, str] | None = None) -> httpx.Response:
    query = f"?alt={alt}" if alt else ""
    return fake.request("POST", f"/v1beta/models/{model}:streamGenerateContent{query}", json=body,
                        headers={"x-goog-api-key": API_KEY, **(headers or {})})


def sse_events(response: httpx.Response, separator: bytes = b"\r\n\r\n") -> list[dict[str, Any]]:
    """Parse strictly: every event is one 'data: ' line ended by the separator, nothing else."""
    raw = response.content
    assert raw.endswith(separator)
    events = []
    for event in raw[: -len(separator)].split(separator):
        assert event.startswith(b"data: ") and b"\n" not in event and b"\r" not in event, event[:80]
        events.append(json.loads(event[len(b"data: "):]))
    return events


def check_chunks(chunks: list[dict[str, Any]]) -> None:
    """The real stream's invariants (facts §6) and the schema, for every chunk."""
    for chunk in chunks:
        assert not list(validator("generate_content_response").iter_errors(chunk))
    assert len({chunk["responseId"] for chunk in chunks}) == 1
    finished = ["finishReason" in chunk["candidates"][0] for chunk in chunks]
    assert finished == [False] * (len(chunks) - 1) + [True]
    previous = 0
    for chunk in chunks:
        usage = chunk["usageMetadata"]
        candidates = usage.get("candidatesTokenCount", 0)
        assert candidates >= previous
        previous = candidates
        assert usage["totalTokenCount"] == usage["promptTokenCount"] + candidates + usage.get("thoughtsTokenCount", 0)
        assert chunk["candidates"][0]["content"]["parts"], "no empty chunk (the SDK chat would drop the turn)"


def test_sse_framing_order_and_usage(fake: InProcess) -> None:
    response = stream(fake, PRO, thinking_body())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    chunks = sse_events(response)
    check_chunks(chunks)
    thought_flags = [bool(c["candidates"][0]["content"]["parts"][0].get("thought")) for c in chunks]
    assert thought_flags == sorted(thought_flags, reverse=True) and thought_flags[0], "thoughts first"
    # Gemini 3 closes with an empty text event after the image (real-captures obs. 6).
    assert chunks[-1]["candidates"][0]["content"] == {"parts": [{"text": ""}], "role": "model"}
    last_parts = [c["candidates"][0]["content"]["parts"][0] for c in chunks[:-1] if not
                  c["candidates"][0]["content"]["parts"][0].get("thought")]
    assert "text" in last_parts[0] and "inlineData" in last_parts[-1], "then text, then the image"
    # The stream is the non-streamed answer, split: same parts, same final usage.
    whole = fake.generate(PRO, thinking_body()).json()
    assert [p for c in chunks[:-1] for p in c["candidates"][0]["content"]["parts"]] == \
        whole["candidates"][0]["content"]["parts"]
    assert chunks[-1]["usageMetadata"] == whole["usageMetadata"]
    assert chunks[0]["usageMetadata"]["thoughtsTokenCount"] == whole["usageMetadata"]["thoughtsTokenCount"]


def test_sse_lf_setting() -> None:
    response = stream(InProcess(Settings(sse_line_ending="lf")), FLASH, text_request("x", imageSize="512"))
    assert b"\r" not in response.content
    check_chunks(sse_events(response, b"\n\n"))


@pytest.mark.parametrize("alt", [None, "json"])
def test_json_array_stream(fake: InProcess, alt: str | None) -> None:
    response = stream(fake, FLASH, thinking_body(size="512"), alt=alt)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    chunks = json.loads(response.content)
    assert isinstance(chunks, list) and len(chunks) > 2
    check_chunks(chunks)


def test_errors_before_the_first_byte_are_plain_error_responses(fake: InProcess) -> None:
    # Plain pretty JSON, labelled text/event-stream on alt=sse as Google labels it (obs. 9).
    unknown = stream(fake, "gemini-9-image", text_request())
    assert unknown.headers["content-type"] == "text/event-stream"
    assert (unknown.status_code, unknown.json()["error"]["status"]) == (404, "NOT_FOUND")
    assert "not supported for generateContent" in unknown.json()["error"]["message"]
    bad_ratio = stream(fake, PRO, text_request(aspectRatio="7:3"), alt=None)
    assert (bad_ratio.status_code, error_of(bad_ratio)["status"]) == (400, "INVALID_ARGUMENT")
    assert stream(fake, PRO, text_request(), alt="xml").status_code == 400
    no_key = fake.request("POST", f"/v1beta/models/{PRO}:streamGenerateContent?alt=sse", json=text_request())
    assert no_key.status_code == 403


def test_stream_can_end_with_an_error_chunk(fake: InProcess) -> None:
    headers = {SCENARIO_HEADER: "stream_cut"}
    events = sse_events(stream(fake, PRO, thinking_body(), headers=headers))
    assert "candidates" in events[0] and set(events[-1]) == {"error"}
    assert events[-1]["error"]["code"] == 500
    assert not list(validator("error").iter_errors(events[-1]))
    array = json.loads(stream(fake, PRO, thinking_body(), alt=None, headers=headers).content)
    assert "candidates" in array[0] and set(array[-1]) == {"error"}


def _collect(plan: StreamPlan | None, sse: bool) -> bytes:
    events = _framed([({"n": 1}, {}), ({"n": 2}, {}), ({"n": 3}, {})], sse, b"\r\n\r\n")

    async def run() -> bytes:
        return b"".join([piece async for piece in _body(events, sse, b"\r\n\r\n", plan, 0.0, 0.0)])

    return asyncio.run(run())


def test_stream_body_cut_and_drop() -> None:
    assert json.loads(_collect(None, sse=False)) == [{"n": 1}, {"n": 2}, {"n": 3}]
    dropped = _collect(StreamPlan(cut="drop", after_chunks=2), sse=False)
    assert dropped.startswith(b"[") and not dropped.endswith(b"]") and b'"n": 3' not in dropped
    from mock_server.web.errors import ApiError

    error = ApiError.named("overloaded")
    assert json.loads(_collect(StreamPlan(cut="error_chunk", after_chunks=0, error=error), sse=False)) == \
        [error.to_dict()]
    sse = _collect(StreamPlan(cut="error_chunk", after_chunks=1, error=error), sse=True).split(b"\r\n\r\n")
    assert json.loads(sse[1][len(b"data: "):])["error"]["code"] == 503


def _client(server: RunningServer, **http: Any) -> genai.Client:
    return genai.Client(api_key=API_KEY, http_options=types.HttpOptions(
        base_url=server.base_url, api_version="v1beta", **http))


def test_sdk_stream_yields_thoughts_then_the_image(live_server: RunningServer) -> None:
    config = types.GenerateContentConfig(image_config=types.ImageConfig(aspect_ratio="16:9", image_size="512"),
                                         thinking_config=types.ThinkingConfig(include_thoughts=True))
    client = _client(live_server)  # keep a reference: a collected client closes its connection pool
    chunks = list(client.models.generate_content_stream(model=FLASH, contents="a cat", config=config))
    parts = [part for chunk in chunks for part in chunk.candidates[0].content.parts]  # type: ignore[index,union-attr]
    assert parts[0].thought
    final = [p for p in parts if p.inline_data and not p.thought]
    assert len(final) == 1 and final[0].thought_signature
    profile: ModelProfile = load_profile_book().get(FLASH)  # type: ignore[assignment]
    assert Image.open(io.BytesIO(final[0].inline_data.data)).size == profile.dimensions("16:9", "512")  # type: ignore
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP  # type: ignore[index]
    assert len({chunk.response_id for chunk in chunks}) == 1


def test_sdk_raises_on_a_mid_stream_error(live_server: RunningServer) -> None:
    client = _client(live_server, headers={SCENARIO_HEADER: "stream_cut"})
    received = []
    with pytest.raises(errors.ServerError) as raised:
        for chunk in client.models.generate_content_stream(model=PRO, contents="a cat"):
            received.append(chunk)
    assert received and raised.value.code == 500


def test_sdk_chat_stream_keeps_signatures_for_the_next_turn(live_server: RunningServer) -> None:
    client = _client(live_server)
    chat = client.chats.create(model=FLASH, config=types.GenerateContentConfig(
        image_config=types.ImageConfig(image_size="512")))
    list(chat.send_message_stream("a red fox"))
    follow_up = list(chat.send_message_stream("make it night"))  # 400 if a streamed signature was lost
    assert follow_up[-1].candidates[0].finish_reason == types.FinishReason.STOP  # type: ignore[index]


def test_repeated_text_streams_share_their_encoding_but_not_their_ids_or_scenarios() -> None:
    """A planned reply's events are encoded once: a repeat differs only in its responseId (one per
    stream, in every event), in both framings; a content scenario on the same body is its own stream."""
    fake = InProcess()
    body = text_request("a short caption please")
    body["generationConfig"] = {"responseModalities": ["TEXT"]}
    first, second = (stream(fake, "gemini-2.5-flash-image", body) for _ in range(2))
    ids = [{event["responseId"] for event in sse_events(answer)} for answer in (first, second)]
    assert len(ids[0]) == len(ids[1]) == 1 and ids[0] != ids[1]
    (first_id,), (second_id,) = ids
    assert first.content.replace(first_id.encode(), second_id.encode()) == second.content
    as_array = [stream(fake, "gemini-2.5-flash-image", body, alt=None) for _ in range(2)]
    assert [len({chunk["responseId"] for chunk in json.loads(answer.content)}) for answer in as_array] == [1, 1]
    assert json.loads(as_array[0].content)[0]["responseId"] != json.loads(as_array[1].content)[0]["responseId"]
    blocked = stream(fake, "gemini-2.5-flash-image", body, headers={SCENARIO_HEADER: "prompt_blocked"})
    assert [event.get("promptFeedback") for event in sse_events(blocked)][-1] == {"blockReason": "OTHER"}
    assert b"promptFeedback" not in stream(fake, "gemini-2.5-flash-image", body).content
