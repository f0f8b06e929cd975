"""Sharper checks without the sandwich: unknown fields at every level, settings that took effect, the
size tier of edits, leakage, "not judged", unsent probes, and verdicts that name the cause."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import pytest

from contract_tests.checks import CHECKS, CheckContext, Skip
from contract_tests.config import RunConfig
from contract_tests.execution.runner import run
from contract_tests.execution.target import Target
from contract_tests.generation.cases import Case, Exchange
from contract_tests.reporting.results import RunResult
from contract_tests.reporting.verdicts import failure_lines, headlines
from contract_tests.sandwich.compare import body_differences
from contract_tests.sandwich.probes import SCENARIO_PROBES, sandwich_probes
from mock_server.app import create_app
from mock_server.settings import Settings
from mock_server.testing import RunningServer, serve_asgi_in_thread
from tests.support.relay_under_test import CLIENT_KEY, UPSTREAM_KEY, create_relay

MODEL = "gemini-3-pro-image-preview"


def through(upstream: RunningServer, defect: str, **options: Any) -> RunResult:
    settings: dict[str, Any] = {"models": (MODEL,), "max_examples": 0, "parity_versions": (), **options}
    with serve_asgi_in_thread(create_relay(upstream.base_url, defect)) as relay:
        return run(replace(RunConfig(base_url=relay, api_key=CLIENT_KEY), **settings))


def failed(result: RunResult) -> set[str]:
    return {check.id for check in result.checks if check.status == "failed"}


def test_a_faithful_relay_passes_without_the_sandwich(upstream: RunningServer) -> None:
    result = through(upstream, "faithful")
    assert failed(result) == set()
    assert {c.id for c in result.checks if c.status == "skipped"} == {
        "relay_fault_fidelity", "relay_forwarding", "relay_differential", "vertex_flavour"}  # no Vertex run


def test_unknown_fields_are_probed_at_every_level(upstream: RunningServer) -> None:
    result = through(upstream, "drop_unknown_fields")
    assert failed(result) == {"error_envelope"}
    refused = {record.request.split(" (")[0] for record in result.by_id()["error_envelope"].failures}
    assert refused == {"unknown field", "unknown field top level", "unknown field in generationConfig",
                       "unknown field in a part"}


def test_an_ignored_snake_case_config_is_named_as_such(upstream: RunningServer) -> None:
    result = through(upstream, "drop_snake_config")
    assert failed(result) == {"settings_effective"}
    messages = [record.failure.message for record in result.by_id()["settings_effective"].failures]
    # The probe carries a 48x32 input image: without its config the ratio is inferred from it.
    assert messages == ["responseModalities [IMAGE] did not take effect: the answer has a text part",
                        "aspectRatio did not take effect (snake spelling): the image is 3:2 at 1K"]
    assert any("same cause" in note for note in result.by_id()["image_dimensions"].notes)


def test_a_relay_that_accepts_any_key_is_a_security_finding(upstream: RunningServer) -> None:
    result = through(upstream, "accept_any_key")
    assert failed(result) == {"security_leakage"}
    [record] = result.by_id()["security_leakage"].failures
    assert record.failure.message == "the endpoint accepted a wrong API key (anyone can use it)"
    assert result.by_id()["security_leakage"].severity == "security"


def test_a_leaked_client_key_is_reported_by_what_it_is() -> None:
    case = Case(purpose="generate", label="baseline", model=MODEL)
    leaky = Exchange(0, case, "u", {}, None, 200, {"x-debug": f"forwarded with key {CLIENT_KEY}"}, b"{}")
    config = RunConfig(base_url="http://relay.example", api_key=CLIENT_KEY)
    failures = list(CHECKS["security_leakage"].run(leaky, CheckContext(config)))
    assert [f.message for f in failures] == ["the client's API key appears in a response header"]
    assert CLIENT_KEY not in repr(failures)
    google = replace(leaky, headers={"x-upstream": "https://generativelanguage.googleapis.com/v1beta"})
    assert [f.message for f in CHECKS["security_leakage"].run(google, CheckContext(config))] == [
        "response header x-upstream names the upstream generativelanguage.googleapis.com"]


@pytest.mark.parametrize(("defect", "judged_by"), [("faithful", set()),
                                                   ("downgrade_edit_4k", {"settings_effective", "image_dimensions"})])
def test_the_size_tier_of_an_edit_is_checked(upstream: RunningServer, defect: str, judged_by: set[str]) -> None:
    config = RunConfig(base_url="", api_key=CLIENT_KEY, models=(MODEL,)).resolved()
    [edit] = [p.case for p in sandwich_probes(config, lambda model, size: 0.0) if p.kind == "size:4K edit"]
    with serve_asgi_in_thread(create_relay(upstream.base_url, defect)) as relay, \
            Target(replace(config, base_url=relay)) as target:
        exchange = target.send(edit)
    assert exchange.status == 200
    context = CheckContext(config)
    messages = {check_id: [f.message for f in CHECKS[check_id].run(exchange, context)]
                for check_id in ("settings_effective", "image_dimensions")}
    assert {check_id for check_id, found in messages.items() if found} == judged_by
    if judged_by:
        assert messages["settings_effective"] == ["imageSize 4K did not take effect on an edit"]
        assert messages["image_dimensions"] == ["edit answered in the 1K size tier instead of 4K"]
        assert context.superseded[(exchange.index, "image_dimensions")] == "settings_effective"


def run_against_the_fake(defect: str | None = None, **options: Any) -> RunResult:
    app = create_app(Settings(api_keys=(UPSTREAM_KEY,), defect=defect))
    settings: dict[str, Any] = {"models": (MODEL,), "max_examples": 0, **options}
    return run(replace(RunConfig(base_url="http://127.0.0.1:1", api_key=UPSTREAM_KEY), **settings),
               transport=httpx.ASGITransport(app=app))


def test_a_check_that_judged_nothing_says_so_and_an_unsent_probe_is_reported() -> None:
    result = run_against_the_fake("stop_without_image")
    signatures = result.by_id()["thought_signatures"]
    assert signatures.status == "skipped" and "not judged: no image part to judge" in signatures.skip_reasons
    assert result.unsent == [f"multi-turn edit of {MODEL}: its first answer (HTTP 200) had no image; "
                             "thought_signatures judged the replay of nothing"]


def test_v1_is_tested_by_default_and_counted() -> None:
    result = run_against_the_fake()
    paths = [exchange.url for exchange in result.exchanges]
    assert any("/v1/models" in path for path in paths) and any("/v1beta/models" in path for path in paths)
    assert result.requests == len(result.exchanges)
    only = run_against_the_fake(parity_versions=())
    assert not any("/v1/" in exchange.url for exchange in only.exchanges)
    assert only.requests < result.requests


def test_a_base_url_with_a_version_suffix_gets_one_headline(upstream: RunningServer) -> None:
    result = run(RunConfig(base_url=upstream.base_url + "/v1beta", api_key=UPSTREAM_KEY, models=(MODEL,),
                           max_examples=0, parity_versions=()))
    [headline] = headlines(result)
    assert "base URL ends with 'v1beta'" in headline.cause and upstream.base_url in headline.fix
    lines = failure_lines(result)
    assert lines[0].startswith("\nROOT CAUSE:")
    assert any(line.strip().startswith("... and ") and "more" in line for line in lines)


def test_a_refused_key_gets_one_headline_naming_the_auth_style(upstream: RunningServer) -> None:
    result = run(RunConfig(base_url=upstream.base_url, api_key="not-the-key-at-all", models=(MODEL,), max_examples=0,
                           parity_versions=(), auth="bearer"))
    [headline] = headlines(result)
    assert "refused" in headline.cause and "--auth header" in headline.fix


def test_a_relay_specific_error_envelope_gets_a_headline(upstream: RunningServer) -> None:
    result = through(upstream, "foreign_envelope")
    [headline] = headlines(result)
    assert "relay-specific body" in headline.cause


def test_forwarded_bodies_compare_casing_insensitively() -> None:
    sent = {"contents": [{"parts": [{"text": "hi", "inline_data": {"mime_type": "image/png", "data": "A" * 600}}]}],
            "generation_config": {"response_modalities": ["Image"], "image_config": {"aspect_ratio": "16:9"}}}
    forwarded = {"contents": [{"parts": [{"text": "hi", "inlineData": {"mimeType": "image/png",
                                                                        "data": "<600 chars sha256:0000>"}}]}],
                 "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": "16:9"}}}
    assert body_differences(sent, forwarded) == []
    dropped = {"contents": forwarded["contents"]}
    assert [(d.kind, d.where) for d in body_differences(sent, dropped)] == [("dropped", "/generationConfig")]


def test_relay_checks_skip_without_the_sandwich() -> None:
    case = Case(purpose="generate", label="baseline", model=MODEL)
    exchange = Exchange(0, case, "u", {}, b"{}", 200, {}, b"{}")
    with pytest.raises(Skip, match="no --upstream-fake"):
        CHECKS["relay_differential"].run(exchange, CheckContext(RunConfig(base_url="http://x")))


def test_an_ignored_response_modalities_is_named(upstream: RunningServer) -> None:
    config = RunConfig(base_url=upstream.base_url, api_key=UPSTREAM_KEY, models=(MODEL,)).resolved()
    [probe] = [p.case for p in sandwich_probes(config, lambda model, size: 0.0) if p.kind.startswith("snake")]
    assert probe.expect.modalities == ("IMAGE",)
    with Target(config) as target:
        honoured = target.send(probe)
        # The same expectation, but the request leaves responseModalities out (as a relay that drops it would).
        document = {**probe.document, "generationConfig": {
            k: v for k, v in probe.document["generationConfig"].items() if k != "responseModalities"}}
        ignored = target.send(replace(probe, document=document))
    assert list(CHECKS["settings_effective"].run(honoured, CheckContext(config))) == []
    assert [f.message for f in CHECKS["settings_effective"].run(ignored, CheckContext(config))] == [
        "responseModalities [IMAGE] did not take effect: the answer has a text part"]


def test_every_scenario_probe_is_in_the_fakes_catalogue() -> None:
    from schemas import load_json

    catalogue = load_json("scenarios.json")["scenarios"]
    assert set(SCENARIO_PROBES) <= set(catalogue)
    assert {catalogue[name]["kind"] for name in SCENARIO_PROBES} == {"error", "content", "stream"}
