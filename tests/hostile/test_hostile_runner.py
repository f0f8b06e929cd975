"""Issue 12, items 7 and 8: the contract runner against hostile endpoints.

Each endpoint is a real server on a loopback port; the runner is the real ``gemini-contract`` command in a
subprocess, so a traceback or a hang shows exactly as a user would see it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.types import Receive, Scope, Send

from mock_server.testing import free_port, serve_asgi_in_thread

KEY = "AIzaSyRunnerCanary0123456789abcdefghijk"  # 39 characters, shaped like a real key
MINIMAL = ["--model", "gemini-2.5-flash-image", "--max-examples", "0"]
EXAMPLES = ["--model", "gemini-2.5-flash-image", "--max-examples", "12", "--seed", "1"]


def _fragments(secret: str = KEY, size: int = 8) -> list[str]:
    return [secret[start:start + size] for start in range(len(secret) - size + 1)]


def _run(base_url: str, *extra: str, timeout: float = 120) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "GEMINI_API_KEY": KEY}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "contract_tests", "run", "--base-url", base_url, "--quiet", *extra],
                          capture_output=True, text=True, env=env, timeout=timeout, check=False)
    return done, time.monotonic() - started


async def _start(send: Send, status: int = 200, content_type: bytes = b"application/json") -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type)]})


async def _drain(receive: Receive) -> None:
    message = await receive()
    while message.get("more_body"):
        message = await receive()


def _echo_key_app() -> object:
    """Echoes the caller's key at shifting offsets where the runner quotes bodies: a 500's text, a string
    that breaks the schema, an image's data."""
    counter = itertools.count()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await _drain(receive)
        headers = {name.decode().lower(): value.decode() for name, value in scope["headers"]}
        key = headers.get("x-goog-api-key") or headers.get("authorization", "").removeprefix("Bearer ") or KEY
        number = next(counter)
        text = "x" * ((number * 7) % 220) + key + "y" * 700
        if number % 3 == 0:
            await _start(send, 500, b"text/plain")
            await send({"type": "http.response.body", "body": f"upstream said: {text}".encode()})
            return
        if number % 3 == 1:
            body = {"candidates": text, "usageMetadata": {"promptTokenCount": text}}
        else:
            data = "A" * (number % 70) + key + "B" * 200
            body = {"candidates": [{"content": {"role": "model", "parts": [
                {"inlineData": {"mimeType": "image/png", "data": data}}]}, "finishReason": "STOP"}],
                "modelVersion": text}
        await _start(send)
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})

    return app


def _answering(pieces: list[bytes]) -> object:
    """Answers every request 200 with ``pieces`` as the body, sent one message each."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await _drain(receive)
        await _start(send)
        for index, piece in enumerate(pieces):
            await send({"type": "http.response.body", "body": piece, "more_body": index < len(pieces) - 1})

    return app


def _nested_app(depth: int = 10_000) -> object:
    return _answering([b'{"candidates":' + b"[" * depth + b"]" * depth + b"}"])


def _huge_app(megabytes: int = 40) -> object:
    return _answering([b" " * (1024 * 1024)] * megabytes + [b"{}"])


def _trickle_app(seconds: float = 60.0) -> object:
    """Headers at once, then one byte every 100 ms: no single read ever times out."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await _drain(receive)
        await _start(send)
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                await send({"type": "http.response.body", "body": b" ", "more_body": True})
                try:  # doubles as the 100 ms pause; a client that left ends the trickle
                    if (await asyncio.wait_for(receive(), 0.1))["type"] == "http.disconnect":
                        return
                except TimeoutError:
                    continue
            await send({"type": "http.response.body", "body": b"{}"})
        except OSError:
            return

    return app


@pytest.fixture
def serve() -> Iterator[object]:
    stack: list[object] = []

    def start(app: object) -> str:
        manager = serve_asgi_in_thread(app)  # type: ignore[arg-type]
        stack.append(manager)
        return manager.__enter__()

    yield start
    for manager in reversed(stack):
        manager.__exit__(None, None, None)  # type: ignore[attr-defined]


def _report(directory: Path) -> dict[str, object]:
    assert (directory / "report.json").exists(), "no report was written"
    assert (directory / "report.html").exists() and (directory / "junit.xml").exists()
    report: dict[str, object] = json.loads((directory / "report.json").read_text(encoding="utf-8"))
    return report


def test_an_echoed_key_never_leaks_even_in_part(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base_url = serve(_echo_key_app())
    report, junit = str(tmp_path / "report"), str(tmp_path / "j.xml")
    done, _ = _run(base_url, *EXAMPLES, "--report-dir", report, "--junit-xml", junit)
    assert done.returncode == 1, done.stderr[-2000:]
    outputs = {"stdout": done.stdout, "stderr": done.stderr}
    for path in [*(tmp_path / "report").rglob("*"), tmp_path / "j.xml"]:
        if path.is_file() and path.suffix != ".png":
            outputs[str(path)] = path.read_text(encoding="utf-8")
    for where, text in outputs.items():
        leaked = [fragment for fragment in _fragments() if fragment in text]
        assert not leaked, f"{where} holds key fragments {leaked[:3]}"


def test_a_deeply_nested_answer_is_a_finding_with_a_report_not_a_traceback(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base_url = serve(_nested_app())
    done, _ = _run(base_url, *MINIMAL, "--report-dir", str(tmp_path))
    assert "Traceback" not in done.stderr + done.stdout
    assert done.returncode == 1, done.stderr[-2000:]
    assert "nest" in json.dumps(_report(tmp_path)).lower()


def test_a_huge_answer_is_cut_at_the_size_cap(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base_url = serve(_huge_app())
    done, _ = _run(base_url, *MINIMAL, "--checks", "models_endpoint,bounded_response",
                   "--max-response-bytes", "1000000", "--report-dir", str(tmp_path))
    assert "Traceback" not in done.stderr + done.stdout
    assert done.returncode == 1, done.stderr[-2000:]
    assert "1000000" in json.dumps(_report(tmp_path))


def test_a_trickling_answer_meets_the_per_request_deadline(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base_url = serve(_trickle_app())
    done, took = _run(base_url, *MINIMAL, "--checks", "models_endpoint,bounded_response", "--timeout", "1.5",
                      "--report-dir", str(tmp_path))
    assert "Traceback" not in done.stderr + done.stdout
    assert done.returncode in (1, 2), done.stderr[-2000:]
    assert took < 30, f"no verdict after {took:.0f} s"
    assert "deadline" in json.dumps(_report(tmp_path)).lower()


def test_an_unreachable_target_still_gets_a_report(tmp_path: Path) -> None:
    done, _ = _run(f"http://127.0.0.1:{free_port()}", *MINIMAL, "--report-dir", str(tmp_path))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    report = _report(tmp_path)
    assert "unreachable" in json.dumps(report).lower()
