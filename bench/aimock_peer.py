"""The peer: aimock (``@copilotkit/aimock`` from npm, pinned), a Node mock that also speaks Gemini REST.

Installed into a bench-local prefix (``bench/.peers``, git-ignored); each case gets a fixture whose
answer has the size of the fake's answer (text of that length, or an error with the same status),
matched by the case's prompt. Where npm is missing or the install fails, the peer is skipped.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

__all__ = ["AIMOCK_VERSION", "aimock_command", "write_fixtures"]

AIMOCK_VERSION = "1.43.0"
PREFIX = Path(__file__).resolve().parent / ".peers"


def aimock_command(port: int, fixtures: Path) -> tuple[list[str] | None, str]:
    """The command that starts aimock on ``port``, or None and why not."""
    cli = PREFIX / "node_modules" / "@copilotkit" / "aimock" / "dist" / "cli.js"
    if not cli.exists():
        if shutil.which("npm") is None or shutil.which("node") is None:
            return None, "npm/node missing: aimock skipped"
        done = subprocess.run(["npm", "install", "--prefix", str(PREFIX), "--no-audit", "--no-fund", "--silent",
                               f"@copilotkit/aimock@{AIMOCK_VERSION}"], capture_output=True, text=True, timeout=300)
        if done.returncode != 0 or not cli.exists():
            return None, f"npm install @copilotkit/aimock@{AIMOCK_VERSION} failed: aimock skipped"
    command = ["node", str(cli), "--port", str(port), "--fixtures", str(fixtures), "--log-level", "silent"]
    return command, f"aimock {AIMOCK_VERSION} (node {_node_version()})"


def _node_version() -> str:
    return subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()


def write_fixtures(path: Path, cases: dict[str, tuple[str, bytes, int]]) -> None:
    """One fixture per case: ``prompt -> (fake's body, fake's status)``, answered at the same size."""
    fixtures = []
    for prompt, body, status in cases.values():
        if status == 200:
            # aimock wraps the text in its own envelope; pad so the whole answer matches the fake's size.
            overhead = len(b'{"candidates":[{"content":{"role":"model","parts":[{"text":""}]},"finishReason":"STOP",'
                           b'"index":0}],"usageMetadata":{"promptTokenCount":0,"candidatesTokenCount":0,'
                           b'"totalTokenCount":0}}')
            response: dict[str, object] = {"content": "x" * max(1, len(body) - overhead)}
        else:
            error = json.loads(body)["error"]
            response = {"error": {"message": error["message"], "type": error["status"]}, "status": status}
        fixtures.append({"match": {"userMessage": prompt}, "response": response})
    path.write_text(json.dumps({"fixtures": fixtures}))
