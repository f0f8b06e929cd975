"""The fake's own endpoints, all under ``/_mock/`` (never a Google path): journal and scenario rules.

Local tooling: no API key is required; every key is redacted from what they return.
"""

from __future__ import annotations

from starlette.routing import Route

from mock_server.instrument import journal, scenario_rules

__all__ = ["admin_routes"]


def admin_routes() -> list[Route]:
    return [*journal.routes(), *scenario_rules.routes()]
