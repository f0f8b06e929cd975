"""Microseconds per repeated generateContent request inside the app (no sockets, no HTTP parsing).

Calls the ASGI app directly, so the figure is the fake's own work per request: what wrk's numbers
add uvicorn and the kernel to. ``--profile`` prints where the time goes.

    python bench/hot_path.py [--requests 3000] [--profile] [--state sqlite:///tmp/s.db|redis://HOST:PORT/DB]
                             [--concurrent 16]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import time
from typing import Any

from mock_server.app import create_app
from mock_server.settings import Settings

BODY = json.dumps({"contents": [{"parts": [{"text": "a benchmark poster at 1K"}]}],
                   "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"imageSize": "1K"}}}).encode()
SCOPE: dict[str, Any] = {
    "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
    "path": "/v1beta/models/gemini-3.1-flash-image-preview:generateContent", "raw_path": b"", "query_string": b"",
    "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    "headers": [(b"content-type", b"application/json"), (b"x-goog-api-key", b"bench-key"),
                (b"content-length", str(len(BODY)).encode())],
}


async def run(app: Any, requests: int) -> None:
    for _ in range(requests):
        delivered = False

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": BODY, "more_body": False}

        statuses: list[int] = []

        async def send(message: dict[str, Any], statuses: list[int] = statuses) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(dict(SCOPE), receive, send)
        assert statuses == [200], statuses


async def together(app: Any, requests: int, concurrent: int) -> None:
    await asyncio.gather(*(run(app, requests // concurrent) for _ in range(concurrent)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--state", default=None, help="a shared store, to see what sharing costs per request")
    parser.add_argument("--concurrent", type=int, default=1, help="requests in flight at once (as under load)")
    args = parser.parse_args()
    app = create_app(Settings(state=args.state))
    asyncio.run(run(app, 50))  # warm: first render, caches
    started, cpu = time.perf_counter(), time.process_time()
    asyncio.run(together(app, args.requests, args.concurrent))
    print(f"{(time.perf_counter() - started) / args.requests * 1e6:.0f} us per repeated 1K request (in-process), "
          f"{(time.process_time() - cpu) / args.requests * 1e6:.0f} us of this process's CPU")
    if args.profile:
        cProfile.runctx("asyncio.run(run(app, args.requests))", globals(), locals(), "/tmp/hot_path.prof")
        pstats.Stats("/tmp/hot_path.prof").sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
