"""The request journal: what the fake received, keys redacted, bounded in memory.

``JournalMiddleware`` records every API request (admin ``/_mock/`` paths excepted) with its
response status; the generate path adds what it resolved (model, image size, aspect ratio, prompt)
and the scenario applied. Large strings (inline image data) are replaced by their length and
digest. ``GET /_mock/requests`` lists the entries (oldest first, filters ``model``, ``limit``),
``DELETE /_mock/requests`` empties the journal.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.answer.validation import ImageRequest
from mock_server.runtime import Runtime, runtime_of
from mock_server.web.http import model_and_action
from schemas.wire.casing import map_strings
from schemas.wire.redaction import REDACTED, extract_api_key, redact_document, redact_text, worth_redacting

__all__ = ["Journal", "JournalMiddleware", "journal_of", "note_request", "routes"]

NOTE_KEY = "gemini_mock.journal_note"
ADMIN_PREFIX = "/_mock/"
_MAX_STRING = 512  # longer strings (image data) are recorded as their size and digest
_LAZY_BODY_LIMIT = 64 * 1024
_SECRET_HEADERS = {"x-goog-api-key", "authorization", "cookie", "proxy-authorization"}


@dataclass
class _Record:
    """A request as received, already free of secrets; turned into an entry only when read,
    so recording costs the request path a few microseconds instead of a JSON round trip."""

    scope: dict[str, Any]
    raw_body: bytes
    status: int
    duration_ms: float
    recorded_at: float
    entry: dict[str, Any] | None = None


class Journal:
    def __init__(self, size: int) -> None:
        self._entries: deque[_Record | dict[str, Any]] = deque(maxlen=max(1, size))
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, entry: _Record | dict[str, Any]) -> None:
        with self._lock:
            if isinstance(entry, dict):
                entry["id"] = next(self._ids)
            else:
                entry.scope["id"] = next(self._ids)
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            items = list(self._entries)
        return [item if isinstance(item, dict) else _entry_of(item) for item in items]

    def clear(self) -> int:
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            return count


def journal_of(runtime: Runtime) -> Journal:
    journal: Journal | None = runtime.extensions.get("journal")
    if journal is None:
        journal = runtime.extensions.setdefault("journal", Journal(runtime.settings.journal_size))
    return journal


def note_request(scope: Scope, image_request: ImageRequest) -> None:
    """Called by the generate path: what the request resolved to."""
    scope[NOTE_KEY] = {
        "model": image_request.profile.model_id, "imageSize": image_request.image_size,
        "aspectRatio": image_request.aspect_ratio, "prompt": image_request.prompt,
        "responseModalities": list(image_request.modalities), "body": image_request.body,
    }


def _elide(text: str) -> str:
    if len(text) <= _MAX_STRING:
        return text
    return f"<{len(text)} chars sha256:{hashlib.sha256(text.encode()).hexdigest()[:16]}>"



def _body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {"$raw": raw[:_MAX_STRING].decode("utf-8", "replace"), "$bytes": len(raw)}


def _entry_of(record: _Record) -> dict[str, Any]:
    if record.entry is None:
        record.entry = build_entry(record.scope, record.raw_body, record.status, record.duration_ms,
                                   record.recorded_at)
        record.entry["id"] = record.scope["id"]
    return record.entry


_SCOPE_KEYS = ("method", "path", NOTE_KEY, "gemini_mock.scenario")


def _scrub_header(name: bytes, value: bytes) -> bytes:
    if name.lower().decode("latin-1") not in _SECRET_HEADERS:
        return value
    scheme, _, credential = value.partition(b" ")
    # Keep "Bearer" so the entry still says how the caller authenticated.
    return scheme + b" " + REDACTED.encode() if credential else REDACTED.encode()


def _scrubbed(scope: Scope, raw_body: bytes, secrets: list[str]) -> tuple[dict[str, Any], bytes]:
    """What the journal keeps of a request: secret headers and ``?key=`` replaced, known keys removed."""
    kept: dict[str, Any] = {key: scope[key] for key in _SCOPE_KEYS if key in scope}
    kept["headers"] = [(name, _scrub_header(name, value)) for name, value in scope["headers"]]
    query = scope.get("query_string", b"")
    if query:
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        kept["query_string"] = "&".join(f"{name}={REDACTED if name == 'key' else value}"
                                        for name, value in pairs).encode("latin-1")
    for secret in secrets:
        raw_body = raw_body.replace(secret.encode(), REDACTED.encode())
    return kept, raw_body


def build_entry(scope: Scope, raw_body: bytes, status: int | None, duration_ms: float,
                recorded_at: float) -> dict[str, Any]:
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    found = extract_api_key(headers, query)
    path = str(scope["path"])
    model, action = model_and_action(path)
    note = scope.get(NOTE_KEY) or {}
    scenario = scope.get("gemini_mock.scenario")
    entry: dict[str, Any] = {
        "time": datetime.fromtimestamp(recorded_at, UTC).isoformat(timespec="milliseconds"),
        "method": scope["method"], "path": path, "query": query,
        "headers": {name: (REDACTED if name in _SECRET_HEADERS else value) for name, value in headers.items()},
        "model": note.get("model", model), "action": action,
        "imageSize": note.get("imageSize"), "aspectRatio": note.get("aspectRatio"), "prompt": note.get("prompt"),
        "responseModalities": note.get("responseModalities"),
        "scenario": getattr(scenario, "name", None), "scenarioSource": getattr(scenario, "source", None),
        "authStyle": found[1] if found else None,
        "body": map_strings(note["body"] if "body" in note else _body(raw_body), _elide),
        "status": status, "durationMs": round(duration_ms, 3),
    }
    secrets = [found[0]] if found else []
    app = scope.get("app")
    runtime = getattr(getattr(app, "state", None), "runtime", None)
    if runtime is not None:
        secrets += list(runtime.settings.api_keys)
    redacted: dict[str, Any] = json.loads(redact_text(json.dumps(entry, ensure_ascii=False), worth_redacting(secrets)))
    return redacted


class JournalMiddleware:
    """Records each API request and its status into the app's journal."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope["path"]).startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        chunks: list[bytes] = []
        status: int | None = None

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
            return message

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
            if runtime is not None:
                journal_of(runtime).add(_record(scope, b"".join(chunks), status or 500, started, runtime))


