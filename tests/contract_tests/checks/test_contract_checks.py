"""Each check judged on hand-made exchanges: the failures a defect run cannot show, and the skips."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from PIL import Image

from contract_tests.checks import CHECKS, CheckContext, Skip
from contract_tests.config import RunConfig
from contract_tests.generation.cases import Case, Exchange, Expectation
from schemas import load_profile_book

MODEL = "gemini-3-pro-image-preview"
CONFIG = RunConfig(base_url="http://127.0.0.1:1", api_key="k", models=(MODEL,))


def png(width: int, height: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 20, 30)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def exchange(case: Case, status: int, body: Any, content_type: str = "application/json; charset=UTF-8") -> Exchange:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Exchange(0, case, "http://x", {}, None, status=status, headers={"content-type": content_type}, body=raw)


def judge(check_id: str, ex: Exchange, config: RunConfig = CONFIG) -> list[Any]:
    return CHECKS[check_id].run(ex, CheckContext(config))


def generate_case(**changes: Any) -> Case:
    fields: dict[str, Any] = {"purpose": "generate", "label": "t", "model": MODEL,
                              "expect": Expectation(aspect_ratio="16:9", image_size="1K"), **changes}
    return Case(**fields)


def good_response(width: int = 1376, height: int = 768, **changes: Any) -> dict[str, Any]:
    profile = load_profile_book().get(MODEL)
    assert profile is not None
    tokens = profile.output_tokens_per_image("1K")
    return {
        "candidates": [{"content": {"role": "model", "parts": [
            {"inlineData": {"mimeType": "image/png", "data": png(width, height)}, "thoughtSignature": "c2ln"}]},
            "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": tokens, "thoughtsTokenCount": 100,
                          "totalTokenCount": 5 + tokens + 100,
                          "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": tokens}]},
        "modelVersion": MODEL, "responseId": "abc", **changes,
    }


def test_a_conforming_response_passes_every_content_check() -> None:
    ex = exchange(generate_case(), 200, good_response())
    for check_id in ("response_schema_conformance", "image_payload", "image_dimensions", "usage_arithmetic",
                     "model_identity", "thought_signatures", "image_present_or_explained",
                     "status_code_conformance", "content_type_conformance", "not_a_server_error"):
        assert judge(check_id, ex) == [], check_id


def test_profile_dimensions_are_exact_and_come_from_the_profile() -> None:
    profile = load_profile_book().get(MODEL)
    assert profile is not None
    width, height = profile.dimensions("16:9", "1K")
    assert judge("image_dimensions", exchange(generate_case(), 200, good_response(width, height))) == []
    failures = judge("image_dimensions", exchange(generate_case(), 200, good_response(width - 16, height)))
    assert failures and failures[0].expected == f"{width}x{height}"
    assert failures[0].pointer == "/candidates/0/content/parts/0/inlineData/data"


def test_status_code_conformance_fails_on_a_refused_valid_request_and_mismatched_codes() -> None:
    envelope = {"error": {"code": 400, "message": "no", "status": "INVALID_ARGUMENT"}}
    assert judge("status_code_conformance", exchange(generate_case(), 400, envelope))[0].expected == 200
    mismatch = judge("status_code_conformance", exchange(generate_case(purpose="negative"), 403, envelope))
    assert [f.message for f in mismatch] == ["HTTP status and error.code disagree"]
    odd = judge("status_code_conformance", exchange(generate_case(purpose="negative"), 418, {}))
    assert "documents" in odd[0].message


def test_content_type_conformance_fails_on_html_error_pages() -> None:
    failures = judge("content_type_conformance", exchange(generate_case(), 502, b"<html>", "text/html"))
    assert failures[0].expected == "application/json"


def test_casing_tolerance_fails_when_snake_case_is_refused_and_skips_camel_case() -> None:
    assert judge("casing_tolerance", exchange(generate_case(purpose="casing", casing="snake"), 400, {}))
    with pytest.raises(Skip):
        judge("casing_tolerance", exchange(generate_case(casing="camel"), 200, good_response()))


def test_auth_styles_fails_only_for_required_styles() -> None:
    refused_query = exchange(generate_case(purpose="auth", auth="query"), 401, {})
    assert judge("auth_styles", refused_query) == []
    strict = RunConfig(base_url="http://127.0.0.1:1", required_auth=("header", "query"))
    assert judge("auth_styles", refused_query, strict)[0].message == "required auth style 'query' was refused"


def test_models_endpoint_fails_when_the_model_is_missing_or_insane() -> None:
    listing = Case(purpose="models", label="list", model="", method="GET", action="")
    assert "not listed" in judge("models_endpoint", exchange(listing, 200, {"models": []}))[0].message
    get = Case(purpose="models", label="get", model=MODEL, method="GET", action="")
    bad = {"name": f"models/{MODEL}", "version": "3", "inputTokenLimit": 0, "outputTokenLimit": 1,
           "supportedGenerationMethods": ["countTokens"]}
    messages = {f.message for f in judge("models_endpoint", exchange(get, 200, bad))}
    assert messages == {"generateContent is not among supportedGenerationMethods",
                        "inputTokenLimit is not a positive integer"}


def sse(*events: dict[str, Any]) -> bytes:
    return b"".join(b"data: " + json.dumps(event).encode() + b"\r\n\r\n" for event in events)


def test_streaming_skips_on_404_passes_a_good_stream_and_fails_a_bad_one() -> None:
    case = generate_case(purpose="stream", action="streamGenerateContent")
    with pytest.raises(Skip):
        judge("streaming", exchange(case, 404, {}))
    first = {"candidates": [{"content": {"role": "model", "parts": [{"text": "hi"}]}, "index": 0}],
             "responseId": "abc", "modelVersion": MODEL}
    good = sse(first, good_response())
    assert judge("streaming", exchange(case, 200, good, "text/event-stream")) == []
    bad = sse(first, good_response(responseId="other", candidates=[{"content": {"role": "model"}, "index": 0}]))
    messages = {f.message for f in judge("streaming", exchange(case, 200, bad, "text/event-stream"))}
    assert messages == {"responseId differs between chunks", "last chunk has no finishReason",
                        "no final image in the stream"}


def test_image_present_accepts_documented_explanations() -> None:
    no_image = good_response(candidates=[{"content": {"role": "model"}, "finishReason": "NO_IMAGE", "index": 0}])
    assert judge("image_present_or_explained", exchange(generate_case(), 200, no_image)) == []
    blocked = {"promptFeedback": {"blockReason": "OTHER"}, "modelVersion": MODEL, "responseId": "x"}
    assert judge("image_present_or_explained", exchange(generate_case(), 200, blocked)) == []


def test_error_envelope_catches_an_envelope_inside_the_message() -> None:
    inner = json.dumps({"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}})
    case = generate_case(purpose="negative", expect=Expectation(error="candidate_count"))
    body = {"error": {"code": 400, "message": inner, "status": "INVALID_ARGUMENT"}}
    assert [f.message for f in judge("error_envelope", exchange(case, 400, body))] == [
        "error message is itself an encoded error envelope"]


def test_usage_arithmetic_counts_tool_use_and_checks_prompt_details() -> None:
    response = good_response()
    usage = response["usageMetadata"]
    usage["toolUsePromptTokenCount"] = 7
    usage["totalTokenCount"] += 7
    usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": 4}]
    messages = [f.message for f in judge("usage_arithmetic", exchange(generate_case(), 200, response))]
    assert messages == ["promptTokensDetails do not sum to promptTokenCount"]


def test_every_check_has_a_documented_meaning_and_severity() -> None:
    for check in CHECKS.values():
        assert len(check.meaning) > 80, check.id
        assert check.severity in ("security", "critical", "major", "minor")


@pytest.mark.parametrize("signature", ["!!!", "c2ln$", "", None])
def test_thought_signatures_refuses_signatures_that_are_not_base64(signature: Any) -> None:
    body = good_response()
    body["candidates"][0]["content"]["parts"][0]["thoughtSignature"] = signature
    failures = judge("thought_signatures", exchange(generate_case(), 200, body))
    assert [failure.message for failure in failures] == ["final image part lacks a valid thoughtSignature"]


@pytest.mark.parametrize("signature", ["c2ln", "c2lnbmF0dXJl", "c2lnbmF0dXJl_-8", "c2lnbmF0dXJl/+8="])
def test_thought_signatures_accepts_every_proto3_base64_spelling(signature: str) -> None:
    body = good_response()
    body["candidates"][0]["content"]["parts"][0]["thoughtSignature"] = signature
    assert judge("thought_signatures", exchange(generate_case(), 200, body)) == []
