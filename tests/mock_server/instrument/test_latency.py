"""Simulated latency: the realistic distribution, fixed delays, the time scale, streaming first chunk."""

from __future__ import annotations

import random
import statistics
import time

import httpx
import pytest

from mock_server.cli import build_parser
from mock_server.instrument.latency import lognormal_ms, parse_latency, plan_delay
from mock_server.runtime import Runtime
from mock_server.settings import Settings
from mock_server.testing import serve_in_thread
from schemas import load_profile_book
from tests.support.fake import text_request

PRO = load_profile_book().get("gemini-3-pro-image-preview")
assert PRO is not None


def test_realistic_draws_fit_the_profile_median_and_long_tail() -> None:
    median, p99 = PRO.latency_ms("4K")
    rng = random.Random(1)
    draws = sorted(lognormal_ms(rng, median, p99) for _ in range(4000))
    assert statistics.median(draws) == pytest.approx(median, rel=0.08)
    assert draws[int(0.99 * len(draws))] == pytest.approx(p99, rel=0.2)
    assert max(draws) <= 2 * p99 and draws[0] > 0


def test_modes_and_time_scale() -> None:
    none = plan_delay(Runtime.create(Settings()), PRO, "1K")
    assert (none.first_chunk, none.total) == (0.0, 0.0)
    fixed = plan_delay(Runtime.create(Settings(latency="250", time_scale=0.5)), PRO, "1K")
    assert fixed.total == pytest.approx(0.125)
    runtime = Runtime.create(Settings(latency="realistic", time_scale=0.001, seed=3))
    delays = [plan_delay(runtime, PRO, "2K") for _ in range(50)]
    assert all(d.first_chunk <= d.total for d in delays)
    assert all(d.first_chunk <= PRO.stream_first_chunk_ms / 1000 * 0.001 + 1e-12 for d in delays)
    again = Runtime.create(Settings(latency="realistic", time_scale=0.001, seed=3))
    assert [plan_delay(again, PRO, "2K") for _ in range(50)] == delays  # seeded: reproducible


def test_cli_accepts_only_valid_latency() -> None:
    args = build_parser().parse_args(["serve", "--latency", "realistic", "--time-scale", "0.01"])
    assert (args.latency, args.time_scale) == ("realistic", 0.01)
    assert parse_latency("1500") == "1500"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--latency", "fast"])


def test_served_requests_wait_for_the_simulated_time() -> None:
    with serve_in_thread(Settings(port=0, latency="realistic", time_scale=0.02, seed=5)) as server:
        url = f"{server.base_url}/v1beta/models/gemini-3-pro-image-preview:generateContent"
        started = time.monotonic()
        response = httpx.post(url, json=text_request("a slow lighthouse"), headers={"x-goog-api-key": "k"},
                              timeout=30)
        assert response.status_code == 200
        expected = plan_delay(Runtime.create(Settings(latency="realistic", time_scale=0.02, seed=5)), PRO, "1K")
        assert time.monotonic() - started >= expected.total * 0.95


def test_streams_wait_before_the_first_chunk() -> None:
    with serve_in_thread(Settings(port=0, latency="300", time_scale=0.5)) as server:
        url = f"{server.base_url}/v1beta/models/gemini-3.1-flash-image-preview:streamGenerateContent?alt=sse"
        body = text_request("a lighthouse", imageSize="512")
        started = time.monotonic()
        with httpx.stream("POST", url, json=body, headers={"x-goog-api-key": "k"}, timeout=30) as response:
            arrivals = [time.monotonic() - started for chunk in response.iter_raw() if chunk]
        assert arrivals and arrivals[0] >= 0.15 * 0.95
