"""``serve --state URL`` (issue 13) and the shared store that ``--workers N`` picks by itself."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mock_server.settings import Settings
from mock_server.state import check_state

__all__ = ["StateSetupError", "add_state_options", "serving_state", "state_settings"]


class StateSetupError(Exception):
    """The ``--state`` store cannot be used; the message names it (printed without a traceback)."""


def add_state_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state", default=None, metavar="URL",
                        help="where shared state lives: memory (default with one worker), sqlite:///PATH "
                             "(default with --workers N: a fresh file per run) or redis://HOST:PORT/DB "
                             "(replicas sharing one Redis behave as one fake); see docs/scaling.md")


def state_settings(args: argparse.Namespace) -> dict[str, Any]:
    return {"state": args.state}


@contextmanager
def serving_state(settings: Settings) -> Iterator[Settings]:
    """The settings to serve with: several workers without ``--state`` share a fresh SQLite file
    (removed afterwards); the store is checked first, so an unreachable one stops the start."""
    scratch: str | None = None
    if settings.workers > 1 and not settings.state:
        scratch = tempfile.mkdtemp(prefix="gemini-mock-state-")
        settings = settings.with_changes(state=f"sqlite://{scratch}/state.db")
    try:
        problem = check_state(settings.state)
        if problem is not None:
            raise StateSetupError(problem)
        yield settings
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
