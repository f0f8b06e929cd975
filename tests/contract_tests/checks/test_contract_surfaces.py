"""The contract suite on the other doors: --api-flavour vertex, and the Batch API checks
(on for loopback targets, off for remote ones), each shown passing on the fake and failing on a defect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contract_tests.checks import CHECKS, CheckContext
from contract_tests.cli import build_parser, config_from_args
from contract_tests.config import RunConfig
from contract_tests.execution.batch import batch_case
from contract_tests.execution.budget import Pricing
from contract_tests.execution.runner import plan
from contract_tests.execution.target import url_path
from contract_tests.generation.cases import Case, Exchange, Expectation
from contract_tests.reporting.results import RunResult
from mock_server.settings import Settings
from mock_server.testing import serve_in_thread
from schemas import load_profile_book
from tests.contract_tests.checks.test_contract_defects import KEY, run_in_process, statuses
from tests.contract_tests.test_contract_pytest_plugin import CANARY, pytest_run

BATCH_CHECKS = {"batch_operation_shape", "batch_lifecycle", "batch_results", "batch_results_file"}


def run_on_fake(defect: str | None = None, **config: object) -> RunResult:
    return run_in_process(defect, max_examples=1, **config)


@pytest.mark.parametrize("project", [None, "proj-7"])
def test_the_fake_passes_the_vertex_flavour(project: str | None) -> None:
    result = run_on_fake(api_flavour="vertex", vertex_project=project)
    # No Gemini ListModels or Batch API on Vertex: nothing to judge (nor for the relay checks without
    # --upstream-fake). The Interactions checks run on Vertex's Interactions paths (test_vertex_interactions.py).
    skipped = {"models_endpoint", *BATCH_CHECKS, *(check for check in CHECKS if check.startswith("relay_"))}
    assert statuses(result) == {check_id: "skipped" if check_id in skipped else "passed" for check_id in CHECKS}
    paths = {exchange.url.split("?")[0].split("127.0.0.1:1")[1] for exchange in result.exchanges}
    scope = f"projects/{project}/locations/us-central1/" if project else ""
    assert any(path.startswith(f"/v1beta1/{scope}publishers/google/models/") for path in paths)
    assert result.config["api_version"] == "v1beta1"


def test_vertex_defect_fails_only_the_vertex_flavour() -> None:
    result = run_on_fake("vertex_candidate_index", api_flavour="vertex")
    failed = {check_id for check_id, status in statuses(result).items() if status == "failed"}
    assert failed == {"vertex_flavour"}
    messages = {record.failure.message for check in result.checks for record in check.failures}
    assert "Vertex candidates carry no index" in messages


def test_batch_checks_are_on_for_loopback_and_off_for_remote() -> None:
    assert RunConfig(base_url="http://127.0.0.1:8000").resolved().batch is True
    assert RunConfig(base_url="https://generativelanguage.googleapis.com").resolved().batch is False
    assert RunConfig(base_url="https://relay.example.com", batch=True).resolved().batch is True
    assert RunConfig(base_url="http://127.0.0.1:8000", api_flavour="vertex").resolved().batch is False
    args = build_parser().parse_args(["run", "--base-url", "https://relay.example.com", "--batch",
                                      "--api-flavour", "vertex", "--vertex-project", "p"])
    config = config_from_args(args, environ={})
    assert (config.batch, config.api_flavour, config.vertex_project) == (True, "vertex", "p")


def test_batch_plan_line_costs_half() -> None:
    model = next(iter(load_profile_book().ids()))
    config = RunConfig(base_url="http://127.0.0.1:8000", models=(model,), checks=("batch_results",))
    lines = {line.scenario: line for line in plan(config).lines}
    line = lines["batch job (create, polls, list, delete)"]
    pricing = Pricing()
    size = batch_case(config.resolved(), pricing).expect.image_size or ""
    assert line.images == 2
    assert pricing.per_batch_image(model, size) == pytest.approx(pricing.per_image(model, size) / 2)
    assert line.cost_usd == pytest.approx(2 * pricing.per_batch_image(model, size))
    remote = RunConfig(base_url="https://relay.example.com", models=(model,), checks=("batch_results",))
    assert "batch job (create, polls, list, delete)" not in {line.scenario for line in plan(remote).lines}


def test_the_fake_passes_the_batch_checks_and_the_job_is_followed_to_its_end() -> None:
    result = run_on_fake(checks=tuple(sorted(BATCH_CHECKS)))
    assert statuses(result) == dict.fromkeys(BATCH_CHECKS, "passed")
    inline = [e.case.expect.batch_step for e in result.exchanges
              if e.case.purpose == "batch" and e.case.expect.batch_input == "inline"]
    assert inline[0] == "create" and inline[-4:] == ["final", "list", "delete", "gone"]
    from_file = [e.case.expect.batch_step for e in result.exchanges if e.case.expect.batch_input == "file"]
    assert from_file[:3] == ["upload", "uploaded", "create"]
    assert from_file[-4:] == ["final", "results", "delete", "gone"]


def _exchange(step: str, status: int, body: object) -> Exchange:
    case = Case(purpose="batch", label=f"batch {step}", model="m", expect=Expectation(batch_step=step,
                                                                                       batch_name="batches/x"))
    return Exchange(index=0, case=case, url="", request_headers={}, request_body=None, status=status,
                    body=json.dumps(body).encode())


def test_batch_lifecycle_fails_on_a_job_that_survives_deletion_or_never_succeeds() -> None:
    context = CheckContext(RunConfig(base_url="http://127.0.0.1:1"))
    lifecycle = CHECKS["batch_lifecycle"]
    assert lifecycle.run(_exchange("gone", 200, {"name": "batches/x"}), context)
    failed = lifecycle.run(_exchange("final", 200, {"metadata": {"state": "BATCH_STATE_FAILED"}}), context)
    assert failed and failed[0].actual == "BATCH_STATE_FAILED"
    assert not lifecycle.run(_exchange("gone", 404, {"error": {}}), context)
    assert lifecycle.run(_exchange("list", 200, {"operations": [{"name": "batches/other"}]}), context)


def test_reproducers_use_the_surface_path() -> None:
    config = RunConfig(base_url="http://127.0.0.1:1", api_flavour="vertex", vertex_project="p").resolved()
    case = Case(purpose="generate", label="x", model="gemini-2.5-flash-image")
    assert url_path(config, case) == \
        "/v1beta1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash-image:generateContent"
    result = run_on_fake("vertex_candidate_index", api_flavour="vertex")
    reproducer = next(record.reproducer for check in result.checks for record in check.failures)
    assert "/publishers/google/models/" in reproducer and KEY not in reproducer


def test_pytest_plugin_runs_the_vertex_flavour(tmp_path: Path) -> None:
    with serve_in_thread(Settings(api_keys=(CANARY,))) as server:
        done = pytest_run("--pyargs", "contract_tests", "--base-url", server.base_url, "--gemini-max-examples", "1",
                          "--gemini-api-flavour", "vertex", "-vv", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "test_contract[vertex_flavour] PASSED" in done.stdout
    assert CANARY not in done.stdout + done.stderr
