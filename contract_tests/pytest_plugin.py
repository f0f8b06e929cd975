"""pytest plugin (entry point ``pytest11``): the ``gemini_mock`` fixture and the contract-suite options.

``gemini_mock`` gives a test the fake running on a loopback port, its ``base_url`` and a ready
``google.genai.Client``. One server serves the whole session (starting uvicorn per test costs time);
the per-test ``GeminiMock`` object is where per-test state (a request journal) belongs.
Override the ``gemini_mock_settings`` fixture to start the fake with other settings.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from functools import cached_property
from typing import Any

import pytest

from contract_tests.journal_client import Call, JournalClient
from mock_server.settings import Settings
from mock_server.testing import RunningServer, serve_in_thread

__all__ = ["DEFAULT_TEST_KEY", "GeminiMock", "gemini_mock", "gemini_mock_server", "gemini_mock_settings"]

DEFAULT_TEST_KEY = "test-key-gemini-mock"


class GeminiMock:
    """A handle on the running fake for one test."""

    def __init__(self, server: RunningServer, api_key: str = DEFAULT_TEST_KEY, api_version: str = "v1beta") -> None:
        self.server = server
        self.api_key = api_key
        self.api_version = api_version

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def settings(self) -> Settings:
        return self.server.settings

    def url(self, path: str) -> str:
        """Absolute URL of an API path, e.g. ``url("models")`` -> ``http://127.0.0.1:PORT/v1beta/models``."""
        return f"{self.base_url}/{self.api_version}/{path.lstrip('/')}"

    def make_client(self, **http_options: Any) -> Any:
        """A new ``google.genai.Client`` pointed at the fake (extra ``HttpOptions`` fields allowed)."""
        from google import genai
        from google.genai import types

        options = types.HttpOptions(base_url=self.base_url, api_version=self.api_version, **http_options)
        return genai.Client(api_key=self.api_key, http_options=options)

    @cached_property
    def journal(self) -> JournalClient:
        """The fake's request journal, from this handle's creation on (``mark()`` moves the start)."""
        journal = JournalClient(self.base_url)
        journal.mark()
        return journal

    @property
    def calls(self) -> list[Call]:
        """The requests the fake received during this test (keys redacted)."""
        return self.journal.calls

    def assert_called(self, *, times: int | None = None, **expected: Any) -> list[Call]:
        """Assert a matching request was received (e.g. ``model=..., image_size="2K"``); returns the matches."""
        return self.journal.assert_called(times=times, **expected)

    @cached_property
    def client(self) -> Any:
        """A ready ``google.genai.Client`` (created on first use)."""
        return self.make_client()

    def __repr__(self) -> str:
        return f"GeminiMock(base_url={self.base_url!r})"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gemini-contract", "Gemini image contract suite (pytest --pyargs contract_tests)")
    # pytest-base-url, if installed, already defines --base-url with the same dest: share it.
    with contextlib.suppress(ValueError):
        group.addoption("--base-url", dest="base_url", default=None,
                        help="endpoint the contract checks run against")
    group.addoption("--gemini-api-key", default=None, help="API key (default: $GEMINI_API_KEY)")
    group.addoption("--gemini-model", action="append", default=[], help="model to test (repeatable)")
    group.addoption("--gemini-checks", default="", help="comma-separated check ids")
    group.addoption("--gemini-max-examples", type=int, default=None, help="generated requests")
    group.addoption("--gemini-max-requests", type=int, default=None, help="hard stop after N requests")
    group.addoption("--gemini-budget-usd", type=float, default=None, help="hard stop on estimated spend")
    group.addoption("--gemini-seed", type=int, default=None, help="Hypothesis seed")
    group.addoption("--gemini-no-wrong-key-probe", action="store_true", default=False,
                    help="the endpoint accepts any key by design: don't expect a wrong key to be refused")


@pytest.fixture(scope="session")
def gemini_mock_settings() -> Settings:
    """Settings the session's fake starts with; override this fixture to change them."""
    return Settings(api_keys=(DEFAULT_TEST_KEY,))


@pytest.fixture(scope="session")
def gemini_mock_server(gemini_mock_settings: Settings) -> Iterator[RunningServer]:
    with serve_in_thread(gemini_mock_settings) as server:
        yield server


@pytest.fixture
def gemini_mock(gemini_mock_server: RunningServer, gemini_mock_settings: Settings) -> GeminiMock:
    """The fake Gemini API on a loopback port: ``.base_url``, ``.client`` (google-genai), ``.url(path)``."""
    keys = gemini_mock_settings.api_keys
    mock = GeminiMock(gemini_mock_server, api_key=keys[0] if keys else DEFAULT_TEST_KEY)
    _ = mock.journal  # marks where this test's calls begin
    return mock


def contract_options(config: pytest.Config) -> dict[str, Any]:
    """The contract-suite options given on the pytest command line."""
    return {
        "base_url": config.getoption("base_url", default=None),
        "api_key": config.getoption("gemini_api_key", default=None) or os.environ.get("GEMINI_API_KEY"),
        "models": tuple(config.getoption("gemini_model", default=[]) or ()),
        "checks": tuple(c for c in (config.getoption("gemini_checks", default="") or "").split(",") if c),
        "max_examples": config.getoption("gemini_max_examples", default=None),
        "max_requests": config.getoption("gemini_max_requests", default=None),
        "budget_usd": config.getoption("gemini_budget_usd", default=None),
        "seed": config.getoption("gemini_seed", default=None),
        "probe_wrong_key": not config.getoption("gemini_no_wrong_key_probe", default=False),
    }
