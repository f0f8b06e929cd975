"""pytest plugin (entry point ``pytest11``): the ``gemini_mock`` fixture.

``gemini_mock`` gives a test the fake running on a loopback port, its ``base_url`` and a ready
``google.genai.Client``. One server serves the whole session (starting uvicorn per test costs time);
the per-test ``GeminiMock`` object is where per-test state (a request journal) belongs.
Override the ``gemini_mock_settings`` fixture to start the fake with other settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import Any

import pytest

from mock_server.settings import Settings
from mock_server.testing import RunningServer, serve_in_thread
from mock_server.testing.journal_client import Call, JournalClient

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
        settings = self.server.settings
        journal = JournalClient(self.base_url, (settings.admin_keys or settings.api_keys or (self.api_key,))[0])
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
