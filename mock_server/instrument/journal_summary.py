"""What the journal keeps of one request: a bounded, already-redacted summary, built when it is recorded.

A pure function of the request's parts, so it can be tested alone and stored anywhere (memory, SQLite,
Redis): nothing in the result refers back to the request, and its size is known without serialising it.

Order matters: every string is redacted (every configured key and the caller's own, verbatim, plus
anything in a key position) *before* it is cut, so a cut can never leave a piece of a key behind.
Image data (``data``/``bytesBase64Encoded`` fields) over 512 characters is kept as its size and digest;
other long strings are cut with a marker saying how long they were; deep or wide structures are cut with
markers too.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from schemas.wire.redaction import REDACTED, extract_api_key, redact_text, suspect_pattern, worth_redacting
from schemas.wire.strict_json import JsonRejected, loads_strict, scrub_surrogates

__all__ = ["SECRET_HEADERS", "Summary", "SummaryLimits", "request_secrets", "summarize_request"]

SECRET_HEADERS = frozenset({"x-goog-api-key", "authorization", "cookie", "proxy-authorization", "x-api-key",
                            "api-key", "x-admin-key"})
_BLOB_FIELDS = frozenset({"data", "bytesBase64Encoded"})
_SMALL_BLOB = 512  # image data up to this many characters is kept whole (a relay's tests compare it)


@dataclass(frozen=True)
class SummaryLimits:
    max_string: int = 1024  # characters kept of any one string
    max_items: int = 64  # list items or object members kept per container
    max_depth: int = 24  # containers deeper than this become a marker
    max_bytes: int = 32 * 1024  # about this much per entry; past it, values become markers
    max_parse_bytes: int = 1024 * 1024  # raw bodies larger than this are not parsed for the journal


@dataclass(frozen=True)
class Summary:
    entry: dict[str, Any]
    size: int  # approximate bytes of the entry as JSON


def _digest_marker(text: str) -> str:
    return f"<{len(text)} chars sha256:{hashlib.sha256(text.encode('utf-8', 'replace')).hexdigest()[:16]}>"


class _Walker:
    """One summary's running state: the secrets, the limits and the bytes spent so far."""

    def __init__(self, secrets: Sequence[str], limits: SummaryLimits) -> None:
        self.secrets = tuple(secrets)
        self.limits = limits
        self.spent = 0
        self.margin = max((len(secret) for secret in self.secrets), default=0) + 256
        self.suspect = suspect_pattern(self.secrets)  # one scan tells whether a string needs redaction

    def text(self, value: str) -> str:
        """Redacted first, then cut: a key straddling the cut is already gone."""
        limit = self.limits.max_string
        window = value if len(value) <= limit + self.margin else value[:limit + self.margin]
        clean = redact_text(window, self.secrets) if self.suspect.search(window) else window
        clean = clean if clean.isascii() else scrub_surrogates(clean)
        if len(value) > limit:
            clean = clean[:limit] + f"... <{len(value)} chars, cut>"
        self.spent += len(clean) + 4
        return clean

    def value(self, value: Any, depth: int = 0, key: str = "") -> Any:
        if self.spent > self.limits.max_bytes:
            return "<cut: entry size limit>"
        if isinstance(value, str):
            if key in _BLOB_FIELDS and len(value) > _SMALL_BLOB:
                self.spent += 48
                return _digest_marker(value)
            return self.text(value)
        if isinstance(value, bool | int | float) or value is None:
            self.spent += 8
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**63:
                return f"<{len(str(value))}-digit integer>"
            return value if not isinstance(value, float) or (value == value and abs(value) != float("inf")) \
                else str(value)
        if depth >= self.limits.max_depth:
            return "<nested too deep>"
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for index, (name, item) in enumerate(value.items()):
                if index >= self.limits.max_items:
                    out["$more"] = f"<{len(value) - index} more members>"
                    break
                out[self.text(str(name))] = self.value(item, depth + 1, str(name))
            return out
        if isinstance(value, list | tuple):
            items = [self.value(item, depth + 1) for item in value[:self.limits.max_items]]
            if len(value) > self.limits.max_items:
                items.append(f"<{len(value) - self.limits.max_items} more items>")
            return items
        return self.text(repr(value))


_header_summaries: OrderedDict[tuple[Any, ...], tuple[dict[str, str], int]] = OrderedDict()


