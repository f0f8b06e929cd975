"""One fake across replicas and workers (issue 13): two uvicorn replicas sharing a real Redis, and
``gemini-mock serve --workers 2`` sharing SQLite, keep the promises of one process."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import redis
from google import genai
from google.genai import types

from mock_server.settings import Settings
from mock_server.testing import RunningServer, free_port, serve_in_thread
from mock_server.testing.redis_server import redis_server
from tests.mock_server.cli.test_cli import running
from tests.support.fake import API_KEY, InProcess, png_bytes, text_request

MODEL = "gemini-2.5-flash-image"
KEY = {"x-goog-api-key": API_KEY}
TWICE_503 = {"rules": [{"name": "retry", "sequence": ["overloaded", "overloaded"]}]}


def generate(base: str, prompt: str, client: httpx.Client | None = None) -> httpx.Response:
    """A fresh connection each time unless a client is given (then the kernel can spread them)."""
    url = f"{base}/v1beta/models/{MODEL}:generateContent"
    if client is None:
        return httpx.post(url, json=text_request(prompt), headers=KEY, timeout=30)
    return client.post(url, json=text_request(prompt), headers=KEY)


@pytest.fixture
def replicas(redis_url: str) -> Iterator[list[RunningServer]]:
    redis.Redis.from_url(redis_url).flushdb()
    with ExitStack() as stack:
        yield [stack.enter_context(serve_in_thread(Settings(port=0, state=redis_url, seed=7))) for _ in range(2)]


def test_sequence_counts_globally_and_admin_changes_reach_every_replica(replicas: list[RunningServer]) -> None:
    one, two = (server.base_url for server in replicas)
    assert generate(one, "no rules yet").status_code == generate(two, "no rules yet").status_code == 200
    assert httpx.put(f"{one}/_mock/scenarios/rules", json=TWICE_503).status_code == 200
    statuses = [generate((two, one)[n % 2], f"p{n}").status_code for n in range(6)]
    assert statuses == [503, 503, 200, 200, 200, 200]
    described = httpx.get(f"{two}/_mock/scenarios/rules").json()["rules"]
    assert described[0]["fired"] == 2 and described[0]["spent"]
    assert httpx.post(f"{two}/_mock/scenarios/rules", json={"scenario": "rate_limited", "times": 1}).status_code == 200
    assert generate(one, "after the change").status_code == 429  # the very next request, on the other replica
    assert httpx.delete(f"{one}/_mock/scenarios/rules").json() == {"rules": []}
    assert generate(two, "rules cleared").status_code == 200


def test_seeded_probabilities_match_one_process(replicas: list[RunningServer]) -> None:
    rule = {"rules": [{"scenario": "overloaded", "probability": 0.5}]}
    single = InProcess(Settings(seed=7))
    single.request("PUT", "/_mock/scenarios/rules", json=rule)
    expected = [single.generate(MODEL, text_request(f"p{n}")).status_code for n in range(16)]
    one, two = (server.base_url for server in replicas)
    httpx.put(f"{two}/_mock/scenarios/rules", json=rule)
    got = [generate((one, two)[n % 3 == 0], f"p{n}").status_code for n in range(16)]
    assert got == expected and set(got) == {200, 503}


def test_journal_is_complete_in_order_from_any_replica_and_clears_everywhere(replicas: list[RunningServer]) -> None:
    one, two = (server.base_url for server in replicas)
    with httpx.Client(timeout=30) as first, httpx.Client(timeout=30) as second:
        for n in range(6):
            generate((one, two)[n % 2], f"journal {n}", (first, second)[n % 2])
            # listed as soon as the response is in: read from the replica that did not serve it
            latest = httpx.get(f"{(two, one)[n % 2]}/_mock/requests?limit=1").json()["requests"]
            assert latest[0]["prompt"] == f"journal {n}" and latest[0]["status"] == 200
    for base in (one, two):
        entries = httpx.get(f"{base}/_mock/requests").json()["requests"]
        assert [entry["prompt"] for entry in entries] == [f"journal {n}" for n in range(6)]
        assert API_KEY not in str(entries)
    assert httpx.delete(f"{two}/_mock/requests").json() == {"deleted": 6}
    assert httpx.get(f"{one}/_mock/requests").json() == {"requests": []}


def test_a_file_uploaded_on_one_replica_is_served_by_all(replicas: list[RunningServer], tmp_path: Path) -> None:
    one, two = (genai.Client(api_key=API_KEY, http_options=types.HttpOptions(base_url=server.base_url))
                for server in replicas)
    image = tmp_path / "input.png"
    image.write_bytes(png_bytes(90, 60))
    uploaded = one.files.upload(file=image)
    assert uploaded.name is not None
    fetched = two.files.get(name=uploaded.name)
    assert fetched.size_bytes == image.stat().st_size and fetched.sha256_hash == uploaded.sha256_hash
    assert [file.name for file in two.files.list()] == [uploaded.name]
    response = two.models.generate_content(model=MODEL, contents=[fetched, "make it blue"])
    assert response.parts and any(part.inline_data is not None for part in response.parts)
    two.files.delete(name=uploaded.name)
    assert list(one.files.list()) == []


def test_an_interaction_created_on_one_replica_continues_on_another(replicas: list[RunningServer]) -> None:
    one, two = (server.base_url for server in replicas)
    created = httpx.post(f"{one}/v1beta/interactions", headers=KEY, timeout=30,
                         json={"model": "gemini-3-pro-image-preview", "input": "a tower"}).json()
    fetched = httpx.get(f"{two}/v1beta/interactions/{created['id']}", headers=KEY)
    assert fetched.status_code == 200 and fetched.json()["id"] == created["id"]
    follow = httpx.post(f"{two}/v1beta/interactions", headers=KEY, timeout=30, json={
        "model": "gemini-3-pro-image-preview", "input": "now at night", "previous_interaction_id": created["id"]})
    assert follow.status_code == 200, follow.text
    assert httpx.delete(f"{two}/v1beta/interactions/{created['id']}", headers=KEY).status_code == 200
    assert httpx.get(f"{one}/v1beta/interactions/{created['id']}", headers=KEY).status_code == 404


def test_restarting_a_replica_loses_nothing(redis_url: str, tmp_path: Path) -> None:
    redis.Redis.from_url(redis_url).flushdb()
    rules = tmp_path / "rules.json"
    rules.write_text('{"rules": [{"sequence": ["overloaded", "overloaded", "internal"]}]}')
    settings = Settings(port=0, state=redis_url, scenarios_file=str(rules))
    with serve_in_thread(settings) as first:
        assert generate(first.base_url, "before").status_code == 503
        upload = httpx.post(f"{first.base_url}/upload/v1beta/files", json={"file": {"name": "files/kept"}},
                            headers={**KEY, "X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start"})
        url = upload.headers["x-goog-upload-url"]
        httpx.post(url, content=b"bytes", headers={"X-Goog-Upload-Command": "upload", "X-Goog-Upload-Offset": "0"})
    with serve_in_thread(settings) as again:  # same --scenarios file: its counters are kept
        base = again.base_url
        assert [generate(base, f"after {n}").status_code for n in range(3)] == [503, 500, 200]
        entries = httpx.get(f"{base}/_mock/requests").json()["requests"]
        assert [entry["prompt"] for entry in entries if entry["prompt"]] == ["before", "after 0", "after 1", "after 2"]
        finish = httpx.post(f"{base}{url.split(str(first.base_url), 1)[1]}", content=b"!",
                            headers={"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "5"})
        assert finish.status_code == 200 and finish.json()["file"]["sizeBytes"] == "6"


def test_redis_going_away_degrades_with_a_warning(caplog: pytest.LogCaptureFixture,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from mock_server.state import store

    monkeypatch.setattr(store, "_last_warning", {})  # warnings are once per 10 s per process: not another test's
    try:
        context = redis_server()
        server = context.__enter__()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    try:
        with serve_in_thread(Settings(port=0, state=server.url)) as fake:
            httpx.put(f"{fake.base_url}/_mock/scenarios/rules", json={"rules": [{"scenario": "overloaded"}]})
            assert generate(fake.base_url, "rule applies").status_code == 503
            server.stop()
            with caplog.at_level(logging.WARNING, logger="gemini_mock.state"):
                started = time.monotonic()
                assert [generate(fake.base_url, f"down {n}").status_code for n in range(5)] == [200] * 5
                assert time.monotonic() - started < 10
            warnings = [record.getMessage() for record in caplog.records if record.name == "gemini_mock.state"]
            assert any("journal degraded" in text and server.url in text for text in warnings), warnings
            assert any("scenario rules degraded" in text for text in warnings), warnings
            listed = httpx.get(f"{fake.base_url}/_mock/requests")
            assert listed.status_code == 503 and listed.json()["error"]["status"] == "UNAVAILABLE"
            files = httpx.get(f"{fake.base_url}/v1beta/files", headers=KEY)
            assert files.status_code == 503 and server.url in files.json()["error"]["message"]
            server.start()
            time.sleep(1.1)  # the back-off after a failure
            assert generate(fake.base_url, "back").status_code == 503  # the rule lived on in Redis
            assert [e["prompt"] for e in httpx.get(f"{fake.base_url}/_mock/requests").json()["requests"]] == [
                "rule applies", "back"]
    finally:
        context.__exit__(None, None, None)


def test_unreachable_state_url_stops_the_start_with_a_short_message() -> None:
    address = f"redis://127.0.0.1:{free_port()}/3"
    started = time.monotonic()
    command = [sys.executable, "-m", "mock_server", "serve", "--port", str(free_port()), "--state", address]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and time.monotonic() - started < 15
    assert address in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


@pytest.fixture(scope="module")
def two_workers() -> Iterator[str]:
    with running("--workers", "2", "--log-level", "warning") as base:
        time.sleep(1.0)  # the second worker may come up a moment after the first
        yield base


def test_two_workers_share_rules_journal_and_files(two_workers: str) -> None:
    base = two_workers
    httpx.delete(f"{base}/_mock/requests")
    assert httpx.put(f"{base}/_mock/scenarios/rules", json=TWICE_503).status_code == 200
    assert [generate(base, f"w{n}").status_code for n in range(6)] == [503, 503, 200, 200, 200, 200]
    for _ in range(6):  # every read, whichever worker answers, sees all six in order
        entries = httpx.get(f"{base}/_mock/requests").json()["requests"]
        assert [entry["prompt"] for entry in entries] == [f"w{n}" for n in range(6)]
    httpx.delete(f"{base}/_mock/scenarios/rules")
    start = httpx.post(f"{base}/upload/v1beta/files", json={"file": {}}, headers={
        **KEY, "X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start"})
    final = httpx.post(start.headers["x-goog-upload-url"], content=b"pixels",
                       headers={"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "0"})
    name = final.json()["file"]["name"]
    assert all(httpx.get(f"{base}/v1beta/{name}", headers=KEY).status_code == 200 for _ in range(6))

