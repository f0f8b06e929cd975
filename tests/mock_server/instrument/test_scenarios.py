"""Scenarios through the official SDK over loopback: errors, content shapes, transport faults, rules."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from google import genai
from google.genai import errors, types

from mock_server.settings import Settings
from mock_server.testing import RunningServer, serve_in_thread
from schemas import error_catalogue, load_profile_book, validator
from tests.support.fake import InProcess, text_request

PRO = "gemini-3-pro-image-preview"
FLASH = "gemini-3.1-flash-image-preview"
KEY = "scenario-test-key"
CONFIG = types.GenerateContentConfig(image_config=types.ImageConfig(image_size="1K"))


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with serve_in_thread(Settings(port=0, time_scale=0.001)) as running:
        yield running


def client(server: RunningServer, headers: dict[str, str] | None = None, **options: Any) -> genai.Client:
    http = types.HttpOptions(base_url=server.base_url, api_version="v1beta", headers=headers or {}, **options)
    return genai.Client(api_key=KEY, http_options=http)


def raw(server: RunningServer, scenario: str | None, body: Any = None, model: str = PRO) -> httpx.Response:
    headers = {"x-goog-api-key": KEY} | ({"X-Mock-Scenario": scenario} if scenario else {})
    return httpx.post(f"{server.base_url}/v1beta/models/{model}:generateContent",
                      json=body or text_request("a red fox", imageSize="1K"), headers=headers, timeout=30)


@pytest.mark.parametrize(("name", "exc_type", "code", "status"), [
    ("rate_limited", errors.ClientError, 429, "RESOURCE_EXHAUSTED"),
    ("overloaded", errors.ServerError, 503, "UNAVAILABLE"),
    ("internal", errors.ServerError, 500, "INTERNAL"),
    ("deadline_exceeded", errors.ServerError, 504, "DEADLINE_EXCEEDED"),
])
def test_error_scenarios_raise_the_sdk_exception(server: RunningServer, name: str, exc_type: type, code: int,
                                                 status: str) -> None:
    sdk = client(server, {"X-Mock-Scenario": name})
    with pytest.raises(exc_type) as caught:
        sdk.models.generate_content(model=PRO, contents="a red fox", config=CONFIG)
    assert (caught.value.code, caught.value.status) == (code, status)
    # The 429 adds its per-quota lines and the retry line after the catalogue's head (obs. 26).
    assert (caught.value.message or "").startswith(error_catalogue()["errors"][name]["message"])
    response = raw(server, name)
    assert response.status_code == code
    assert not list(validator("error").iter_errors(response.json()))


def test_rate_limited_carries_quota_help_retry_info_and_retry_after(server: RunningServer) -> None:
    response = raw(server, "rate_limited")
    assert response.headers["retry-after"] == "26"
    details = {d["@type"].rsplit(".", 1)[1]: d for d in response.json()["error"]["details"]}
    assert set(details) == {"QuotaFailure", "Help", "RetryInfo"}
    assert details["RetryInfo"]["retryDelay"] == "26s"
    assert details["QuotaFailure"]["violations"][0]["quotaDimensions"]["model"] == PRO


def _document(server: RunningServer, name: str, model: str = PRO) -> dict[str, Any]:
    response = raw(server, name, model=model)
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    assert not list(validator("generate_content_response").iter_errors(document))
    usage = document["usageMetadata"]
    addends = ("promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount")
    assert usage["totalTokenCount"] == sum(usage.get(name, 0) for name in addends)
    return document


def test_prompt_blocked(server: RunningServer) -> None:
    document = _document(server, "prompt_blocked")
    assert "candidates" not in document
    assert document["promptFeedback"] == {"blockReason": "OTHER"}
    assert document["usageMetadata"]["totalTokenCount"] == document["usageMetadata"]["promptTokenCount"]
    sdk = client(server, {"X-Mock-Scenario": "prompt_blocked"})
    result = sdk.models.generate_content(model=PRO, contents="a red fox", config=CONFIG)
    assert result.prompt_feedback.block_reason == types.BlockedReason.OTHER
    assert not result.candidates


@pytest.mark.parametrize("name", ["image_safety", "image_prohibited_content"])
def test_blocked_output_is_billed_like_google(server: RunningServer, name: str) -> None:
    document = _document(server, name)
    candidate = document["candidates"][0]
    assert candidate["finishReason"] == name.upper()
    assert candidate["finishMessage"] == error_catalogue()["finishMessages"][name.upper()]
    assert candidate["content"] == {"role": "model"}
    usage = document["usageMetadata"]
    assert "candidatesTokenCount" not in usage and "candidatesTokensDetails" not in usage
    assert usage["thoughtsTokenCount"] > 0  # thinking is billed even when the image is withheld


def test_no_image_and_text_only(server: RunningServer) -> None:
    no_image = _document(server, "no_image", model=FLASH)["candidates"][0]
    assert no_image["finishReason"] == "NO_IMAGE" and "parts" not in no_image["content"]
    text_only = _document(server, "text_only")
    parts = text_only["candidates"][0]["content"]["parts"]
    assert [list(p) for p in parts] == [["text", "thoughtSignature"]]
    assert "candidatesTokensDetails" not in text_only["usageMetadata"]
    sdk = client(server, {"X-Mock-Scenario": "text_only"})
    result = sdk.models.generate_content(model=PRO, contents="a red fox", config=CONFIG)
    assert result.text and not any(p.inline_data for p in result.candidates[0].content.parts)


def test_thought_images(server: RunningServer) -> None:
    document = _document(server, "thought_images")
    parts = document["candidates"][0]["content"]["parts"]
    thought_images = [p for p in parts if p.get("thought") and "inlineData" in p]
    assert len(thought_images) == 2
    assert all("thoughtSignature" not in p for p in parts if p.get("thought"))
    final = [p for p in parts if not p.get("thought") and "inlineData" in p]
    assert len(final) == 1 and "thoughtSignature" in final[0]
    assert thought_images[-1]["inlineData"]["data"] == final[0]["inlineData"]["data"]


def test_prompt_marker_selects_a_scenario(server: RunningServer) -> None:
    sdk = client(server)
    with pytest.raises(errors.ServerError) as caught:
        sdk.models.generate_content(model=PRO, contents="a red fox [mock:overloaded]", config=CONFIG)
    assert caught.value.code == 503


def test_a_scenario_never_leaks_into_the_cached_plan(server: RunningServer) -> None:
    body = text_request("the same body twice", imageSize="1K")
    blocked = raw(server, "image_safety", body).json()
    assert blocked["candidates"][0]["finishReason"] == "IMAGE_SAFETY"
    normal = raw(server, None, body).json()
    assert normal["candidates"][0]["finishReason"] == "STOP"
    assert any("inlineData" in p for p in normal["candidates"][0]["content"]["parts"])


def test_bad_input_keeps_its_4xx_and_unknown_scenarios_are_400(server: RunningServer) -> None:
    bad = raw(server, "overloaded", text_request("x", aspectRatio="7:3"))
    assert bad.status_code == 400 and bad.json()["error"]["status"] == "INVALID_ARGUMENT"
    unknown = raw(server, "no_such_scenario")
    assert unknown.status_code == 400 and "no_such_scenario" in unknown.json()["error"]["message"]
    assert not list(validator("error").iter_errors(unknown.json()))


def test_transport_faults(server: RunningServer) -> None:
    reset = client(server, {"X-Mock-Scenario": "connection_reset"})
    with pytest.raises(Exception) as caught:
        reset.models.generate_content(model=PRO, contents="a red fox", config=CONFIG)
    assert type(caught.value).__name__ in ("RemoteProtocolError", "ReadError")
    malformed = raw(server, "malformed_body")
    assert malformed.status_code == 200 and malformed.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        malformed.json()
    sdk = client(server, {"X-Mock-Scenario": "malformed_body"})
    with pytest.raises(ValueError):
        sdk.models.generate_content(model=PRO, contents="a red fox", config=CONFIG)


def test_slow_takes_the_p99_latency_scaled(server: RunningServer) -> None:
    _median, p99 = load_profile_book().get(PRO).latency_ms("1K")  # type: ignore[union-attr]
    started = time.monotonic()
    assert raw(server, "slow").status_code == 200
    assert time.monotonic() - started >= p99 / 1000 * 0.001


def test_stream_cut_raises_mid_stream(server: RunningServer) -> None:
    sdk = client(server, {"X-Mock-Scenario": "stream_cut"})
    received = []
    with pytest.raises(errors.ServerError) as caught:
        for chunk in sdk.models.generate_content_stream(model=FLASH, contents="a red fox", config=CONFIG):
            received.append(chunk)
    assert caught.value.code == 500
    assert len(received) == 1
    assert not any(c.candidates and c.candidates[0].finish_reason for c in received)


def test_retries_succeed_after_503_twice(tmp_path: Path) -> None:
    rules = {"rules": [{"name": "flaky", "match": {"model": "gemini-3-pro-*", "path": "*:generateContent"},
                        "sequence": ["overloaded", "overloaded"]}]}
    (tmp_path / "rules.json").write_text(json.dumps(rules))
    with serve_in_thread(Settings(port=0, scenarios_file=str(tmp_path / "rules.json"))) as running:
        retry = types.HttpRetryOptions(attempts=3, initial_delay=0.01, max_delay=0.05)
        sdk = client(running, retry_options=retry)  # (keep a reference: the SDK closes clients on GC)
        result = sdk.models.generate_content(model=PRO, contents="a red fox", config=CONFIG)
        assert result.candidates[0].finish_reason == types.FinishReason.STOP
        calls = httpx.get(f"{running.base_url}/_mock/requests").json()["requests"]
        assert [(c["status"], c["scenario"]) for c in calls] == [(503, "overloaded"), (503, "overloaded"), (200, None)]
        state = httpx.get(f"{running.base_url}/_mock/scenarios/rules").json()["rules"]
        assert state[0]["fired"] == 2 and state[0]["spent"]


def test_rules_change_at_run_time() -> None:
    fake = InProcess(Settings())
    rule = {"match": {"prompt": "(?i)fox", "header": {"x-team": "blue*"}}, "scenario": "rate_limited",
            "times": 1, "params": {"retryAfterSeconds": 2}}
    assert fake.request("POST", "/_mock/scenarios/rules", json=rule).status_code == 200
    headers = {"x-team": "blue-1"}
    assert fake.generate(PRO, text_request("a cat"), headers=headers).status_code == 200  # prompt differs
    limited = fake.generate(PRO, text_request("a Fox"), headers=headers)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    assert fake.generate(PRO, text_request("a fox"), headers=headers).status_code == 200  # times: 1
    assert fake.request("PUT", "/_mock/scenarios/rules", json={"rules": [{"scenario": "bogus"}]}).status_code == 400
    assert fake.request("POST", "/_mock/scenarios/rules", json={"scenario": "internal", "x": 1}).status_code == 400
    assert fake.request("DELETE", "/_mock/scenarios/rules").json() == {"rules": []}
    listed = fake.request("GET", "/_mock/scenarios").json()["scenarios"]
    assert set(listed) >= {"rate_limited", "stream_cut", "connection_reset", "malformed_body", "thought_images"}


def test_probabilities_are_seeded() -> None:
    rule = {"rules": [{"scenario": "overloaded", "probability": 0.5}]}

    def outcomes(seed: int) -> list[int]:
        fake = InProcess(Settings(seed=seed))
        fake.request("PUT", "/_mock/scenarios/rules", json=rule)
        return [fake.generate(FLASH, text_request(f"p{i}", imageSize="512")).status_code for i in range(16)]

    first = outcomes(7)
    assert first == outcomes(7)
    assert set(first) == {200, 503}


def test_a_remembered_scenario_error_is_per_model_and_per_parameters() -> None:
    """Scripted errors are built once per (scenario, parameters, model): each model still gets its own
    quota dimensions, a rule's parameters their own answer, and repeats the very same bytes."""
    fake = InProcess(Settings())
    flash = "gemini-2.5-flash-image"
    first, again = (fake.generate(model, text_request("[mock:rate_limited] x")) for model in (flash, flash))
    pro = fake.generate(PRO, text_request("[mock:rate_limited] x"))
    assert first.status_code == again.status_code == pro.status_code == 429
    assert first.content == again.content and first.content != pro.content

    def dimensions(answer: httpx.Response) -> list[str]:
        details = answer.json()["error"]["details"]
        failure = next(detail for detail in details if detail["@type"].endswith("QuotaFailure"))
        return [violation["quotaDimensions"]["model"] for violation in failure["violations"]]

    assert set(dimensions(first)) != set(dimensions(pro))
    rule = {"match": {"prompt": "ruled"}, "scenario": "rate_limited", "params": {"retryAfterSeconds": 3}}
    assert fake.request("POST", "/_mock/scenarios/rules", json=rule).status_code == 200
    ruled = fake.generate(flash, text_request("ruled"))
    assert ruled.headers["retry-after"] == "3" and first.headers["retry-after"] != "3"
    assert fake.generate(flash, text_request("[mock:rate_limited] x")).content == first.content
