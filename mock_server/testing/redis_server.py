"""A real ``redis-server`` on a free loopback port, for tests of replicas sharing state."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from mock_server.testing import free_port

__all__ = ["RedisServer", "redis_server"]


class RedisServer:
    """A running ``redis-server``: ``url`` for ``--state``; ``stop``/``start`` to simulate an outage
    (same port, same data directory, so a restart keeps what it had saved)."""

    def __init__(self, executable: str, port: int, directory: str) -> None:
        self.executable, self.port, self.directory = executable, port, directory
        self.url = f"redis://127.0.0.1:{port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # Persistence through an append-only file in a scratch directory: "restart loses nothing".
        self._process = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.directory,
             "--save", "", "--appendonly", "yes", "--appendfsync", "always"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """Start ``redis-server`` (``RuntimeError`` when it is not installed); stopped on exit."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    directory = tempfile.mkdtemp(prefix="gemini-mock-redis-")
    server = RedisServer(executable, free_port(), directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)
