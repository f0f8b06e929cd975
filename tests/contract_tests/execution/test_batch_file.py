"""The batch step's file input: a JSONL file uploaded through the Files API, the job created from it, its
results file downloaded and judged line by line; on by the inline job's rule and counted in the budget."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import replace

import pytest
from PIL import Image

from contract_tests.checks import CHECKS, CheckContext
from contract_tests.config import RunConfig
from contract_tests.execution.batch import batch_case
from contract_tests.execution.batch_file import file_batch_case
from contract_tests.execution.budget import Pricing
from contract_tests.execution.runner import plan
from contract_tests.generation.cases import Exchange
from schemas import load_profile_book
from tests.contract_tests.checks.test_contract_defects import run_in_process, statuses

MODEL = "gemini-2.5-flash-image"
FILE_LINE = "batch job from a JSONL file (upload, create, polls, download, delete)"
CONTEXT = CheckContext(RunConfig(base_url="http://127.0.0.1:1"))


def batch_only(**config: object) -> dict[str, object]:
    return {"models": (MODEL,), "max_examples": 0, "parity_versions": (),
            "checks": ("batch_operation_shape", "batch_lifecycle", "batch_results", "batch_results_file"), **config}


def test_the_fake_passes_and_the_file_is_googles_jsonl() -> None:
    result = run_in_process(None, **batch_only())
    assert set(statuses(result).values()) == {"passed"}
    by_step = {e.case.expect.batch_step: e for e in result.exchanges if e.case.expect.batch_input == "file"}
    lines = [json.loads(line) for line in (by_step["uploaded"].request_body or b"").decode().splitlines()]
    assert [line["key"] for line in lines] == ["item-0", "item-1", "item-2"]
    assert all(set(line) == {"key", "request"} and "contents" in line["request"] for line in lines)
    created = json.loads(by_step["create"].request_body or b"{}")
    assert created["batch"]["input_config"]["file_name"].startswith("files/")
    download = by_step["results"]
    assert download.url.split("127.0.0.1:1")[1].startswith("/download/v1beta/files/")
    assert download.url.endswith(":download?alt=media")
    assert len(download.body.decode().splitlines()) == 3


def test_both_jobs_are_planned_and_counted_in_the_budget() -> None:
    config = RunConfig(base_url="http://127.0.0.1:8000", **batch_only())  # type: ignore[arg-type]
    lines = {line.scenario: line for line in plan(config).lines}
    pricing = Pricing()
    size = batch_case(config.resolved(), pricing).expect.image_size or ""
    assert lines[FILE_LINE].images == 2
    assert lines[FILE_LINE].cost_usd == pytest.approx(2 * pricing.per_batch_image(MODEL, size))
    one_job = lines[FILE_LINE].cost_usd
    result = run_in_process(None, **batch_only())
    assert result.estimated_cost_usd == pytest.approx(2 * one_job)
    # A budget for one job: the file job is refused before it is created, and the run says why.
    stopped = run_in_process(None, **batch_only(budget_usd=one_job * 1.5))
    assert stopped.stopped and "budget" in stopped.stopped
    assert not any(e.case.expect.batch_input == "file" and e.case.expect.batch_step == "create"
                   for e in stopped.exchanges)


def test_off_for_remote_targets_and_not_sent_in_sandwich_mode() -> None:
    remote = RunConfig(base_url="https://generativelanguage.googleapis.com", **batch_only())  # type: ignore[arg-type]
    assert FILE_LINE not in {line.scenario for line in plan(remote).lines}
    forced = replace(remote, batch=True)
    assert FILE_LINE in {line.scenario for line in plan(forced).lines}
    sandwich = RunConfig(base_url="http://127.0.0.1:8000", upstream_fake="http://127.0.0.1:8100", **batch_only())  # type: ignore[arg-type]
    scenarios = {line.scenario for line in plan(sandwich).lines}
    assert "batch job (create, polls, list, delete)" in scenarios and FILE_LINE not in scenarios


def test_a_broken_results_file_fails_only_its_check() -> None:
    result = run_in_process("batch_results_file_reordered", **batch_only())
    assert {c for c, s in statuses(result).items() if s == "failed"} == {"batch_results_file"}
    messages = {r.failure.message for r in result.by_id()["batch_results_file"].failures}
    assert messages == {"results file lines are incomplete or out of order"}


def _png(width: int, height: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _judge(step: str, status: int, body: bytes, headers: dict[str, str] | None = None) -> list[str]:
    config = RunConfig(base_url="http://127.0.0.1:1", models=(MODEL,)).resolved()
    inline = batch_case(config, Pricing())
    case = file_batch_case(inline, "files/abc")
    case = replace(case, expect=replace(case.expect, batch_step=step))
    exchange = Exchange(index=0, case=case, url="", request_headers={}, request_body=None, status=status,
                        body=body, headers=headers or {})
    return [failure.message for failure in CHECKS["batch_results_file"].run(exchange, CONTEXT)]


def _results(*lines: object) -> bytes:
    return b"\n".join(json.dumps(line).encode() for line in lines) + b"\n"


def test_results_file_lines_are_judged_one_by_one() -> None:
    profile = load_profile_book().get(MODEL)
    assert profile is not None
    config = RunConfig(base_url="http://127.0.0.1:1", models=(MODEL,)).resolved()
    items = batch_case(config, Pricing()).expect.batch_items
    good = [{"key": item.key, "response": {"candidates": [{"content": {"parts": [{"inlineData": {
        "mimeType": "image/png", "data": _png(*profile.dimensions(item.aspect_ratio, item.image_size))}}]}}]}}
        for item in items[:2]]
    refused = {"key": items[2].key, "error": {"code": 3, "message": "bad ratio"}}
    assert _judge("results", 200, _results(*good, refused)) == []
    assert _judge("results", 200, _results(*good, {"key": items[2].key, "error": {"code": 13, "message": "x"}})) \
        == ["a refused request is not a google.rpc.Status with code 3"]
    broken_image = {**good[0], "response": {"candidates": [{"content": {"parts": [{"inlineData": {
        "mimeType": "image/png", "data": "bm90IGFuIGltYWdl"}}]}}]}}
    assert _judge("results", 200, _results(broken_image, good[1], refused))[0].startswith("image size for")
    assert _judge("results", 200, b"not json\n") == ["results file lines are not JSON objects"]
    assert _judge("results", 403, b"{}") == ["the results file could not be downloaded"]


def test_upload_and_final_steps_are_judged() -> None:
    assert _judge("upload", 200, b"") == ["the upload start answered no X-Goog-Upload-URL"]
    assert _judge("upload", 200, b"", {"x-goog-upload-url": "http://h/upload/v1beta/files?upload_id=1"}) == []
    assert _judge("uploaded", 200, b'{"file": {}}') == ["the finished upload names no file"]
    done = {"done": True, "metadata": {"state": "BATCH_STATE_SUCCEEDED"}}
    assert _judge("final", 200, json.dumps({**done, "response": {"inlinedResponses": {}}}).encode()) == [
        "a job from a file holds no responsesFile", "a job from a file answers inline results"]
    assert _judge("final", 200, json.dumps({**done, "response": {"responsesFile": "files/r1"}}).encode()) == []
