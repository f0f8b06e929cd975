"""``gemini-mock serve --replay DIR``: answer requests that match a cassette with what was recorded.

An ASGI middleware in front of the fake: it reads the request, looks its canonical form up in the
cassettes (``cassettes.py``) and, on a hit, sends the recorded status, headers and body (byte-identical,
images restored from their blob files). A miss goes to the fake (``--replay-miss fake``, default) or
gets a 404 (``--replay-miss error``). Requests without any API key are left to the fake, which answers
403 as Google does. The next request for the same cassette gets the next recorded response; the last
one repeats.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.instrument.admin_guard import ADMIN_PREFIX
from mock_server.instrument.cassettes import CassetteStore, canonical_request
from mock_server.web.errors import JSON_CONTENT_TYPE, ApiError, error_body
from schemas.wire.redaction import extract_api_key

__all__ = ["ReplayMiddleware"]

_MISS = "gemini-mock: no cassette matches this request (--replay-miss error)."


class ReplayMiddleware:
    def __init__(self, app: ASGIApp, directory: str, miss: str = "fake") -> None:
        self.app = app
        self.store = CassetteStore(directory)
        self.miss = miss

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope["path"]).startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query_string = scope.get("query_string", b"").decode("latin-1")
        if extract_api_key(headers, dict(parse_qsl(query_string))) is not None:
            path = scope.get("raw_path", str(scope["path"]).encode()).decode("latin-1")
            found = self.store.replay(canonical_request(scope["method"], path, query_string, headers, body))
            if found is not None:
                status, recorded_headers, payload = found
                scope["gemini_mock.replayed"] = True
                await _send(send, status, recorded_headers, payload)
                return
            if self.miss == "error":
                error = ApiError(404, "NOT_FOUND", _MISS)
                await _send(send, 404, {"content-type": JSON_CONTENT_TYPE}, error_body(error))
                return

        async def replaying_receive() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        await self.app(scope, replaying_receive, send)


async def _send(send: Send, status: int, headers: dict[str, str], body: bytes) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items() if k != "content-length"]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
