"""Issue 12, items 3 and 6: the journal keeps bounded, already-redacted summaries, and no key anywhere."""

from __future__ import annotations

import base64
import gc
import tracemalloc

import pytest

from mock_server.settings import Settings
from tests.support.fake import InProcess, png_bytes, text_request

MODEL = "gemini-2.5-flash-image"
KEY = "AIzaSyJournalCanary0123456789abcdefghi"  # 38 characters, shaped like a real key


def _fragments(secret: str, size: int = 8) -> list[str]:
    return [secret[start:start + size] for start in range(len(secret) - size + 1)]


def _assert_no_fragment(text: str, secret: str = KEY) -> None:
    leaked = [fragment for fragment in _fragments(secret) if fragment in text]
    assert not leaked, f"key fragments in the journal: {leaked[:3]}"


def test_a_configured_key_is_redacted_wherever_the_client_puts_it() -> None:
    fake = InProcess(Settings(api_keys=(KEY,)))
    fake.generate(MODEL, text_request("headers"), key=KEY,
                  headers={"x-api-key": KEY, "x-goog-api-client": f"genai-py/1.0 key/{KEY}", "cookie": f"k={KEY}"})
    fake.request("POST", f"/v1beta/models/{MODEL}:generateContent?other={KEY}&key={KEY}", json=text_request("query"))
    fake.request("POST", f"/v1beta/models/{KEY}:generateContent", json=text_request("path"),
                 headers={"x-goog-api-key": KEY})
    fake.request("POST", f"/v1beta/models/{MODEL}:generateContent", json=text_request(f"body {KEY}"),
                 headers={"authorization": f"Bearer {KEY}"})
    response = fake.request("GET", "/_mock/requests", headers={"x-goog-api-key": KEY})
    assert response.status_code == 200
    assert len(response.json()["requests"]) == 4
    _assert_no_fragment(response.text)


def test_the_clients_own_key_is_redacted_everywhere_when_any_key_is_accepted() -> None:
    fake = InProcess()
    fake.generate(MODEL, text_request("x"), key=KEY, headers={"x-api-key": KEY})
    fake.request("POST", f"/v1beta/models/{MODEL}:generateContent?mine={KEY}", json=text_request("y"),
                 headers={"x-goog-api-key": KEY})
    _assert_no_fragment(fake.request("GET", "/_mock/requests").text)


def test_redaction_happens_before_long_strings_are_cut() -> None:
    fake = InProcess(Settings(api_keys=(KEY,)))
    for offset in range(0, 4096, 37):  # the key straddles whatever cut the journal applies
        prompt = "p" * offset + KEY + "q" * 4096
        fake.generate(MODEL, text_request(prompt), key=KEY)
        body = b'{"contents": [{"parts": [{"text": "' + b"r" * offset + KEY.encode() + b"s" * 4096 + b'"}]} oops'
        fake.generate(MODEL, body, key=KEY)
    text = fake.request("GET", "/_mock/requests", headers={"x-goog-api-key": KEY}).text
    _assert_no_fragment(text)


def test_long_strings_are_cut_with_a_marker_and_images_kept_as_size_and_digest() -> None:
    fake = InProcess()
    image = base64.b64encode(png_bytes(64, 48) + b"\0" * 2000).decode()
    parts = [{"text": "x" * 100_000}, {"inlineData": {"mimeType": "image/png", "data": image}}]
    body = {"contents": [{"parts": parts}]}
    assert fake.generate(MODEL, body, key="k").status_code == 200
    entry = fake.request("GET", "/_mock/requests").json()["requests"][0]
    parts = entry["body"]["contents"][0]["parts"]
    assert len(parts[0]["text"]) < 2000 and "100000" in parts[0]["text"]
    assert parts[1]["inlineData"]["data"].startswith(f"<{len(image)} chars sha256:")
    assert len(entry["prompt"]) < 2000


def test_journal_memory_does_not_grow_with_image_payloads() -> None:
    """40 edits with 5 MB images once added 272 MB; now each entry is a small summary."""
    fake = InProcess(Settings(image_cache_bytes=0, journal_size=1000))
    image = base64.b64encode(png_bytes(64, 48) + b"\0" * 1_000_000).decode()  # ~1.3 MB of base64
    body = {"contents": [{"parts": [{"text": "edit it"}, {"inlineData": {"mimeType": "image/png", "data": image}}]}]}
    fake.generate(MODEL, body, key="k")  # warm-up: lazily built caches are not the journal's growth
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(10):
            assert fake.generate(MODEL, body, key="k").status_code == 200
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 3_000_000, f"10 requests of 1.3 MB kept {grown / 1e6:.1f} MB"  # the last body may linger


def test_journal_has_a_byte_budget_as_well_as_an_entry_count() -> None:
    fake = InProcess(Settings(journal_size=10_000, journal_max_bytes=64 * 1024))
    for index in range(300):
        fake.generate(MODEL, text_request(f"prompt {index} " + "w" * 900), key="k")
    response = fake.request("GET", "/_mock/requests")
    entries = response.json()["requests"]
    assert 0 < len(entries) < 300
    assert entries[-1]["prompt"].startswith("prompt 299 ")
    assert len(response.content) < 3 * 64 * 1024  # what is stored is what is listed, give or take formatting


def test_logs_are_redacted_traceback_included(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    InProcess(Settings(api_keys=(KEY,)))
    log = logging.getLogger("gemini_mock")
    try:
        raise ValueError(f"upstream echoed {KEY[:20]} and ?key={KEY}")
    except ValueError:
        log.exception("failed for %s", KEY)
    assert "failed for" in caplog.text and "ValueError" in caplog.text
    _assert_no_fragment(caplog.text)


def test_child_loggers_are_redacted_too(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    InProcess(Settings(api_keys=(KEY,)))
    logging.getLogger("gemini_mock.journal").error("journal: could not record POST /v1beta/models/%s", KEY)
    assert "could not record" in caplog.text
    _assert_no_fragment(caplog.text)
