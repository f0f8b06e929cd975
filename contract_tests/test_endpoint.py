"""The contract checks as pytest tests: ``pytest --pyargs contract_tests --base-url URL``.

The suite runs once per session (one set of requests, one budget); each check is one test.
"""

from __future__ import annotations

import pytest

from contract_tests.checks import CHECKS
from contract_tests.config import RunConfig
from contract_tests.execution.runner import UsageError, run
from contract_tests.execution.target import TargetUnreachable
from contract_tests.pytest_plugin import contract_options
from contract_tests.reporting.results import RunResult


@pytest.fixture(scope="session")
def contract_run(request: pytest.FixtureRequest) -> RunResult:
    options = contract_options(request.config)
    if not options["base_url"]:
        pytest.skip("no --base-url given: the contract suite needs an endpoint")
    if not options["api_key"]:
        pytest.fail("no API key: set GEMINI_API_KEY or pass --gemini-api-key", pytrace=False)
    try:
        return run(RunConfig(**options))
    except (UsageError, TargetUnreachable) as error:
        pytest.fail(f"contract suite could not run: {error}", pytrace=False)


@pytest.mark.parametrize("check_id", list(CHECKS))
def test_contract(contract_run: RunResult, check_id: str) -> None:
    result = contract_run.by_id().get(check_id)
    if result is None:
        pytest.skip("not selected")
    if result.status == "skipped":
        pytest.skip("; ".join(result.skip_reasons) or "no applicable exchange")
    if result.status == "failed":
        lines = [f"{check_id} ({result.severity}): {len(result.failures)} failure(s)"]
        for record in result.failures[:5]:
            failure = record.failure
            lines.append(f"- {failure.message} at {failure.pointer or '/'} ({record.request})\n"
                         f"  expected {failure.expected!r}, got {failure.actual!r}\n{record.reproducer}")
        pytest.fail("\n".join(lines), pytrace=False)
