"""The request journal: what the fake received, keys redacted, bounded in memory.

``JournalMiddleware`` records every API request (admin ``/_mock/`` paths excepted) with its
response status; the generate path adds what it resolved (model, image size, aspect ratio, prompt)
and the scenario applied. Each entry is a bounded, already-redacted summary built when the request
is recorded (``journal_summary.py``: image data as size and digest, long strings cut with a marker);
the store drops its oldest entries past ``journal_size`` entries (the memory store also past
``journal_max_bytes`` bytes). ``GET /_mock/requests`` lists the entries (oldest first, filters
``model``, ``limit``), ``DELETE /_mock/requests`` empties the journal.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.answer.validation import ImageRequest
from mock_server.instrument.journal_summary import SizedEntry, Summary, summarize_request
from mock_server.runtime import Runtime, runtime_of
from mock_server.state import StateStore, StateUnavailable, state_of, warn_degraded
from mock_server.web.http import model_and_action

__all__ = ["Journal", "JournalMiddleware", "journal_of", "note_request", "routes"]

log = logging.getLogger("gemini_mock.journal")

NOTE_KEY = "gemini_mock.journal_note"
ADMIN_PREFIX = "/_mock/"


class Journal:
    """The journal of one app, kept in its state store (docs/scaling.md). Entries are summaries built
    when recorded (``journal_summary.py``); a store of this process keeps them as they are (with their
    size, for its byte budget), a shared store as JSON text any worker or replica can list."""

    def __init__(self, store: StateStore) -> None:
        self._store = store

    async def add(self, summary: Summary) -> None:
        entry = SizedEntry(summary.entry)
        entry.size = summary.size
        try:
            await self._store.journal_append_async(json.dumps(entry) if self._store.shared else entry)
        except StateUnavailable as exc:  # the API keeps answering; the log says what is missing
            warn_degraded("journal", exc)

    def entries(self) -> list[dict[str, Any]]:
        return list(self._store.journal_entries())

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


def _record(scope: Scope, raw_body: bytes, status: int, started: float, runtime: Runtime) -> Summary:
    path = str(scope["path"])
    settings = runtime.settings
    return summarize_request(
        method=str(scope["method"]), path=path, query_string=scope.get("query_string", b""),
        headers=scope["headers"], raw_body=raw_body, status=status,
        duration_ms=(time.monotonic() - started) * 1000, recorded_at=time.time(),
        configured_secrets=(*settings.api_keys, *settings.admin_keys), note=scope.get(NOTE_KEY),
        scenario=scope.get("gemini_mock.scenario"), action=model_and_action(path),
    )


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
