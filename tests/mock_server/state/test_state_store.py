"""The state store interface, one behaviour for memory, SQLite and a real Redis."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

import pytest
import redis

from mock_server.settings import Settings
from mock_server.state import StateStore, check_state, open_store
from mock_server.state.file_store import FileStore
from mock_server.state.store import NO_LIMIT, STALE, choose, draw


def store_url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "memory":
        return "memory"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path}/state.db"
    address: str = request.getfixturevalue("redis_url")
    redis.Redis.from_url(address).flushdb()
    return address


@pytest.fixture(params=["memory", "sqlite", "redis"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_url(request.param, request, tmp_path)


@pytest.fixture(params=["sqlite", "redis"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Stores keeping files themselves (memory files are the file store's own, tests/mock_server/api/test_files.py)."""
    return store_url(request.param, request, tmp_path)


def test_journal_is_ordered_bounded_and_cleared_everywhere(url: str) -> None:
    store = open_store(url, journal_size=3)
    other = open_store(url, journal_size=3) if store.shared else store  # a second process, where there is one
    ids = [(store if n % 2 else other).journal_append({"n": n}) for n in range(130)]
    assert ids == sorted(ids) and len(set(ids)) == 130
    listed = other.journal_entries()
    assert [entry["n"] for entry in listed] == [127, 128, 129]
    assert [entry["id"] for entry in listed] == ids[-3:]
    assert other.journal_clear() == 3
    assert store.journal_entries() == []
    assert store.journal_append({"n": 1}) > ids[-1]  # ids go on after a clear


