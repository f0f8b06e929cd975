"""Replay each real capture's request to the fake and compare what the capture establishes.

The captures (``<repo>/../shared/reference/real-captures``, never copied into the repository) are
real exchanges with Google's image models. For each one this test sends the recorded request (or,
where the capture kept no request, the smallest request its notes describe) and compares what the
capture shows: key paths and their order, usage relations, where signatures sit, how streams are cut
into events and how they end, error texts, body formatting, image format and size.

Values that depend on the model catalogue (output format, default size, token accounting) come from
``schemas/model_profiles.json``. Captures recorded before ``usageMetadata.serviceTier`` existed
(obs. 19: absent in 2025, present from about July 2026) are replayed ``--as-of`` a date of their era.
"""

from __future__ import annotations

import base64
import io
import json
import re
from functools import cache
from typing import Any

import httpx
import pytest
from PIL import Image

from mock_server.settings import Settings
from schemas import validator
from tests.support.fake import API_KEY, InProcess
from tests.support.real_captures import CAPTURES, capture_names, on_gemini_api, recorded_request
from tests.support.real_captures import load_capture as capture

pytestmark = pytest.mark.skipif(not CAPTURES.is_dir(), reason=f"real captures not found at {CAPTURES}")

# A date before the catalogue's serviceTierSince, when every 2025 capture's model was served.
BEFORE_SERVICE_TIER = "2026-01-01"

# Preview ids Google has shut down are replayed against the id that replaced them.
SUCCESSOR = {"gemini-2.5-flash-image-preview": "gemini-2.5-flash-image"}

# Captures that kept the response but not the request: the smallest request their notes describe.
RECONSTRUCTED: dict[str, dict[str, Any]] = {
    "public__gemini31flash_image_only_jpeg_1k": {
        "contents": [{"role": "user", "parts": [{"text": "a red apple"}]}],
        "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"imageSize": "1K"}},
    },
    "public__gemini25flashimage_sse_stream_text_then_image": {
        "contents": [{"role": "user", "parts": [{"text": "a psychedelic gonzo-journalism scene"}]}],
        "generationConfig": {"responseModalities": ["TEXT", "IMAGE"]},
    },
}


def names(predicate: Any) -> list[str]:
    return [name for name in capture_names() if predicate(name, capture(name))]


def request_of(name: str) -> dict[str, Any] | None:
    return recorded_request(capture(name)) or RECONSTRUCTED.get(name)


def model_of(name: str) -> str:
    model = str(capture(name)["model"]).split()[0]
    return SUCCESSOR.get(model, model)


@cache
def served(model: str) -> bool:
    return InProcess().request("GET", f"/v1beta/models/{model}", headers={"x-goog-api-key": API_KEY}).is_success


def era(name: str) -> str | None:
    """The --as-of date to replay a capture at: before serviceTier for captures that lack it."""
    chunks = capture(name)["response"].get("_sse_chunks") or [capture(name)["response"]]
    usages = [chunk["usageMetadata"] for chunk in chunks if isinstance(chunk, dict) and "usageMetadata" in chunk]
    return BEFORE_SERVICE_TIER if usages and not any("serviceTier" in usage for usage in usages) else None


def replay(name: str, *, stream: bool = False, version: str = "v1beta", **headers: str) -> httpx.Response:
    model, body = model_of(name), request_of(name)
    if body is None or not served(model):
        pytest.skip(f"{name}: no replayable request or model {model} not served")
    action = "streamGenerateContent?alt=sse" if stream else "generateContent"
    return InProcess(Settings(as_of=era(name))).request("POST", f"/{version}/models/{model}:{action}", json=body,
                                                        headers={"x-goog-api-key": API_KEY, **headers})


