"""The request journal: what the fake received, keys redacted, bounded in memory.

``JournalMiddleware`` records every API request (admin ``/_mock/`` paths excepted) with its
response status; the generate path adds what it resolved (model, image size, aspect ratio, prompt)
and the scenario applied. Each entry is a bounded, already-redacted summary built when the request
is recorded (``journal_summary.py``: image data as size and digest, long strings cut with a marker);
the journal drops its oldest entries past ``journal_size`` entries or ``journal_max_bytes`` bytes.
``GET /_mock/requests`` lists the entries (oldest first, filters ``model``, ``limit``),
``DELETE /_mock/requests`` empties the journal.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.answer.validation import ImageRequest
from mock_server.instrument.journal_summary import Summary, summarize_request
from mock_server.runtime import Runtime, runtime_of
from mock_server.web.http import model_and_action

__all__ = ["Journal", "JournalMiddleware", "journal_of", "note_request", "routes"]

NOTE_KEY = "gemini_mock.journal_note"
ADMIN_PREFIX = "/_mock/"


class Journal:
    """Summaries in arrival order, bounded by an entry count and a byte budget; thread-safe."""

    def __init__(self, size: int, max_bytes: int = 16 * 1024 * 1024) -> None:
        self._entries: deque[tuple[dict[str, Any], int]] = deque()
        self._max_entries = max(1, size)
        self._max_bytes = max(1, max_bytes)
        self._bytes = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, entry: dict[str, Any], size: int = 1024) -> None:
        with self._lock:
            entry["id"] = next(self._ids)
            self._entries.append((entry, size))
            self._bytes += size
            while len(self._entries) > 1 and (len(self._entries) > self._max_entries or self._bytes > self._max_bytes):
                _, dropped = self._entries.popleft()
                self._bytes -= dropped

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [entry for entry, _ in self._entries]

    def clear(self) -> int:
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            self._bytes = 0
            return count


def journal_of(runtime: Runtime) -> Journal:
    journal: Journal | None = runtime.extensions.get("journal")
    if journal is None:
        settings = runtime.settings
        journal = runtime.extensions.setdefault("journal", Journal(settings.journal_size, settings.journal_max_bytes))
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
                summary = _summarize(scope, b"".join(chunks), status or 500, started, runtime)
                journal_of(runtime).add(summary.entry, summary.size)


def _summarize(scope: Scope, raw_body: bytes, status: int, started: float, runtime: Runtime) -> Summary:
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
