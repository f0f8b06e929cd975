"""The request journal: recorded through the gemini_mock fixture, redacted, bounded, admin endpoints."""

from __future__ import annotations

import httpx
import pytest
from google.genai import types

from mock_server.settings import Settings
from mock_server.testing import serve_in_thread
from tests.support.fake import InProcess, text_request

CANARY = "CANARY-journal-7f3a9c"


def test_fixture_exposes_calls_and_assert_called(gemini_mock) -> None:  # type: ignore[no-untyped-def]
    client = gemini_mock.client
    config = types.GenerateContentConfig(image_config=types.ImageConfig(image_size="2K", aspect_ratio="16:9"))
    client.models.generate_content(model="gemini-3-pro-image-preview", contents="a harbour", config=config)
    calls = gemini_mock.calls
    assert len(calls) == 1
    call = gemini_mock.assert_called(model="gemini-3-pro-image-preview", image_size="2K", times=1)[0]
    assert call.aspect_ratio == "16:9" and call.prompt == "a harbour" and call.status == 200
    assert call.action == "generateContent"
    assert call.headers["x-goog-api-key"] == "[REDACTED]"
    with pytest.raises(AssertionError, match="image_size=2K"):
        gemini_mock.assert_called(image_size="4K")


def test_each_test_sees_only_its_own_calls(gemini_mock) -> None:  # type: ignore[no-untyped-def]
    assert gemini_mock.calls == []
    gemini_mock.client.models.count_tokens(model="gemini-2.5-flash-image", contents="hello")
    gemini_mock.assert_called(action="countTokens", model="gemini-2.5-flash-image")


def test_keys_never_reach_the_journal() -> None:
    fake = InProcess(Settings(api_keys=(CANARY,)))
    fake.generate("gemini-3.1-flash-image-preview", text_request(f"say {CANARY}", imageSize="512"), key=CANARY)
    fake.request("POST", f"/v1beta/models/gemini-3.1-flash-image-preview:generateContent?key={CANARY}",
                 json=text_request("x", imageSize="512"))
    fake.request("POST", "/v1beta/models/gemini-3.1-flash-image-preview:generateContent",
                 json=text_request("x"), headers={"authorization": f"Bearer {CANARY}"})
    response = fake.request("GET", "/_mock/requests", headers={"x-goog-api-key": CANARY})  # admin needs the key
    assert CANARY not in response.text
    entries = response.json()["requests"]
    assert [e["authStyle"] for e in entries] == ["header", "query", "bearer"]
    assert entries[0]["prompt"] == "say [REDACTED]"


def test_invalid_requests_and_images_are_recorded_compactly() -> None:
    fake = InProcess()
    fake.generate("gemini-3-pro-image-preview", b"{not json", key="k")
    fake.generate("gemini-3-pro-image-preview", {"contents": [{"parts": [{"inlineData": {
        "mimeType": "image/png", "data": "A" * 5000}}]}]}, key="k")
    bad_json, big = fake.request("GET", "/_mock/requests").json()["requests"]
    assert bad_json["status"] == 400 and bad_json["body"]["$raw"] == "{not json"
    data = big["body"]["contents"][0]["parts"][0]["inlineData"]["data"]
    assert data.startswith("<5000 chars sha256:")


def test_journal_is_bounded_filterable_and_clearable() -> None:
    fake = InProcess(Settings(journal_size=3))
    for index in range(5):
        fake.generate("gemini-2.5-flash-image", text_request(f"p{index}"), key="k")
    entries = fake.request("GET", "/_mock/requests").json()["requests"]
    assert [e["prompt"] for e in entries] == ["p2", "p3", "p4"]
    assert len(fake.request("GET", "/_mock/requests?limit=1").json()["requests"]) == 1
    assert fake.request("GET", "/_mock/requests?model=other").json()["requests"] == []
    assert fake.request("DELETE", "/_mock/requests").json() == {"deleted": 3}
    assert fake.request("GET", "/_mock/requests").json()["requests"] == []


def test_admin_paths_are_not_google_paths_and_not_journaled() -> None:
    with serve_in_thread(Settings(port=0)) as server:
        httpx.get(f"{server.base_url}/_mock/scenarios")
        assert httpx.get(f"{server.base_url}/_mock/requests").json()["requests"] == []
        missing = httpx.get(f"{server.base_url}/v1beta/_mock/requests", headers={"x-goog-api-key": "k"})
        assert missing.status_code == 404


def test_a_repeated_request_reuses_its_summary_but_keeps_its_own_time_status_and_key_redaction() -> None:
    """The journal remembers each request shape's redacted summary: repeats get their own time, status
    and duration; a different key, header or scenario is a different shape (never another's summary)."""
    fake = InProcess(Settings(api_keys=(CANARY, "second-key-42")))
    body = text_request(f"say {CANARY}", imageSize="512")
    model = "gemini-3.1-flash-image-preview"
    fake.generate(model, body, key=CANARY)
    fake.generate(model, body, key=CANARY)
    fake.generate(model, body, key="second-key-42")
    fake.request("POST", f"/v1beta/models/{model}:generateContent", json=body,
                 headers={"x-goog-api-key": CANARY, "x-mock-scenario": "rate_limited"})
    fake.generate(model, body, key="wrong-key-123456")
    entries = fake.request("GET", "/_mock/requests", headers={"x-goog-api-key": CANARY}).json()["requests"]
    assert [entry["status"] for entry in entries] == [200, 200, 200, 429, 400]
    assert [entry["scenario"] for entry in entries] == [None, None, None, "rate_limited", None]
    assert entries[0]["time"] <= entries[1]["time"] and entries[0]["id"] != entries[1]["id"]
    for entry in entries:
        assert entry["time"].endswith("+00:00") and len(entry["time"]) == len("2026-11-30T19:24:02.123+00:00")
        assert entry["headers"]["x-goog-api-key"] == "[REDACTED]"
    assert [entry["prompt"] for entry in entries] == ["say [REDACTED]"] * 4 + [None]  # a wrong key: never planned
    text = str(entries)
    assert CANARY not in text and "second-key-42" not in text and "wrong-key-123456" not in text
    assert entries[0] is not entries[1] and entries[0]["body"] == entries[1]["body"]
