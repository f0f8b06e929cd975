"""Hard stops on requests and money, and a rate limiter: a run never spends more than it was given."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from schemas import load_profile_book

__all__ = ["Budget", "BudgetExhausted", "Pricing", "RateLimiter"]



class BudgetExhausted(Exception):
    """Raised instead of sending a request that would break ``--max-requests`` or ``--budget-usd``."""


@dataclass(frozen=True)
class Pricing:
    """USD per generated image, from the model profiles unless overridden per (model, size)."""

    overrides: dict[tuple[str, str], float] = field(default_factory=dict)

    def per_image(self, model: str, size: str, batch: bool = False) -> float:
        """USD per image, standard or through the Batch API, from the catalogue (or an override, which
        applies to both)."""
        profile = load_profile_book().get(model)
        if (model, size) in self.overrides:
            return self.overrides[(model, size)]
        if profile is None:
            # An unknown model has no price; charge the most expensive known image so budgets stay safe.
            return self.max_price()
        canonical = profile.canonical_image_size(size) or profile.default_image_size
        if (profile.model_id, canonical) in self.overrides:
            return self.overrides[(profile.model_id, canonical)]
        return profile.price_per_image_usd(canonical, batch=batch)

    def per_batch_image(self, model: str, size: str) -> float:
        """USD per image through the Batch API: the catalogue's batch price (half the standard one)."""
        return self.per_image(model, size, batch=True)

    def cheapest_size(self, model: str) -> str:
        profile = load_profile_book().get(model)
        if profile is None:
            raise KeyError(model)
        return min(profile.image_sizes, key=lambda size: self.per_image(model, size))

    def max_price(self) -> float:
        book = load_profile_book()
        return max(self.per_image(p.model_id, size) for p in book.profiles.values() for size in p.image_sizes)


@dataclass
class Budget:
    """Counts requests and estimated spend; ``reserve`` refuses what would cross a limit."""

    max_requests: int | None = None
    max_usd: float | None = None
    requests: int = 0
    spent_usd: float = 0.0
    exhausted_reason: str | None = None

    def reserve(self, cost_usd: float) -> None:
        """Account for one request whose worst-case cost is ``cost_usd``, or raise BudgetExhausted."""
        if self.max_requests is not None and self.requests + 1 > self.max_requests:
            self.exhausted_reason = f"--max-requests {self.max_requests} reached"
            raise BudgetExhausted(self.exhausted_reason)
        if self.max_usd is not None and self.spent_usd + cost_usd > self.max_usd + 1e-9:
            self.exhausted_reason = (
                f"--budget-usd {self.max_usd:.2f} reached (spent ~{self.spent_usd:.3f}, next request ~{cost_usd:.3f})"
            )
            raise BudgetExhausted(self.exhausted_reason)
        self.requests += 1
        self.spent_usd += cost_usd

    def settle(self, reserved_usd: float, actual_usd: float) -> None:
        """Replace a reservation by what the response actually cost (images really returned)."""
        self.spent_usd += actual_usd - reserved_usd


class RateLimiter:
    """At most ``per_minute`` requests per minute, spaced evenly (no bursts against a paid endpoint)."""

    def __init__(self, per_minute: float | None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = self._clock()
            if now < self._next:
                self._sleep(self._next - now)
                now = self._next
            self._next = now + self.interval
