"""Sandwich mode: a relay under test forwards to the fake; each relay defect is caught by the right check."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from contract_tests.cli import main
from contract_tests.config import RunConfig
from contract_tests.execution.runner import run
from contract_tests.reporting.report import summary_table, write_reports
from contract_tests.reporting.results import RunResult
from contract_tests.reporting.verdicts import failure_lines
from contract_tests.sandwich.probes import SCENARIO_PROBES
from mock_server.testing import RunningServer, serve_asgi_in_thread
from tests.support.relay_under_test import CLIENT_KEY, DEFECTS, UPSTREAM_KEY, create_relay

MODEL = "gemini-3-pro-image-preview"  # sizes 1K/2K/4K, thinking: every probe applies

# Relay defect -> the checks that fail in sandwich mode, and no others. A relay that strips signatures
# or re-encodes images also breaks the next edit of a conversation (the fake binds signatures to the
# bytes), which thought_signatures rightly reports; a relay that sends the client's key upstream fails
# every request, including the untagged GETs, the invalid requests and the Interactions API (one headline
# names the cause); a relay-specific error body breaks every error envelope, Interactions' too.
EXPECTED: dict[str, set[str]] = {
    "faithful": set(),
    "retry_then_pass": set(),
    "retry_for_long": {"relay_fault_fidelity"},  # run with a 1 s scenario timeout
    "drop_unknown_fields": {"relay_forwarding"},
    "drop_snake_config": {"relay_forwarding"},
    "downgrade_edit_4k": {"relay_forwarding"},
    "status_503_to_500": {"relay_fault_fidelity"},
    "strip_retry_after": {"relay_fault_fidelity"},
    "strip_signatures": {"relay_differential", "thought_signatures"},
    "rewrite_usage": {"relay_differential"},
    "reencode_images": {"relay_differential", "thought_signatures"},
    "cache_by_model": {"relay_forwarding", "relay_fault_fidelity"},
    "stale_answers": {"relay_differential", "relay_fault_fidelity"},
    "leak_upstream_url": {"security_leakage"},
    "accept_any_key": {"security_leakage"},
    # The fake's journal records the body even of a request it refuses before reading it, so the suite
    # sees that each refused request was forwarded and compares it with the fake's direct answer: every
    # check of a forwarded request fails, under the one root cause the headline names (the key).
    "forward_client_key": {"relay_forwarding", "status_code_conformance", "models_endpoint", "error_envelope",
                           "interactions_error_envelope", "auth_styles", "casing_tolerance", "relay_differential",
                           "relay_fault_fidelity", "streaming"},
    "foreign_envelope": {"error_envelope", "relay_fault_fidelity", "interactions_error_envelope"},
    # Requests without a prompt are tagged in the query (quotaUser), Interactions creates in their input.
    "drop_get_query": {"relay_forwarding"},
    "get_on_v1": {"relay_forwarding"},
    # The continuation keeps the first turn's ratio, which the relay lost: the edit has the wrong pixels.
    "interactions_drop_format": {"relay_forwarding", "interactions_image_dimensions"},
    "text_plain_bodies": {"relay_forwarding"},
}


def sandwich(upstream: RunningServer, relay: str, **options: Any) -> RunResult:
    settings: dict[str, Any] = {"models": (MODEL,), "max_examples": 0, "parity_versions": (), **options}
    return run(replace(RunConfig(base_url=relay, api_key=CLIENT_KEY, upstream_fake=upstream.base_url,
                                 upstream_api_key=UPSTREAM_KEY), **settings))


def failed(result: RunResult) -> set[str]:
    return {check.id for check in result.checks if check.status == "failed"}


def everything_said(result: RunResult, directory: Path) -> str:
    write_reports(result, directory, (CLIENT_KEY, UPSTREAM_KEY))
    written = "".join(path.read_text(errors="replace") for path in directory.rglob("*.*") if path.suffix != ".png")
    return written + summary_table(result) + "\n".join(failure_lines(result))


def test_every_defect_has_an_expectation() -> None:
    assert set(EXPECTED) == set(DEFECTS)


@pytest.mark.parametrize("defect", sorted(EXPECTED))
def test_each_relay_defect_is_caught_by_the_right_check(upstream: RunningServer, defect: str, tmp_path: Path) -> None:
    with serve_asgi_in_thread(create_relay(upstream.base_url, defect)) as relay:
        result = sandwich(upstream, relay, scenario_timeout_s=1.0 if defect == "retry_for_long" else 12.0)
    assert failed(result) == EXPECTED[defect], "\n".join(failure_lines(result))
    said = everything_said(result, tmp_path)
    assert CLIENT_KEY not in said and UPSTREAM_KEY not in said


def test_a_faithful_relay_passes_with_every_probe_judged_and_a_scorecard(upstream: RunningServer,
                                                                         tmp_path: Path) -> None:
    with serve_asgi_in_thread(create_relay(upstream.base_url)) as relay:
        result = sandwich(upstream, relay, models=(), max_examples=2, parity_versions=("v1",))
    assert not result.failed, "\n".join(failure_lines(result))
    statuses = {check.id: check.status for check in result.checks}
    assert {statuses[c] for c in ("relay_fault_fidelity", "relay_forwarding", "relay_differential")} == {"passed"}
    card = result.scorecard
    assert card is not None and card["tagged_requests"] == len(result.exchanges)  # every request is tagged
    assert card["forwarded"] > card["compared"] > 20  # GETs, DELETEs and batch jobs are not repeated directly
    judged = set(result.by_id()["relay_forwarding"].evaluated)
    purposes = {exchange.case.purpose for exchange in result.exchanges if exchange.index in judged}
    assert purposes >= {"models", "interactions", "interactions_stream", "interactions_continuation",
                        "interactions_negative", "batch", "generate", "negative"}
    assert [row["scenario"] for row in card["scenarios"]] == list(SCENARIO_PROBES)
    rate_limited = card["scenarios"][0]
    assert rate_limited["relay_status"] == rate_limited["upstream_status"] == 429
    assert rate_limited["relay_retry_after"] == rate_limited["upstream_retry_after"]
    assert card["body_overhead_bytes"]["max"] == 0 and card["added_latency_ms"] is not None
    assert "RELAY SCORECARD" in summary_table(result)
    said = everything_said(result, tmp_path)
    assert "Relay scorecard" in (tmp_path / "report.html").read_text()
    assert json.loads((tmp_path / "report.json").read_text())["relay_scorecard"]["compared"] == card["compared"]
    assert CLIENT_KEY not in said and UPSTREAM_KEY not in said


def test_retries_are_allowed_and_shown(upstream: RunningServer) -> None:
    with serve_asgi_in_thread(create_relay(upstream.base_url, "retry_then_pass")) as relay:
        result = sandwich(upstream, relay, checks=("relay_fault_fidelity",))
    assert not result.failed
    assert result.scorecard is not None
    attempts = {row["scenario"]: row["upstream_attempts"] for row in result.scorecard["scenarios"]}
    assert attempts["overloaded"] == attempts["rate_limited"] == 3 and attempts["internal"] == 1


def test_failures_name_the_cause_with_the_relay_body(upstream: RunningServer) -> None:
    with serve_asgi_in_thread(create_relay(upstream.base_url, "drop_snake_config")) as relay:
        result = sandwich(upstream, relay)
    messages = [r.failure.message for r in result.by_id()["relay_forwarding"].failures]
    assert any("snake_case generation_config was dropped" in m for m in messages)
    # The wrong image and the wrong bill are the same finding: not reported again elsewhere.
    for check_id in ("settings_effective", "image_dimensions", "usage_arithmetic", "relay_differential"):
        assert result.by_id()[check_id].status != "failed"
    text = "\n".join(failure_lines(result))
    assert "endpoint answered HTTP 200: {" in text


def test_a_client_key_forwarded_upstream_gets_one_headline(upstream: RunningServer) -> None:
    with serve_asgi_in_thread(create_relay(upstream.base_url, "forward_client_key")) as relay:
        result = sandwich(upstream, relay)
    text = "\n".join(failure_lines(result))
    assert text.lstrip().startswith("ROOT CAUSE:") and "API_KEY_INVALID" in text
    assert "relay must send its own key upstream" in text
    assert text.count("ROOT CAUSE:") == 1


def test_cli_sandwich_reads_the_upstream_key_from_the_environment(upstream: RunningServer, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_UPSTREAM_API_KEY", UPSTREAM_KEY)
    monkeypatch.setenv("GEMINI_API_KEY", CLIENT_KEY)
    with serve_asgi_in_thread(create_relay(upstream.base_url, "leak_upstream_url")) as relay:
        code = main(["run", "--base-url", relay, "--upstream-fake", upstream.base_url, "--model", MODEL,
                     "--max-examples", "0", "--api-version", "v1beta", "--quiet", "--report-dir", str(tmp_path)])
    out = capsys.readouterr()
    assert code == 1
    assert "security_leakage [security]: upstream URL appears in a response header" in out.out
    assert "RELAY SCORECARD" in out.out
    written = [path.read_text(errors="replace") for path in tmp_path.rglob("*.*") if path.suffix != ".png"]
    for text in (out.out, out.err, *written):
        assert UPSTREAM_KEY not in text and CLIENT_KEY not in text


def test_cli_refuses_an_upstream_key_the_fake_does_not_accept(upstream: RunningServer,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    with serve_asgi_in_thread(create_relay(upstream.base_url)) as relay:
        code = main(["run", "--base-url", relay, "--api-key", CLIENT_KEY, "--upstream-fake", upstream.base_url,
                     "--upstream-api-key", "not-the-upstream-key", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "GEMINI_UPSTREAM_API_KEY" in err and "not-the-upstream-key" not in err


def test_cli_refuses_an_upstream_that_is_not_the_fake(upstream: RunningServer,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    with serve_asgi_in_thread(create_relay(upstream.base_url)) as relay:
        code = main(["run", "--base-url", relay, "--api-key", CLIENT_KEY, "--upstream-fake", relay, "--quiet"])
    assert code == 2
    assert "journal" in capsys.readouterr().err


def test_nginx_proxy_pass_is_a_faithful_control(upstream: RunningServer, tmp_path: Path) -> None:
    from tests.support.nginx_control import nginx_proxy

    with nginx_proxy(upstream.base_url, tmp_path) as relay:
        result = run(RunConfig(base_url=relay, api_key=UPSTREAM_KEY, models=(MODEL,), max_examples=0,
                               parity_versions=(), upstream_fake=upstream.base_url, upstream_api_key=UPSTREAM_KEY))
    assert not result.failed, "\n".join(failure_lines(result))
    assert result.scorecard is not None and result.scorecard["forwarded"] > 20


def test_a_relay_that_holds_a_failing_request_too_long_is_named(upstream: RunningServer) -> None:
    with serve_asgi_in_thread(create_relay(upstream.base_url, "retry_for_long")) as relay:
        result = sandwich(upstream, relay, checks=("relay_fault_fidelity",), scenario_timeout_s=1.0)
    messages = {r.failure.message for r in result.by_id()["relay_fault_fidelity"].failures}
    assert any(m.startswith("upstream scenario overloaded: no answer within 1 s; the relay sent it upstream")
               for m in messages), messages


def test_a_probe_no_model_can_take_is_reported_as_unsent(upstream: RunningServer) -> None:
    with serve_asgi_in_thread(create_relay(upstream.base_url)) as relay:
        result = sandwich(upstream, relay, models=("gemini-2.5-flash-image",), checks=("settings_effective",))
    assert result.unsent == ["sandwich probe size:2K: no model under test offers 2K",
                             "sandwich probe size:4K edit: no model under test offers 4K"]
    assert "planned but not sent: sandwich probe size:4K edit" in summary_table(result)


@pytest.mark.parametrize(("defect", "message"), [
    ("drop_get_query", "the query string was dropped on the way upstream (the quotaUser tag with it)"),
    ("get_on_v1", "the path was changed on the way upstream"),
    ("interactions_drop_format", "the Interactions request resolves to another aspectRatio upstream"),
    ("text_plain_bodies", "the body's Content-Type changed on the way upstream"),
])
def test_untagged_surfaces_are_tagged_and_their_forwarding_compared(upstream: RunningServer, defect: str,
                                                                    message: str) -> None:
    with serve_asgi_in_thread(create_relay(upstream.base_url, defect)) as relay:
        result = sandwich(upstream, relay, checks=("relay_forwarding",))
    records = result.by_id()["relay_forwarding"].failures
    assert any(r.failure.message.startswith(message) for r in records), [r.failure.message for r in records]
    purposes = {result.exchanges[r.exchange].case.purpose for r in records}
    wanted = {"drop_get_query": {"models", "batch"}, "get_on_v1": {"models", "batch"},
              "interactions_drop_format": {"interactions", "interactions_stream", "interactions_negative"},
              "text_plain_bodies": {"generate", "interactions", "batch"}}[defect]
    assert purposes >= wanted, purposes


@pytest.mark.parametrize(("defect", "failing"), [
    ("faithful", set()),
    ("interactions_drop_format", {"relay_forwarding"}),
])
def test_vertex_interactions_through_a_relay_are_tagged_and_compared(upstream: RunningServer, defect: str,
                                                                     failing: set[str]) -> None:
    with serve_asgi_in_thread(create_relay(upstream.base_url, defect)) as relay:
        result = sandwich(upstream, relay, api_flavour="vertex", vertex_project="proj-7",
                          checks=("relay_forwarding", "interactions_schema", "interactions_error_envelope"))
    assert failed(result) == failing, "\n".join(failure_lines(result))
    judged = set(result.by_id()["relay_forwarding"].evaluated)
    vertex_turns = [e for e in result.exchanges if e.index in judged and e.case.purpose == "interactions"
                    and "/projects/proj-7/locations/" in e.url]
    assert vertex_turns and all("(ct-" in (e.request_body or b"").decode() for e in vertex_turns)
