"""The request journal: what the fake received, keys redacted, bounded in memory.

``JournalMiddleware`` records every API request (admin ``/_mock/`` paths excepted) with its
response status; the generate path adds what it resolved (model, image size, aspect ratio, prompt)
and the scenario applied. Large strings (inline image data) are replaced by their length and
digest. ``GET /_mock/requests`` lists the entries (oldest first, filters ``model``, ``limit``),
``DELETE /_mock/requests`` empties the journal.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
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
from mock_server.state import StateStore, StateUnavailable, state_of, warn_degraded
from mock_server.web.http import model_and_action
from schemas.wire.casing import map_strings
from schemas.wire.redaction import REDACTED, extract_api_key, redact_document, redact_text, worth_redacting

__all__ = ["Journal", "JournalMiddleware", "journal_of", "note_request", "routes"]

log = logging.getLogger("gemini_mock.journal")

NOTE_KEY = "gemini_mock.journal_note"
ADMIN_PREFIX = "/_mock/"
_MAX_STRING = 512  # longer strings (image data) are recorded as their size and digest
_LAZY_BODY_LIMIT = 64 * 1024
_SECRET_HEADERS = {"x-goog-api-key", "authorization", "cookie", "proxy-authorization"}
_SECRET_HEADER_NAMES = {name.encode() for name in _SECRET_HEADERS}


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
    id: int = 0  # given by the store


class Journal:
    """The journal of one app, kept in its state store (docs/scaling.md). A store of this process
    keeps lazy records, built into entries when read; a shared store gets each entry as JSON when
    it is recorded, so that any worker or replica can list it."""

    def __init__(self, store: StateStore) -> None:
        self._store = store

    async def add(self, entry: _Record | dict[str, Any]) -> None:
        stored: _Record | dict[str, Any] | str = entry
        if self._store.shared and isinstance(entry, _Record):
            stored = _entry_json(entry.scope, entry.raw_body, entry.status, entry.duration_ms, entry.recorded_at)
        try:
            await self._store.journal_append_async(stored)
        except StateUnavailable as exc:  # the API keeps answering; the log says what is missing
            warn_degraded("journal", exc)

    def entries(self) -> list[dict[str, Any]]:
        return [item if isinstance(item, dict) else _entry_of(item) for item in self._store.journal_entries()]

    def clear(self) -> int:
        return self._store.journal_clear()


def journal_of(runtime: Runtime) -> Journal:
    journal: Journal | None = runtime.extensions.get("journal")
    if journal is None:
        journal = runtime.extensions.setdefault("journal", Journal(state_of(runtime)))
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
        record.entry["id"] = record.id
    return record.entry


_SCOPE_KEYS = ("method", "path", NOTE_KEY, "gemini_mock.scenario")


def _scrub_header(name: bytes, value: bytes) -> bytes:
    if name.lower() not in _SECRET_HEADER_NAMES:
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
    entry: dict[str, Any] = json.loads(_entry_json(scope, raw_body, status, duration_ms, recorded_at))
    return entry


def _entry_json(scope: Scope, raw_body: bytes, status: int | None, duration_ms: float, recorded_at: float) -> str:
    """The entry as redacted JSON text, which a shared store keeps as it is."""
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
    return redact_text(json.dumps(entry, ensure_ascii=False), worth_redacting(secrets))


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

        recorded = False

        async def record() -> None:
            nonlocal recorded
            recorded = True
            runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
            if runtime is None:
                return
            try:
                await journal_of(runtime).add(_record(scope, b"".join(chunks), status or 500, started, runtime))
            except Exception as exc:  # recording runs before the last byte: it must never break the answer
                # The type only: an exception's text could quote the request, keys included.
                log.error("journal: could not record %s %s (%s)", scope.get("method"), scope.get("path"),
                          type(exc).__name__)

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body") and not recorded:
                await record()  # before the last byte goes out: a client that has its answer finds it listed
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            if not recorded:
                await record()


def _record(scope: Scope, raw_body: bytes, status: int, started: float, runtime: Runtime) -> _Record:
    # Only the headers a key travels in, and the query only when there is one: this runs per request.
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
               if name.lower() in _SECRET_HEADER_NAMES}
    query = scope.get("query_string", b"")
    found = extract_api_key(headers, dict(parse_qsl(query.decode("latin-1"))) if query else {})
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
