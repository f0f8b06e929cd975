"""State shared by every worker process on one machine: SQLite from the standard library.

``sqlite:///PATH/state.db``; file bytes live beside it in ``PATH/state.db.files/`` (one file per
upload, as ``--files-dir`` keeps them). WAL mode lets readers and the one writer proceed together;
``synchronous=OFF`` because this is a test fake's state, not data to survive a power cut. Every
multi-step change runs in one ``BEGIN IMMEDIATE`` transaction, which is what makes sequence
counters and probability draws global.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from mock_server.state.file_store import DirectoryBackend
from mock_server.state.store import (
    STALE,
    AnswersAtOnce,
    Candidate,
    Fired,
    StateUnavailable,
    choose,
    entry_text,
    give_id,
)

__all__ = ["SqliteStore"]

T = TypeVar("T")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value);
CREATE TABLE IF NOT EXISTS journal (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rules (idx INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fired (idx INTEGER PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS documents (kind TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL,
                                      body TEXT NOT NULL, PRIMARY KEY (kind, id));
INSERT OR IGNORE INTO meta VALUES ('rules_version', 0), ('draws', 0), ('source', NULL), ('seq', 0);
INSERT OR IGNORE INTO meta SELECT 'journal_bytes', COALESCE(SUM(length(CAST(body AS BLOB))), 0) FROM journal
    WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'journal_bytes');
CREATE TRIGGER IF NOT EXISTS journal_in AFTER INSERT ON journal BEGIN
    UPDATE meta SET value = value + length(CAST(new.body AS BLOB)) WHERE key = 'journal_bytes'; END;
CREATE TRIGGER IF NOT EXISTS journal_out AFTER DELETE ON journal BEGIN
    UPDATE meta SET value = value - length(CAST(old.body AS BLOB)) WHERE key = 'journal_bytes'; END;
"""
# The journal's running byte total (``journal_bytes``) is kept by the triggers, in the transaction of
# whatever inserts or deletes, so it is exact whoever trims; an append reads it instead of the journal.
# Rows beyond the entry bound are deleted in batches (reads apply that bound); the byte budget is kept
# at every append, in a transaction that reads only the rows it drops.
_TRIM_EVERY = 64


