"""``gemini-mock serve`` as a user runs it: a real process, single and multi-worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from mock_server.cli import build_parser, settings_from_args
from mock_server.testing import free_port


@contextmanager
def running(*args: str) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "mock_server", "serve", "--port", str(port), *args],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base_url}/v1beta/models", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(process.stdout.read().decode() if process.stdout else "no output") from None
                time.sleep(0.1)
        yield base_url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=20)[0].decode()
        assert "Traceback" not in output, output


def generate(base_url: str, key: str, model: str = "gemini-2.5-flash-image") -> httpx.Response:
    return httpx.post(f"{base_url}/v1beta/models/{model}:generateContent", params={"key": key}, timeout=30,
                      json={"contents": [{"parts": [{"text": "cli"}]}]})


def test_serve_with_api_keys_and_seed() -> None:
    with running("--api-key", "alpha", "--api-key", "beta", "--seed", "3") as base_url:
        assert generate(base_url, "alpha").status_code == 200
        assert generate(base_url, "beta").status_code == 200
        assert generate(base_url, "gamma").status_code == 400


def test_serve_with_two_workers_answers_identically() -> None:
    with running("--workers", "2", "--api-key", "k", "--image-format", "jpeg") as base_url:
        bodies = {generate(base_url, "k").json()["candidates"][0]["content"]["parts"][1]["inlineData"]["data"]
                  for _ in range(6)}
    assert len(bodies) == 1  # same request + seed -> same bytes, whichever worker answered


def test_keys_never_reach_the_server_log() -> None:
    canary = "AIzaCANARY-cli-0000"
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "mock_server", "serve", "--port", str(port),
                                "--log-level", "debug"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                generate(f"http://127.0.0.1:{port}", canary)
                httpx.get(f"http://127.0.0.1:{port}/nope?key={canary}", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=20)[0].decode()
    assert "Uvicorn running" in output or "Application startup complete" in output
    assert canary not in output


def test_options_map_onto_settings() -> None:
    args = build_parser().parse_args(["serve", "--port", "0", "--payload", "realistic", "--image-format", "mixed",
                                      "--unknown-image-size", "fallback"])
    settings = settings_from_args(args)
    assert (settings.payload, settings.image_format, settings.unknown_image_size) == ("realistic", "mixed", "fallback")


def test_usage_errors_exit_2() -> None:
    for argv in (["serve", "--port", "x"], ["serve", "--image-format", "gif"], []):
        with pytest.raises(SystemExit) as exited:
            build_parser().parse_args(argv)
        assert exited.value.code == 2
