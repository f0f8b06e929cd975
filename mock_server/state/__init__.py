"""Where the fake keeps what it remembers between requests: ``open_store`` picks the store for
``Settings.state`` (see ``store.StateStore`` and docs/scaling.md)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from mock_server.state.memory import MemoryStore
from mock_server.state.store import StateStore, StateUnavailable, warn_degraded

__all__ = ["StateStore", "StateUnavailable", "check_state", "open_store", "state_of", "warn_degraded"]


def open_store(url: str | None, journal_size: int = 1000, collection_limit: int = 1000,
               journal_max_bytes: int = 16 * 1024 * 1024) -> StateStore:
    """``None``/``memory``, ``sqlite:///PATH`` or ``redis://HOST:PORT/DB``; ValueError for anything else.
    Every store keeps at most ``journal_size`` journal entries and ``journal_max_bytes`` bytes of them."""
    scheme = urlsplit(url).scheme if url else "memory"
    if not url or url == "memory":
        return MemoryStore(journal_size, collection_limit, journal_max_bytes)
    if scheme == "sqlite":
        from mock_server.state.sqlite_store import SqliteStore

        # Always an absolute path: sqlite:///var/tmp/s.db and sqlite:////var/tmp/s.db name the same file.
        return SqliteStore("/" + url.removeprefix("sqlite:").lstrip("/"), journal_size, collection_limit,
                           journal_max_bytes)
    if scheme in ("redis", "rediss", "unix"):
        from mock_server.state.redis_store import RedisStore

        return RedisStore(url, journal_size, collection_limit, journal_max_bytes)
    raise ValueError(f"--state {url}: expected memory, sqlite:///PATH or redis://HOST:PORT/DB")


def check_state(url: str | None) -> str | None:
    """Why the store at ``url`` cannot be used (a one-line message naming it), or None when it can."""
    try:
        store = open_store(url)
        store.check()
        store.close()
    except ValueError as exc:
        return str(exc)
    except StateUnavailable as exc:
        return f"cannot reach the state store at {exc.address}: {exc.reason}"
    return None


def state_of(runtime: Any) -> StateStore:
    """The store of this app, opened on first use from its settings."""
    store: StateStore | None = runtime.extensions.get("state")
    if store is None:
        settings = runtime.settings
        store = runtime.extensions.setdefault(
            "state", open_store(settings.state, settings.journal_size, settings.state_documents_max,
                                settings.journal_max_bytes))
    return store
