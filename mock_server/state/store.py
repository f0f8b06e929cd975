"""The one interface behind everything the fake remembers between requests (issue 13).

Three implementations: ``MemoryStore`` (one process, as before: nothing added to the hot path),
``SqliteStore`` (one machine, every ``--workers`` process; file bytes beside it on disk) and
``RedisStore`` (replicas on several machines). Callers see only ``StateStore``:

- the **journal**: append a JSON-able entry, or its JSON text (the store assigns a global,
  increasing ``id``), list in order, clear; bounded to the newest ``journal_size`` entries and to
  ``journal_max_bytes`` bytes of entries (the newest always kept);
- **scenario rules**: the raw rule list with a version, per-rule fire counters and a global draw
  counter, changed atomically so that sequences count and seeded probabilities draw exactly as one
  process would (``fire``);
- **collections** of JSON documents by (kind, id), bounded per kind (stored interactions, batch jobs);
- the **files** backend (uploaded files and upload sessions), see ``file_store``.

A shared store that cannot be reached raises ``StateUnavailable`` (a Google-shaped 503); the hot
path (journal, rules) catches it, logs a warning and carries on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any, Protocol

from mock_server.web.errors import ApiError

__all__ = [
    "NO_LIMIT",
    "STALE",
    "AnswersAtOnce",
    "Candidate",
    "Fired",
    "StateStore",
    "StateUnavailable",
    "choose",
    "draw",
    "warn_degraded",
]

log = logging.getLogger("gemini_mock.state")

NO_LIMIT = -1
STALE = "stale"
Candidate = tuple[int, int, float]
"""A rule that matched a request: (index, fire limit or NO_LIMIT, probability)."""
Fired = tuple[int, int]
"""The rule that fired: (index, how often it had fired before)."""


def draw(seed: int, number: int) -> float:
    """The ``number``-th (from 1) probability draw under ``seed``, in [0, 1).

    A function of the counter rather than a ``random.Random`` stream, so that any process holding the
    shared counter draws what one process would have drawn (Redis computes the same in Lua).
    """
    digest = hashlib.sha1(f"{seed}:{number}".encode(), usedforsecurity=False).hexdigest()
    return int(digest[:13], 16) / 2**52


def choose(candidates: list[Candidate], fired: dict[int, int], next_draw: Any, seed: int) -> Fired | None:
    """The first candidate that is not spent and, when it has a probability, wins its draw.

    ``fired`` is updated in place; ``next_draw()`` returns the next draw number. Callers hold the
    store's lock or transaction, so this runs as one step.
    """
    for index, limit, probability in candidates:
        before = fired.get(index, 0)
        if limit != NO_LIMIT and before >= limit:
            continue
        if probability < 1.0 and draw(seed, next_draw()) >= probability:
            continue
        fired[index] = before + 1
        return index, before
    return None


def entry_text(entry: dict[str, Any] | str) -> str:
    """A journal entry as stored by a shared store: its JSON text (given as such, or encoded here)."""
    return entry if isinstance(entry, str) else json.dumps(entry)


def give_id(entry: Any, number: int) -> int:
    """Tell a dict entry its journal id (text entries learn theirs when read back)."""
    if isinstance(entry, dict):
        entry["id"] = number
    return number


class StateUnavailable(ApiError):
    """The shared store cannot be reached: API calls that need it answer 503."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(503, "UNAVAILABLE", f"The fake's shared state store at {address} is unavailable ({reason}).")
        self.address = address
        self.reason = reason


_last_warning: dict[str, float] = {}


def warn_degraded(what: str, error: StateUnavailable, every_seconds: float = 10.0) -> None:
    """A warning in the log, at most once per ``every_seconds`` per subject, so an outage is seen
    but does not flood the log at thousands of requests per second."""
    now = time.monotonic()
    if now - _last_warning.get(what, -every_seconds) >= every_seconds:
        _last_warning[what] = now
        log.warning("%s degraded: %s", what, error.message)


class AnswersAtOnce:
    """For stores on this machine (memory, SQLite): the request path's async methods simply call
    the synchronous ones, which answer in microseconds."""

    def journal_append(self, entry: Any) -> int:
        raise NotImplementedError

    def rules_version(self) -> int:
        raise NotImplementedError

    def fire(self, version: int, candidates: list[Candidate], seed: int) -> Fired | str | None:
        raise NotImplementedError

    async def journal_append_async(self, entry: Any) -> int:
        return self.journal_append(entry)

    async def rules_version_async(self) -> int:
        return self.rules_version()

    async def fire_async(self, version: int, candidates: list[Candidate], seed: int) -> Fired | str | None:
        return self.fire(version, candidates, seed)


class StateStore(Protocol):
    """What every store offers. ``shared`` says whether other processes see the same state (then
    journal entries must be built as JSON when recorded, not when read)."""

    shared: bool
    address: str

    # the request path awaits these three, so that a store across the network never stalls the
    # event loop (memory and SQLite simply answer)
    async def journal_append_async(self, entry: Any) -> int: ...
    async def rules_version_async(self) -> int: ...
    async def fire_async(self, version: int, candidates: list[Candidate], seed: int) -> Fired | str | None: ...

    # journal
    def journal_append(self, entry: Any) -> int: ...
    def journal_entries(self) -> list[Any]: ...
    def journal_clear(self) -> int: ...

    # scenario rules
    def rules_version(self) -> int: ...
    def rules(self) -> tuple[int, list[Any]]: ...
    def set_rules(self, raw_rules: list[Any]) -> int: ...
    def add_rule(self, raw_rule: Any) -> int: ...
    def load_rules_source(self, raw_rules: list[Any], digest: str) -> bool: ...
    def fire(self, version: int, candidates: list[Candidate], seed: int) -> Fired | str | None: ...
    def fired_counts(self) -> dict[int, int]: ...

    # collections: bounded maps of JSON documents per kind
    def put_document(self, kind: str, ident: str, document: dict[str, Any]) -> None: ...
    def get_document(self, kind: str, ident: str) -> dict[str, Any] | None: ...
    def delete_document(self, kind: str, ident: str) -> bool: ...
    def list_documents(self, kind: str) -> list[dict[str, Any]]: ...

    # files (uploaded files and upload sessions): a file_store backend, or None for the default
    def files_backend(self) -> Any: ...

    def check(self) -> None: ...
    def close(self) -> None: ...
