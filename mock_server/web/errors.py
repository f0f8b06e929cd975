"""Google-shaped errors: one exception type, rendered as the google.rpc.Status envelope.

Texts come from ``schemas/error_catalogue.json``; nothing here restates them.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas import error_catalogue

__all__ = [
    "JSON_CONTENT_TYPE", "ApiError", "GuardMiddleware", "bad_request_details", "error_body", "error_response",
    "send_error",
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
    # Google pretty-prints its JSON with two-space indentation and ends it with a newline (obs. 1).
    text = json.dumps(error.to_dict(), indent=2, ensure_ascii=False)
    try:
        return text.encode() + b"\n"
    except UnicodeEncodeError:  # a lone surrogate quoted from the request: escape it rather than fail
        return json.dumps(error.to_dict(), indent=2).encode() + b"\n"


def error_response(error: ApiError) -> Response:
    headers = {"vary": "Origin, X-Origin, Referer", **error.headers}
    return Response(error_body(error), status_code=error.code, media_type=JSON_CONTENT_TYPE, headers=headers)


class GuardMiddleware:
    """Outermost layer: whatever escapes the app becomes Google's 500 envelope, never a traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            log.debug("client disconnected before its request was read")  # nobody left to answer
        except Exception:
            log.exception("unhandled error")  # to our log only; the client sees the envelope
            if not started:
                await send_error(send, ApiError.named("internal"))


async def send_error(send: Send, error: ApiError) -> None:
    """``error`` as a complete HTTP response, for code below Starlette's exception handlers."""
    body = error_body(error)
    await send({"type": "http.response.start", "status": error.code,
                "headers": [(b"content-type", JSON_CONTENT_TYPE.encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
