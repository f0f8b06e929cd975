"""Forward HTTP exchanges to an upstream unchanged, letting an observer see each one (record, proxy).

Binary-safe: request bytes go upstream as received; response bytes come back as sent (``aiter_raw``,
encoding headers kept). Streamed responses (SSE, JSON-array streams, or anything without a length)
are relayed chunk by chunk as they arrive; other responses are read whole first so the observer can
add headers (the proxy's violation report). The observer then sees the complete exchange.
"""

from __future__ import annotations

import gzip
import logging
import time
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from starlette.types import Message, Receive, Scope, Send

from mock_server.web.errors import ApiError, send_error

__all__ = ["Exchange", "Forwarder", "Observer", "closing", "decoded_body"]

log = logging.getLogger("gemini_mock")

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
               "transfer-encoding", "upgrade", "host"}


@dataclass
class Exchange:
    method: str
    path: str
    query_string: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int = 0
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes = b""  # raw, as upstream sent it
    streamed: bool = False
    elapsed_s: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)  # observers' scratch space

    def request_header(self, name: str) -> str:
        return next((value for key, value in self.request_headers if key == name), "")

    def response_header(self, name: str) -> str:
        return next((value for key, value in self.response_headers if key == name), "")


def decoded_body(exchange: Exchange) -> bytes | None:
    """The response body without its content-encoding, or None for an encoding we cannot undo."""
    encoding = exchange.response_header("content-encoding").strip().lower()
    body = exchange.response_body
    try:
        if encoding in ("", "identity"):
            return body
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, zlib.error, EOFError):
        return None
    return None


class Observer(Protocol):
    def extra_headers(self, exchange: Exchange) -> list[tuple[str, str]]:
        """Headers to add to the client's response (the body is complete unless ``exchange.streamed``)."""

    def finished(self, exchange: Exchange) -> None:
        """The whole exchange, after the client got its last byte."""


def _is_stream(path: str, query: str, response: httpx.Response) -> bool:
    content_type = response.headers.get("content-type", "")
    return (":streamGenerateContent" in path or "alt=sse" in query or "text/event-stream" in content_type
            or "content-length" not in response.headers)


class Forwarder:
    """An ASGI app relaying every request to ``upstream`` (a base URL such as https://host)."""

    def __init__(self, upstream: str, observer: Observer, timeout_s: float = 600.0) -> None:
        self.upstream = upstream.rstrip("/")
        self.observer = observer
        self.timeout = httpx.Timeout(timeout_s, connect=10.0)
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
        exchange = Exchange(
            method=scope["method"], path=scope.get("raw_path", scope["path"].encode()).decode("latin-1"),
            query_string=scope.get("query_string", b"").decode("latin-1"), request_headers=headers,
            request_body=b"".join(chunks),
        )
        url = self.upstream + exchange.path + (f"?{exchange.query_string}" if exchange.query_string else "")
        upstream_request = self.client.build_request(
            exchange.method, url, content=exchange.request_body,
            headers=[(k, v) for k, v in headers if k not in _HOP_BY_HOP and k != "content-length"],
        )
        started = time.monotonic()
        try:
            response = await self.client.send(upstream_request, stream=True)
        except httpx.HTTPError as exc:
            await _upstream_unreachable(send, type(exc).__name__)
            return
        try:
            await self._relay(exchange, response, send)
        finally:
            await response.aclose()
        exchange.elapsed_s = time.monotonic() - started
        try:
            self.observer.finished(exchange)
        except Exception:  # an observer's failure must not break the relay
            log.exception("observer failed")

    async def _relay(self, exchange: Exchange, response: httpx.Response, send: Send) -> None:
        exchange.status = response.status_code
        exchange.response_headers = [
            (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.headers.raw
            if k.decode("latin-1").lower() not in _HOP_BY_HOP
        ]
        exchange.streamed = _is_stream(exchange.path, exchange.query_string, response)
        body: list[bytes] = []
        if not exchange.streamed:
            try:
                body = [chunk async for chunk in response.aiter_raw()]
            except httpx.HTTPError as exc:
                await _upstream_unreachable(send, type(exc).__name__)
                return
            exchange.response_body = b"".join(body)
        start: Message = {"type": "http.response.start", "status": exchange.status,
                          "headers": _encode(exchange.response_headers + self.observer.extra_headers(exchange))}
        await send(start)
        if not exchange.streamed:
            await send({"type": "http.response.body", "body": exchange.response_body})
            return
        try:
            async for chunk in response.aiter_raw():
                body.append(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except httpx.HTTPError:
            log.warning("upstream stream broke off after %d bytes", sum(map(len, body)))
        exchange.response_body = b"".join(body)
        await send({"type": "http.response.body", "body": b""})


def closing(forwarder: Forwarder) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A Starlette lifespan that closes the forwarder's upstream connections at shutdown."""

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        yield
        await forwarder.aclose()

    return lifespan


def _encode(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1", "replace")) for k, v in headers]


async def _upstream_unreachable(send: Send, reason: str) -> None:
    await send_error(send, ApiError(502, "UNAVAILABLE", f"gemini-mock: the upstream could not be reached ({reason})."))
