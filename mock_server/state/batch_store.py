"""Where batch jobs live: a small bounded map of JSON-ready job records by id.

Deliberately the whole interface a shared backend needs (issue 13's state store can implement it over
SQLite or Redis): ``put``, ``get``, ``delete`` and ``list`` by id, records being plain JSON values.
Bounded: at most ``max_jobs`` records; adding one more drops the oldest finished job, and when every
kept job is still pending or running the store refuses (the caller answers 429).
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import Any

__all__ = ["TERMINAL_STATES", "BatchStore", "StoreFull"]

TERMINAL_STATES = frozenset({"BATCH_STATE_SUCCEEDED", "BATCH_STATE_FAILED", "BATCH_STATE_CANCELLED",
                             "BATCH_STATE_EXPIRED"})


class StoreFull(Exception):
    """No room: every kept job is still pending or running."""


class BatchStore:
    """Job records by id, oldest first; thread-safe; records are copied in and out (no shared mutation)."""

    def __init__(self, max_jobs: int) -> None:
        self.max_jobs = max(1, max_jobs)
        self._records: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, job_id: str, record: dict[str, Any]) -> None:
        """Insert or replace ``job_id``; raises StoreFull when a new record has no room."""
        with self._lock:
            if job_id not in self._records and len(self._records) >= self.max_jobs:
                finished = next((key for key, kept in self._records.items() if kept["state"] in TERMINAL_STATES),
                                None)
                if finished is None:
                    raise StoreFull(f"{len(self._records)} jobs kept, none finished")
                del self._records[finished]
            self._records[job_id] = copy.deepcopy(record)

    def get(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._records.get(job_id)
            return copy.deepcopy(record) if record is not None else None

    def delete(self, job_id: str) -> bool:
        with self._lock:
            return self._records.pop(job_id, None) is not None

    def list(self) -> list[dict[str, Any]]:
        """Every record, oldest first."""
        with self._lock:
            return [copy.deepcopy(record) for record in self._records.values()]
