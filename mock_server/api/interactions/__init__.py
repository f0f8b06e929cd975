"""The Interactions API (``/{version}/interactions``), Google's recommended surface since June 2026.

See docs/interactions.md. ``routes()`` is all the app needs.
"""

from __future__ import annotations

from starlette.routing import Route

from mock_server.api.interactions.handlers import cancel, create, delete, get

__all__ = ["routes"]


def routes() -> list[Route]:
    return [
        Route("/{version}/interactions", create, methods=["POST"]),
        Route("/{version}/interactions/{interaction_id}", get, methods=["GET"]),
        Route("/{version}/interactions/{interaction_id}", delete, methods=["DELETE"]),
        Route("/{version}/interactions/{interaction_id}/cancel", cancel, methods=["POST"]),
    ]
