"""The pytest plugin: the ``gemini_mock`` fixture for users, and ``pytest --pyargs contract_tests``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from contract_tests.checks import CHECKS
from mock_server.settings import Settings
from mock_server.testing import serve_in_thread
from mock_server.testing.pytest_plugin import GeminiMock

CANARY = "canary-plugin-5e5e5e"
USER_TEST = '''
import httpx

def test_generates_an_image(gemini_mock):
    assert gemini_mock.base_url.startswith("http://127.0.0.1:")
    response = gemini_mock.client.models.generate_content(
        model="gemini-2.5-flash-image", contents="a red bicycle")
    parts = response.candidates[0].content.parts
    assert any(part.inline_data and part.inline_data.data for part in parts)

def test_plain_http(gemini_mock):
    response = httpx.get(gemini_mock.url("models"), headers={"x-goog-api-key": gemini_mock.api_key})
    assert response.status_code == 200
'''


def pytest_run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GEMINI_API_KEY": CANARY}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def test_gemini_mock_fixture_gives_a_running_fake_and_a_client(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TEST)
    done = pytest_run("test_user.py", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_pytest_pyargs_runs_the_checks_and_fails_on_a_defect(tmp_path: Path) -> None:
    with serve_in_thread(Settings(api_keys=(CANARY,))) as good:
        done = pytest_run("--pyargs", "contract_tests", "--base-url", good.base_url,
                          "--gemini-max-examples", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:]
    assert f"{len(CHECKS) - 4} passed, 4 skipped" in done.stdout  # relay checks need --upstream-fake; vertex_flavour
    with serve_in_thread(Settings(api_keys=(CANARY,), defect="wrong_model_version")) as bad:
        done = pytest_run("--pyargs", "contract_tests", "--base-url", bad.base_url,
                          "--gemini-max-examples", "1", cwd=tmp_path)
    assert done.returncode == 1
    assert "FAILED" in done.stdout and "test_contract[model_identity]" in done.stdout
    assert f"1 failed, {len(CHECKS) - 5} passed, 4 skipped" in done.stdout
    assert CANARY not in done.stdout + done.stderr


def test_pyargs_without_base_url_skips(tmp_path: Path) -> None:
    done = pytest_run("--pyargs", "contract_tests", cwd=tmp_path)
    assert done.returncode == 0 and "skipped" in done.stdout


def test_gemini_mock_object_is_small_and_extensible() -> None:
    with serve_in_thread(Settings(api_keys=(CANARY,))) as server:
        mock = GeminiMock(server, api_key=CANARY)
        assert mock.url("/models") == f"{server.base_url}/v1beta/models"
        assert mock.settings.api_keys == (CANARY,)
        assert mock.client is mock.client  # one client per fixture instance
