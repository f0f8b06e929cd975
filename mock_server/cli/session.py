"""``serve`` options of conversations, streaming and files (issue 3): thoughts, signatures, SSE, Files API."""

from __future__ import annotations

import argparse
from typing import Any

from mock_server.settings import Settings

__all__ = ["add_session_options", "session_settings"]


def add_session_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("conversations, streaming and files")
    group.add_argument("--thought-parts", choices=["on_request", "always"], default=Settings.thought_parts,
                       help="thought parts only with includeThoughts (default) or always (facts §11.8)")
    group.add_argument("--signature-check", choices=["strict", "presence", "off"], default=Settings.signature_check,
                       help="thought signatures in histories: verify (default), only require, or ignore")
    group.add_argument("--sse-line-ending", choices=["crlf", "lf"], default=Settings.sse_line_ending,
                       help="SSE event terminator: \\r\\n\\r\\n (default) or \\n\\n (facts §11.10)")
    group.add_argument("--files-max-bytes", type=int, default=Settings.files_max_bytes, metavar="N",
                       help="bytes the Files API keeps in total, uploads in progress included (default 256 MiB)")
    group.add_argument("--files-dir", default=None, metavar="DIR",
                       help="keep uploaded files in DIR, shared by all workers (default: in memory)")
    group.add_argument("--files-ttl-seconds", type=int, default=Settings.files_ttl_seconds, metavar="S",
                       help="uploaded files expire after S seconds (default 172800, Google's 48 h)")


def session_settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "thought_parts": args.thought_parts, "signature_check": args.signature_check,
        "sse_line_ending": args.sse_line_ending, "files_max_bytes": args.files_max_bytes,
        "files_dir": args.files_dir, "files_ttl_seconds": args.files_ttl_seconds,
    }
