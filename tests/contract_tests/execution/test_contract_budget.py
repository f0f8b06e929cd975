"""Budgets are hard stops; prices come from the profiles and can be overridden; the rate limit spaces requests."""

from __future__ import annotations

import httpx
import pytest

from contract_tests.config import RunConfig
from contract_tests.execution.budget import Budget, BudgetExhausted, Pricing, RateLimiter
from contract_tests.execution.runner import plan, run
from mock_server.app import create_app
from mock_server.settings import Settings
from schemas import load_profile_book

KEY = "canary-budget-31337"


def transport() -> httpx.ASGITransport:
    return httpx.ASGITransport(app=create_app(Settings(api_keys=(KEY,))))


def test_budget_refuses_the_request_that_would_cross_a_limit() -> None:
    budget = Budget(max_requests=2, max_usd=0.25)
    budget.reserve(0.1)
    budget.reserve(0.1)
    with pytest.raises(BudgetExhausted, match="max-requests"):
        budget.reserve(0.0)
    money = Budget(max_usd=0.25)
    money.reserve(0.2)
    with pytest.raises(BudgetExhausted, match="budget-usd"):
        money.reserve(0.1)
    assert money.requests == 1


def test_prices_come_from_profiles_unless_overridden() -> None:
    profile = load_profile_book().get("gemini-3.1-flash-image-preview")
    assert profile is not None
    pricing = Pricing({("gemini-3.1-flash-image-preview", "4K"): 9.0})
    assert pricing.per_image(profile.model_id, "2K") == profile.price_per_image_usd("2K")
    assert pricing.per_image(profile.model_id, "4K") == 9.0
    assert pricing.cheapest_size(profile.model_id) == min(profile.image_sizes, key=profile.price_per_image_usd)


def test_rate_limiter_spaces_requests_evenly() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(30, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.wait()
    assert slept == [2.0, 2.0]


@pytest.mark.parametrize("limits", [{"max_requests": 7}, {"budget_usd": 0.2}])
def test_run_stops_hard_at_the_budget(limits: dict[str, float]) -> None:
    config = RunConfig(base_url="http://127.0.0.1:1", api_key=KEY, max_examples=5, **limits)  # type: ignore[arg-type]
    result = run(config, transport=transport())
    assert result.stopped is not None
    if "max_requests" in limits:
        assert result.requests == len(result.exchanges) == 7
    else:
        assert result.estimated_cost_usd <= 0.2 + 1e-9
    # What was gathered is still judged; checks that got nothing are skipped, not failed.
    assert not result.failed


def test_worst_case_plan_bounds_the_real_run() -> None:
    config = RunConfig(base_url="http://127.0.0.1:1", api_key=KEY, max_examples=3, seed=5)
    the_plan = plan(config)
    result = run(config, transport=transport())
    assert result.requests <= the_plan.requests
    assert result.estimated_cost_usd <= the_plan.cost_usd + 1e-9


def test_remote_targets_get_conservative_defaults() -> None:
    remote = RunConfig(base_url="https://relay.example.com").resolved()
    local = RunConfig(base_url="http://localhost:8000").resolved()
    assert remote.max_examples is not None and local.max_examples is not None
    assert remote.max_examples < local.max_examples
    assert remote.rate_limit_per_min and remote.budget_usd is not None
    assert local.rate_limit_per_min is None and local.budget_usd is None
    raised = RunConfig(base_url="https://relay.example.com", max_examples=50, budget_usd=20).resolved()
    assert raised.max_examples == 50 and raised.budget_usd == 20


def test_batch_images_cost_the_catalogues_batch_price_half_the_standard_one() -> None:
    from schemas import load_profile_book

    pricing = Pricing()
    profile = load_profile_book().get("gemini-3-pro-image")
    assert profile is not None
    for size in profile.image_sizes:
        batch = pricing.per_batch_image("gemini-3-pro-image", size)
        assert batch == profile.price_per_image_usd(size, batch=True)
        assert batch == pricing.per_image("gemini-3-pro-image", size) / 2