def key_paths(value: Any, prefix: str = "") -> list[str]:
    """Every object key's path in document order (list elements as ``[]``), without repeats."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            found += [path, *key_paths(item, path)]
    elif isinstance(value, list):
        for item in value:
            found += key_paths(item, f"{prefix}[]")
    return list(dict.fromkeys(found))


def alphabetical(data: dict[str, Any]) -> bool:
    """Whether the recorder sorted the keys (evidence B): then only the key *set* is Google's."""
    return "alphabetical" in json.dumps(data.get("key_order_note", "")) + str(data.get("evidence_level", ""))


def parts_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = document["candidates"][0]["content"].get("parts", [])
    return parts


def placement(parts: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    """(kind, signed) per part, the shape a client's multi-turn replay depends on."""
    def kind(part: dict[str, Any]) -> str:
        base = "image" if "inlineData" in part else "text"
        return f"thought-{base}" if part.get("thought") else base
    return [(kind(part), "thoughtSignature" in part) for part in parts]


def answer_kinds(document: dict[str, Any]) -> set[str]:
    return {kind for kind, _ in placement(parts_of(document))}


def keep_kinds(document: dict[str, Any], kinds: set[str]) -> dict[str, Any]:
    """``document`` with only the parts of ``kinds``: which of the allowed modalities a model answers
    with is its choice (obs. 22), the fake always draws what was allowed."""
    document = json.loads(json.dumps(document))
    content = document["candidates"][0]["content"]
    content["parts"] = [part for part in content.get("parts", []) if answer_kinds({"candidates": [
        {"content": {"parts": [part]}}]}) <= kinds]
    return document


def sse_events(response: httpx.Response) -> list[bytes]:
    raw = response.content
    assert raw.endswith(b"\r\n\r\n"), raw[-20:]
    return [event.removeprefix(b"data: ") for event in raw[:-4].split(b"\r\n\r\n")]


# --- non-streamed successes ------------------------------------------------------------------------

SUCCESSES = names(lambda name, data: data["status"] == 200 and on_gemini_api(data)
                  and isinstance(data.get("response"), dict) and "candidates" in data["response"]
                  and "stream" not in str(data["endpoint"]) and request_of(name) is not None)
IMAGE_SUCCESSES = [name for name in SUCCESSES
                   if any("inlineData" in part for part in parts_of(capture(name)["response"]))]
SIZED = [name for name in IMAGE_SUCCESSES if capture(name).get("images")]


@pytest.mark.parametrize("name", SUCCESSES)
def test_response_key_paths_match_the_capture(name: str) -> None:
    data = capture(name)
    response = replay(name)
    assert response.status_code == 200, response.text
    expected = [path for path in key_paths(data["response"]) if not path.startswith("usageMetadata")]
    document = response.json()
    if "image" in answer_kinds(data["response"]):
        document = keep_kinds(document, answer_kinds(data["response"]))
    else:  # the model chose to answer in text (obs. 22): compare all but the parts
        expected = [path for path in expected if ".parts" not in path]
    got = [path for path in key_paths(document) if not path.startswith("usageMetadata")
           and "x-gemini-image-kit-synthetic" not in path]  # the fake's marker on invented grounding
    if "image" not in answer_kinds(data["response"]):
        got = [path for path in got if ".parts" not in path]
    if alphabetical(data):
        assert sorted(got) == sorted(expected)
    else:
        assert got == expected


@pytest.mark.parametrize("name", IMAGE_SUCCESSES)
def test_signatures_sit_where_the_capture_has_them(name: str) -> None:
    recorded = capture(name)["response"]
    document = keep_kinds(replay(name).json(), answer_kinds(recorded))
    assert placement(parts_of(document)) == placement(parts_of(recorded))


def usage_relations(usage: dict[str, Any]) -> dict[str, Any]:
    """What a capture's usageMetadata establishes beyond its values."""
    image = sum(d["tokenCount"] for d in usage.get("candidatesTokensDetails", []) if d["modality"] == "IMAGE")
    candidates = usage.get("candidatesTokenCount", 0)
    return {
        "keys": sorted(usage),
        "total": "prompt+candidates+thoughts" if usage["totalTokenCount"] == usage["promptTokenCount"]
        + candidates + usage.get("thoughtsTokenCount", 0) else "other",
        "details": [d["modality"] for d in usage.get("candidatesTokensDetails", [])],
        "candidates_vs_image": "above" if candidates > image else "equal" if candidates == image else "below",
        "image_tokens": image,
        "service_tier": usage.get("serviceTier"),
    }


@pytest.mark.parametrize("name", IMAGE_SUCCESSES)
def test_usage_relations_match_the_capture(name: str) -> None:
    response = replay(name)
    assert usage_relations(response.json()["usageMetadata"]) == usage_relations(capture(name)["response"]
                                                                                  ["usageMetadata"])


def test_a_text_only_answer_has_no_candidate_details() -> None:
    """obs. 15: a text-only reply from an image model itemises nothing (checked on the fake's text_only)."""
    name = "pydantic-ai__test_google_image_or_text_output__g2.5-flash-img-preview__1"
    assert "candidatesTokensDetails" not in capture(name)["response"]["usageMetadata"]
    response = replay(name, **{"x-mock-scenario": "text_only"})
    assert response.status_code == 200
    assert "candidatesTokensDetails" not in response.json()["usageMetadata"]


def decoded_image(document: dict[str, Any]) -> tuple[str, str, tuple[int, int]]:
    part = next(part for part in parts_of(document) if "inlineData" in part)
    with Image.open(io.BytesIO(base64.b64decode(part["inlineData"]["data"]))) as image:
        return part["inlineData"]["mimeType"], str(image.format), image.size


@pytest.mark.parametrize("name", SIZED)
def test_image_format_and_size_match_the_capture(name: str) -> None:
    recorded = capture(name)["images"][0]
    mime, fmt, size = decoded_image(replay(name).json())
    assert (fmt, size) == (recorded["format"], (recorded["width"], recorded["height"]))
    assert mime == recorded.get("declared_mimeType", f"image/{recorded['format'].lower()}")


def test_bodies_are_pretty_printed_like_google() -> None:
    """obs. 1: two-space indentation, a trailing newline, Google's top-level key order."""
    reference = capture("js-genai__generateContent_raw_format_reference_non_image")
    raw = reference["raw_body_head"]
    assert raw.endswith("}\n") and raw.startswith('{\n  "candidates"')
    body = {"contents": [{"role": "user", "parts": [{"text": "a lighthouse"}]}]}
    response = InProcess().generate("gemini-2.5-flash-image", body)
    text = response.text
    assert text == json.dumps(response.json(), indent=2, ensure_ascii=False) + "\n"
    assert list(response.json()) == list(json.loads(raw))


# --- streams ---------------------------------------------------------------------------------------

def answered_like(recorded: list[dict[str, Any]], events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The fake's events without those of a modality the model chose not to answer with (obs. 22)."""
    def closing(event: dict[str, Any]) -> bool:
        return parts_of(event) == [{"text": ""}]
    kinds = set().union(*(answer_kinds(event) for event in recorded if not closing(event)))
    return [event for event in events if closing(event) or answer_kinds(event) <= kinds]


PRO_STREAMS = names(lambda name, data: name.startswith("vercel-ai__issue10660_stream_3pro"))


@pytest.mark.parametrize("name", PRO_STREAMS)
def test_3_pro_stream_ends_with_a_closing_event_and_revises_usage_down(name: str) -> None:
    recorded = capture(name)["response"]["_sse_chunks"]
    response = replay(name, stream=True)
    assert response.status_code == 200, response.text
    events = answered_like(recorded, [json.loads(event) for event in sse_events(response)])
    assert len(events) == len(recorded) == 2
    image_event, closing = events
    assert [placement(parts_of(e)) for e in events] == [placement(parts_of(e)) for e in recorded]
    assert "finishReason" not in image_event["candidates"][0]
    assert parts_of(recorded[1]) == [{"text": ""}]  # the capture's closing event: an empty text part
    assert closing["candidates"][0] == recorded[1]["candidates"][0]
    first, last = image_event["usageMetadata"], closing["usageMetadata"]
    assert first["candidatesTokenCount"] == last["candidatesTokenCount"]
    assert last["thoughtsTokenCount"] < first["thoughtsTokenCount"]
    assert last["totalTokenCount"] < first["totalTokenCount"]
    assert len({event["responseId"] for event in events}) == 1


def test_stream_framing_headers_and_compact_spacing() -> None:
    """obs. 2: ``data: `` + single-line JSON with ``"key": value`` and ``,"next"``, CRLF CRLF,
    text/event-stream, Content-Disposition: attachment, no Content-Length."""
    name = "vercel-ai__issue10660_stream_3pro_a"
    response = replay(name, stream=True)
    google = capture("js-genai__stream_image_output_mldev_2025-07")["response_headers_of_note"]
    assert response.headers["content-type"] == google["Content-Type"] == "text/event-stream"
    assert response.headers["content-disposition"] == google["Content-Disposition"] == "attachment"
    assert "content-length" not in response.headers
    for event in sse_events(response):
        text = event.decode()
        assert text == json.dumps(json.loads(text), separators=(",", ": "), ensure_ascii=False)
    recorded, got = stream_key_paths(name, response)
    assert [[p for p in event if not p.startswith("usageMetadata")] for event in got] == \
        [[p for p in event if not p.startswith("usageMetadata")] for event in recorded]


def stream_key_paths(name: str, response: httpx.Response) -> tuple[list[list[str]], list[list[str]]]:
    """Key paths per event in wire order: the byte-faithful capture's, and the fake's."""
    raw_head = capture(name)["raw_body_head"]
    recorded = [json.loads(line) for line in re.sub(r"<B64 \d+ chars elided>", "x", raw_head).split("\r\n") if line]
    events = answered_like(recorded, [json.loads(event) for event in sse_events(response)])
    return [key_paths(event) for event in recorded], [key_paths(event) for event in events]


def test_stream_usage_keys_in_googles_order() -> None:
    recorded, got = stream_key_paths("vercel-ai__issue10660_stream_3pro_a",
                                     replay("vercel-ai__issue10660_stream_3pro_a", stream=True))
    assert [[p for p in event if p.startswith("usageMetadata")] for event in got] == \
        [[p for p in event if p.startswith("usageMetadata")] for event in recorded]


def test_2_5_stream_puts_finish_reason_on_the_image_event() -> None:
    name = "public__gemini25flashimage_sse_stream_text_then_image"
    recorded = capture(name)["response"]["_sse_chunks"]
    assert "inlineData" in parts_of(recorded[-1])[0] and "finishReason" in recorded[-1]["candidates"][0]
    response = replay(name, stream=True)
    events = [json.loads(event) for event in sse_events(response)]
    last = events[-1]
    assert [kind for kind, _ in placement(parts_of(last))] == ["image"]
    assert last["candidates"][0]["finishReason"] == "STOP"
    assert all("finishReason" not in event["candidates"][0] for event in events[:-1])
    assert all(kind == "text" for event in events[:-1] for kind, _ in placement(parts_of(event)))
    # The caption streams first, in word-sized deltas, candidatesTokenCount growing (obs. 6).
    assert len(recorded) > 2 and len(events) > 2
    counts = [event["usageMetadata"].get("candidatesTokenCount", 0) for event in events]
    assert counts == sorted(counts) and counts[0] < counts[-2]
    caption = "".join(parts_of(event)[0]["text"] for event in events[:-1])
    whole = InProcess().generate(model_of(name), request_of(name) or {}).json()
    assert caption == parts_of(whole)[0]["text"]
    # candidatesTokensDetails first appears with the image (obs. 8).
    with_details = ["candidatesTokensDetails" in event["usageMetadata"] for event in events]
    assert with_details == [False] * (len(events) - 1) + [True]


# --- errors ----------------------------------------------------------------------------------------

def test_unknown_model_on_the_stream_endpoint_is_byte_identical() -> None:
    """obs. 9: plain pretty JSON labelled text/event-stream; the text says generateContent."""
    name = "js-genai__stream_404_unknown_model"
    data = capture(name)
    response = InProcess().request("POST", "/v1beta/models/custom-gemini-2.0-flash:streamGenerateContent?alt=sse",
                                   json=data["request"], headers={"x-goog-api-key": API_KEY})
    assert response.status_code == 404
    assert response.headers["content-type"] == data["response_headers_of_note"]["Content-Type"]
    assert response.text == data["raw_body_head"]


@pytest.mark.parametrize("name", names(lambda name, data: data["status"] == 404 and on_gemini_api(data)
                                       and isinstance(data.get("response"), dict)
                                       and "stream" not in str(data["endpoint"])))
def test_unknown_model_texts_match(name: str) -> None:
    expected = capture(name)["response"]["error"]
    model = expected["message"].split()[0].removeprefix("models/")
    response = InProcess().generate(model, {"contents": [{"parts": [{"text": "hi"}]}]})
    assert response.status_code == 404
    got = response.json()["error"]
    assert (got["code"], got["status"], got["message"]) == (expected["code"], expected["status"], expected["message"])


def test_retired_preview_id_is_a_404() -> None:
    data = capture("issue__presenton402_404_25flashimagepreview_retired")
    response = InProcess().generate("gemini-2.5-flash-image-preview", {"contents": [{"parts": [{"text": "hi"}]}]})
    assert response.status_code == data["status"] == 404


def test_thinking_config_on_2_5_flash_image() -> None:
    """obs. 14: the 2026 text, exactly (the 2025 text named the model: error texts drift)."""
    expected = capture("issue__aistudiotoapi213_400_thinking_not_enabled_25flashimage")["response"]
    body = {"contents": [{"parts": [{"text": "a cat"}]}],
            "generationConfig": {"thinkingConfig": {"includeThoughts": True}}}
    response = InProcess().generate("gemini-2.5-flash-image", body)
    assert response.json() == expected
    older = capture("issue__openwebuifn189_400_thinking_not_enabled_25flashimagepreview")["response"]["error"]
    streamed = InProcess().request("POST", "/v1beta/models/gemini-2.5-flash-image:streamGenerateContent?alt=sse",
                                   json=body, headers={"x-goog-api-key": API_KEY})
    assert streamed.status_code == older["code"]
    assert streamed.json()["error"]["status"] == older["status"]
    assert streamed.json()["error"]["message"].startswith(older["message"].rsplit(" ", 1)[0])  # less the model


def test_missing_signature_on_the_stream_endpoint() -> None:
    """obs. 13: 1-based positions and Google's docs link; plain JSON, not an SSE event."""
    expected = capture("issue__archestra2548_400_missing_thought_signature_3pro_stream")["response"]
    jpeg = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 20, 30)).save(jpeg, "JPEG")
    image = {"inlineData": {"mimeType": "image/jpeg", "data": base64.b64encode(jpeg.getvalue()).decode()}}
    body = {"contents": [
        {"role": "user", "parts": [{"text": "draw a moon"}]},
        {"role": "user", "parts": [{"text": "at night"}]},
        {"role": "model", "parts": [image]},
        {"role": "user", "parts": [{"text": "make it blue"}]},
    ]}
    response = InProcess().request("POST", "/v1beta/models/gemini-3-pro-image-preview:streamGenerateContent?alt=sse",
                                   json=body, headers={"x-goog-api-key": API_KEY})
    assert response.headers["content-type"].startswith("text/event-stream")
    assert not response.text.startswith("data:")
    assert response.json() == expected


