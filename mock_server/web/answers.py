"""Answers remembered for identical requests, replayed by the front with a fresh ``responseId``.

Load tests and retrying clients send the same bytes again and again. When a handler's answer is a pure
function of the request (the same method, path, query, headers and body always get the same answer:
a planned reply without scenario or latency, images included, a remembered refusal, a count, a model
list),
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
from dataclasses import dataclass, replace
from typing import Any

from starlette.types import Message, Scope

from mock_server.web.http import COALESCE_BELOW, REQUEST_KEY, coalesced

__all__ = ["AnswerCache", "RememberedAnswer", "remember_answer"]

_REMEMBER = "gemini_mock.remember"  # scope key: the handler's verdict, and its responseId if any
_PREFIX = "gemini_mock."  # scope entries the app set, restored on a replay (what the journal reads)
_NOT_RESTORED = frozenset({_REMEMBER, REQUEST_KEY, "gemini_mock.exchange"})
_MAX_BYTES = 8 * 1024 * 1024  # requests and answers kept, in all (an answer over half of it is never kept)


def remember_answer(scope: Scope, response_id: str | None = None) -> None:
    """Called by a handler whose answer is a pure function of the request (bodies up to the front's
    ``READ_AHEAD``, 16 KB, are looked up); ``response_id`` is the id in that answer, replaced by a fresh
    one when it is replayed."""
    scope[_REMEMBER] = response_id or ""


@dataclass(frozen=True)
class RememberedAnswer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: tuple[bytes | None, ...]  # the pieces sent, split where the responseId goes (None)
    extras: dict[str, Any]  # the scope entries the app set (what the request resolved to)

    def body_with(self, response_id: bytes) -> list[bytes]:
        """The body's pieces with ``response_id`` in place: small neighbours joined, image data as kept."""
        return coalesced([response_id if piece is None else piece for piece in self.body])

    def head_joined(self) -> RememberedAnswer:
        """This answer with the pieces before the responseId joined into one. An image answer then goes
        out as two messages (everything up to the id, and the rest) instead of three, measured cheaper
        on the wire (``docs/performance.md``); done at the first replay, so that an answer never asked
        for again (a distinct prompt) costs no copy."""
        cut = self.body.index(None) if None in self.body else len(self.body)
        if cut <= 1:
            return self
        return replace(self, body=(b"".join(piece for piece in self.body[:cut] if piece is not None), *self.body[cut:]))


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
        if kept is None or not self.may_replay(scope):
            return None
        answer = kept[0].head_joined()
        if answer is not kept[0]:
            with self._lock:
                if self._answers.get(key) is kept:
                    self._answers[key] = (answer, kept[1])
        return answer

    def keep(self, key: tuple[Any, ...], scope: Scope, start: Message, body: list[bytes]) -> None:
        """Remember what was sent for ``key`` if the handler said it may be and no rule may fire."""
        response_id = scope.get(_REMEMBER)
        length = sum(map(len, body))
        if response_id is None or length > self._max_bytes // 2 or not self.may_replay(scope):
            return
        pieces = _split_at(coalesced(body), response_id.encode())
        extras = {name: value for name, value in scope.items()
                  if name.startswith(_PREFIX) and name not in _NOT_RESTORED}
        answer = RememberedAnswer(int(start["status"]), list(start.get("headers", [])), tuple(pieces), extras)
        size = len(key[-1]) + sum(len(name) + len(value) for name, value in key[3]) + length + 512
        with self._lock:
            previous = self._answers.pop(key, None)
            self._bytes += size - (previous[1] if previous else 0)
            self._answers[key] = (answer, size)
            while self._answers and (len(self._answers) > self._max or self._bytes > self._max_bytes):
                self._bytes -= self._answers.popitem(last=False)[1][1]


def _split_at(pieces: list[bytes], response_id: bytes) -> tuple[bytes | None, ...]:
    """``pieces`` with None where ``response_id`` was. Large pieces (image base64, which never holds the
    id: it sits in the small tail, last in Google's key order) are kept as they are, never copied."""
    out: list[bytes | None] = []
    for piece in pieces:
        if not response_id or len(piece) >= COALESCE_BELOW:
            out.append(piece)
            continue
        texts = piece.split(response_id)
        out.append(texts[0])
        for text in texts[1:]:
            out += [None, text]
    return tuple(out)
