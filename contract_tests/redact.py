"""API keys out of everything the suite writes, while ``$GEMINI_API_KEY`` placeholders stay runnable."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["KEY_PLACEHOLDER", "REDACTED", "redact", "redact_document"]

KEY_PLACEHOLDER = "$GEMINI_API_KEY"
REDACTED = "[REDACTED]"
_VALUE = r"(?!\$GEMINI_API_KEY)([^\s\"'&,}\\<]+)"  # stops at JSON/HTML escapes so documents stay valid
_PATTERNS = (
    re.compile(r"(?i)(x-goog-api-key[\"']?\s*[:=]\s*[\"']?)" + _VALUE),
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?bearer\s+)" + _VALUE),
    re.compile(r"(?i)([?&]key=)" + _VALUE),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without the given secrets and without any value in an API-key position."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    return text


def redact_document(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A JSON-like value with every string redacted (structure untouched, so it still serialises)."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, list):
        return [redact_document(item, secrets) for item in value]
    if isinstance(value, dict):
        return {key: redact_document(item, secrets) for key, item in value.items()}
    return value
