"""pytest plugin (entry point ``pytest11``): the contract suite's options for
``pytest --pyargs contract_tests`` (the ``gemini_mock`` fixture is the fake's own plugin,
``mock_server.testing.pytest_plugin``)."""

from __future__ import annotations

import contextlib
import os
from typing import Any

import pytest

__all__ = ["contract_options"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gemini-contract", "Gemini image contract suite (pytest --pyargs contract_tests)")
    # pytest-base-url, if installed, already defines --base-url with the same dest: share it.
    with contextlib.suppress(ValueError):
        group.addoption("--base-url", dest="base_url", default=None,
                        help="endpoint the contract checks run against")
    group.addoption("--gemini-api-key", default=None, help="API key (default: $GEMINI_API_KEY)")
    group.addoption("--gemini-model", action="append", default=[], help="model to test (repeatable)")
    group.addoption("--gemini-checks", default="", help="comma-separated check ids")
    group.addoption("--gemini-max-examples", type=int, default=None, help="generated requests")
    group.addoption("--gemini-max-requests", type=int, default=None, help="hard stop after N requests")
    group.addoption("--gemini-budget-usd", type=float, default=None, help="hard stop on estimated spend")
    group.addoption("--gemini-seed", type=int, default=None, help="Hypothesis seed")
    group.addoption("--gemini-no-wrong-key-probe", action="store_true", default=False,
                    help="the endpoint accepts any key by design: don't expect a wrong key to be refused")
    group.addoption("--gemini-upstream-fake", default=None,
                    help="sandwich mode: the endpoint forwards to gemini-mock at this URL (docs/relay-validation.md)")
    group.addoption("--gemini-upstream-api-key", default=None,
                    help="the key the relay injects upstream (default: $GEMINI_UPSTREAM_API_KEY)")
    group.addoption("--gemini-api-flavour", default="gemini", choices=("gemini", "vertex"),
                    help="the Gemini API (default) or Vertex AI publisher-model paths (docs/vertex.md)")
    group.addoption("--gemini-vertex-project", default=None, help="Vertex project mode (default: express mode)")
    group.addoption("--gemini-batch", action="store_true", default=None,
                    help="Batch API checks on (default: on for loopback targets only; docs/batch.md)")
    group.addoption("--gemini-no-batch", action="store_false", dest="gemini_batch", help="Batch API checks off")


def contract_options(config: pytest.Config) -> dict[str, Any]:
    """The contract-suite options given on the pytest command line."""
    return {
        "base_url": config.getoption("base_url", default=None),
        "api_key": config.getoption("gemini_api_key", default=None) or os.environ.get("GEMINI_API_KEY"),
        "models": tuple(config.getoption("gemini_model", default=[]) or ()),
        "checks": tuple(c for c in (config.getoption("gemini_checks", default="") or "").split(",") if c),
        "max_examples": config.getoption("gemini_max_examples", default=None),
        "max_requests": config.getoption("gemini_max_requests", default=None),
        "budget_usd": config.getoption("gemini_budget_usd", default=None),
        "seed": config.getoption("gemini_seed", default=None),
        "probe_wrong_key": not config.getoption("gemini_no_wrong_key_probe", default=False),
        "upstream_fake": config.getoption("gemini_upstream_fake", default=None),
        "upstream_api_key": config.getoption("gemini_upstream_api_key", default=None)
        or os.environ.get("GEMINI_UPSTREAM_API_KEY"),
        "api_flavour": config.getoption("gemini_api_flavour", default="gemini"),
        "vertex_project": config.getoption("gemini_vertex_project", default=None),
        "batch": config.getoption("gemini_batch", default=None),
    }
