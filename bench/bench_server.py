"""The fake against the ceiling and a real peer, over loopback with wrk, interleaved in rounds.

Three servers run side by side, each on one worker: the fake as users run it (``gemini-mock serve``),
the ceiling (the same uvicorn + Starlette answering the fake's own bytes, precomputed:
``baseline_app.py``) and aimock (``aimock_peer.py``; skipped where npm is missing). Every round drives
each case against each server in turn, so load from other processes hits all of them alike; the
table gives medians over rounds, the ratios, and each server's CPU time per request (from /proc,
less sensitive to a busy machine than req/s).

    python bench/bench_server.py [--duration 5] [--rounds 2] [--threads 2] [--connections 8] [--payload realistic]
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
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from aimock_peer import aimock_command, write_fixtures

HERE = Path(__file__).resolve().parent
TEXT, IMAGE, IMAGE_4K = "gemini-2.5-flash-image", "gemini-2.5-flash-image", "gemini-3.1-flash-image-preview"
JPEG_MODEL = "gemini-3.1-flash-image"
# The ceiling runs under the uvicorn options the fake is served with (mock_server/web/serving.py), so
# the ratio compares the apps alone.
SAME_UVICORN_OPTIONS = ["--no-access-log", "--no-proxy-headers", "--no-server-header",
                        "--header", "server:scaffolding on HTTPServer2"]


@dataclass(frozen=True)
class Case:
    name: str
    model: str
    prompt: str
    config: dict[str, object]
    status: int = 200
    distinct: bool = False  # a new prompt per request: nothing cached, no precomputed equivalent
    action: str = "generateContent"
    peer: bool = True  # aimock answers it (it has no countTokens)

    def body(self, prompt: str | None = None) -> str:
        contents = [{"role": "user", "parts": [{"text": prompt or self.prompt}]}]
        if self.action == "countTokens":
            return json.dumps({"contents": contents})
        return json.dumps({"contents": contents, "generationConfig": self.config})

    @property
    def path(self) -> str:
        return f"/v1beta/models/{self.model}:{self.action}"


CASES = [
    Case("text only", TEXT, "bench text", {"responseModalities": ["TEXT"]}),
    Case("1K image repeated", IMAGE, "bench image", {"responseModalities": ["IMAGE"]}),
    Case("400 bad ratio", IMAGE, "bench error", {"imageConfig": {"aspectRatio": "7:3"}}, status=400),
    Case("429 scripted", IMAGE, "[mock:rate_limited] bench quota", {}, status=429),
    Case("countTokens", IMAGE, "bench count", {}, action="countTokens", peer=False),
    Case("1K distinct prompts", IMAGE, "", {"responseModalities": ["IMAGE"]}, distinct=True),
    # Each model answers in its own format (catalogue): 2.5 RGB PNG above, 3.1 Flash baseline JPEG here.
    Case("1K distinct prompts JPEG", JPEG_MODEL, "", {"responseModalities": ["IMAGE"]}, distinct=True),
    Case("4K distinct prompts", IMAGE_4K, "", {"responseModalities": ["IMAGE"], "imageConfig": {"imageSize": "4K"}},
         distinct=True),
]
LUA_FIXED = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-goog-api-key"] = "bench-key"
wrk.body = [==[%s]==]
"""
LUA_DISTINCT_TEMPLATE = """
local counter = 0
local id = 0
setup = function(thread) thread:set("id", id); id = id + 1 end
request = function()
  counter = counter + 1
  local body = [==[%s]==]
  body = body:gsub("PROMPT", "distinct prompt " .. id .. "-" .. counter)
  return wrk.format("POST", nil, {["Content-Type"]="application/json", ["x-goog-api-key"]="bench-key"}, body)
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            start_new_session=True)


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


def started(command: list[str], probe: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    process = start(command, env)
    wait_until_up(probe, process)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, script: str, duration: int, connections: int, threads: int = 1,
        pid: int | None = None) -> dict[str, float]:
    """Requests/s, p50/p99 latency and, given the server's ``pid``, its CPU µs per request."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    before = cpu_seconds(pid) if pid else 0.0
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
                          "-s", handle.name, url], capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(pid) - before if pid else 0.0
    os.unlink(handle.name)

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
        return float(match.group(1)) * scale[match.group(2)] if match else float("nan")

    count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            "p50_ms": latency("50"), "p99_ms": latency("99"), "cpu_us": cpu / max(count, 1) * 1e6,
            "non_2xx": float(errors.group(1)) if errors else 0.0}


