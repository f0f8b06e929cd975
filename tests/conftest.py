"""Shared fixtures: the fake in-process (httpx ASGITransport) and for real (uvicorn on loopback).

Importable helpers live in ``tests/support/`` (``from tests.support.fake import InProcess``); see tests/README.md.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mock_server.settings import Settings
from mock_server.testing import RunningServer, serve_in_thread
from tests.support.fake import InProcess


@pytest.fixture
def fake() -> InProcess:
    return InProcess()


@pytest.fixture(scope="session")
def live_server() -> Iterator[RunningServer]:
    with serve_in_thread(Settings(port=0)) as server:
        yield server


@pytest.fixture(scope="module")
def upstream() -> Iterator[RunningServer]:
    """The fake behind a relay under test (tests/support/relay_under_test.py): it accepts the relay's key only."""
    from tests.support.relay_under_test import UPSTREAM_KEY

    with serve_in_thread(Settings(api_keys=(UPSTREAM_KEY,))) as server:
        yield server


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server on a free loopback port (``make test`` installs it); skips where it is missing."""
    from mock_server.testing.redis_server import redis_server

    try:
        with redis_server() as server:
            yield server.url
    except RuntimeError as exc:
        if "not installed" not in str(exc):
            raise
        pytest.skip(f"{exc}; make test installs it as root, elsewhere install it by hand")
