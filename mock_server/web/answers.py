"""Answers remembered for identical requests, replayed by the front with a fresh ``responseId``.

Load tests and retrying clients send the same bytes again and again. When a handler's answer is a pure
function of the request (the same method, path, query, headers and body always get the same answer:
a planned text reply without scenario, latency or images, a remembered refusal, a count, a model list),
it says so with ``remember_answer``; the front keeps what was sent and answers the next identical
request with it, without routing it again. Everything stateful still happens per request: the journal
records every request (the observer sees a replay like any exchange), a replay gets its own
``responseId``, and nothing is replayed while a scenario rule may fire (``may_replay``). Only the app's
own handlers decide what may be remembered; optional layers that change answers (replay, defects) turn
the cache off (``app.py``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import Message, Scope

from mock_server.web.http import REQUEST_KEY

__all__ = ["AnswerCache", "RememberedAnswer", "remember_answer"]

_REMEMBER = "gemini_mock.remember"  # scope key: the handler's verdict, and its responseId if any
_PREFIX = "gemini_mock."  # scope entries the app set, restored on a replay (what the journal reads)
_NOT_RESTORED = frozenset({_REMEMBER, REQUEST_KEY, "gemini_mock.exchange"})
_MAX_ANSWER = 64 * 1024  # answers larger than this are not kept (image answers live in the image cache)
_MAX_BYTES = 8 * 1024 * 1024  # requests and answers kept, in all


def remember_answer(scope: Scope, response_id: str | None = None) -> None:
    """Called by a handler whose answer is a pure function of the request (bodies up to the front's
    ``READ_AHEAD``, 16 KB, are looked up); ``response_id`` is the id in that answer, replaced by a fresh
    one when it is replayed."""
    scope[_REMEMBER] = response_id or ""


@dataclass(frozen=True)
class RememberedAnswer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: tuple[bytes | None, ...]  # None where the responseId goes
    extras: dict[str, Any]  # the scope entries the app set (what the request resolved to)

    def body_with(self, response_id: bytes) -> bytes:
        return b"".join(response_id if piece is None else piece for piece in self.body)


class AnswerCache:
    """The last ``max_entries`` remembered answers by request (``web.http.request_key``), ``max_bytes`` of
    requests and answers at most."""

    def __init__(self, new_response_id: Callable[[], str], may_replay: Callable[[Scope], bool],
                 max_entries: int = 1024, max_bytes: int = _MAX_BYTES) -> None:
        self.new_response_id = new_response_id
        self.may_replay = may_replay
        self._max = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self._answers: OrderedDict[tuple[Any, ...], tuple[RememberedAnswer, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], scope: Scope) -> RememberedAnswer | None:
        with self._lock:
            kept = self._answers.get(key)
        return kept[0] if kept is not None and self.may_replay(scope) else None

    def keep(self, key: tuple[Any, ...], scope: Scope, start: Message, body: list[bytes]) -> None:
        """Remember what was sent for ``key`` if the handler said it may be and no rule may fire."""
        response_id = scope.get(_REMEMBER)
        if response_id is None or sum(map(len, body)) > _MAX_ANSWER or not self.may_replay(scope):
            return
        joined = b"".join(body)
        pieces: list[bytes | None] = [joined]
        if response_id:
            texts = joined.split(response_id.encode())
            pieces = [texts[0]]
            for text in texts[1:]:
                pieces += [None, text]
        extras = {name: value for name, value in scope.items()
                  if name.startswith(_PREFIX) and name not in _NOT_RESTORED}
        answer = RememberedAnswer(int(start["status"]), list(start.get("headers", [])), tuple(pieces), extras)
        size = len(key[-1]) + sum(len(name) + len(value) for name, value in key[3]) + len(joined) + 512
        with self._lock:
            previous = self._answers.pop(key, None)
            self._bytes += size - (previous[1] if previous else 0)
            self._answers[key] = (answer, size)
            while self._answers and (len(self._answers) > self._max or self._bytes > self._max_bytes):
                self._bytes -= self._answers.popitem(last=False)[1][1]
