"""Google-shaped errors: one exception type, rendered as the google.rpc.Status envelope.

Texts come from ``schemas/error_catalogue.json``; nothing here restates them.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.responses import Response
from starlette.types import Send

from schemas import error_catalogue

__all__ = [
    "JSON_CONTENT_TYPE", "ApiError", "bad_request_details", "error_body", "error_response",
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


async def send_error(send: Send, error: ApiError) -> None:
    """``error`` as a complete HTTP response, for code below Starlette's exception handlers."""
    body = error_body(error)
    await send({"type": "http.response.start", "status": error.code,
                "headers": [(b"content-type", JSON_CONTENT_TYPE.encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
