"""Every check can fail: each injected defect fails exactly its matching checks, and nothing else."""

from __future__ import annotations

import httpx
import pytest

from contract_tests.checks import CHECKS
from contract_tests.config import RunConfig
from contract_tests.execution.runner import run
from contract_tests.reporting.results import RunResult
from mock_server.app import create_app
from mock_server.instrument.defects import DEFECTS, apply_defect
from mock_server.settings import Settings

KEY = "canary-defects-7f3a9"

# defect -> the check ids it must fail. A defect that changes image bytes also invalidates the
# thought signatures the fake bound to those bytes, so the multi-turn edit is rightly refused.
EXPECTED: dict[str, set[str]] = {
    "wrong_dimensions": {"image_dimensions", "thought_signatures"},
    "mime_lies": {"image_payload"},
    "usage_mismatch": {"usage_arithmetic"},
    "missing_model_version": {"model_identity"},
    "wrong_model_version": {"model_identity"},
    "snake_case_response": {"response_schema_conformance"},
    "missing_thought_signature": {"thought_signatures"},
    "stop_without_image": {"image_present_or_explained"},
    "error_without_envelope": {"error_envelope"},
    "double_encoded_error": {"error_envelope"},
    "server_error_on_bad_input": {"error_envelope", "not_a_server_error"},
    "batch_counts_as_numbers": {"batch_operation_shape"},
    "batch_results_reordered": {"batch_results"},
    "batch_results_file_reordered": {"batch_results_file"},
    # Breaks nothing on the Gemini API; shown failing vertex_flavour in test_contract_surfaces.py beside this.
    "vertex_candidate_index": set(),
    # Interactions (mock_server/instrument/interactions_defects.py). Ignoring previous_interaction_id
    # also loses the first image's ratio and stops refusing unknown ids.
    "interactions_rpc_errors": {"interactions_error_envelope"},
    "interactions_usage_mismatch": {"interactions_usage"},
    "interactions_wrong_dimensions": {"interactions_image_dimensions"},
    "interactions_camel_case": {"interactions_schema"},
    "interactions_wrong_model": {"interactions_model_identity"},
    "interactions_no_image": {"interactions_image_present"},
    "interactions_stream_order": {"interactions_stream_order"},
    "interactions_ignores_previous": {"interactions_continuation", "interactions_image_dimensions",
                                      "interactions_error_envelope"},
}
# Checks judged only in runs on another surface (--api-flavour vertex): skipped in these Gemini API runs.
OTHER_SURFACES = {"vertex_flavour"}


def run_in_process(defect: str | None, **config: object) -> RunResult:
    app = create_app(Settings(api_keys=(KEY,), defect=defect))
    options = {"max_examples": 2, "seed": 1, **config}
    return run(RunConfig(base_url="http://127.0.0.1:1", api_key=KEY, **options),  # type: ignore[arg-type]
               transport=httpx.ASGITransport(app=app))


def statuses(result: RunResult) -> dict[str, str]:
    return {check.id: check.status for check in result.checks}


def test_every_defect_is_covered_and_every_check_is_shown_failing() -> None:
    assert set(EXPECTED) == set(DEFECTS)
    shown = set().union(*EXPECTED.values())
    # auth_styles, casing_tolerance, models_endpoint, streaming, status/content-type checks are
    # shown failing by their own unit tests (test_contract_checks.py beside this).
    assert shown >= {"image_dimensions", "image_payload", "usage_arithmetic", "model_identity",
                     "response_schema_conformance", "thought_signatures", "image_present_or_explained",
                     "error_envelope", "not_a_server_error"}
    # Every Interactions check is shown failing by its own defect mode.
    assert shown >= {check_id for check_id in CHECKS if check_id.startswith("interactions_")}


def test_the_fake_passes_every_check() -> None:
    result = run_in_process(None)
    # The relay checks need --upstream-fake (tests/contract_tests/sandwich/test_sandwich.py) and say so
    # instead of passing; vertex_flavour judges only Vertex runs.
    expected = {check_id: "skipped" if check_id.startswith("relay_") or check_id in OTHER_SURFACES else "passed"
                for check_id in CHECKS}
    assert statuses(result) == expected
    assert "not judged: no --upstream-fake" in result.by_id()["relay_forwarding"].skip_reasons


@pytest.mark.parametrize("defect", sorted(EXPECTED))
def test_defect_fails_its_checks_and_only_them(defect: str) -> None:
    result = run_in_process(defect)
    failed = {check_id for check_id, status in statuses(result).items() if status == "failed"}
    assert failed == EXPECTED[defect]
    unrelated = {check_id for check_id in CHECKS if not check_id.startswith("relay_")} - EXPECTED[defect] \
        - OTHER_SURFACES
    passed = {check_id for check_id, status in statuses(result).items() if status == "passed"}
    # Unrelated checks pass; a check only skips when the defect removed what it judges (no image at all).
    # Checks of images say "not judged" rather than "passed" when there is none.
    allowed_skips = {"image_payload", "image_dimensions", "settings_effective", "thought_signatures"} \
        if defect == "stop_without_image" else set()
    allowed_skips |= {"interactions_image_dimensions"} if defect == "interactions_no_image" else set()
    assert unrelated - passed <= allowed_skips
    for check in result.checks:
        for record in check.failures:
            assert KEY not in record.reproducer
            assert record.reproducer.startswith("curl ")


def test_apply_defect_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown defect"):
        apply_defect(create_app(Settings()), "no_such_defect")


def test_defects_leave_other_endpoints_alone() -> None:
    app = create_app(Settings(api_keys=(KEY,), defect="snake_case_response"))
    transport = httpx.ASGITransport(app=app)

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
            return await client.get("/v1beta/models/gemini-2.5-flash-image", headers={"x-goog-api-key": KEY})

    import asyncio

    response = asyncio.run(get())
    assert response.status_code == 200
    assert "inputTokenLimit" in response.json()


def test_the_fake_passes_with_mixed_image_formats() -> None:
    # "mixed" picks among the model's catalogue outputMimeTypes: JPEG only where the model may answer it.
    app = create_app(Settings(api_keys=(KEY,), image_format="mixed"))
    result = run(RunConfig(base_url="http://127.0.0.1:1", api_key=KEY, max_examples=6, seed=2),
                 transport=httpx.ASGITransport(app=app))
    assert result.by_id()["image_payload"].status == "passed"
    assert not result.failed
    mimes = {blob.get("mimeType") for e in result.exchanges if e.status == 200 and isinstance(e.json, dict)
             for c in e.json.get("candidates") or [] for p in (c.get("content") or {}).get("parts") or []
             if isinstance(blob := p.get("inlineData"), dict)}
    assert mimes == {"image/png", "image/jpeg"}  # both still occur, on the model that lists both
