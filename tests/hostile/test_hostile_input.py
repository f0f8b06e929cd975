"""Issue 12, items 1, 2 and 13: hostile request bytes get Google's 4xx and never break a later request."""

from __future__ import annotations

import json

import pytest

from tests.support.fake import InProcess, error_of, text_request

MODEL = "gemini-2.5-flash-image"
KEY = {"x-goog-api-key": "k"}

LONE_SURROGATE = b'"a \\ud800 fox"'  # JSON escape of a lone high surrogate
RAW_SURROGATE = b'"a \xed\xa0\x80 fox"'  # the same code point encoded as (invalid) UTF-8 bytes


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def _bodies_with(bad: bytes) -> dict[str, bytes]:
    """``bad`` (a JSON string literal) as a prompt, a field name, an enum value and a MIME type."""
    return {
        "prompt": b'{"contents":[{"parts":[{"text":' + bad + b"}]}]}",
        "field name": b'{"contents":[{"parts":[{"text":"x"}]}],' + bad + b":1}",
        "enum": b'{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseModalities":[' + bad + b"]}}",
        "mime": b'{"contents":[{"parts":[{"inlineData":{"mimeType":' + bad + b',"data":"iVBORw0KGgo="}}]}]}',
    }


ENDPOINTS = {
    "generate": f"/v1beta/models/{MODEL}:generateContent",
    "stream": f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse",
    "count": f"/v1beta/models/{MODEL}:countTokens",
}


def _still_healthy(fake: InProcess) -> None:
    """A normal request still works and the journal still answers (it would 500 once poisoned)."""
    assert fake.generate(MODEL, text_request("after"), key="k").status_code == 200
    journal = fake.request("GET", "/_mock/requests")
    assert journal.status_code == 200, journal.text
    assert journal.json()["requests"][-1]["prompt"] == "after"


@pytest.mark.parametrize("bad", [LONE_SURROGATE, RAW_SURROGATE], ids=["escaped", "raw-bytes"])
@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_invalid_unicode_is_a_400_everywhere(endpoint: str, bad: bytes) -> None:
    fake = InProcess()
    for where, body in _bodies_with(bad).items():
        response = fake.request("POST", ENDPOINTS[endpoint], content=body,
                                headers=KEY | {"content-type": "application/json"})
        assert response.status_code == 400, (where, response.status_code, response.text[:300])
        # The stream endpoint answers its errors with the SSE content type (wire parity), same envelope.
        assert json.loads(response.content.decode("utf-8"))["error"]["status"] == "INVALID_ARGUMENT"
    _still_healthy(fake)


def test_invalid_unicode_in_a_file_upload_is_a_400_and_the_listing_survives() -> None:
    fake = InProcess()
    start = fake.request("POST", "/upload/v1beta/files", content=b'{"file":{"displayName":' + LONE_SURROGATE + b"}}",
                         headers=KEY | {"x-goog-upload-protocol": "resumable", "x-goog-upload-command": "start",
                                        "content-type": "application/json"})
    assert start.status_code == 400, start.text
    assert fake.request("GET", "/v1beta/files", headers=KEY).status_code == 200


@pytest.mark.parametrize("depth", [150, 600, 10_000])
def test_extreme_nesting_is_a_400_and_poisons_nothing(depth: int) -> None:
    fake = InProcess()
    labels = b'{"contents":[{"parts":[{"text":"x"}]}],"labels":' + _nested(depth) + b"}"
    response = fake.generate(MODEL, labels, key="k")
    assert response.status_code == 400, response.text[:300]
    assert error_of(response)["status"] == "INVALID_ARGUMENT"
    _still_healthy(fake)


def test_moderate_nesting_answered_200_does_not_poison_the_journal() -> None:
    fake = InProcess()
    labels = b'{"contents":[{"parts":[{"text":"x"}]}],"labels":' + _nested(60) + b"}"
    assert fake.generate(MODEL, labels, key="k").status_code == 200
    _still_healthy(fake)


def test_huge_numbers_and_absurd_values_are_400s() -> None:
    fake = InProcess()
    for body in (b'{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"candidateCount":' + b"9" * 5000 + b"}}",
                 b'{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"seed":1e999}}',
                 b'{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"temperature":"NaN"}}'):
        response = fake.generate(MODEL, body, key="k")
        assert 400 <= response.status_code < 500, (body[:80], response.status_code, response.text[:200])
    _still_healthy(fake)


def test_a_query_outside_latin1_is_journaled_not_dropped(caplog: pytest.LogCaptureFixture) -> None:
    fake = InProcess()
    response = fake.request("POST", f"/v1beta/models/{MODEL}:generateContent?x=%E2%9C%93",
                            json=text_request("tick"), headers=KEY)
    assert response.status_code == 200
    entries = fake.request("GET", "/_mock/requests").json()["requests"]
    assert [entry["prompt"] for entry in entries] == ["tick"]
    assert entries[0]["query"] == {"x": "\u2713"}
    assert "Traceback" not in caplog.text and "unhandled" not in caplog.text


def test_files_listing_with_a_trailing_slash_is_a_404_envelope_not_a_redirect() -> None:
    fake = InProcess()
    response = fake.request("GET", "/v1beta/files/", headers=KEY)
    assert response.status_code == 404
    assert error_of(response)["status"] == "NOT_FOUND"


def test_405_answers_carry_allow() -> None:
    fake = InProcess()
    response = fake.request("DELETE", "/v1beta/models", headers=KEY)
    assert response.status_code == 405
    assert error_of(response)["code"] == 405
    assert "GET" in response.headers["allow"]


def test_error_bodies_of_hostile_requests_are_valid_utf8_json() -> None:
    fake = InProcess()
    body = b'{"contents":[{"parts":[{"text":"x"}]}],"\\udfff\\ud800":1}'
    response = fake.generate(MODEL, body, key="k")
    assert response.status_code == 400
    json.loads(response.content.decode("utf-8"))  # strict UTF-8: no surrogates leaked into the envelope


def test_gemini_mock_calls_survive_hostile_requests(gemini_mock) -> None:  # type: ignore[no-untyped-def]
    import httpx

    url = gemini_mock.url(f"models/{MODEL}:generateContent")
    headers = {"x-goog-api-key": gemini_mock.api_key, "content-type": "application/json"}
    for body in (_bodies_with(LONE_SURROGATE)["prompt"], b'{"contents":[{"parts":[{"text":"x"}]}],"labels":'
                 + _nested(600) + b"}", b'{"contents":[{"parts":[{"text":"x"}]}],"labels":' + _nested(60) + b"}"):
        assert httpx.post(url, content=body, headers=headers).status_code in (200, 400)
    assert [call.status for call in gemini_mock.calls] == [400, 400, 200]