def _guarded(method: Callable[..., T]) -> Callable[..., T]:
    """SQLite trouble (a full disk, a lock held too long) becomes ``StateUnavailable``, which the
    request path survives, instead of a 500."""

    @functools.wraps(method)
    def guarded(self: SqliteStore, *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise StateUnavailable(self.address, str(exc)) from exc

    return guarded


def _use_wal(connection: sqlite3.Connection) -> None:
    """Switch a new file to WAL. The switch takes the file exclusively and SQLite answers "database is
    locked" at once, without waiting out the busy timeout, when workers open a fresh file together: try
    again for a while (once the file is in WAL mode the pragma only reads it)."""
    for attempt in range(200):
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or attempt == 199:
                raise
            time.sleep(0.01)


class SqliteStore(AnswersAtOnce):
    shared = True

    def __init__(self, path: str, journal_size: int = 1000, collection_limit: int = 1000,
                 journal_max_bytes: int = 16 * 1024 * 1024) -> None:
        self.path = path
        self.address = f"sqlite://{path}"
        self._size = max(1, journal_size)
        self._max_bytes = max(1, journal_max_bytes)
        self._limit = max(1, collection_limit)
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(self.path, isolation_level=None, timeout=10, check_same_thread=False)
                _use_wal(connection)
                connection.execute("PRAGMA synchronous=OFF")
                connection.executescript(_SCHEMA)
            except (OSError, sqlite3.Error) as exc:
                raise StateUnavailable(self.address, str(exc)) from exc
            self._local.connection = connection
        return connection

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _meta(self, db: sqlite3.Connection, key: str) -> Any:
        return db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0]

    # journal
    @_guarded
    def journal_append(self, entry: Any) -> int:
        db = self._db()
        number = int(db.execute("INSERT INTO journal (body) VALUES (?)", (entry_text(entry),)).lastrowid or 0)
        if number % _TRIM_EVERY == 0:
            db.execute("DELETE FROM journal WHERE id <= ?", (number - self._size,))
        if self._meta(db, "journal_bytes") > self._max_bytes:
            self._keep_budget()
        return give_id(entry, number)

    def _keep_budget(self) -> None:
        """Drop the oldest entries while the kept ones exceed the budget, never the newest, in one
        transaction (another worker may be trimming too): reads only the rows it drops."""
        with self._transaction() as db:
            excess = self._meta(db, "journal_bytes") - self._max_bytes
            rows = db.execute("SELECT id, length(CAST(body AS BLOB)) FROM journal "
                              "WHERE id < (SELECT MAX(id) FROM journal) ORDER BY id")
            dropped, last = 0, 0
            for number, size in rows:
                if dropped >= excess:
                    break
                dropped, last = dropped + size, number
            rows.close()
            if last:
                db.execute("DELETE FROM journal WHERE id <= ?", (last,))

    @_guarded
    def journal_entries(self) -> list[Any]:
        rows = self._db().execute("SELECT id, body FROM (SELECT id, body FROM journal ORDER BY id DESC LIMIT ?) "
                                  "ORDER BY id", (self._size,)).fetchall()
        return [json.loads(body) | {"id": number} for number, body in rows]

    @_guarded
    def journal_clear(self) -> int:
        deleted = self._db().execute("DELETE FROM journal").rowcount
        return min(deleted, self._size)

    # scenario rules
    @_guarded
    def rules_version(self) -> int:
        return int(self._meta(self._db(), "rules_version"))

    @_guarded
    def rules(self) -> tuple[int, list[Any]]:
        with self._transaction() as db:
            version = int(self._meta(db, "rules_version"))
            rows = db.execute("SELECT body FROM rules ORDER BY idx").fetchall()
        return version, [json.loads(body) for (body,) in rows]

    def _replace(self, db: sqlite3.Connection, raw_rules: list[Any]) -> int:
        db.execute("DELETE FROM rules")
        db.execute("DELETE FROM fired")
        db.executemany("INSERT INTO rules VALUES (?, ?)", [(i, json.dumps(raw)) for i, raw in enumerate(raw_rules)])
        db.execute("UPDATE meta SET value = 0 WHERE key = 'draws'")
        return self._bump(db)

    def _bump(self, db: sqlite3.Connection) -> int:
        db.execute("UPDATE meta SET value = value + 1 WHERE key = 'rules_version'")
        return int(self._meta(db, "rules_version"))

    @_guarded
    def set_rules(self, raw_rules: list[Any]) -> int:
        with self._transaction() as db:
            return self._replace(db, raw_rules)

    @_guarded
    def add_rule(self, raw_rule: Any) -> int:
        with self._transaction() as db:
            db.execute("INSERT INTO rules VALUES ((SELECT COUNT(*) FROM rules), ?)", (json.dumps(raw_rule),))
            return self._bump(db)

    @_guarded
    def load_rules_source(self, raw_rules: list[Any], digest: str) -> bool:
        with self._transaction() as db:
            if self._meta(db, "source") == digest:
                return False
            db.execute("UPDATE meta SET value = ? WHERE key = 'source'", (digest,))
            self._replace(db, raw_rules)
            return True

    @_guarded
    def fire(self, version: int, candidates: list[Candidate], seed: int) -> Fired | str | None:
        with self._transaction() as db:
            if int(self._meta(db, "rules_version")) != version:
                return STALE
            fired = dict(db.execute("SELECT idx, n FROM fired").fetchall())
            draws = [int(self._meta(db, "draws"))]

            def next_draw() -> int:
                draws[0] += 1
                return draws[0]

            chosen = choose(candidates, fired, next_draw, seed)
            db.execute("UPDATE meta SET value = ? WHERE key = 'draws'", (draws[0],))
            if chosen is not None:
                db.execute("INSERT OR REPLACE INTO fired VALUES (?, ?)", (chosen[0], chosen[1] + 1))
            return chosen

    @_guarded
    def fired_counts(self) -> dict[int, int]:
        return dict(self._db().execute("SELECT idx, n FROM fired").fetchall())

    # collections
    @_guarded
    def put_document(self, kind: str, ident: str, document: dict[str, Any]) -> None:
        body = json.dumps(document)
        with self._transaction() as db:
            db.execute("UPDATE meta SET value = value + 1 WHERE key = 'seq'")
            db.execute("INSERT INTO documents VALUES (?, ?, (SELECT value FROM meta WHERE key = 'seq'), ?) "
                       "ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body", (kind, ident, body))
            db.execute("DELETE FROM documents WHERE kind = ? AND seq <= (SELECT seq FROM documents WHERE kind = ? "
                       "ORDER BY seq DESC LIMIT 1 OFFSET ?)", (kind, kind, self._limit))

    @_guarded
    def get_document(self, kind: str, ident: str) -> dict[str, Any] | None:
        row = self._db().execute("SELECT body FROM documents WHERE kind = ? AND id = ?", (kind, ident)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    @_guarded
    def delete_document(self, kind: str, ident: str) -> bool:
        return self._db().execute("DELETE FROM documents WHERE kind = ? AND id = ?", (kind, ident)).rowcount > 0

    @_guarded
    def list_documents(self, kind: str) -> list[dict[str, Any]]:
        rows = self._db().execute("SELECT body FROM documents WHERE kind = ? ORDER BY seq", (kind,)).fetchall()
        return [json.loads(body) for (body,) in rows]

    def files_directory(self) -> str:
        return f"{self.path}.files"

    def files_backend(self) -> Any:
        return DirectoryBackend(self.files_directory())

    def check(self) -> None:
        self._db()

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
