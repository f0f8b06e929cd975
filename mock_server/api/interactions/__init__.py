"""The Interactions API (``/{version}/interactions``), Google's recommended surface since June 2026.

See docs/interactions.md. ``routes()`` is all the app needs.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.api.interactions.envelope import interactions_endpoint
from mock_server.api.interactions.handlers import cancel, create, delete, get
from mock_server.web.errors import ApiError

__all__ = ["routes"]

_ALL = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@interactions_endpoint
async def _method_not_allowed(_request: Request) -> Response:
    raise ApiError.named("method_not_allowed")


def routes() -> list[Route]:
    collection, item, action = ("/{version}/interactions", "/{version}/interactions/{interaction_id}",
                                "/{version}/interactions/{interaction_id}/cancel")
    return [
        Route(collection, create, methods=["POST"]),
        Route(item, get, methods=["GET"]),
        Route(item, delete, methods=["DELETE"]),
        Route(action, cancel, methods=["POST"]),
        # Other methods on these paths: the Interactions envelope too, not generateContent's.
        *(Route(path, _method_not_allowed, methods=_ALL) for path in (collection, item, action)),
    ]
