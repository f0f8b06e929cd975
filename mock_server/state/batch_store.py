"""Where batch jobs live: a small bounded map of JSON-ready job records by id.

The whole interface is ``put``, ``get``, ``delete`` and ``list`` by id, records being plain JSON
values (``JobStore``). ``BatchStore`` keeps them in this process, bounded: at most ``max_jobs``
records; adding one more drops the oldest finished job, and when every kept job is still pending or
running it refuses (the caller answers 429). ``SharedBatchStore`` keeps them in the shared state store
(``--workers``, ``--state``; issue 13) so every worker and replica sees a job, bounded there by
``--state-documents-max``; the job still runs in the process that created it.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import Any, Protocol

from mock_server.state.store import StateStore

__all__ = ["TERMINAL_STATES", "BatchStore", "JobStore", "SharedBatchStore", "StoreFull"]

TERMINAL_STATES = frozenset({"BATCH_STATE_SUCCEEDED", "BATCH_STATE_FAILED", "BATCH_STATE_CANCELLED",
                             "BATCH_STATE_EXPIRED"})


class StoreFull(Exception):
    """No room: every kept job is still pending or running."""


class JobStore(Protocol):
    max_jobs: int

    def put(self, job_id: str, record: dict[str, Any]) -> None: ...

    def get(self, job_id: str) -> dict[str, Any] | None: ...

    def delete(self, job_id: str) -> bool: ...

    def list(self) -> list[dict[str, Any]]: ...


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


class SharedBatchStore:
    """Job records as documents of kind ``batch`` in the shared state store."""

    KIND = "batch"

    def __init__(self, store: StateStore, max_jobs: int) -> None:
        self._store, self.max_jobs = store, max_jobs

    def put(self, job_id: str, record: dict[str, Any]) -> None:
        self._store.put_document(self.KIND, job_id, record)

    def get(self, job_id: str) -> dict[str, Any] | None:
        return self._store.get_document(self.KIND, job_id)

    def delete(self, job_id: str) -> bool:
        return self._store.delete_document(self.KIND, job_id)

    def list(self) -> list[dict[str, Any]]:
        return self._store.list_documents(self.KIND)
