"""``serve`` options of the testing instrument (issue 5): scenarios, latency, journal, replay."""

from __future__ import annotations

import argparse
from importlib.metadata import entry_points
from typing import Any

from mock_server.instrument.latency import parse_latency
from mock_server.instrument.recording import add_record_command
from mock_server.settings import Settings

__all__ = ["INSTRUMENT_COMMANDS", "add_instrument_options", "instrument_settings"]

COMMAND_ENTRY_POINTS = "gemini_mock.commands"
"""Packages above the fake add ``gemini-mock`` subcommands here (``validating_proxy`` adds ``proxy``):
an entry point, not an import, so that the fake never depends on what is built on top of it."""

INSTRUMENT_COMMANDS = [add_record_command, *(point.load() for point in entry_points(group=COMMAND_ENTRY_POINTS))]
"""The ``record`` subcommand and the plugged-in ones (``cli.SUBCOMMANDS`` includes them)."""


def _latency(value: str) -> str:
    try:
        return parse_latency(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_instrument_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("testing instrument")
    group.add_argument("--scenarios", default=None, metavar="FILE",
                       help="JSON scenario rules (match model/path/prompt/header -> scenario; see docs/scenarios.md)")
    group.add_argument("--latency", type=_latency, default="none", metavar="none|realistic|MS",
                       help="simulated generation time: none (default), realistic per model and size, or fixed ms")
    group.add_argument("--time-scale", type=float, default=1.0, metavar="FACTOR",
                       help="multiply every simulated delay (e.g. 0.001 for tests)")
    group.add_argument("--journal-size", type=int, default=Settings.journal_size, metavar="N",
                       help="requests kept by GET /_mock/requests")
    group.add_argument("--replay", default=None, metavar="DIR", help="answer matching requests from cassettes")
    group.add_argument("--replay-miss", choices=["fake", "error"], default="fake",
                       help="a request no cassette matches: the fake's answer (default) or 404")


def instrument_settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "scenarios_file": args.scenarios, "latency": args.latency, "time_scale": args.time_scale,
        "journal_size": args.journal_size, "replay_dir": args.replay, "replay_miss": args.replay_miss,
    }
