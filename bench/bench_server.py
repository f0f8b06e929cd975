"""Requests/s and p50/p99 latency of the fake over loopback, measured with wrk.

Each case runs the fake as users run it (``gemini-mock serve``), then the same uvicorn serving a
precomputed body of the same size, and reports the ratio: machines here are shared and noisy, so
only ratios within one run mean much.

    python bench/bench_server.py [--duration 5] [--connections 16] [--workers 1] [--payload compact|realistic]
                                 [--distinct-only]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
MODEL = {"1K": "gemini-3.1-flash-image", "2K": "gemini-3.1-flash-image", "4K": "gemini-3.1-flash-image"}
# Distinct prompts per output format: each model answers in its own format (RGB PNG / baseline JPEG).
DISTINCT = {"PNG": "gemini-2.5-flash-image", "JPEG": "gemini-3.1-flash-image"}
LUA_FIXED = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-goog-api-key"] = "bench-key"
wrk.body = [[%s]]
"""
LUA_DISTINCT = """
local counter = 0
local id = 0
setup = function(thread) thread:set("id", id); id = id + 1 end
request = function()
  counter = counter + 1
  local body = '{"contents":[{"parts":[{"text":"distinct prompt ' .. id .. '-' .. counter .. '"}]}],'
    .. '"generationConfig":{"responseModalities":["IMAGE"],"imageConfig":{"imageSize":"1K"}}}'
  return wrk.format("POST", nil, {["Content-Type"]="application/json", ["x-goog-api-key"]="bench-key"}, body)
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def start(command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            start_new_session=True)


def stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)


def wrk(url: str, script: str, duration: int, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    done = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", handle.name, url],
                          capture_output=True, text=True, check=True)
    os.unlink(handle.name)
    out = done.stdout

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rate, "p50_ms": latency("50"), "p99_ms": latency("99"),
            "non_2xx": float(errors.group(1)) if errors else 0.0}


def body_for(size: str) -> str:
    return json.dumps({"contents": [{"parts": [{"text": f"a benchmark poster at {size}"}]}],
                       "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"imageSize": size}}})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--payload", choices=["compact", "realistic"], default="realistic")
    parser.add_argument("--distinct-only", action="store_true", help="only the distinct-prompt rows (no baseline)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench needs wrk (apt-get install wrk)", file=sys.stderr)
        return 2
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    fake = start([sys.executable, "-m", "mock_server", "serve", "--port", str(port), "--log-level", "warning",
                  "--workers", str(args.workers), "--payload", args.payload])
    rows: list[tuple[str, dict[str, float], dict[str, float] | None]] = []
    try:
        wait_until_up(f"{base}/v1beta/models?key=k", fake)
        bodies: dict[str, bytes] = {}
        for size in () if args.distinct_only else ("1K", "2K", "4K"):
            url = f"{base}/v1beta/models/{MODEL[size]}:generateContent"
            # Warm every worker's caches (the kernel spreads connections; fresh ones reach both).
            for _ in range(4 * args.workers):
                warm = httpx.post(url, content=body_for(size), headers={"x-goog-api-key": "k",
                                  "content-type": "application/json"}, timeout=120)
            bodies[size] = warm.content
            rows.append((f"{size} repeated", wrk(url, LUA_FIXED % body_for(size), args.duration, args.connections),
                         None))
        for fmt, model in DISTINCT.items():
            url = f"{base}/v1beta/models/{model}:generateContent"
            rows.append((f"1K distinct prompts, {fmt} ({model})", wrk(url, LUA_DISTINCT, args.duration,
                                                                      args.connections), None))
    finally:
        stop(fake)
    # The yardstick, one body size at a time, same worker count.
    for index, size in enumerate(bodies):
        with tempfile.NamedTemporaryFile(delete=False) as handle:
            handle.write(bodies[size])
        env = dict(os.environ, BASELINE_BODY_FILE=handle.name, PYTHONPATH=str(HERE))
        port = free_port()
        baseline = start([sys.executable, "-m", "uvicorn", "baseline_app:app", "--port", str(port),
                          "--workers", str(args.workers), "--log-level", "warning", "--no-access-log"], env)
        try:
            wait_until_up(f"http://127.0.0.1:{port}/", baseline)
            measured = wrk(f"http://127.0.0.1:{port}/x", LUA_FIXED % body_for(size), args.duration, args.connections)
            rows[index] = (rows[index][0], rows[index][1], measured)
        finally:
            stop(baseline)
            os.unlink(handle.name)
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"command: python bench/bench_server.py --duration {args.duration} --connections {args.connections} "
          f"--workers {args.workers} --payload {args.payload}")
    print("body sizes: " + ", ".join(f"{size} {len(body) / 1e6:.2f} MB" for size, body in bodies.items()))
    print()
    print("| case | fake req/s | fake p50 ms | fake p99 ms | precomputed req/s | ratio |")
    print("|---|---|---|---|---|---|")
    for name, fake_row, base_row in rows:
        ratio = f"{fake_row['rps'] / base_row['rps']:.0%}" if base_row else "-"
        base_rps = f"{base_row['rps']:.0f}" if base_row else "-"
        bad = f" ({fake_row['non_2xx']:.0f} non-2xx!)" if fake_row["non_2xx"] else ""
        print(f"| {name} | {fake_row['rps']:.0f}{bad} | {fake_row['p50_ms']:.1f} | {fake_row['p99_ms']:.1f} | "
              f"{base_rps} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
