"""API keys as Google and relays take them, and their redaction everywhere we write."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from mock_server.errors import ApiError
from mock_server.json_values import map_strings

__all__ = ["REDACTED", "AuthStyle", "authenticate", "extract_api_key", "redact_text"]

AuthStyle = Literal["header", "query", "bearer"]
REDACTED = "[REDACTED]"


def extract_api_key(headers: Mapping[str, str], query: Mapping[str, str]) -> tuple[str, AuthStyle] | None:
    """The key and how it came: ``x-goog-api-key``, ``?key=`` or ``Authorization: Bearer``."""
    header_key = headers.get("x-goog-api-key", "").strip()
    if header_key:
        return header_key, "header"
    query_key = query.get("key", "").strip()
    if query_key:
        return query_key, "query"
    authorization = headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip(), "bearer"
    return None


def authenticate(headers: Mapping[str, str], query: Mapping[str, str], accepted: Iterable[str]) -> str:
    """The caller's key, or the error Google answers with (403 without a key, 400 for a wrong one)."""
    found = extract_api_key(headers, query)
    if found is None:
        raise ApiError.named("api_key_missing")
    key, _style = found
    accepted_keys = tuple(accepted)
    if accepted_keys and key not in accepted_keys:
        raise ApiError.named("api_key_invalid", details=_invalid_key_details())
    return key


def _invalid_key_details() -> list[dict[str, object]]:
    message = ApiError.named("api_key_invalid").message
    return [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
         "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}},
        {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US", "message": message},
    ]


# A key value ends at whitespace, a quote, a backslash (an escaped quote in JSON text), '&', ',', '}' or '<'
# (HTML); shell placeholders such as $GEMINI_API_KEY are not keys and are kept.
_VALUE = r"(?!\$)([^\s\"'&,}\\<]+)"
_KEY_PATTERNS = (
    re.compile(r"(?i)(x-goog-api-key[\"']?\s*[:=]\s*[\"']?)" + _VALUE),
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?bearer\s+)" + _VALUE),
    re.compile(r"(?i)([?&]key=)" + _VALUE),
)


MIN_SECRET_CHARS = 4


def worth_redacting(secrets: Iterable[str]) -> list[str]:
    """The secrets long enough to redact verbatim: a 1-character test key would shred every text."""
    return [secret for secret in secrets if len(secret) >= MIN_SECRET_CHARS]


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every API key removed: known secrets verbatim, and anything in a key position."""
    for secret in worth_redacting(secrets):
        text = text.replace(secret, REDACTED)
    for pattern in _KEY_PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    return text


def redact_document(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A JSON-like value with every string redacted; the structure is untouched, so it still serialises."""
    secrets = tuple(secrets)
    return map_strings(value, lambda text: redact_text(text, secrets))
