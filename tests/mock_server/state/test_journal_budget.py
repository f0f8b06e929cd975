"""The journal's byte budget (``--journal-max-mb``) in the shared stores: a real SQLite file and a real
redis-server, several processes (store instances, app instances) appending at once."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest
import redis

from mock_server.settings import Settings
from mock_server.state import StateStore, open_store
from mock_server.state import redis_scripts as lua
from tests.support.fake import InProcess, text_request

MODEL = "gemini-2.5-flash-image"


@pytest.fixture(params=["sqlite", "redis"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/state.db"
    address: str = request.getfixturevalue("redis_url")
    redis.Redis.from_url(address).flushdb()
    return address


def text_of(n: int, pad: int = 90) -> str:
    return json.dumps({"n": n, "pad": "x" * pad})


def kept_bytes(entries: list[dict[str, object]]) -> int:
    """The bytes of the listed entries as the journal gave them to the store (without their ids)."""
    return sum(len(json.dumps({k: v for k, v in entry.items() if k != "id"})) for entry in entries)


def running_total(url: str) -> int:
    """The store's own running byte total, read behind its back."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as db:
            return int(db.execute("SELECT value FROM meta WHERE key = 'journal_bytes'").fetchone()[0])
    return int(redis.Redis.from_url(url).get(lua.JOURNAL_BYTES) or 0)


def test_oldest_entries_go_while_the_kept_ones_exceed_the_budget(shared_url: str) -> None:
    store = open_store(shared_url, journal_size=10_000, journal_max_bytes=1000)
    other = open_store(shared_url, journal_size=10_000, journal_max_bytes=1000)  # another worker or replica
    for n in range(300):
        (store, other)[n % 2].journal_append(text_of(n))
    entries = other.journal_entries()
    size = len(text_of(0))
    assert [entry["n"] for entry in entries] == list(range(300 - 1000 // size, 300))  # as many as fit, no fewer
    assert kept_bytes(entries) == running_total(shared_url) <= 1000
    store.journal_append(json.dumps({"big": "y" * 5000}))  # over the budget alone: kept, and only it
    assert [entry.get("big", "")[:1] for entry in other.journal_entries()] == ["y"]
    assert store.journal_clear() == 1 and running_total(shared_url) == 0
    for n in range(3):  # the total starts again from nothing: three small entries all fit
        other.journal_append(text_of(n))
    assert [entry["n"] for entry in store.journal_entries()] == [0, 1, 2]


def test_the_entry_count_still_bounds_and_keeps_the_total_right(shared_url: str) -> None:
    store = open_store(shared_url, journal_size=5, journal_max_bytes=1_000_000)
    for n in range(200):
        store.journal_append(text_of(n, pad=n))
    assert [entry["n"] for entry in store.journal_entries()] == list(range(195, 200))
    store.close()
    # the count trim (batched in SQLite) dropped bytes from the total too: the budget applies to what is kept
    tight = open_store(shared_url, journal_size=5, journal_max_bytes=2 * len(text_of(0, pad=250)))
    tight.journal_append(text_of(200, pad=250))
    entries = tight.journal_entries()
    assert [entry["n"] for entry in entries] == [199, 200]
    assert kept_bytes(entries) == running_total(shared_url)


def test_workers_appending_at_once_keep_an_exact_total(shared_url: str) -> None:
    stores: list[StateStore] = [open_store(shared_url, journal_size=10_000, journal_max_bytes=4000)
                                for _ in range(4)]

    appended: dict[int, str] = {}

    def append(worker: int) -> None:
        for n in range(60):
            text = text_of(worker * 1000 + n, pad=n)
            appended[stores[worker].journal_append(text)] = text

    threads = [threading.Thread(target=append, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entries = stores[0].journal_entries()
    assert kept_bytes(entries) == running_total(shared_url) <= 4000
    ids = [int(str(entry["id"])) for entry in entries]
    assert ids == sorted(ids) and ids[-1] == 240  # the newest kept, none lost from the middle
    assert ids == list(range(ids[0], 241))
    assert kept_bytes(entries) + len(appended[ids[0] - 1]) > 4000  # nothing dropped that would have fitted


def test_a_journal_kept_before_the_budget_is_counted_once(shared_url: str) -> None:
    """A store written by a release without the budget has entries but no running total."""
    old = [text_of(n, pad=200) for n in range(10)]
    if shared_url.startswith("sqlite"):
        path = shared_url.removeprefix("sqlite://")
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE journal (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)")
            db.executemany("INSERT INTO journal (body) VALUES (?)", [(text,) for text in old])
    else:
        client = redis.Redis.from_url(shared_url)
        client.rpush(lua.JOURNAL, *(f"{n + 1} {text}" for n, text in enumerate(old)))
        client.set(lua.JOURNAL_ID, len(old))
    store = open_store(shared_url, journal_size=1000, journal_max_bytes=5 * len(old[0]))
    store.journal_append(old[0])
    entries = store.journal_entries()
    assert [entry["id"] for entry in entries] == [7, 8, 9, 10, 11]
    assert kept_bytes(entries) == running_total(shared_url)


def test_two_apps_sharing_a_store_keep_one_budget(shared_url: str) -> None:
    settings = Settings(state=shared_url, journal_size=10_000, journal_max_bytes=16 * 1024)
    apps = [InProcess(settings), InProcess(settings)]
    for n in range(60):
        answer = apps[n % 2].generate(MODEL, text_request(f"prompt {n} " + "w" * 900))
        assert answer.status_code == 200
    for app in apps:
        entries = app.request("GET", "/_mock/requests").json()["requests"]
        assert 4 < len(entries) < 60
        assert entries[-1]["prompt"].startswith("prompt 59 ")
        assert [int(entry["prompt"].split()[1]) for entry in entries] == list(range(60 - len(entries), 60))
        assert kept_bytes(entries) <= 16 * 1024
