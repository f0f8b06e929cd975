"""The official JS SDK (@google/genai) against the fake on a loopback port, where node is available."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mock_server.testing import RunningServer
from tests.support.paths import REPO

SCRIPTS = Path(__file__).resolve().parent / "js"
JS_DIR = REPO / ".venv" / "js"  # installed by `make test` (npm install @google/genai)


def installed_sdk() -> Path:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not (JS_DIR / "node_modules" / "@google" / "genai").exists():
        pytest.skip("@google/genai is not installed (make test installs it where npm is available)")
    return JS_DIR


def test_js_sdk_generates_streams_and_raises(live_server: RunningServer) -> None:
    js_dir = installed_sdk()
    script = js_dir / "sdk_check.mjs"
    shutil.copy(SCRIPTS / "sdk_check.mjs", script)  # resolve imports from js_dir/node_modules
    done = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, FAKE_BASE_URL=live_server.base_url))
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["size"] == [1024, 256] and seen["mime"] == "image/jpeg"  # 4:1 at 512 on 3.1 Flash, JPEG
    assert seen["signed"] is True and seen["text"] and seen["total"] > 0
    assert seen["error"]["status"] == 400 and "aspect_ratio must be one of" in seen["error"]["message"]
    assert any("inlineData" in kind for chunk in seen["streamed"] for kind in chunk)


def test_js_sdk_interactions(live_server: RunningServer) -> None:
    """``ai.interactions`` (SDK default /v1): one-shot JPEG, continuation, stream, error class."""
    js_dir = installed_sdk()
    script = js_dir / "interactions_check.mjs"
    shutil.copy(SCRIPTS / "interactions_check.mjs", script)
    done = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, FAKE_BASE_URL=live_server.base_url))
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert (seen["status"], seen["steps"], seen["jpeg"], seen["continued"]) == (
        "completed", ["thought", "model_output"], True, "completed")
    assert seen["total"] > 1120
    assert seen["streamed"][:2] == ["interaction.created", "interaction.status_update"]
    assert seen["streamed"].count("step.delta:image") == 1 and seen["streamed"][-1] == "interaction.completed"
    assert seen["error"]["name"] == "BadRequestError" and seen["error"]["status"] == 400
