"""The state of one process, in its memory: what the fake always did, behind the store interface."""

from __future__ import annotations

import itertools
import json
import threading
from collections import OrderedDict, deque
from typing import Any

from mock_server.state.store import STALE, AnswersAtOnce, Candidate, Fired, choose

__all__ = ["MemoryStore"]


class MemoryStore(AnswersAtOnce):
    """Thread-safe, bounded, gone when the process ends. Journal entries may be lazy records (with an
    ``id`` attribute) that the journal turns into JSON only when read: recording stays cheap."""

    shared = False
    address = "memory"

    def __init__(self, journal_size: int = 1000, collection_limit: int = 1000,
                 journal_max_bytes: int = 16 * 1024 * 1024) -> None:
        self._lock = threading.Lock()
        self._journal: deque[Any] = deque()
        self._journal_size = max(1, journal_size)
        # Entries that carry a ``size`` (journal summaries) also count against a byte budget (issue 12).
        self._journal_max_bytes = max(1, journal_max_bytes)
        self._journal_bytes = 0
        self._ids = itertools.count(1)
        self._rules: list[Any] = []
        self._version = 0
        self._fired: dict[int, int] = {}
        self._draws = 0
        self._source: str | None = None
        self._limit = max(1, collection_limit)
        self._documents: dict[str, OrderedDict[str, str]] = {}
        self._none: OrderedDict[str, str] = OrderedDict()

    # journal
    def journal_append(self, entry: Any) -> int:
        with self._lock:
            number = next(self._ids)
            if isinstance(entry, dict):
                entry["id"] = number
            else:
                entry.id = number
            self._journal.append(entry)
            self._journal_bytes += getattr(entry, "size", 0)
            while len(self._journal) > 1 and (len(self._journal) > self._journal_size
                                              or self._journal_bytes > self._journal_max_bytes):
                self._journal_bytes -= getattr(self._journal.popleft(), "size", 0)
            return number

    def journal_entries(self) -> list[Any]:
        with self._lock:
            return list(self._journal)

    def journal_clear(self) -> int:
        with self._lock:
            count = len(self._journal)
            self._journal.clear()
            self._journal_bytes = 0
            return count

    # scenario rules
    def rules_version(self) -> int:
        return self._version

    def rules(self) -> tuple[int, list[Any]]:
        with self._lock:
            return self._version, list(self._rules)

    def set_rules(self, raw_rules: list[Any]) -> int:
        with self._lock:
            self._rules, self._fired, self._draws = list(raw_rules), {}, 0
            self._version += 1
            return self._version

    def add_rule(self, raw_rule: Any) -> int:
        with self._lock:
            self._rules.append(raw_rule)
            self._version += 1
            return self._version

    def load_rules_source(self, raw_rules: list[Any], digest: str) -> bool:
        with self._lock:
            if self._source == digest:
                return False
            self._source = digest
        self.set_rules(raw_rules)
        return True

    def fire(self, version: int, candidates: list[Candidate], seed: int) -> Fired | str | None:
        with self._lock:
            if version != self._version:
                return STALE
            return choose(candidates, self._fired, self._next_draw, seed)

    def _next_draw(self) -> int:
        self._draws += 1
        return self._draws

    def fired_counts(self) -> dict[int, int]:
        with self._lock:
            return dict(self._fired)

    # collections (stored as JSON text, so documents behave as they will in a shared store)
    def put_document(self, kind: str, ident: str, document: dict[str, Any]) -> None:
        text = json.dumps(document)
        with self._lock:
            documents = self._documents.setdefault(kind, OrderedDict())
            documents[ident] = text
            while len(documents) > self._limit:
                documents.popitem(last=False)

    def get_document(self, kind: str, ident: str) -> dict[str, Any] | None:
        with self._lock:
            text = self._documents.get(kind, self._none).get(ident)
        return None if text is None else dict(json.loads(text))

    def delete_document(self, kind: str, ident: str) -> bool:
        with self._lock:
            return self._documents.get(kind, self._none).pop(ident, None) is not None

    def list_documents(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            texts = list(self._documents.get(kind, self._none).values())
        return [json.loads(text) for text in texts]

    def files_backend(self) -> Any:
        return None  # the file store's own default: memory, or --files-dir

    def check(self) -> None:
        pass

    def close(self) -> None:
        pass
