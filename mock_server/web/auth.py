"""Google's answer to a missing or wrong API key (finding and redacting keys: ``schemas.wire.redaction``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from mock_server.web.errors import ApiError
from schemas.wire.redaction import extract_api_key

__all__ = ["authenticate"]

def authenticate(headers: Mapping[str, str], query: Mapping[str, str], accepted: Collection[str]) -> str:
    """The caller's key, or the error Google answers with (403 without a key, 400 for a wrong one)."""
    found = extract_api_key(headers, query)
    if found is None:
        raise ApiError.named("api_key_missing")
    key, _style = found
    if accepted and key not in accepted:
        raise ApiError.named("api_key_invalid", details=_invalid_key_details())
    return key


def _invalid_key_details() -> list[dict[str, object]]:
    message = ApiError.named("api_key_invalid").message
    return [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
         "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}},
        {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US", "message": message},
    ]
