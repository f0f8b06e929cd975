"""The Webhooks API and webhook delivery (docs/webhooks.md): ``routes()`` for app.py; ``events`` for
the surfaces whose jobs finish in the background (batch jobs, background interactions)."""

from __future__ import annotations

from mock_server.api.webhooks.routes import routes

__all__ = ["routes"]
