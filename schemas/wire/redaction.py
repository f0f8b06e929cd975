"""API keys where they travel, and their redaction everywhere anything is written.

Both halves redact: the fake in its journal, logs and cassettes, the contract suite in its reports and
reproducers. One implementation, so that a key pattern learnt once is removed everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import quote

from schemas.wire.casing import map_strings

__all__ = [
    "REDACTED", "AuthStyle", "extract_api_key", "needs_redaction", "redact_bytes", "redact_document", "redact_text",
    "suspect_pattern", "worth_redacting",
]

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


FRAGMENT_CHARS = 8
"""Runs of at least this many characters that begin or end a known secret are removed too: a key that
something cut (or echoed in part) must not survive as a recognisable piece. Pieces from its middle are
left alone, and so are pieces that read as words (no digit, one case): a word inside a human-chosen key
("canary-interactions-...", "upstream-key-...") stays readable elsewhere."""


@lru_cache(maxsize=256)
def _windows(secret: str) -> tuple[dict[str, int], re.Pattern[str]]:
    """Every FRAGMENT_CHARS-long piece of ``secret`` (with its offset), and a pattern finding any of them."""
    windows = {secret[i:i + FRAGMENT_CHARS]: i for i in range(len(secret) - FRAGMENT_CHARS, -1, -1)}
    return windows, re.compile("|".join(map(re.escape, windows)))


def _looks_random(piece: str) -> bool:
    return any(char.isdigit() for char in piece) or (piece.lower() != piece and piece.upper() != piece)


def _fragment_spans(text: str, secret: str) -> list[tuple[int, int]]:
    """(start, end) of every maximal run of ``text`` of FRAGMENT_CHARS or more that is a prefix or suffix of
    ``secret``."""
    windows, pattern = _windows(secret)
    if not any(window in text for window in windows):  # the common case: a few C-speed scans
        return []
    spans: list[tuple[int, int]] = []
    position = 0
    while (match := pattern.search(text, position)) is not None:
        start, end, offset = match.start(), match.end(), windows[match.group()]
        left = offset
        while start > 0 and left > 0 and text[start - 1] == secret[left - 1]:
            start, left = start - 1, left - 1
        right = offset + FRAGMENT_CHARS
        while end < len(text) and right < len(secret) and text[end] == secret[right]:
            end, right = end + 1, right + 1
        # A cut key is a prefix or a suffix, and a piece of a real key looks random; a word inside or at
        # the start of a human-chosen key ("upstream-key-1", "canary-interactions-31c9") does not.
        if (left == 0 or right == len(secret)) and _looks_random(text[start:end]):
            spans.append((start, end))
        position = end
    return spans


def _without_fragments(text: str, secret: str) -> str:
    spans = _fragment_spans(text, secret)
    if not spans:
        return text
    pieces, last = [], 0
    for start, end in spans:
        pieces += [text[last:start], REDACTED]
        last = end
    return "".join(pieces) + text[last:]


@lru_cache(maxsize=64)
def suspect_pattern(secrets: tuple[str, ...]) -> re.Pattern[str]:
    """Finds anything ``redact_text`` could change: a secret or a piece of one, or a key-position word."""
    pieces = [re.escape(secret) for secret in secrets if len(secret) < 2 * FRAGMENT_CHARS]
    pieces += [re.escape(window) for secret in secrets if len(secret) >= 2 * FRAGMENT_CHARS
               for window in _windows(secret)[0]]
    return re.compile("|".join(["(?i:key|bearer)", *pieces]))


def needs_redaction(text: str, secrets: Iterable[str] = ()) -> bool:
    """Whether ``redact_text`` could change ``text``: one scan, for writers that handle many small strings."""
    return suspect_pattern(tuple(worth_redacting(secrets))).search(text) is not None


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every API key removed: known secrets verbatim and in pieces, and anything in a key position."""
    for secret in worth_redacting(secrets):
        text = text.replace(secret, REDACTED)
        if len(secret) >= 2 * FRAGMENT_CHARS:
            text = _without_fragments(text, secret)
    for pattern in _KEY_PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    return text


def redact_bytes(data: bytes, secrets: Iterable[str] = ()) -> bytes:
    """``data`` with every known secret (verbatim or URL-encoded) replaced; for bodies stored before checks."""
    for secret in worth_redacting(secrets):
        for form in {secret, quote(secret, safe="")}:
            data = data.replace(form.encode(), REDACTED.encode())
    return data


def redact_document(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A JSON-like value with every string redacted; the structure is untouched, so it still serialises."""
    secrets = tuple(secrets)
    return map_strings(value, lambda text: redact_text(text, secrets))
