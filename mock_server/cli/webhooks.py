"""``serve`` options of webhook delivery (docs/webhooks.md)."""

from __future__ import annotations

import argparse
from typing import Any

from mock_server.settings import Settings

__all__ = ["add_webhook_options", "webhook_settings"]


def add_webhook_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Webhooks")
    group.add_argument("--webhooks", choices=["off", "loopback", "any"], default=Settings.webhooks,
                       help="where the fake may POST webhook events: nowhere, this machine only (default: a fake "
                            "must not be made to call other hosts), or anywhere")
    group.add_argument("--webhook-timeout", type=float, default=Settings.webhook_timeout_seconds, metavar="S",
                       dest="webhook_timeout_seconds", help="seconds one delivery attempt may take (default 5)")
    group.add_argument("--webhook-retries", type=int, default=Settings.webhook_retries, metavar="N",
                       help="attempts after a failed one, with doubling back-off (default 2)")


def webhook_settings(args: argparse.Namespace) -> dict[str, Any]:
    return {"webhooks": args.webhooks, "webhook_timeout_seconds": args.webhook_timeout_seconds,
            "webhook_retries": max(0, args.webhook_retries)}
