"""API keys as Google and relays take them; keys never leak into what we write."""

from __future__ import annotations

import pytest

from mock_server.settings import Settings
from schemas.wire.redaction import REDACTED, redact_text
from tests.support.fake import InProcess, error_of, text_request

MODEL = "gemini-2.5-flash-image"
URL = f"/v1beta/models/{MODEL}:generateContent"


@pytest.mark.parametrize(("headers", "url"), [
    ({"x-goog-api-key": "k1"}, URL),
    ({}, URL + "?key=k1"),
    ({"authorization": "Bearer k1"}, URL),
])
def test_each_auth_style_is_accepted(headers: dict[str, str], url: str) -> None:
    fake = InProcess(Settings(api_keys=("k1",)))
    assert fake.request("POST", url, json=text_request(), headers=headers).status_code == 200


def test_no_key_is_403_permission_denied(fake: InProcess) -> None:
    response = fake.generate(MODEL, text_request(), key=None)
    assert response.status_code == 403
    assert error_of(response) == {"code": 403, "status": "PERMISSION_DENIED", "message": (
        "Method doesn't allow unregistered callers (callers without established identity). "
        "Please use API Key or other form of API consumer identity to call this API.")}


def test_blank_key_counts_as_no_key(fake: InProcess) -> None:
    assert fake.generate(MODEL, text_request(), key="   ").status_code == 403
    assert fake.request("POST", URL, json=text_request(), headers={"authorization": "Bearer "}).status_code == 403


def test_wrong_key_is_400_api_key_invalid_with_error_info() -> None:
    fake = InProcess(Settings(api_keys=("right",)))
    response = fake.generate(MODEL, text_request(), key="wrong")
    error = error_of(response)
    assert response.status_code == 400 and error["status"] == "INVALID_ARGUMENT"
    assert error["message"] == "API key not valid. Please pass a valid API key."
    info = next(detail for detail in error["details"] if detail["@type"].endswith("ErrorInfo"))
    assert info["reason"] == "API_KEY_INVALID" and info["domain"] == "googleapis.com"
    assert "wrong" not in response.text


def test_without_configured_keys_any_non_empty_key_works(fake: InProcess) -> None:
    assert fake.generate(MODEL, text_request(), key="anything-at-all").status_code == 200


def test_models_endpoints_need_a_key_too(fake: InProcess) -> None:
    assert fake.request("GET", "/v1beta/models").status_code == 403
    assert fake.request("GET", "/v1beta/models", headers={"x-goog-api-key": "k"}).status_code == 200


def test_redact_text_removes_keys_in_every_position() -> None:
    canary = "AIzaCANARY-0000-1111"
    text = (f"GET /v1beta/models?key={canary}&pageSize=2\nx-goog-api-key: {canary}\n"
            f'{{"Authorization": "Bearer {canary}"}}\nplain {canary}')
    redacted = redact_text(text, [canary])
    assert canary not in redacted
    assert redacted.count(REDACTED) >= 4
    assert redact_text(f"?key={canary}&x=1") == f"?key={REDACTED}&x=1"  # even when the key is not known


def test_redacting_json_text_keeps_it_valid_json() -> None:
    import json

    document = {"headers": {"x-goog-api-key": "AIzaSECRET"}, "note": 'say "x-goog-api-key: AIzaSECRET2"',
                "url": "/v1beta/models?key=AIzaSECRET3", "auth": "Authorization: Bearer AIzaSECRET4"}
    redacted = json.loads(redact_text(json.dumps(document)))
    assert "AIzaSECRET" not in json.dumps(redacted)
    assert redacted["url"] == f"/v1beta/models?key={REDACTED}"


def test_shell_placeholders_are_not_keys() -> None:
    text = 'curl -H "x-goog-api-key: $GEMINI_API_KEY" "https://host/v1beta/models?key=$GEMINI_API_KEY"'
    assert redact_text(text) == text


def test_short_secrets_are_not_redacted_verbatim() -> None:
    # A one-character test key would otherwise blank every 'k' in a report.
    assert redact_text("thinking about tokens", ["k"]) == "thinking about tokens"
    assert redact_text("x-goog-api-key: k", ["k"]) == f"x-goog-api-key: {REDACTED}"
