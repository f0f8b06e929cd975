"""``serve`` options of the Interactions API (issue 9, docs/interactions.md)."""

from __future__ import annotations

import argparse
from typing import Any

from mock_server.settings import Settings

__all__ = ["add_interactions_options", "interactions_settings"]


def add_interactions_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Interactions API")
    group.add_argument("--interactions-delete", choices=["ok", "not_implemented"], default=Settings.interactions_delete,
                       help="DELETE /interactions/{id}: 'ok' as documented (default) or 501 not_implemented "
                            "as observed in Aug 2026")
    group.add_argument("--interactions-store-bytes", type=int, default=Settings.interactions_store_bytes,
                       metavar="BYTES", help="stored interactions kept in memory (oldest evicted first)")
    group.add_argument("--interactions-ttl", type=int, default=Settings.interactions_ttl_seconds, metavar="SECONDS",
                       help="how long a stored interaction can be fetched or continued (Google: 55 days)")


def interactions_settings(args: argparse.Namespace) -> dict[str, Any]:
    return {"interactions_delete": args.interactions_delete, "interactions_store_bytes": args.interactions_store_bytes,
            "interactions_ttl_seconds": args.interactions_ttl}