def _record(scope: Scope, raw_body: bytes, status: int, started: float, runtime: Runtime) -> _Record:
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
    found = extract_api_key(headers, dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))))
    secrets = worth_redacting(([found[0]] if found else []) + list(runtime.settings.api_keys))
    kept, body = _scrubbed(scope, raw_body, secrets)
    note = kept.get(NOTE_KEY)
    if note is not None and body != raw_body:  # a key was in the body: scrub the parsed copy too
        kept[NOTE_KEY] = redact_document(note, secrets)
    if len(body) > _LAZY_BODY_LIMIT and note is not None:
        body = b""  # the note carries the parsed body; don't also keep megabytes of raw bytes
    return _Record(kept, body, status, (time.monotonic() - started) * 1000, time.time())


async def _list(request: Request) -> Response:
    entries = journal_of(runtime_of(request)).entries()
    model = request.query_params.get("model")
    if model:
        entries = [entry for entry in entries if entry.get("model") == model]
    limit = request.query_params.get("limit", "")
    if limit.isdigit():
        entries = entries[-int(limit):] if int(limit) else []
    return JSONResponse({"requests": entries})


async def _clear(request: Request) -> Response:
    return JSONResponse({"deleted": journal_of(runtime_of(request)).clear()})


def routes() -> list[Route]:
    return [
        Route("/_mock/requests", _list, methods=["GET"]),
        Route("/_mock/requests", _clear, methods=["DELETE"]),
    ]