def test_sequence_fires_exactly_its_length_however_many_processes_race(url: str) -> None:
    stores = [open_store(url) for _ in range(4)] if url != "memory" else [open_store(url)] * 4
    version = stores[0].set_rules([{"sequence": ["overloaded", "overloaded"]}])
    outcomes: list[object] = []

    def hit(store: StateStore) -> None:
        for _ in range(5):
            outcomes.append(store.fire(version, [(0, 2, 1.0)], seed=0))

    threads = [threading.Thread(target=hit, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o for o in outcomes if o is not None) == [(0, 0), (0, 1)]  # type: ignore[type-var]
    assert outcomes.count(None) == 18
    assert stores[1].fired_counts() == {0: 2}
    assert stores[2].fire(version - 1, [(0, 2, 1.0)], seed=0) == STALE


def test_probability_draws_match_one_process_whatever_the_store(url: str) -> None:
    store = open_store(url)
    version = store.set_rules([{"scenario": "overloaded", "probability": 0.3},
                               {"scenario": "internal", "probability": 0.5, "times": 4}])
    candidates = [(0, NO_LIMIT, 0.3), (1, 4, 0.5)]
    got = [store.fire(version, candidates, seed=11) for _ in range(40)]
    fired: dict[int, int] = {}
    counter = iter(range(1, 1000))
    expected = [choose(candidates, fired, lambda: next(counter), 11) for _ in range(40)]
    assert got == expected
    assert {outcome[0] for outcome in got if outcome} == {0, 1}  # type: ignore[index]
    assert 0.0 <= draw(11, 1) < 1.0 and draw(11, 1) != draw(12, 1)


def test_rules_source_loads_once_then_keeps_counters(url: str) -> None:
    store = open_store(url)
    rules = [{"sequence": ["overloaded"]}]
    assert store.load_rules_source(rules, "digest-a")
    version, listed = store.rules()
    assert listed == rules and store.rules_version() == version
    assert store.fire(version, [(0, 1, 1.0)], 0) == (0, 0)
    assert not store.load_rules_source(rules, "digest-a")  # a restarted replica: nothing lost
    assert store.fired_counts() == {0: 1}
    assert store.add_rule({"scenario": "internal"}) == version + 1
    assert store.rules()[1] == [*rules, {"scenario": "internal"}]
    assert store.load_rules_source(rules, "digest-b")  # the file changed: replaced, counters reset
    assert store.fired_counts() == {} and store.rules()[1] == rules


def test_collections_are_bounded_per_kind_and_hold_copies(url: str) -> None:
    store = open_store(url, collection_limit=3)
    for n in range(5):
        store.put_document("batch", f"b{n}", {"n": n, "nested": {"list": [n]}})
    store.put_document("interaction", "i0", {"n": "other kind"})
    store.put_document("batch", "b3", {"n": 33})  # an update keeps its place
    assert [doc["n"] for doc in store.list_documents("batch")] == [2, 33, 4]
    assert store.get_document("batch", "b0") is None
    document = store.get_document("batch", "b4")
    assert document == {"n": 4, "nested": {"list": [4]}}
    document["n"] = 99  # type: ignore[index]
    assert store.get_document("batch", "b4") == {"n": 4, "nested": {"list": [4]}}
    assert store.delete_document("batch", "b4") and not store.delete_document("batch", "b4")
    assert [doc["n"] for doc in store.list_documents("batch")] == [2, 33]
    assert store.list_documents("interaction") == [{"n": "other kind"}]
    assert store.list_documents("nothing") == []


def test_files_live_in_the_store_and_every_process_sees_them(shared_url: str) -> None:
    url = shared_url
    settings = Settings()
    one = FileStore(settings, backend=open_store(url).files_backend())
    two = FileStore(settings, backend=open_store(url).files_backend())
    one.put("upload-u1", {"id": "f1", "expires": one.now() + 60})
    one.append("upload-u1", b"abc")
    two.append("upload-u1", b"def")
    assert one.size("upload-u1") == 6 and two.read("upload-u1") == b"abcdef"
    two.rename("upload-u1", "file-f1")
    assert one.get("upload-u1") is None and one.read("file-f1") == b"abcdef"
    assert [meta["id"] for meta in two.entries("file-")] == ["f1"] and two.used_bytes() == 6
    one.put("file-old", {"id": "old", "expires": one.now() - 1})
    assert two.get("file-old") is None  # expired entries are swept
    two.delete("file-f1")
    assert one.get("file-f1") is None and one.read("file-f1") == b""


def test_check_names_the_address_of_an_unusable_store(tmp_path: Path) -> None:
    assert check_state(None) is None and check_state(f"sqlite:///{tmp_path}/s.db") is None
    problem = check_state("redis://127.0.0.1:1/0")
    assert problem is not None and "redis://127.0.0.1:1/0" in problem and "\n" not in problem
    assert "expected memory" in str(check_state("ftp://x"))
    (tmp_path / "file").write_text("")
    assert "sqlite:///" in str(check_state(f"sqlite:///{tmp_path}/file/s.db"))


def test_a_broken_sqlite_store_degrades_instead_of_failing_requests(tmp_path: Path) -> None:
    from tests.support.fake import InProcess, text_request

    fake = InProcess(Settings(state=f"sqlite:///{tmp_path}/state.db"))
    assert fake.generate("gemini-2.5-flash-image", text_request("before")).status_code == 200
    store = open_store(f"sqlite:///{tmp_path}/state.db")
    store.journal_entries()
    sqlite3.connect(f"{tmp_path}/state.db").execute("DROP TABLE journal")  # what a full disk would be to it
    assert fake.generate("gemini-2.5-flash-image", text_request("after")).status_code == 200
    listed = fake.request("GET", "/_mock/requests")
    assert listed.status_code == 503 and "sqlite:///" in listed.json()["error"]["message"]


def test_a_journal_that_cannot_record_never_breaks_the_answer(monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    from mock_server.instrument import journal
    from tests.support.fake import InProcess, text_request

    def broken(*_args: object) -> None:
        raise RuntimeError("secret-looking text that must not reach the log")

    monkeypatch.setattr(journal.Journal, "shape_of", broken)
    with caplog.at_level(logging.ERROR, logger="gemini_mock.journal"):
        answer = InProcess().generate("gemini-2.5-flash-image", text_request("still answered"))
    assert answer.status_code == 200 and answer.json()["candidates"]
    assert "could not record POST" in caplog.text and "RuntimeError" in caplog.text
    assert "secret-looking" not in caplog.text


def _first_use_together(stores: list[StateStore]) -> list[Exception]:
    """Each store's first call, all at once (one thread each); what they raised."""
    failures: list[Exception] = []
    together = threading.Barrier(len(stores))

    def first_use(store: StateStore) -> None:
        together.wait()
        try:
            store.journal_append({"n": 1})
        except Exception as exc:
            failures.append(exc)

    threads = [threading.Thread(target=first_use, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def test_workers_opening_a_fresh_sqlite_file_together_all_get_in(tmp_path: Path) -> None:
    """Switching a new file to WAL takes it exclusively, and SQLite refuses the others at once ("database
    is locked") instead of waiting: each must try again rather than report the store unavailable."""
    for trial in range(50):
        stores = [open_store(f"sqlite:///{tmp_path}/fresh{trial}.db") for _ in range(4)]
        assert _first_use_together(stores) == []
        assert len(stores[0].journal_entries()) == 4