def test_unknown_field_text_and_field_violation() -> None:
    expected = capture("issue__reqllm517_400_unknown_outputMimeType_25flashimage")["response"]
    body = {"contents": [{"parts": [{"text": "a cat"}]}],
            "generationConfig": {"imageConfig": {"aspectRatio": "3:4", "outputMimeType": "png"}}}
    assert InProcess().generate("gemini-2.5-flash-image", body).json() == expected


def test_overloaded_text() -> None:
    expected = capture("issue__litellm18118_503_overloaded_3pro")["response"]
    body = {"contents": [{"parts": [{"text": "a cat"}]}]}
    response = InProcess().generate("gemini-3-pro-image-preview", body, headers={"x-mock-scenario": "overloaded"})
    assert response.json() == expected
    assert response.text.endswith("}\n")


METRIC_LINE = re.compile(r"^\* Quota exceeded for metric: (\S+), limit: (\d+), model: (\S+)$")


def test_rate_limit_text_quota_lines_and_quota_model() -> None:
    """obs. 26: per-metric lines, 'Please retry in …s.', Google's quota model name for 2.5 Flash Image."""
    recent = capture("issue__jsgenai1322_429_quota_25flashimage_and_v1_400")["response"]["error"]
    older = capture("issue__nanobanana9_429_quota_msg_with_retry_text")["response"]["error"]
    detailed = capture("issue__geminicli8437_429_quota_25flashimagepreview")["response"]["error"]
    body = {"contents": [{"parts": [{"text": "a cat"}]}]}
    response = InProcess().generate("gemini-2.5-flash-image", body, headers={"x-mock-scenario": "rate_limited"})
    assert response.status_code == 429
    error = response.json()["error"]
    head = recent["message"].split("\n* <truncated")[0]
    assert error["message"].startswith(head)
    lines = error["message"].split("\n")
    assert lines[0] == recent["message"].split("\n")[0]
    metric_lines = [METRIC_LINE.match(line) for line in lines[1:-1]]
    assert metric_lines and all(metric_lines)
    assert re.fullmatch(r"Please retry in \d+(\.\d+)?s\.", lines[-1])
    assert older["message"].split("\n")[-1].startswith("Please retry in ")
    failure = next(d for d in error["details"] if d["@type"].endswith("QuotaFailure"))
    recorded_failure = next(d for d in detailed["details"] if d["@type"].endswith("QuotaFailure"))
    assert len(failure["violations"]) == len(metric_lines) <= len(recorded_failure["violations"])
    assert [v["quotaMetric"] for v in failure["violations"]] == [m.group(1) for m in metric_lines if m]
    expected_model = recorded_failure["violations"][0]["quotaDimensions"]["model"]
    assert {v["quotaDimensions"]["model"] for v in failure["violations"]} == {expected_model}
    assert {m.group(3) for m in metric_lines if m} == {expected_model}


