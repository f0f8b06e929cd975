"""``gemini-mock``: run the fake (``serve``); feature modules add subcommands via ``SUBCOMMANDS``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import uvicorn

from mock_server.allocator import limit_allocator_growth
from mock_server.cli.hardening import add_hardening_options, exposure_warning, hardening_settings
from mock_server.cli.instrument import INSTRUMENT_COMMANDS, add_instrument_options, instrument_settings
from mock_server.cli.interactions import add_interactions_options, interactions_settings
from mock_server.cli.session import add_session_options, session_settings
from mock_server.cli.state import StateSetupError, add_state_options, serving_state, state_settings
from mock_server.cli.surfaces import add_surface_options, surface_settings
from mock_server.cli.webhooks import add_webhook_options, webhook_settings
from mock_server.settings import ENV_VAR, Settings
from mock_server.web.serving import uvicorn_options

__all__ = ["SUBCOMMANDS", "add_server_options", "exposure_warning", "main", "settings_from_args"]

SubcommandSetup = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]
SUBCOMMANDS: list[SubcommandSetup] = [*INSTRUMENT_COMMANDS]
"""Functions that add a subcommand (record, proxy, ...) to the parser; each sets ``func``."""


def add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    parser.add_argument("--api-key", action="append", default=[], dest="api_keys", metavar="KEY",
                        help="accept only this key (repeatable; or GEMINI_MOCK_API_KEYS=k1,k2, which ps cannot "
                             "show); without it any non-empty key is accepted")
    parser.add_argument("--seed", type=int, default=0, help="seed for image content and token counts")
    parser.add_argument("--image-format", choices=["model", "png", "jpeg", "mixed"], default="model",
                        help="output image encoding: each model's own (default), forced png or jpeg, or 'mixed' "
                             "(PNG or JPEG per request where a model is known to return both)")
    parser.add_argument("--as-of", type=_iso_date, default=None, metavar="YYYY-MM-DD",
                        help="answer as Google did on this date: ids not launched or shut down get 404")
    parser.add_argument("--announced-shutdowns", choices=["ignore", "apply"], default="ignore",
                        help="with --as-of: also apply disputed shutdown dates (2.5 Flash Image, 3.1 Flash Image)")
    parser.add_argument("--payload", choices=["compact", "realistic"], default="compact",
                        help="'realistic' pads images to real byte sizes (MBs at 1K, tens of MBs at 4K)")
    parser.add_argument("--unknown-image-size", choices=["reject", "fallback"], default="reject",
                        help="unknown imageSize: 400 (default) or silently 1K (Google's behaviour is unconfirmed)")
    parser.add_argument("--signing-secret", default=Settings.signing_secret,
                        help="HMAC secret for thought signatures; share it across replicas")
    parser.add_argument("--max-body-bytes", type=int, default=Settings.max_body_bytes,
                        help="largest accepted request body (Google: 314572800)")
    parser.add_argument("--defect", default=None, metavar="NAME",
                        help="inject one contract violation (contract-suite self-test; see docs)")
    add_instrument_options(parser)
    add_session_options(parser)
    add_hardening_options(parser)
    add_surface_options(parser)
    add_interactions_options(parser)
    add_state_options(parser)
    add_webhook_options(parser)
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])


def _iso_date(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def settings_from_args(args: argparse.Namespace) -> Settings:
    return Settings(
        host=args.host, port=args.port, workers=args.workers, seed=args.seed,
        image_format=args.image_format, payload=args.payload, unknown_image_size=args.unknown_image_size,
        signing_secret=args.signing_secret, max_body_bytes=args.max_body_bytes, defect=args.defect,
        as_of=args.as_of, announced_shutdowns=args.announced_shutdowns,
        **instrument_settings(args),
        **session_settings(args),
        **hardening_settings(args),
        **surface_settings(args),
        **interactions_settings(args),
        **state_settings(args),
        **webhook_settings(args),
    )


def run_server(settings: Settings, log_level: str = "info") -> int:
    warning = exposure_warning(settings)
    if warning:
        print(warning, file=sys.stderr)
    limit_allocator_growth()  # flat RSS under long load (docs/performance.md); workers: app_from_env
    options: dict[str, Any] = {"host": settings.host, "port": settings.port, "log_level": log_level,
                               **uvicorn_options()}
    try:
        with serving_state(settings) as settings:
            if settings.workers > 1:
                os.environ[ENV_VAR] = settings.to_json()
                uvicorn.run("mock_server.app:app_from_env", factory=True, workers=settings.workers, **options)
            else:
                from mock_server.app import create_app

                uvicorn.run(create_app(settings), **options)
    except StateSetupError as exc:
        print(f"gemini-mock: {exc}", file=sys.stderr)
        return 1
    return 0


def _serve(args: argparse.Namespace) -> int:
    if args.defect:
        from mock_server.instrument.defects import DEFECTS

        if args.defect not in DEFECTS:
            print(f"gemini-mock: unknown defect {args.defect!r}; choose from {', '.join(DEFECTS)}", file=sys.stderr)
            return 2
    return run_server(settings_from_args(args), args.log_level)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gemini-mock", description="A faithful fake of the Gemini image API.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the fake")
    add_server_options(serve)
    serve.set_defaults(func=_serve)
    for setup in SUBCOMMANDS:
        setup(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