def body_for(size: str) -> str:
    """One image at ``size`` on ``MODEL[size]`` (the case ``bench_scaling.py`` drives)."""
    return json.dumps({"contents": [{"parts": [{"text": f"a benchmark poster at {size}"}]}],
                       "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"imageSize": size}}})


MODEL = {"1K": IMAGE_4K, "2K": IMAGE_4K, "4K": IMAGE_4K}
LUA_DISTINCT = LUA_DISTINCT_TEMPLATE % body_for("1K").replace("a benchmark poster at 1K", "PROMPT")


def script_for(case: Case) -> str:
    if case.distinct:
        return LUA_DISTINCT_TEMPLATE % case.body("PROMPT")
    return LUA_FIXED % case.body()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--payload", choices=["compact", "realistic"], default="realistic")
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    parser.add_argument("--no-peer", action="store_true", help="skip aimock")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench needs wrk (apt-get install wrk)", file=sys.stderr)
        return 2
    cases = [case for case in CASES if not args.cases or case.name in args.cases.split(",")]
    work = Path(tempfile.mkdtemp(prefix="gemini-bench-"))
    servers: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    notes: list[str] = []
    try:
        port = free_port()
        fake_url = f"http://127.0.0.1:{port}"
        servers["fake"] = (started([sys.executable, "-m", "mock_server", "serve", "--port", str(port), "--log-level",
                                    "warning", "--payload", args.payload], f"{fake_url}/v1beta/models?key=k"),
                           fake_url)
        answers: dict[str, tuple[str, bytes, int]] = {}
        for case in cases:
            url = fake_url + case.path
            for _ in range(3):  # warm: first render, caches
                answer = httpx.post(url, content=case.body(case.prompt or "warm"), timeout=300,
                                    headers={"x-goog-api-key": "k", "content-type": "application/json"})
            assert answer.status_code == case.status, (case.name, answer.status_code, answer.text[:300])
            if not case.distinct:
                if case.peer:
                    answers[case.name] = (case.prompt, answer.content, case.status)
                slug = _slug(case.name)
                (work / f"{slug}.body").write_bytes(answer.content)
                (work / f"{slug}.status").write_text(str(case.status))
        port = free_port()
        env = dict(os.environ, BASELINE_DIR=str(work), PYTHONPATH=str(HERE))
        ceiling = [sys.executable, "-m", "uvicorn", "baseline_app:app", "--port", str(port), "--log-level", "warning"]
        servers["ceiling"] = (started(ceiling + SAME_UVICORN_OPTIONS, f"http://127.0.0.1:{port}/", env),
                              f"http://127.0.0.1:{port}")
        if not args.no_peer:
            port = free_port()
            write_fixtures(work / "aimock.json", answers)
            command, note = aimock_command(port, work / "aimock.json")
            notes.append(note)
            if command is not None:
                servers["aimock"] = (started(command, f"http://127.0.0.1:{port}/health"), f"http://127.0.0.1:{port}")
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        for round_index in range(args.rounds):
            for case in cases:
                names = [name for name in servers
                         if name == "fake" or (not case.distinct and (case.peer or name != "aimock"))]
                shift = round_index % len(names)
                for name in names[shift:] + names[:shift]:
                    process, base = servers[name]
                    path = f"/{_slug(case.name)}" if name == "ceiling" else case.path
                    measured = wrk(base + path, script_for(case), args.duration, args.connections, args.threads,
                                   process.pid)
                    results.setdefault((case.name, name), []).append(measured)
    finally:
        for process, _ in servers.values():
            stop(process)
        shutil.rmtree(work, ignore_errors=True)
    _print_table(args, cases, results, notes)
    return 0


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _print_table(args: argparse.Namespace, cases: list[Case], results: dict[tuple[str, str], list[dict[str, float]]],
                 notes: list[str]) -> None:
    def median(case: str, server: str, key: str) -> float | None:
        rows = results.get((case, server))
        return statistics.median(row[key] for row in rows) if rows else None

    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.platform()}, nproc {os.cpu_count()}, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; Python {platform.python_version()}")
    print(f"command: python bench/bench_server.py --duration {args.duration} --rounds {args.rounds} --threads "
          f"{args.threads} --connections {args.connections} --payload {args.payload}")
    for note in notes:
        print(f"peer: {note}")
    print()
    print("| case | fake req/s | fake CPU µs/req | ceiling req/s | ceiling CPU µs/req | fake/ceiling | "
          "aimock req/s | fake/aimock |")
    print("|---|---|---|---|---|---|---|---|")
    for case in cases:
        cells = [case.name]
        fake, ceiling, peer = (median(case.name, server, "rps") for server in ("fake", "ceiling", "aimock"))
        bad = sum(row["non_2xx"] for row in results[(case.name, "fake")]) if case.status == 200 else 0
        cells += [f"{fake:.0f}" + (f" ({bad:.0f} non-2xx!)" if bad else ""),
                  f"{median(case.name, 'fake', 'cpu_us'):.0f}"]
        cells += [f"{ceiling:.0f}", f"{median(case.name, 'ceiling', 'cpu_us'):.0f}"] if ceiling else ["-", "-"]
        cells.append(f"{fake / ceiling:.2f}×" if fake and ceiling else "-")
        cells += [f"{peer:.0f}", f"{fake / peer:.2f}×"] if fake and peer else ["-", "-"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
