"""``gemini-contract`` end to end over loopback: exit codes, reports, and a canary key that never leaks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract_tests.checks import CHECKS
from contract_tests.cli import main
from mock_server.settings import Settings
from mock_server.testing import RunningServer, free_port, serve_in_thread

CANARY = "canary-AIzaSy-9c1d2e3f4a5b"


@pytest.fixture(scope="module")
def fake() -> Iterator[RunningServer]:
    with serve_in_thread(Settings(api_keys=(CANARY,))) as server:
        yield server


@pytest.fixture(scope="module")
def broken() -> Iterator[RunningServer]:
    with serve_in_thread(Settings(api_keys=(CANARY,), defect="usage_mismatch")) as server:
        yield server


def everything_written(tmp_path: Path, captured: pytest.CaptureFixture[str]) -> str:
    out = captured.readouterr()
    files = [p.read_text("utf-8", "replace") for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".png"]
    return "\n".join([out.out, out.err, *files])


def test_run_passes_against_the_fake_and_writes_reports(fake: RunningServer, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--base-url", fake.base_url, "--api-key", CANARY, "--max-examples", "3", "--seed", "3",
                 "--report-dir", str(tmp_path / "report"), "--junit-xml", str(tmp_path / "junit.xml")])
    assert code == 0
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["target"] == fake.base_url
    # The relay checks need --upstream-fake; vertex_flavour judges only --api-flavour vertex runs.
    assert {c["id"]: c["status"] for c in report["checks"]} == {
        check_id: "skipped" if check_id.startswith("relay_") or check_id == "vertex_flavour" else "passed"
        for check_id in CHECKS}
    assert report["requests"] > 10 and report["estimated_cost_usd"] > 0
    html = (tmp_path / "report" / "report.html").read_text()
    assert html.count("<img src='thumbs/") >= 3
    assert list((tmp_path / "report" / "thumbs").glob("*.png"))
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert suite.get("tests") == str(len(CHECKS)) and suite.get("failures") == "0"
    assert CANARY not in everything_written(tmp_path, capsys)


def test_run_fails_with_exit_1_and_never_prints_the_key(broken: RunningServer, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    for auth in ("header", "query", "bearer"):
        code = main(["run", "--base-url", broken.base_url, "--api-key", CANARY, "--auth", auth,
                     "--max-examples", "1", "--report-dir", str(tmp_path / auth)])
        assert code == 1
        report = json.loads((tmp_path / auth / "report.json").read_text())
        failed = [c for c in report["checks"] if c["status"] == "failed"]
        assert [c["id"] for c in failed] == ["usage_arithmetic"]
        reproducer = failed[0]["failures"][0]["reproducer"]
        assert "$GEMINI_API_KEY" in reproducer
        junit = ET.parse(tmp_path / auth / "junit.xml").getroot()
        assert junit.get("failures") == "1"
    assert CANARY not in everything_written(tmp_path, capsys)


def test_key_from_environment(fake: RunningServer, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", CANARY)
    assert main(["run", "--base-url", fake.base_url, "--checks", "models_endpoint,auth_styles", "--quiet"]) == 0
    out = capsys.readouterr()
    assert "2 passed" in out.out and CANARY not in out.out + out.err


def test_usage_errors_and_unreachable_target_exit_2(capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    closed = f"http://127.0.0.1:{free_port()}"
    assert main(["run", "--base-url", closed, "--api-key", CANARY, "--quiet"]) == 2
    assert "unreachable" in capsys.readouterr().err
    assert main(["run", "--base-url", closed, "--api-key", CANARY, "--checks", "no_such_check"]) == 2
    assert main(["run", "--base-url", closed, "--api-key", CANARY, "--model", "gemini-9-ultra"]) == 2
    assert main(["run", "--base-url", closed]) == 2  # no key
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--base-url", closed, "--rate-limit", "fast"])
    assert exit_info.value.code == 2
    assert CANARY not in capsys.readouterr().err


def test_plan_sends_nothing_and_applies_remote_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--base-url", "https://relay.example.invalid", "--model", "gemini-3-pro-image-preview"]) == 0
    out = capsys.readouterr().out
    assert "worst case:" in out and "--budget-usd 1.0" in out and "--rate-limit 10/min" in out
    assert main(["plan", "--base-url", "http://127.0.0.1:9", "--price", "gemini-2.5-flash-image:1K=1.5",
                 "--model", "gemini-2.5-flash-image", "--max-examples", "2"]) == 0
    out = capsys.readouterr().out
    assert "remote" not in out and "$1.500" in out


def test_checks_lists_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checks"]) == 0
    out = capsys.readouterr().out
    assert all(check_id in out for check_id in CHECKS)


def test_python_dash_m_is_the_same_cli() -> None:
    env = {**os.environ, "GEMINI_API_KEY": ""}
    done = subprocess.run([sys.executable, "-m", "contract_tests", "plan", "--base-url", "http://127.0.0.1:9"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0 and "worst case:" in done.stdout


def test_open_fake_passes_with_no_wrong_key_probe_and_fails_with_a_hint_without_it(tmp_path) -> None:
    import json

    from contract_tests.cli import main
    from mock_server.settings import Settings
    from mock_server.testing import serve_in_thread

    with serve_in_thread(Settings(port=0)) as server:  # accepts any key
        common = ["run", "--base-url", server.base_url, "--api-key", "any-key-at-all", "--checks", "error_envelope",
                  "--max-examples", "1", "--model", "gemini-3.1-flash-image-preview"]
        assert main([*common, "--no-wrong-key-probe"]) == 0
        assert main([*common, "--report-dir", str(tmp_path)]) == 1
    report = json.loads((tmp_path / "report.json").read_text())
    (check,) = report["checks"]
    assert any("--no-wrong-key-probe" in json.dumps(failure) for failure in check["failures"])
