"""Outcome of a run: one result per check, the exchanges it judged, and the spend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from contract_tests.checks import Failure, Severity
from contract_tests.generation.cases import Exchange

__all__ = ["CheckResult", "FailureRecord", "RunResult", "Status"]

Status = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True)
class FailureRecord:
    """A failure tied to the exchange that showed it, with a redacted curl reproducer."""

    failure: Failure
    exchange: int
    request: str  # e.g. "generate gemini-3-pro-image-preview (snake)"
    reproducer: str
    excerpt: str = ""  # the start of the endpoint's response body (image data shortened)

    def to_dict(self) -> dict[str, Any]:
        return {
            "message": self.failure.message, "pointer": self.failure.pointer,
            "expected": self.failure.expected, "actual": self.failure.actual,
            "exchange": self.exchange, "request": self.request, "reproducer": self.reproducer,
            "response_excerpt": self.excerpt,
        }


@dataclass
class CheckResult:
    id: str
    severity: Severity
    meaning: str
    failures: list[FailureRecord] = field(default_factory=list)
    evaluated: list[int] = field(default_factory=list)  # exchange indices judged (not skipped)
    skip_reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> Status:
        if self.failures:
            return "failed"
        return "passed" if self.evaluated else "skipped"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "severity": self.severity, "status": self.status, "meaning": self.meaning,
            "failures": [record.to_dict() for record in self.failures],
            "exchanges": self.evaluated, "skip_reasons": self.skip_reasons, "notes": self.notes,
        }


@dataclass
class RunResult:
    target: str
    checks: list[CheckResult]
    exchanges: list[Exchange]
    requests: int
    estimated_cost_usd: float
    stopped: str | None = None  # why the run stopped early (budget), if it did
    config: dict[str, Any] = field(default_factory=dict)
    unsent: list[str] = field(default_factory=list)  # planned probes that could not be sent, and why
    scorecard: dict[str, Any] | None = None  # sandwich mode: the relay scorecard

    @property
    def failed(self) -> bool:
        return any(result.status == "failed" for result in self.checks)

    def by_id(self) -> dict[str, CheckResult]:
        return {result.id: result for result in self.checks}

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "checks": [result.to_dict() for result in self.checks],
            "requests": self.requests,
            "estimated_cost_usd": round(self.estimated_cost_usd, 4),
            "stopped": self.stopped,
            "unsent": self.unsent,
            "relay_scorecard": self.scorecard,
            "config": self.config,
        }
