"""The request journal: what the fake received, keys redacted, bounded in memory.

``record_exchange``, the observer of the app's front (``web/front.py``), records every API request
(admin ``/_mock/`` paths excepted) with its response status; the generate path adds what it resolved
(model, image size, aspect ratio, prompt) and the scenario applied. Each entry is a bounded,
already-redacted summary built when the request is recorded (``journal_summary.py``: image data as
size and digest, long strings cut with a marker);
the store drops its oldest entries past ``journal_size`` entries or ``journal_max_bytes`` bytes.
``GET /_mock/requests`` lists the entries (oldest first, filters
``model``, ``limit``), ``DELETE /_mock/requests`` empties the journal.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Scope

from mock_server.answer.validation import ImageRequest
from mock_server.instrument.admin_guard import ADMIN_PREFIX
from mock_server.instrument.journal_summary import summarize_request
from mock_server.instrument.scenarios import scenario_of
from mock_server.runtime import Runtime, runtime_of
from mock_server.state import StateStore, StateUnavailable, state_of, warn_degraded
from mock_server.web.http import REQUEST_KEY, action_of, model_and_action, request_key

__all__ = ["Journal", "journal_of", "note_request", "record_exchange", "routes"]

log = logging.getLogger("gemini_mock.journal")

NOTE_KEY = "gemini_mock.journal_note"


_MEMO_BODY_BYTES = 64 * 1024  # the planned-reply cache's limit (api/generate.py): larger bodies are not repeated
_MEMO_ENTRIES = 256


class _Recorded:
    """One request in a store of this process: the summary of its shape (shared by every repeat) with
    its own time, status and duration, made a dict only when the journal is listed."""

    __slots__ = ("duration_ms", "id", "recorded_at", "shape", "size", "status")

    def __init__(self, shape: dict[str, Any], size: int, recorded_at: float, status: int, duration_ms: float) -> None:
        self.shape = shape
        self.size = size  # for the store's byte budget
        self.recorded_at = recorded_at
        self.status = status
        self.duration_ms = duration_ms
        self.id = 0  # the store numbers it

    def entry(self) -> dict[str, Any]:
        entry = dict(self.shape)  # its keys in the summary's order, ``id`` last
        entry["time"] = _iso(self.recorded_at)
        entry["status"], entry["durationMs"] = self.status, round(self.duration_ms, 3)
        if self.id:
            entry["id"] = self.id
        return entry


_second = (0, "")


def _iso(now: float) -> str:
    """``datetime.isoformat(timespec="milliseconds")`` in UTC, the date part formatted once a second."""
    global _second
    second = int(now)
    if _second[0] != second:
        _second = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{_second[1]}.{int((now - second) * 1000):03d}+00:00"


class Journal:
    """The journal of one app, kept in its state store (docs/scaling.md). Entries are summaries built
    when recorded (``journal_summary.py``); a store of this process keeps them as they are (with their
    size, for its byte budget), a shared store as JSON text any worker or replica can list.

    A summary is a pure function of the request's parts, and clients send the same request again and
    again: the redacted summary of each recent request *shape* is remembered, and a repeated request is
    recorded as that shape with its own time, status and duration (the walk and the redaction, a third
    of a small request's cost, run once per shape)."""

    def __init__(self, store: StateStore, configured_secrets: tuple[str, ...] = ()) -> None:
        self._store = store
        self._secrets = configured_secrets
        self._shapes: OrderedDict[tuple[Any, ...], tuple[Any, dict[str, Any], int]] = OrderedDict()
        self._lock = threading.Lock()

    async def record(self, scope: Scope, raw_body: bytes, status: int, started: float) -> None:
        shape, size = self.shape_of(scope, raw_body)
        recorded = _Recorded(shape, size, time.time(), status, (time.monotonic() - started) * 1000)
        try:
            if self._store.shared:
                await self._store.journal_append_async(json.dumps(recorded.entry()))
            else:  # a store of this process: no coroutine to append to a list
                self._store.journal_append(recorded)
        except StateUnavailable as exc:  # the API keeps answering; the log says what is missing
            warn_degraded("journal", exc)

    def shape_of(self, scope: Scope, raw_body: bytes) -> tuple[dict[str, Any], int]:
        """The redacted, bounded summary of a request without its time, status and duration, and its
        approximate size: remembered for the request shapes seen last."""
        resolved = scope.get(NOTE_KEY)
        scenario = scenario_of(scope)
        key: tuple[Any, ...] | None = None
        # The request's identity, as the front computed it for a body it read ahead; a larger one by digest.
        identity = scope.get(REQUEST_KEY)
        if identity is None and len(raw_body) <= _MEMO_BODY_BYTES:
            identity = request_key(scope, hashlib.sha256(raw_body).digest())
        if identity is not None:
            key = (identity, id(resolved), getattr(scenario, "name", None), getattr(scenario, "source", None))
            with self._lock:
                shape = self._shapes.get(key)
            if shape is not None and shape[0] is resolved:  # ``resolved`` is kept alive there: its id is its own
                return shape[1], shape[2]
        summary = summarize_request(
            method=str(scope["method"]), path=str(scope["path"]), query_string=scope.get("query_string", b""),
            headers=scope["headers"], raw_body=raw_body, status=None, duration_ms=0.0, recorded_at=0.0,
            configured_secrets=self._secrets, note=_note(resolved), scenario=scenario,
            action=(model_and_action(str(scope["path"]))[0], action_of(str(scope["method"]), str(scope["path"]))),
        )
        if key is not None:
            with self._lock:
                self._shapes[key] = (resolved, summary.entry, summary.size)
                while len(self._shapes) > _MEMO_ENTRIES:
                    self._shapes.popitem(last=False)
        return summary.entry, summary.size

    def entries(self) -> list[dict[str, Any]]:
        return [entry.entry() if isinstance(entry, _Recorded) else entry for entry in self._store.journal_entries()]

    def clear(self) -> int:
        return self._store.journal_clear()


def journal_of(runtime: Runtime) -> Journal:
    journal: Journal | None = runtime.extensions.get("journal")
    if journal is None:
        secrets = (*runtime.settings.api_keys, *runtime.settings.admin_keys)
        journal = runtime.extensions.setdefault("journal", Journal(state_of(runtime), secrets))
    return journal


def note_request(scope: Scope, image_request: ImageRequest) -> None:
    """Called by the generate path: what the request resolved to (a repeated body resolves to the same
    object, which is what lets the journal reuse its summary)."""
    scope[NOTE_KEY] = image_request


def _note(image_request: ImageRequest | None) -> dict[str, Any] | None:
    if image_request is None:
        return None
    return {
        "model": image_request.profile.model_id, "imageSize": image_request.image_size,
        "aspectRatio": image_request.aspect_ratio, "prompt": image_request.prompt,
        "responseModalities": list(image_request.modalities), "body": image_request.body,
    }


async def record_exchange(scope: Scope, raw_body: bytes, status: int, started: float) -> None:
    """The front's observer (``web/front.py``): records each API request (admin paths excepted)."""
    if str(scope["path"]).startswith(ADMIN_PREFIX):
        return
    runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
    if runtime is None:
        return
    try:
        await journal_of(runtime).record(scope, raw_body, status, started)
    except Exception as exc:  # recording runs before the last byte: it must never break the answer
        # The type only: an exception's text could quote the request, keys included.
        log.error("journal: could not record %s %s (%s)", scope.get("method"), scope.get("path"), type(exc).__name__)


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
