"""Run the fake for real, on a free loopback port, from tests and the pytest plugin."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from mock_server.app import create_app
from mock_server.settings import Settings

__all__ = ["RunningServer", "free_port", "serve_in_thread"]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class RunningServer:
    settings: Settings
    base_url: str


@contextmanager
def serve_in_thread(settings: Settings | None = None) -> Iterator[RunningServer]:
    """The fake under uvicorn in a daemon thread; stopped when the block exits."""
    settings = settings or Settings()
    port = settings.port if settings.port not in (0, 8000) else free_port(settings.host)
    settings = settings.with_changes(port=port)
    config = uvicorn.Config(
        create_app(settings), host=settings.host, port=port, log_level="warning", lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"gemini-mock:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the fake did not start on {settings.host}:{port}")
        time.sleep(0.01)
    try:
        yield RunningServer(settings=settings, base_url=f"http://{settings.host}:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
