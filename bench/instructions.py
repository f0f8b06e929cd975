"""Instructions per request, fake and ceiling, counted by valgrind (immune to a busy machine).

Runs ``hot_path.py`` under ``valgrind --tool=callgrind`` twice per case and app, with two request
counts; the difference divided by the difference in requests is the cost of one request, start-up
and warm-up cancelled out. Slow (about a minute per row), but the same figure on any load.

    python bench/instructions.py [--cases "text only,400 bad ratio"] [--payload realistic]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench_server import CASES

HERE = Path(__file__).resolve().parent
FEW, MANY = 100, 600


def instructions(case: str, requests: int, payload: str, ceiling: bool) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
               str(HERE / "hot_path.py"), "--requests", str(requests), "--case", case, "--payload", payload]
    done = subprocess.run(command + (["--ceiling"] if ceiling else []), capture_output=True, text=True, check=True)
    return int(re.search(r"Collected : (\d+)", done.stderr).group(1))  # type: ignore[union-attr]


def per_request(case: str, payload: str, ceiling: bool) -> float:
    with ThreadPoolExecutor(2) as pool:
        few, many = pool.map(lambda n: instructions(case, n, payload, ceiling), (FEW, MANY))
    return (many - few) / (MANY - FEW)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default="", help="comma-separated case names (default: the repeated ones)")
    parser.add_argument("--payload", choices=["compact", "realistic"], default="realistic")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("needs valgrind (apt-get install valgrind)", file=sys.stderr)
        return 2
    names = [case.name for case in CASES if not case.distinct and (not args.cases or case.name in args.cases)]
    print("| case | fake instructions/request | ceiling instructions/request | fake/ceiling |")
    print("|---|---|---|---|")
    for name in names:
        fake, ceiling = per_request(name, args.payload, False), per_request(name, args.payload, True)
        print(f"| {name} | {fake / 1000:.0f}k | {ceiling / 1000:.0f}k | {fake / ceiling:.2f}× |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
