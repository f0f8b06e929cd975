"""The Interactions checks in a Vertex run (--api-flavour vertex): sent to Vertex's Interactions paths
(project and express mode) with Vertex's ``{role, content}`` turns, passing on the fake, failing on a
broken endpoint, and judging errors by Vertex's envelope."""

from __future__ import annotations

import json

import pytest

from contract_tests.checks import CHECKS, CheckContext
from contract_tests.config import RunConfig
from contract_tests.generation import interactions
from contract_tests.generation.cases import Case, Exchange, Expectation
from contract_tests.reporting.results import RunResult
from tests.contract_tests.checks.test_contract_defects import run_in_process, statuses

INTERACTIONS_CHECKS = {check_id for check_id in CHECKS if check_id.startswith("interactions_")}


def vertex_run(defect: str | None = None, project: str | None = None) -> RunResult:
    return run_in_process(defect, max_examples=0, api_flavour="vertex", vertex_project=project,
                          checks=tuple(sorted(INTERACTIONS_CHECKS)))


def interactions_paths(result: RunResult) -> set[str]:
    return {exchange.url.split("127.0.0.1:1")[1].split("?")[0] for exchange in result.exchanges
            if exchange.case.purpose.startswith("interactions")}


@pytest.mark.parametrize(("project", "path"), [
    (None, "/v1beta1/interactions"),
    ("proj-7", "/v1beta1/projects/proj-7/locations/us-central1/interactions"),
])
def test_the_fake_passes_the_interactions_checks_on_vertex_paths(project: str | None, path: str) -> None:
    result = vertex_run(project=project)
    assert statuses(result) == dict.fromkeys(INTERACTIONS_CHECKS, "passed")
    assert interactions_paths(result) == {path}
    sent = [json.loads(e.request_body or b"{}") for e in result.exchanges if e.case.purpose == "interactions"]
    # Vertex's REST samples: {role, content} turns and response_format as a list.
    assert sent[0]["input"] == [{"role": "user", "content": [{"type": "text", "text": interactions.PROMPT}]}]
    assert isinstance(sent[0]["response_format"], list)
    follow_up = next(e for e in result.exchanges if e.case.purpose == "interactions_continuation")
    assert json.loads(follow_up.request_body or b"{}")["input"][0]["role"] == "user"
    assert result.estimated_cost_usd > 0  # counted against the budget like the Gemini API's


@pytest.mark.parametrize(("defect", "failing"), [
    ("interactions_wrong_dimensions", {"interactions_image_dimensions"}),
    ("interactions_camel_case", {"interactions_schema"}),
    ("interactions_stream_order", {"interactions_stream_order"}),
    # Google's envelope is right on Vertex, but this defect names every fault INVALID_ARGUMENT (a 404 too).
    ("interactions_rpc_errors", {"interactions_error_envelope"}),
])
def test_a_broken_vertex_interactions_endpoint_fails_the_right_checks(defect: str, failing: set[str]) -> None:
    result = vertex_run(defect, project="proj-7")
    assert {check_id for check_id, status in statuses(result).items() if status == "failed"} == failing


def _negative(kind: str, status: int, body: object) -> Exchange:
    case = Case(purpose="interactions_negative", label=f"interactions {kind}", model="m", action="interactions",
                route="/interactions", expect=Expectation(error=kind))
    return Exchange(index=0, case=case, url="", request_headers={}, request_body=None, status=status,
                    body=json.dumps(body).encode())


def test_vertex_errors_are_judged_by_googles_envelope() -> None:
    check = CHECKS["interactions_error_envelope"]
    vertex = CheckContext(RunConfig(base_url="http://127.0.0.1:1", api_flavour="vertex").resolved())
    gemini = CheckContext(RunConfig(base_url="http://127.0.0.1:1").resolved())
    google = {"error": {"code": 404, "message": "Interaction v1_x was not found.", "status": "NOT_FOUND"}}
    slug = {"error": {"code": "not_found", "message": "Interaction v1_x was not found."}}
    assert not check.run(_negative("unknown_previous_interaction", 404, google), vertex)
    messages = {f.message for f in check.run(_negative("unknown_previous_interaction", 404, slug), vertex)}
    assert "error.code is not the HTTP status (Vertex answers google.rpc.Status)" in messages
    assert "wrong error.status" in messages
    assert not check.run(_negative("unknown_previous_interaction", 404, slug), gemini)
    assert check.run(_negative("bad_aspect_ratio", 500, google | {"error": {**google["error"], "code": 500}}), vertex)


def test_interactions_routes_per_surface() -> None:
    def route(**options: object) -> str:
        return RunConfig(base_url="http://127.0.0.1:1", **options).resolved().interactions_route()  # type: ignore[arg-type]

    assert route() == "/interactions"
    assert route(api_flavour="vertex") == "/interactions"  # express, v1beta1: the SDK's path
    # Express on v1: /v1/interactions is the Gemini API's own path, so Vertex's REST-sample path is used.
    assert route(api_flavour="vertex", api_version="v1") == "/locations/us-central1/interactions"
    assert route(api_flavour="vertex", vertex_project="p", vertex_location="global") == \
        "/projects/p/locations/global/interactions"