def _headers(walker: _Walker, header_map: dict[str, str], raw: tuple[Any, ...]) -> dict[str, str]:
    """The kept headers; a client sends the same headers again and again, so their summary is reused."""
    key = (raw, walker.secrets, walker.limits)
    with _parsed_lock:
        cached = _header_summaries.get(key)
    if cached is not None:
        walker.spent += cached[1]
        return dict(cached[0])
    before = walker.spent
    kept: dict[str, str] = {}
    for name, value in list(header_map.items())[:walker.limits.max_items]:
        if name in SECRET_HEADERS:
            scheme, _, credential = value.partition(" ")
            # Keep "Bearer" so the entry still says how the caller authenticated.
            kept[name] = f"{scheme} {REDACTED}" if credential and scheme.lower() == "bearer" else REDACTED
        else:
            kept[walker.text(name)] = walker.text(value)
    with _parsed_lock:
        _header_summaries[key] = (kept, walker.spent - before)
        while len(_header_summaries) > 256:
            _header_summaries.popitem(last=False)
    return dict(kept)


def request_secrets(found: tuple[str, str] | None, configured: Iterable[str]) -> list[str]:
    """Every secret to remove from this request's traces: the configured keys and the caller's own
    (``found``, as ``extract_api_key`` gave it)."""
    return worth_redacting(([found[0]] if found else []) + list(configured))


_SHARED_BODY_BYTES = 64 * 1024  # the planned-reply cache's limit (api/generate.py)
_parsed_summaries: OrderedDict[tuple[int, tuple[str, ...]], tuple[Any, Any, int]] = OrderedDict()
_parsed_lock = threading.Lock()


def _parsed_body(walker: _Walker, parsed: Any) -> Any:
    """The summary of a parsed body; repeated requests share one parsed body (the planned-reply cache),
    so its summary is reused while that very object lives (the entry holds it, so ``id`` stays unique)."""
    key = (id(parsed), walker.secrets)
    with _parsed_lock:
        cached = _parsed_summaries.get(key)
    if cached is not None and cached[0] is parsed:
        walker.spent += cached[2]
        return cached[1]
    before = walker.spent
    summary = walker.value(parsed)
    with _parsed_lock:
        _parsed_summaries[key] = (parsed, summary, walker.spent - before)
        while len(_parsed_summaries) > 256:
            _parsed_summaries.popitem(last=False)
    return summary


def _body(walker: _Walker, raw: bytes, parsed: Any, has_parsed: bool) -> Any:
    if has_parsed:
        # Only small bodies are shared by repeated requests; caching a large one would keep its bytes alive.
        return _parsed_body(walker, parsed) if len(raw) <= _SHARED_BODY_BYTES else walker.value(parsed)
    if not raw:
        return None
    if len(raw) <= walker.limits.max_parse_bytes:
        try:
            return walker.value(loads_strict(raw))
        except JsonRejected:
            pass
    window = raw[:walker.limits.max_string + 1024].decode("utf-8", "replace")
    return {"$raw": walker.text(window)[:walker.limits.max_string], "$bytes": len(raw)}


def summarize_request(
    *, method: str, path: str, query_string: bytes, headers: Sequence[tuple[bytes, bytes]], raw_body: bytes,
    status: int | None, duration_ms: float, recorded_at: float, configured_secrets: Iterable[str] = (),
    note: Mapping[str, Any] | None = None, scenario: Any = None, limits: SummaryLimits | None = None,
    action: tuple[str | None, str | None] = (None, None),
) -> Summary:
    """The journal entry for one request (without its ``id``), redacted and bounded.

    ``note`` is what the generate path resolved (model, imageSize, aspectRatio, prompt,
    responseModalities and the canonical ``body``); ``action`` is (model, action) read from the path.
    """
    limits = limits or SummaryLimits()
    header_map: dict[str, str] = {}
    for raw_name, raw_value in headers:
        header_map[raw_name.decode("latin-1").lower()] = raw_value.decode("latin-1")
    query_pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    query_map = dict(query_pairs)
    found = extract_api_key(header_map, query_map)
    secrets = request_secrets(found, configured_secrets)
    walker = _Walker(secrets, limits)
    kept_headers = _headers(walker, header_map, tuple(headers))
    query = {walker.text(name): (REDACTED if name == "key" else walker.text(value))
             for name, value in query_pairs[:limits.max_items]}
    note = note or {}
    model, verb = action
    entry: dict[str, Any] = {
        "time": datetime.fromtimestamp(recorded_at, UTC).isoformat(timespec="milliseconds"),
        "method": method, "path": walker.text(path), "query": query, "headers": kept_headers,
        "model": walker.value(note.get("model", model)), "action": walker.value(verb),
        "imageSize": note.get("imageSize"), "aspectRatio": note.get("aspectRatio"),
        "prompt": walker.value(note.get("prompt")),
        "responseModalities": walker.value(note.get("responseModalities")),
        "scenario": getattr(scenario, "name", None), "scenarioSource": walker.value(getattr(scenario, "source", None)),
        "authStyle": found[1] if found else None,
        "body": _body(walker, raw_body, note.get("body"), "body" in note),
        "status": status, "durationMs": round(duration_ms, 3),
    }
    return Summary(entry, walker.spent + 512)
