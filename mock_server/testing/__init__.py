"""Run the fake for real, on a free loopback port, from tests and the pytest plugin."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from mock_server.app import create_app
from mock_server.settings import Settings
from mock_server.web.serving import uvicorn_options

__all__ = ["RunningServer", "free_port", "serve_asgi_in_thread", "serve_in_thread"]


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
    with serve_asgi_in_thread(create_app(settings), settings.host, port) as base_url:
        yield RunningServer(settings=settings, base_url=base_url)


@contextmanager
def serve_asgi_in_thread(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Any ASGI app (the fake, a recorder, a proxy) under uvicorn in a daemon thread; yields its base URL."""
    port = port or free_port(host)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on", **uvicorn_options())
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"gemini-mock:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start on {host}:{port}")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
