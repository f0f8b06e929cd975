"""nginx with a plain ``proxy_pass`` in front of the fake: the control relay (skips where nginx is absent)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from mock_server.testing import free_port

__all__ = ["nginx_proxy"]

_CONFIG = """daemon off;
{user}
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {root}/body; proxy_temp_path {root}/proxy; fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi; scgi_temp_path {root}/scgi;
  client_max_body_size 64m;
  server {{
    listen 127.0.0.1:{port};
    location / {{ proxy_pass {upstream}; proxy_http_version 1.1; proxy_buffering off; }}
  }}
}}
"""


@contextmanager
def nginx_proxy(upstream: str, directory: Path) -> Iterator[str]:
    binary = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)
    if binary is None:
        pytest.skip("nginx is not installed here")
    port = free_port()
    root = directory / "nginx"
    root.mkdir()
    user = "user root;" if os.geteuid() == 0 else ""  # workers must write the temp paths under root's tmp
    (root / "nginx.conf").write_text(_CONFIG.format(user=user, root=root, port=port,
                                                    upstream=urlsplit(upstream)._replace(path="").geturl()))
    process = subprocess.Popen([binary, "-p", str(root), "-c", str(root / "nginx.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.skip(f"nginx did not start: {(root / 'error.log').read_text(errors='replace')[-300:]}"
                                if (root / "error.log").exists() else "nginx did not start")
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