# --- countTokens -----------------------------------------------------------------------------------

def test_count_tokens_carries_content_and_system_instruction_tokens() -> None:
    """obs. 29, byte-faithful capture: key order, the breakdown, pretty-printing."""
    data = capture("js-genai__countTokens_mldev_2025-07")
    recorded = json.loads(data["raw_body_head"])
    response = InProcess().request("POST", "/v1beta/models/gemini-2.5-flash-image:countTokens", json=data["request"],
                                   headers={"x-goog-api-key": API_KEY})
    assert response.status_code == 200, response.text
    got = response.json()
    assert key_paths(got) == key_paths(recorded)
    assert response.text == json.dumps(got, indent=2) + "\n"
    breakdown = sum(sum(c["partTokens"]) + c.get("roleTokens", 0) for c in got["contentTokens"])
    assert breakdown == got["totalTokens"] == sum(d["tokenCount"] for d in got["promptTokensDetails"])


@pytest.mark.parametrize("name", names(lambda name, data: "countTokens" in str(data["endpoint"])))
def test_googles_count_tokens_answers_conform_to_the_schema(name: str) -> None:
    """The schema the proxy (and any contract check) judges countTokens by accepts Google's fields."""
    assert not list(validator("count_tokens_response").iter_errors(capture(name)["response"]))
