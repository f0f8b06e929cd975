"""A response the runner could not take in whole: over the size cap, past the deadline, absurdly nested."""

from __future__ import annotations

from collections.abc import Iterator

from contract_tests.checks.base import CheckContext, Failure, check
from contract_tests.generation.cases import Exchange

__all__ = ["bounded_response"]


@check("bounded_response", "critical", ("generate", "casing", "auth", "negative", "multi_turn", "stream", "models"))
def bounded_response(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """Every response arrives whole within the runner's bounds: no larger than ``--max-response-bytes``,
    complete within ``--timeout`` seconds (an overall deadline, not a per-read one, so a body trickling a
    byte at a time still ends), and its JSON nested no deeper than protobuf's 100 levels and valid UTF-8.
    Google's largest answers (4K images) are tens of megabytes; anything beyond these bounds would
    exhaust a client's memory or hang it."""
    if exchange.problem:
        yield Failure(f"the response was cut short: {exchange.problem}", "", "a complete, bounded response",
                      exchange.problem)
    problem = exchange.json_problem
    if problem:
        yield Failure(f"the body is not acceptable JSON: {problem}", "", "JSON nested at most 100 levels", problem)
