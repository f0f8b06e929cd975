"""The fake's outermost layer: one wrapper around each whole exchange.

Three things need to see every request from outside the app, and each used to be its own ASGI layer
(one more coroutine and one more wrapped ``send`` per message, on every request):

- the **guard**: whatever escapes the app becomes Google's 500 envelope, never a traceback;
- **gates**: a path prefix whose requests a check may refuse before routing (the admin surface);
- the **observer**: told once per exchange what was read, the status and when it started (the journal),
  before the last byte goes out, so a client that has its answer finds its request recorded.

A small body (up to ``READ_AHEAD``) is read before the app runs, so the observer sees what was sent even
when the app refuses without reading it, and the front can answer a request it has answered before
(``web/answers.py``): a handler says when its answer is a pure function of the request.

The app's exception handlers stay innermost (``ExceptionLayer`` around the router), so the observer
and any middleware between see an error answer as the response it is. The layer learns whether an
answer has started from the front's exchange, so it does not wrap ``send`` a second time.
Without an observer or gates the front is just the guard (the recorder and the validating proxy).
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.web.answers import AnswerCache
from mock_server.web.errors import ApiError, send_error
from mock_server.web.http import REQUEST_KEY, request_key, send_pieces

__all__ = ["READ_AHEAD", "ExceptionLayer", "Front", "Gate", "Observer"]

log = logging.getLogger("gemini_mock")

_EXCHANGE = "gemini_mock.exchange"
READ_AHEAD = 16 * 1024  # bodies up to this size are read before the app runs (_read_ahead)

Gate = Callable[[Scope], ApiError | None]
"""Why a request under the gate's prefix is refused, or None to let it through."""
Observer = Callable[[Scope, bytes, int, float], Awaitable[None]]
"""Called once per exchange with (scope, body read, status, ``time.monotonic()`` at the start)."""


class _Exchange:
    """One request's receive and send, noting what the observer needs on the way through."""

    __slots__ = ("_receive", "_send", "chunks", "observed", "observer", "pending", "scope", "sent", "start",
                 "started")

    def __init__(self, scope: Scope, receive: Receive, send: Send, observer: Observer | None) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self.observer = observer
        self.chunks: list[bytes] = []
        self.observed = observer is None
        self.started = time.monotonic()
        self.pending: list[Message] = []  # messages the front read first, handed to the app first
        self.start: Message | None = None
        self.sent: list[bytes] | None = None  # the body sent, when the front may remember the answer

    async def receive(self) -> Message:
        if self.pending:
            return self.pending.pop(0)
        return await self.read()

    async def read(self) -> Message:
        """The next message from the server, its body noted for the observer."""
        message = await self._receive()
        if message["type"] == "http.request":
            self.chunks.append(message.get("body", b""))
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        else:
            if self.sent is not None:
                self.sent.append(message.get("body", b""))
            if not self.observed and not message.get("more_body"):
                await self.observe()  # before the last byte goes out
        await self._send(message)

    @property
    def status(self) -> int | None:
        """The answer's status once it has started, else None."""
        return None if self.start is None else int(self.start["status"])

    async def observe(self) -> None:
        self.observed = True
        assert self.observer is not None
        body = self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)
        try:
            await self.observer(self.scope, body, self.status or 500, self.started)
        except Exception as exc:  # observing must never break the answer
            # The type only: an exception's text could quote the request, keys included.
            log.error("could not record %s %s (%s)", self.scope.get("method"), self.scope.get("path"),
                      type(exc).__name__)


class Front:
    """Outermost: gates, the observer and the guard, in one wrapper per request."""

    def __init__(self, app: ASGIApp, observer: Observer | None = None, gates: Mapping[str, Gate] | None = None,
                 answers: AnswerCache | None = None) -> None:
        self.app = app
        self.observer = observer
        self.gates = tuple((gates or {}).items())
        self.answers = answers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope["path"])
        for prefix, gate in self.gates:
            if path.startswith(prefix):
                refusal = gate(scope)
                if refusal is not None:
                    await send_error(send, refusal)
                    return
        exchange = scope[_EXCHANGE] = _Exchange(scope, receive, send, self.observer)
        try:
            body = await _read_ahead(scope, exchange)
            if self.answers is None or body is None:
                await self.app(scope, exchange.receive, exchange.send)
            else:
                await self._answer(scope, exchange, self.answers, body)
        except ClientDisconnect:
            log.debug("client disconnected before its request was read")  # nobody left to answer
        except Exception:
            log.exception("unhandled error")  # to our log only; the client sees the envelope
            if exchange.status is None:
                await send_error(exchange.send, ApiError.named("internal"))
        finally:
            if not exchange.observed:
                await exchange.observe()
            del scope[_EXCHANGE]  # the exchange holds the scope: no cycle left for the collector

    async def _answer(self, scope: Scope, exchange: _Exchange, answers: AnswerCache, body: bytes) -> None:
        """The remembered answer to these very request bytes (web/answers.py), or the app's, remembered
        when its handler says it may be."""
        key = scope[REQUEST_KEY]
        remembered = answers.get(key, scope)
        if remembered is not None:
            scope.update(remembered.extras)
            await send_pieces(exchange.send, remembered.status, remembered.headers,
                              remembered.body_with(answers.new_response_id().encode()))
            return
        exchange.sent = []
        await self.app(scope, exchange.receive, exchange.send)
        if exchange.start is not None:
            answers.keep(key, scope, exchange.start, exchange.sent)


async def _read_ahead(scope: Scope, exchange: _Exchange) -> bytes | None:
    """A small body (up to ``READ_AHEAD`` bytes), read whole before the app runs and handed to it as one
    message: the journal then records what was sent even when the app refuses before reading it, and a
    remembered answer can be found for it. A larger body, declared or counted, is the app's to read (what
    was read of it comes first)."""
    size = 0
    while True:
        message = await exchange.read()
        exchange.pending.append(message)
        if message["type"] != "http.request":
            return None
        size += len(message.get("body", b""))
        if size > READ_AHEAD:
            return None
        if not message.get("more_body", False):
            break
        if len(exchange.pending) == 1 and _declared_length(scope) > READ_AHEAD:
            return None  # not read past its first piece: the app refuses it on its declared length
    body = exchange.chunks[0] if len(exchange.chunks) == 1 else b"".join(exchange.chunks)
    exchange.pending[:] = [{"type": "http.request", "body": body, "more_body": False}]
    scope[REQUEST_KEY] = request_key(scope, body)
    return body


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0

class ExceptionLayer:
    """Innermost, around the router: an exception with a handler becomes that handler's answer, unless
    the answer has started (then it goes on to the front's guard). Handlers reach the routes through the
    scope, as Starlette's own exception layer passes them."""

    def __init__(self, app: ASGIApp, handlers: Mapping[Any, Callable[..., Any]]) -> None:
        self.app = app
        self.handlers = dict(handlers)
        self._scope_handlers: tuple[dict[Any, Callable[..., Any]], dict[int, Any]] = (self.handlers, {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["starlette.exception_handlers"] = self._scope_handlers
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            handler = next((self.handlers[cls] for cls in type(exc).__mro__ if cls in self.handlers), None)
            exchange = scope.get(_EXCHANGE)
            if handler is None or (exchange is not None and exchange.status is not None):
                raise
            response = handler(Request(scope, receive, send), exc)
            if inspect.isawaitable(response):
                response = await response
            await response(scope, receive, send)

