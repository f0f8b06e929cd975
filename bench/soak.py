"""Memory under load (issue 12): a mixed soak at 64 clients, then a long run of distinct prompts.

Starts ``gemini-mock serve`` as users run it (one worker, default settings, a key from
GEMINI_MOCK_API_KEYS), drives it over loopback and samples the server's RSS from /proc.

1. Mixed soak (``--duration`` s, ``--clients`` concurrent): repeated and distinct generateContent,
   edits with an input image, streams, countTokens, ListModels, malformed and hostile bodies (lone
   surrogates, deep nesting), journal reads. Every answer's status is counted; 5xx must stay 0.
2. Distinct prompts (``--distinct`` requests, 16 concurrent): every request a new 1K image, so the
   image cache fills and evicts; RSS must stay under 300 MB.

    python bench/soak.py [--duration 60] [--clients 64] [--distinct 10499] [--out soak.json]

Not a test: bounded in time and count, loopback only, prints a Markdown summary for docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import itertools
import json
import os
import platform
import random
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
from PIL import Image

KEY = "bench-soak-key-0123456789"
MODEL = "gemini-3.1-flash-image-preview"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _png(width: int, height: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (random.randrange(256), 40, 90)).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _generate(prompt: str, size: str = "1K") -> dict[str, object]:
    return {"contents": [{"role": "user", "parts": [{"text": prompt}]}],
            "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"imageSize": size}}}


EDIT_IMAGE = _png(640, 480)
HOSTILE_BODIES = [
    b'{"contents":[{"parts":[{"text":"a \\ud800 fox"}]}]}',
    b'{"contents":[{"parts":[{"text":"x"}]}],"labels":' + b"[" * 5000 + b"]" * 5000 + b"}",
    b'{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"seed":1e999}}',
    b"{not json",
]


def mixed_request(counter: itertools.count[int]) -> tuple[str, str, bytes | None]:
    """(method, path, body) of one request of the mix."""
    number = next(counter)
    kind = number % 20
    api = f"/v1beta/models/{MODEL}"
    if kind < 6:
        return "POST", f"{api}:generateContent", json.dumps(_generate(f"repeated prompt {number % 7}")).encode()
    if kind < 9:
        return "POST", f"{api}:generateContent", json.dumps(_generate(f"distinct prompt {number}")).encode()
    if kind == 9:
        body = _generate(f"edit {number % 50}")
        body["contents"][0]["parts"].append({"inlineData": {"mimeType": "image/png", "data": EDIT_IMAGE}})  # type: ignore[index]
        return "POST", f"{api}:generateContent", json.dumps(body).encode()
    if kind in (10, 11):
        return "POST", f"{api}:streamGenerateContent?alt=sse", json.dumps(_generate(f"stream {number}")).encode()
    if kind == 12:
        return "POST", f"{api}:countTokens", json.dumps({"contents": _generate(f"count {number}")["contents"]}).encode()
    if kind in (13, 14):
        return "GET", "/v1beta/models", None
    if kind in (15, 16, 17):
        return "POST", f"{api}:generateContent", HOSTILE_BODIES[number % len(HOSTILE_BODIES)]
    if kind == 18:
        return "GET", "/_mock/requests?limit=20", None
    return "POST", f"{api}:generateContent", json.dumps(_generate(f"512 {number}", "512")).encode()


async def soak(base: str, pid: int, duration: float, clients: int) -> dict[str, object]:
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()  # client-side failures (status 0), by kind
    samples: list[tuple[float, float]] = []
    counter = itertools.count()
    started = time.monotonic()
    stop_at = started + duration
    headers = {"x-goog-api-key": KEY, "content-type": "application/json"}

    async def client(http: httpx.AsyncClient) -> None:
        while time.monotonic() < stop_at:
            method, path, body = mixed_request(counter)
            try:
                response = await http.request(method, base + path, content=body, headers=headers)
                await response.aread()
                statuses[response.status_code] += 1
            except httpx.HTTPError as error:
                statuses[0] += 1
                errors[f"{type(error).__name__} on {method} {path.split('?')[0].rsplit(':', 1)[-1]}"] += 1

    async def sampler() -> None:
        while time.monotonic() < stop_at:
            samples.append((round(time.monotonic() - started, 1), round(rss_mb(pid), 1)))
            await asyncio.sleep(2.0)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        await asyncio.gather(sampler(), *(client(http) for _ in range(clients)))
    samples.append((round(time.monotonic() - started, 1), round(rss_mb(pid), 1)))
    return {"requests": sum(statuses.values()), "statuses": dict(sorted(statuses.items())), "rss_mb": samples,
            "seconds": round(time.monotonic() - started, 1), "client_errors": dict(errors)}


async def distinct(base: str, pid: int, total: int, concurrency: int = 16) -> dict[str, object]:
    samples: list[tuple[int, float]] = [(0, round(rss_mb(pid), 1))]
    statuses: Counter[int] = Counter()
    counter = itertools.count()
    headers = {"x-goog-api-key": KEY, "content-type": "application/json"}
    started = time.monotonic()

    async def client(http: httpx.AsyncClient) -> None:
        while (number := next(counter)) < total:
            body = json.dumps(_generate(f"distinct memory prompt {number} {random.random()}")).encode()
            response = await http.post(f"{base}/v1beta/models/{MODEL}:generateContent", content=body, headers=headers)
            statuses[response.status_code] += 1
            if number % 500 == 0 and number:
                samples.append((number, round(rss_mb(pid), 1)))

    async with httpx.AsyncClient(timeout=60) as http:
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
    samples.append((total, round(rss_mb(pid), 1)))
    return {"requests": total, "statuses": dict(statuses), "rss_mb": samples,
            "seconds": round(time.monotonic() - started, 1)}


def wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError("the server exited early")
        try:
            httpx.get(f"{base}/v1beta/models", headers={"x-goog-api-key": KEY}, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=2,
                        help="soak rounds back to back on one server (the first fills the caches)")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--distinct", type=int, default=10_499)
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON here")
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "GEMINI_MOCK_API_KEYS": KEY}
    load_before = os.getloadavg()
    process = subprocess.Popen([sys.executable, "-m", "mock_server", "serve", "--port", str(port),
                                "--log-level", "warning"], env=env)
    try:
        wait_until_up(base, process)
        idle = rss_mb(process.pid)
        rounds = [asyncio.run(soak(base, process.pid, args.duration, args.clients)) for _ in range(args.rounds)]
        after_soak = rss_mb(process.pid)
        run = asyncio.run(distinct(base, process.pid, args.distinct))
    finally:
        process.terminate()
        process.wait(timeout=30)
    report = {
        "machine": f"{platform.system()} {platform.release()} {platform.machine()}, {os.cpu_count()} cores, "
                   f"Python {platform.python_version()}",
        "load_average_before": [round(value, 2) for value in load_before],
        "load_average_after": [round(value, 2) for value in os.getloadavg()],
        "idle_rss_mb": round(idle, 1), "soak_rounds": rounds, "rss_after_soak_mb": round(after_soak, 1),
        "distinct": run,
    }
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))
    peak = max(rss for _, rss in run["rss_mb"])  # type: ignore[attr-defined]
    server_errors = sum(count for one in rounds for status, count in one["statuses"].items()  # type: ignore[attr-defined]
                        if status >= 500)
    print(f"\nsoak: {sum(int(str(one['requests'])) for one in rounds)} requests in {args.rounds} rounds, "
          f"5xx: {server_errors}; "
          f"distinct: peak RSS {peak} MB over {args.distinct} requests")
    return 0 if server_errors == 0 and peak < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
