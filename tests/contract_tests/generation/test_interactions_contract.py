"""The contract suite's Interactions checks: what a run sends for them, and what plan says it costs."""

from __future__ import annotations

import httpx

from contract_tests.config import RunConfig
from contract_tests.execution.budget import Pricing
from contract_tests.execution.runner import plan, run
from mock_server.app import create_app
from mock_server.settings import Settings

KEY = "canary-interactions-31c9"
IDS = ("interactions_schema,interactions_image_present,interactions_image_dimensions,interactions_usage,"
       "interactions_model_identity,interactions_stream_order,interactions_continuation,interactions_error_envelope")


def config(**options: object) -> RunConfig:
    return RunConfig(base_url="http://127.0.0.1:1", api_key=KEY, checks=tuple(IDS.split(",")), max_examples=0,
                     **options)  # type: ignore[arg-type]


def test_plan_counts_the_interactions_requests_and_their_cost() -> None:
    lines = {line.scenario: line for line in plan(config(models=("gemini-3-pro-image-preview",))).lines}
    assert set(lines) == {"reachability (GET models)", "invalid interactions requests",
                          "interactions create, stream, edit"}
    valid = lines["interactions create, stream, edit"]
    price = Pricing().per_image("gemini-3-pro-image-preview", Pricing().cheapest_size("gemini-3-pro-image-preview"))
    assert (valid.requests, valid.images) == (3, 3) and abs(valid.cost_usd - 3 * price) < 1e-9
    assert (lines["invalid interactions requests"].requests, lines["invalid interactions requests"].cost_usd) == (5, 0)


def test_a_run_of_only_the_interactions_checks_passes_and_sends_what_plan_said() -> None:
    app = create_app(Settings(api_keys=(KEY,)))
    result = run(config(models=("gemini-2.5-flash-image",)), transport=httpx.ASGITransport(app=app))
    assert {check.id: check.status for check in result.checks} == dict.fromkeys(IDS.split(","), "passed")
    paths = [exchange.url.split("127.0.0.1:1", 1)[1] for exchange in result.exchanges]
    assert paths.count("/v1beta/interactions") == 8 and len(paths) == 9  # plus the reachability probe
    assert result.requests == plan(config(models=("gemini-2.5-flash-image",))).requests
    # The stream, the create and the continuation each returned one image and were billed for it.
    billed = [exchange for exchange in result.exchanges if exchange.cost_usd > 0]
    assert len(billed) == 3
