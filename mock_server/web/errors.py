"""Google-shaped errors: one exception type, rendered as the google.rpc.Status envelope.

Texts come from ``schemas/error_catalogue.json``; nothing here restates them.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas import error_catalogue

__all__ = [
    "JSON_CONTENT_TYPE", "ApiError", "GuardMiddleware", "bad_request_details", "error_body", "error_response",
    "raw_json_headers", "send_error",
]

log = logging.getLogger("gemini_mock")

JSON_CONTENT_TYPE = "application/json; charset=UTF-8"


class ApiError(Exception):
    """An error the API answers with; ``status`` is the google.rpc.Code name."""

    def __init__(
        self, code: int, status: str, message: str, details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.details = details or []
        self.headers = headers or {}
        self._encoded: bytes | None = None

    def encoded(self) -> bytes:
        """The envelope's bytes, encoded once per error (pretty-printing runs the pure-Python JSON
        encoder: worth not repeating for an answer served again)."""
        if self._encoded is None:
            # Google pretty-prints its JSON with two-space indentation and ends it with a newline (obs. 1).
            text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
            try:
                self._encoded = text.encode() + b"\n"
            except UnicodeEncodeError:  # a lone surrogate quoted from the request: escaped, never a 500
                self._encoded = json.dumps(self.to_dict(), indent=2).encode() + b"\n"
        return self._encoded

    def again(self) -> ApiError:
        """A fresh exception with the same answer, for an error remembered across requests
        (raising one instance again and again would grow its traceback)."""
        copy = ApiError(self.code, self.status, self.message, self.details, dict(self.headers))
        copy._encoded = self._encoded
        return copy

    @classmethod
    def named(cls, entry_name: str, /, details: list[dict[str, Any]] | None = None, **values: Any) -> ApiError:
        """The catalogue entry ``entry_name`` with its ``{placeholders}`` filled from ``values``."""
        entry = error_catalogue()["errors"][entry_name]
        message = entry["message"].format(**values) if values else entry["message"]
        return cls(int(entry["code"]), str(entry["status"]), message, details)

    def to_dict(self) -> dict[str, Any]:
        status: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            status["details"] = self.details
        return {"error": status}


def bad_request_details(violations: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """google.rpc.BadRequest with one fieldViolation per (field, description); top-level has no field."""
    field_violations = [
        ({"field": field} if field else {}) | {"description": description} for field, description in violations
    ]
    return [{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": field_violations}]


def error_body(error: ApiError) -> bytes:
    return error.encoded()


_JSON_HEADERS = [(b"content-type", JSON_CONTENT_TYPE.encode()), (b"vary", b"Origin, X-Origin, Referer")]


def raw_json_headers(length: int, extra: dict[str, str] | None = None) -> list[tuple[bytes, bytes]]:
    """The headers of a JSON answer as ASGI pairs, built directly: ``Response.init_headers`` would
    parse and rebuild the same list on every request. A name in ``extra`` replaces the default."""
    headers = [(b"content-length", str(length).encode())]
    if not extra:
        return headers + _JSON_HEADERS
    own = {name.lower().encode("latin-1"): value.encode("latin-1") for name, value in extra.items()}
    headers += [(name, value) for name, value in _JSON_HEADERS if name not in own]  # ``extra`` wins
    return headers + list(own.items())


class _EnvelopeResponse(Response):
    def __init__(self, error: ApiError) -> None:
        self.status_code = error.code
        self.background = None
        self.body = error.encoded()
        self.raw_headers = raw_json_headers(len(self.body), error.headers)


def error_response(error: ApiError) -> Response:
    return _EnvelopeResponse(error)


class GuardMiddleware:
    """Outermost layer: whatever escapes the app becomes Google's 500 envelope, never a traceback.

    Given the app's exception handlers, it is also the exception layer (the fake's app has no other):
    one wrapper around the router instead of Starlette's three (server errors, exceptions, guard),
    and the handlers reach the routes through the scope as Starlette's own exception layer passes them.
    """

    def __init__(self, app: ASGIApp, handlers: Mapping[Any, Callable[..., Any]] | None = None) -> None:
        self.app = app
        self.handlers = dict(handlers or {})
        self._scope_handlers: tuple[dict[Any, Callable[..., Any]], dict[int, Any]] = (self.handlers, {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.handlers:
            scope["starlette.exception_handlers"] = self._scope_handlers
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            log.debug("client disconnected before its request was read")  # nobody left to answer
        except Exception as exc:
            handler = next((self.handlers[cls] for cls in type(exc).__mro__ if cls in self.handlers), None)
            if handler is None or started:
                log.exception("unhandled error")  # to our log only; the client sees the envelope
                if not started:
                    await send_error(send, ApiError.named("internal"))
                return
            response = handler(Request(scope, receive, send), exc)
            if inspect.isawaitable(response):
                response = await response
            await response(scope, receive, send)


async def send_error(send: Send, error: ApiError) -> None:
    """``error`` as a complete HTTP response, for code below Starlette's exception handlers."""
    body = error_body(error)
    await send({"type": "http.response.start", "status": error.code,
                "headers": [(b"content-type", JSON_CONTENT_TYPE.encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
