"""``serve`` options of issue 12 (hostile input): keys from the environment, the admin key, memory bounds,
and the warning printed when the fake listens beyond loopback."""

from __future__ import annotations

import argparse
import ipaddress
import os
from typing import Any

from mock_server.settings import Settings

__all__ = ["ADMIN_KEYS_ENV", "API_KEYS_ENV", "add_hardening_options", "exposure_warning", "hardening_settings"]

API_KEYS_ENV = "GEMINI_MOCK_API_KEYS"
ADMIN_KEYS_ENV = "GEMINI_MOCK_ADMIN_KEYS"
_MIB = 1024 * 1024


def _keys_from_env(name: str) -> tuple[str, ...]:
    return tuple(key.strip() for key in os.environ.get(name, "").split(",") if key.strip())


def add_hardening_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("hostile input: keys, admin surface, memory")
    group.add_argument("--admin-key", action="append", default=[], dest="admin_keys", metavar="KEY",
                       help=f"key required on /_mock/* (repeatable; else the API keys guard it); "
                            f"prefer {ADMIN_KEYS_ENV}: argv is visible in ps")
    group.add_argument("--image-cache-mb", type=int, default=Settings.image_cache_bytes // _MIB, metavar="MB",
                       help="rendered images kept for reuse (default 64; 0 disables the cache)")
    group.add_argument("--answer-cache-mb", type=int, default=Settings.answer_cache_bytes // _MIB, metavar="MB",
                       help="answers remembered for identical requests, image data included (default 8; "
                            "0 sends every request to its handler)")
    group.add_argument("--journal-max-mb", type=int, default=Settings.journal_max_bytes // _MIB, metavar="MB",
                       help="bytes the request journal keeps (default 16), besides --journal-size entries")
    group.add_argument("--max-input-pixels", type=int, default=Settings.max_input_pixels, metavar="N",
                       help="largest input image accepted, in pixels (default 50000000)")


def hardening_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Keys on the command line win; else the comma-separated lists in the environment."""
    return {
        "api_keys": tuple(args.api_keys) or _keys_from_env(API_KEYS_ENV),
        "admin_keys": tuple(args.admin_keys) or _keys_from_env(ADMIN_KEYS_ENV),
        "image_cache_bytes": max(0, args.image_cache_mb) * _MIB,
        "answer_cache_bytes": max(0, args.answer_cache_mb) * _MIB,
        "journal_max_bytes": max(1, args.journal_max_mb) * _MIB,
        "max_input_pixels": args.max_input_pixels,
    }


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_warning(settings: Settings) -> str | None:
    """What to print when the fake listens beyond loopback: who can reach its admin surface."""
    if _loopback(settings.host):
        return None
    guarded = "requires the admin or API key" if settings.admin_keys or settings.api_keys else \
        "is OPEN to anyone who can reach it (no --api-key or --admin-key)"
    return (f"gemini-mock: WARNING: listening on {settings.host}, beyond loopback. The admin surface /_mock/* "
            f"(the journal of every client's prompts, scenario rules) {guarded}. See docs/security.md.")
