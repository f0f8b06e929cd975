"""Errors in the Interactions envelope: ``{"error": {"message": ..., "code": "<slug>"}}``.

Every rule of the fake raises the same ``ApiError`` on both surfaces; only the rendering differs.
The HTTP status stays the one generateContent answers for the same fault, the ``code`` is the slug
``error_codes.json`` maps that status to (observed: ``invalid_request``, ``not_implemented``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_server.api.interactions.surface import surface_of
from mock_server.web.errors import JSON_CONTENT_TYPE, ApiError
from schemas.interactions import error_code

__all__ = ["error_document", "interactions_endpoint", "interactions_error_response"]

Handler = Callable[[Request], Awaitable[Response]]


def error_document(error: ApiError) -> dict[str, Any]:
    return {"error": {"message": error.message, "code": error_code(error.code)}}


def interactions_error_response(error: ApiError) -> Response:
    body = json.dumps(error_document(error), ensure_ascii=False).encode()
    return Response(body, status_code=error.code, media_type=JSON_CONTENT_TYPE, headers=dict(error.headers))


def interactions_endpoint(handler: Handler) -> Handler:
    """``handler`` with its ``ApiError``s answered in the Interactions envelope."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as error:
            surface = surface_of(request.scope)
            if surface is not None and surface.google_errors:
                raise  # the app answers it in Google's standard envelope
            return interactions_error_response(error)

    return endpoint
