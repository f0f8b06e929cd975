"""What sharing state costs (issue 13): the fake with one worker (memory), two workers (SQLite) and
two replicas on one Redis, each beside the same topology without sharing and the ceiling (uvicorn
serving a precomputed body of the same size), all in one run.

    python bench/bench_scaling.py [--duration 5] [--connections 16] [--payload realistic|compact] [--rounds 3]

Two replicas are driven by two wrk processes (half the connections each) and their rates added,
as a load balancer in front of them would spread the load.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from bench_server import (
    LUA_DISTINCT,
    LUA_FIXED,
    MODEL,
    SAME_UVICORN_OPTIONS,
    body_for,
    free_port,
    start,
    stop,
    wait_until_up,
    wrk,
)

HERE = Path(__file__).resolve().parent
Row = dict[str, float]


def drive(urls: list[str], script: str, duration: int, connections: int) -> Row:
    """wrk against every URL at once, connections split between them; rates added."""
    with ThreadPoolExecutor(len(urls)) as pool:
        rows = list(pool.map(lambda url: wrk(url, script, duration, connections // len(urls)), urls))
    return {"rps": sum(row["rps"] for row in rows), "p50_ms": max(row["p50_ms"] for row in rows),
            "p99_ms": max(row["p99_ms"] for row in rows), "non_2xx": sum(row["non_2xx"] for row in rows)}


def fake(args: argparse.Namespace, workers: int, replicas: int, state: str | None) -> tuple[Row, Row, bytes]:
    ports = [free_port() for _ in range(replicas)]
    extra = ["--state", state] if state else []
    processes = [start([sys.executable, "-m", "mock_server", "serve", "--port", str(port), "--log-level", "warning",
                        "--workers", str(workers), "--payload", args.payload, *extra]) for port in ports]
    urls = [f"http://127.0.0.1:{port}/v1beta/models/{MODEL['1K']}:generateContent" for port in ports]
    try:
        for port, process in zip(ports, processes, strict=True):
            wait_until_up(f"http://127.0.0.1:{port}/v1beta/models?key=k", process)
        for url in urls:  # warm every worker's caches: fresh connections reach each of them
            for _ in range(4 * workers):
                body = httpx.post(url, content=body_for("1K"), headers={"x-goog-api-key": "k"}, timeout=120).content
        repeated = drive(urls, LUA_FIXED % body_for("1K"), args.duration, args.connections)
        distinct = drive(urls, LUA_DISTINCT, args.duration, args.connections)
    finally:
        for process in processes:
            stop(process)
    return repeated, distinct, body


def ceiling(args: argparse.Namespace, workers: int, replicas: int, body: bytes) -> Row:
    with tempfile.NamedTemporaryFile(delete=False) as handle:
        handle.write(body)
    env = dict(os.environ, BASELINE_BODY_FILE=handle.name, PYTHONPATH=str(HERE))
    ports = [free_port() for _ in range(replicas)]
    processes = [start([sys.executable, "-m", "uvicorn", "baseline_app:app", "--port", str(port), "--workers",
                        str(workers), "--log-level", "warning", *SAME_UVICORN_OPTIONS], env) for port in ports]
    try:
        for port, process in zip(ports, processes, strict=True):
            wait_until_up(f"http://127.0.0.1:{port}/", process)
        return drive([f"http://127.0.0.1:{port}/x" for port in ports], LUA_FIXED % body_for("1K"), args.duration,
                     args.connections)
    finally:
        for process in processes:
            stop(process)
        os.unlink(handle.name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--payload", choices=["compact", "realistic"], default="realistic")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    missing = [tool for tool in ("wrk", "redis-server") if shutil.which(tool) is None]
    if missing:
        print(f"bench needs {' and '.join(missing)} (apt-get install {' '.join(missing)})", file=sys.stderr)
        return 2
    redis_port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no"], stdout=subprocess.DEVNULL, start_new_session=True)
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    setups = [  # (name, workers, replicas, state); a shared setup follows its unshared twin
        ("1 worker, memory", 1, 1, None),
        ("2 workers, per-process memory (not shared)", 2, 1, "memory"),
        ("2 workers, SQLite (shared)", 2, 1, None),
        ("2 replicas, per-process memory (not shared)", 1, 2, "memory"),
        ("2 replicas, Redis (shared)", 1, 2, redis_url),
    ]
    twins = {setups[2][0]: setups[1][0], setups[4][0]: setups[3][0]}
    load_before = os.getloadavg()
    runs: dict[str, list[tuple[Row, Row, Row]]] = {name: [] for name, *_ in setups}
    body = b""
    try:
        for _round in range(args.rounds):  # rounds interleave the setups; medians damp the drift
            for name, workers, replicas, state in setups:
                repeated, distinct, body = fake(args, workers, replicas, state)
                # The ceiling of the same topology right after: the machine is shared, load drifts.
                runs[name].append((repeated, distinct, ceiling(args, workers, replicas, body)))
    finally:
        os.killpg(redis.pid, 15)
        redis.wait(timeout=10)
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    print(f"command: python bench/bench_scaling.py --duration {args.duration} --connections {args.connections} "
          f"--payload {args.payload} --rounds {args.rounds}; 1K body {len(body) / 1e6:.2f} MB; medians of the rounds")
    print()
    print("| setup | 1K repeated req/s | p99 ms | ceiling req/s | ratio (range) | vs 1 worker | vs not shared "
          "| 1K distinct req/s |")
    print("|---|---|---|---|---|---|---|---|")
    def median(name: str, which: int, key: str = "rps") -> float:
        return statistics.median(run[which][key] for run in runs[name])

    single = median(setups[0][0], 0)
    for name, *_ in setups:
        repeated, top = median(name, 0), median(name, 2)
        bad = " (non-2xx!)" if any(run[0]["non_2xx"] or run[1]["non_2xx"] for run in runs[name]) else ""
        ratios = sorted(run[0]["rps"] / run[2]["rps"] for run in runs[name])
        versus_twin = f"{repeated / median(twins[name], 0):.0%}" if name in twins else "-"
        print(f"| {name} | {repeated:.0f}{bad} | {median(name, 0, 'p99_ms'):.1f} | {top:.0f} | "
              f"{statistics.median(ratios):.0%} ({ratios[0]:.0%}-{ratios[-1]:.0%}) | {repeated / single:.0%} | "
              f"{versus_twin} | {median(name, 1):.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
