"""Stored interactions: a small keyed store with a byte bound, the seam for a shared state store.

The Interactions handlers only ever call the four methods below, with JSON-serialisable records,
so a SQLite- or Redis-backed class with the same interface (issue 13) can replace
``MemoryInteractionStore`` without touching them. Contract of the interface:

- ``put(id, record)``: insert or replace; ``record`` is a JSON-ready dict. May evict the oldest
  records to stay within the bound (a single record larger than the bound is still kept, alone).
- ``get(id)``: the record, or None when unknown, deleted, expired or evicted.
- ``delete(id)``: True when something was removed.
- ``ids()``: the ids currently kept, oldest first (for the admin view and tests).
Records expire ``ttl_seconds`` after their last ``put`` (Google keeps them 55 days on paid tiers).
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from mock_server.state.store import StateStore

__all__ = ["InteractionStore", "MemoryInteractionStore", "SharedInteractionStore", "record_size"]


class InteractionStore(Protocol):
    def put(self, interaction_id: str, record: dict[str, Any]) -> None: ...

    def get(self, interaction_id: str) -> dict[str, Any] | None: ...

    def delete(self, interaction_id: str) -> bool: ...

    def ids(self) -> list[str]: ...


def record_size(record: dict[str, Any]) -> int:
    """Bytes the record takes as JSON (what a shared backend would store)."""
    return len(json.dumps(record, separators=(",", ":")))


class MemoryInteractionStore:
    """In-process store, least recently written evicted first, bounded by total JSON bytes."""

    def __init__(self, max_bytes: int, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._max = max_bytes
        self._ttl = ttl_seconds
        self._clock = clock
        self._records: OrderedDict[str, tuple[dict[str, Any], int, float]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def put(self, interaction_id: str, record: dict[str, Any]) -> None:
        size = record_size(record)
        with self._lock:
            self._drop(interaction_id)
            self._records[interaction_id] = (record, size, self._clock() + self._ttl)
            self._bytes += size
            while self._bytes > self._max and len(self._records) > 1:
                self._drop(next(iter(self._records)))

    def get(self, interaction_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._records.get(interaction_id)
            if found is None:
                return None
            if found[2] <= self._clock():
                self._drop(interaction_id)
                return None
            return found[0]

    def delete(self, interaction_id: str) -> bool:
        with self._lock:
            return self._drop(interaction_id)

    def ids(self) -> list[str]:
        with self._lock:
            now = self._clock()
            return [key for key, (_, _, expires) in self._records.items() if expires > now]

    @property
    def bytes_used(self) -> int:
        return self._bytes

    def _drop(self, interaction_id: str) -> bool:
        found = self._records.pop(interaction_id, None)
        if found is None:
            return False
        self._bytes -= found[1]
        return True


class SharedInteractionStore:
    """Interactions in the shared state store (``--workers``, ``--state``), so that every worker and
    replica finds an interaction created on another. Bounded by count (``Settings.state_documents_max``,
    oldest first) rather than bytes; expiry uses wall-clock time, which replicas share."""

    KIND = "interaction"

    def __init__(self, store: StateStore, ttl_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self._store, self._ttl, self._clock = store, ttl_seconds, clock

    def put(self, interaction_id: str, record: dict[str, Any]) -> None:
        self._store.put_document(self.KIND, interaction_id,
                                 {"id": interaction_id, "record": record, "expires": self._clock() + self._ttl})

    def get(self, interaction_id: str) -> dict[str, Any] | None:
        kept = self._store.get_document(self.KIND, interaction_id)
        if kept is None:
            return None
        if float(kept["expires"]) <= self._clock():
            self._store.delete_document(self.KIND, interaction_id)
            return None
        record: dict[str, Any] = kept["record"]
        return record

    def delete(self, interaction_id: str) -> bool:
        return self._store.delete_document(self.KIND, interaction_id)

    def ids(self) -> list[str]:
        now = self._clock()
        return [str(kept["id"]) for kept in self._store.list_documents(self.KIND) if float(kept["expires"]) > now]
