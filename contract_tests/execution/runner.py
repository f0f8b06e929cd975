"""Run the selected checks against a target: plan, send, judge."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import httpx

from contract_tests.checks import CHECKS, Check, CheckContext, Failure, Skip
from contract_tests.checks.schema import summarise
from contract_tests.config import RunConfig
from contract_tests.execution.batch import FOLLOW_UPS, batch_case, max_polls, run_batch
from contract_tests.execution.batch_file import FILE_REQUESTS, run_file_batch
from contract_tests.execution.budget import BudgetExhausted, Pricing
from contract_tests.execution.relay import TaggingTarget, ask_directly, pricing_for, start_sandwich
from contract_tests.execution.scenarios import (
    allowed_sizes,
    auth_cases,
    baseline_cases,
    casing_cases,
    cheapest_size,
    exploration_strategies,
    explore,
    models_cases,
    multi_turn_case,
    negative_cases,
    parity_cases,
    stream_case,
    thinking_model,
)
from contract_tests.execution.target import Target, TargetUnreachable, curl_reproducer, url_path
from contract_tests.generation import interactions
from contract_tests.generation.cases import Case, Exchange, Purpose
from contract_tests.reporting.results import CheckResult, FailureRecord, RunResult
from contract_tests.reporting.scorecard import relay_scorecard
from contract_tests.reporting.verdicts import body_excerpt
from contract_tests.sandwich.probes import sandwich_probes
from contract_tests.sandwich.upstream import UpstreamUnavailable
from schemas import load_profile_book, load_schema

__all__ = ["Plan", "UsageError", "plan", "run", "select_checks"]

Progress = Callable[[int, int, Exchange], None]


class UsageError(ValueError):
    """Bad arguments (unknown check id or model): exit status 2."""


def select_checks(ids: Sequence[str]) -> list[Check]:
    unknown = [check_id for check_id in ids if check_id not in CHECKS]
    if unknown:
        raise UsageError(f"unknown check id(s): {', '.join(unknown)}; known: {', '.join(CHECKS)}")
    return [CHECKS[check_id] for check_id in (ids or list(CHECKS))]


def _validate(config: RunConfig) -> None:
    book = load_profile_book()
    unknown = [model for model in config.models if book.get(model) is None]
    if unknown:
        raise UsageError(f"no profile for model(s) {', '.join(unknown)}; known: {', '.join(book.ids())}")
    if config.max_examples is not None and config.max_examples < 0:
        raise UsageError("--max-examples must be >= 0")


@dataclass(frozen=True)
class PlanLine:
    scenario: str
    requests: int
    images: int
    cost_usd: float


@dataclass(frozen=True)
class Plan:
    """The worst case of a run: every request sent, every valid one answered with one image."""

    lines: tuple[PlanLine, ...]

    @property
    def requests(self) -> int:
        return sum(line.requests for line in self.lines)

    @property
    def images(self) -> int:
        return sum(line.images for line in self.lines)

    @property
    def cost_usd(self) -> float:
        return sum(line.cost_usd for line in self.lines)


def _purposes(checks: Sequence[Check]) -> set[Purpose]:
    return {purpose for check in checks for purpose in check.purposes}


def _cost(pricing: Pricing, cases: Sequence[Case]) -> float:
    return sum(pricing.per_image(case.model, case.expect.image_size or "") for case in cases)


def plan(config: RunConfig) -> Plan:
    """What ``run`` may send at most for ``config`` (after defaults), without sending anything."""
    config = config.resolved()
    _validate(config)
    checks = select_checks(config.checks)
    purposes = _purposes(checks)
    pricing = pricing_for(config)
    examples = config.max_examples or 0
    lines = [PlanLine("reachability (GET models)", 1, 0, 0.0)]
    parity = [case for case in parity_cases(config, pricing) if case.purpose in purposes]
    if parity:
        posts = [case for case in parity if case.method == "POST"]
        lines.append(PlanLine(f"parity on /{', /'.join(config.parity_versions)}", len(parity), len(posts),
                              _cost(pricing, posts)))
    if "models" in purposes:
        lines.append(PlanLine("models endpoint", len(config.models), 0, 0.0))
    if "negative" in purposes:
        lines.append(PlanLine("invalid requests", len(negative_cases(config)) + examples // 2, 0, 0.0))
    if "generate" in purposes:
        cases = baseline_cases(config, pricing)
        lines.append(PlanLine("baseline per model", len(cases), len(cases), _cost(pricing, cases)))
    for purpose, name, build in (("casing", "casing probes", casing_cases), ("auth", "auth-style probes", auth_cases)):
        if purpose in purposes:
            cases = build(config, pricing)
            lines.append(PlanLine(name, len(cases), len(cases), _cost(pricing, cases)))
    if "stream" in purposes:
        lines.append(PlanLine("streaming", 1, 1, _cost(pricing, [stream_case(config, pricing)])))
    model = thinking_model(config)
    if "multi_turn" in purposes and model:
        lines.append(PlanLine("multi-turn edit", 1, 1, pricing.per_image(model, cheapest_size(config, pricing, model))))
    lines += _interactions_plan(config, pricing, purposes)
    if "generate" in purposes and examples:
        book = load_profile_book()
        worst = max(pricing.per_image(p.model_id, s) for p in map(book.get, config.models) if p
                    for s in allowed_sizes(config, p))
        lines.append(PlanLine("generated requests (Hypothesis)", examples, examples, examples * worst))
    if config.batch and "batch" in purposes:
        case = batch_case(config, pricing)
        items = [item for item in case.expect.batch_items if not item.fails]
        cost = sum(pricing.per_batch_image(case.model, item.image_size) for item in items)
        requests = 1 + max_polls(config.batch_timeout_s) + FOLLOW_UPS
        lines.append(PlanLine("batch job (create, polls, list, delete)", requests, len(items), cost))
        if not config.upstream_fake:
            lines.append(PlanLine("batch job from a JSONL file (upload, create, polls, download, delete)",
                                  1 + max_polls(config.batch_timeout_s) + FILE_REQUESTS, len(items), cost))
    if config.upstream_fake:
        probes = [p.case for p in sandwich_probes(config, pricing.per_image) if p.case.purpose in purposes]
        lines.append(PlanLine("sandwich probes (upstream fake: $0)", len(probes), len(probes), 0.0))
    return Plan(tuple(lines))


def _on_surface(config: RunConfig, case: Case) -> Case:
    """A negative case as the run's surface must answer it (Vertex has its own 401 and 404)."""
    if not config.vertex or case.expect.error is None:
        return case
    equivalents = load_schema("vertex_request_extras")["x-vertex-response"]["errorEquivalents"]
    error = equivalents.get(case.expect.error, case.expect.error)
    return replace(case, expect=replace(case.expect, error=error))


def _interactions_plan(config: RunConfig, pricing: Pricing, purposes: set[Purpose]) -> list[PlanLine]:
    """Plan lines of the Interactions cases: one image per valid request, refusals cost nothing."""
    model = interactions.interactions_model(config)
    price = pricing.per_image(model, cheapest_size(config, pricing, model))
    lines = []
    if "interactions_negative" in purposes:
        lines.append(PlanLine("invalid interactions requests", len(interactions.negative_cases(config)), 0, 0.0))
    valid = [purpose for purpose in ("interactions", "interactions_stream", "interactions_continuation")
             if purpose in purposes or (purpose == "interactions" and "interactions_continuation" in purposes)]
    if valid:
        lines.append(PlanLine("interactions create, stream, edit", len(valid), len(valid), len(valid) * price))
    return lines


def _send_interactions(target: Target, config: RunConfig, purposes: set[Purpose]) -> None:
    if "interactions_negative" in purposes:
        for case in interactions.negative_cases(config):
            target.send(case)
    if not purposes & {"interactions", "interactions_stream", "interactions_continuation"}:
        return
    first = interactions.create_case(config, lambda model: cheapest_size(config, target.pricing, model))
    if "interactions_stream" in purposes:
        target.send(interactions.stream_case(first))
    if purposes & {"interactions", "interactions_continuation"}:
        exchange = target.send(first)
        follow_up = interactions.continuation_case(exchange)
        if "interactions_continuation" in purposes and follow_up is not None:
            target.send(follow_up)


def _send_all(target: Target, config: RunConfig, purposes: set[Purpose], unsent: list[str]) -> None:
    """Send every planned request; what was planned but could not be sent is added to ``unsent``."""
    pricing = target.pricing
    listing, *gets = models_cases(config)
    if config.vertex:  # Vertex has no Gemini ListModels: the listing only probes reachability
        target.send(replace(listing, purpose="probe"))
    else:
        target.send(listing)  # doubles as the reachability probe
    if "models" in purposes and not config.vertex:
        for case in gets:
            target.send(case)
    for case in parity_cases(config, pricing):
        if case.purpose in purposes:
            target.send(case)
    examples = config.max_examples or 0
    valid, invalid = exploration_strategies(config)
    if "negative" in purposes:
        for case in negative_cases(config):
            target.send(_on_surface(config, case))
        explore(invalid, examples // 2, config.seed, lambda case: target.send(_on_surface(config, case)))
    first_turns: dict[str, Exchange] = {}
    if "generate" in purposes:
        for case in baseline_cases(config, pricing):
            first_turns[case.model] = target.send(case)
    for purpose, build in (("casing", casing_cases), ("auth", auth_cases)):
        if purpose in purposes:
            for case in build(config, pricing):
                target.send(case)
    if "stream" in purposes:
        target.send(stream_case(config, pricing))
    model = thinking_model(config)
    if "multi_turn" in purposes and model:
        follow_up = multi_turn_case(first_turns[model]) if model in first_turns else None
        if follow_up is not None:
            target.send(follow_up)
        else:
            first = first_turns.get(model)
            why = "no baseline was sent" if first is None else f"its first answer (HTTP {first.status}) had no image"
            unsent.append(f"multi-turn edit of {model}: {why}; thought_signatures judged the replay of nothing")
    _send_interactions(target, config, purposes)
    if "generate" in purposes:
        explore(valid, examples, config.seed, target.send)
    if config.batch and "batch" in purposes:
        run_batch(target, config)
        if config.upstream_fake:
            unsent.append("batch job from a JSONL file: not sent in sandwich mode (the Files API's upload URL "
                          "names the upstream)")
        else:
            run_file_batch(target, config)


def _cap(value: object) -> object:
    """Failures stay readable: long strings truncated, large structures reduced to their shape."""
    return summarise(value, 600) if isinstance(value, str) or len(repr(value)) > 600 else value


def _judge(checks: Sequence[Check], target: Target, context: CheckContext) -> list[CheckResult]:
    config = target.config
    results = []
    reproducers: dict[int, str] = {}
    for check in checks:
        result = CheckResult(check.id, check.severity, check.meaning)
        for exchange in target.exchanges:
            try:
                failures = check.run(exchange, context)
            except Skip as skip:
                if str(skip) not in ("purpose", *result.skip_reasons):
                    result.skip_reasons.append(str(skip))
                continue
            except (RecursionError, ValueError, TypeError, KeyError, IndexError, AttributeError) as crash:
                # A response hostile enough to break a check is itself the finding, never a traceback.
                failures = [Failure(f"the response could not be judged ({type(crash).__name__})", "",
                                    "a response this check can read", str(crash)[:200])]
            result.evaluated.append(exchange.index)
            if failures and exchange.index not in reproducers:
                reproducers[exchange.index] = curl_reproducer(exchange.case, config.base_url, config.api_version,
                                                              config.secrets(), path=url_path(config, exchange.case))
            for failure in failures:
                redacted = type(failure)(
                    target.redact(failure.message), failure.pointer,
                    *(target.redact(v) if isinstance(v, str) else v
                      for v in (_cap(failure.expected), _cap(failure.actual))),
                )
                label = f"{exchange.case.label} ({exchange.case.casing}, auth {exchange.case.auth})"
                result.failures.append(FailureRecord(redacted, exchange.index, label, reproducers[exchange.index],
                                                     target.redact(body_excerpt(exchange))))
        result.notes = list(context.notes.get(check.id, []))
        results.append(result)
    for result in results:
        _drop_superseded(result, context)
    return results


def _drop_superseded(result: CheckResult, context: CheckContext) -> None:
    """One finding, one check: failures another check explains by their cause are reported there."""
    kept = [r for r in result.failures if (r.exchange, result.id) not in context.superseded]
    moved = {context.superseded[(r.exchange, result.id)] for r in result.failures if r not in kept}
    if moved:
        result.notes.append(f"{len(result.failures) - len(kept)} finding(s) reported under "
                            f"{', '.join(sorted(moved))} (same cause)")
    result.failures = kept


def run(config: RunConfig, transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        progress: Progress | None = None) -> RunResult:
    """Send the cases the selected checks need and judge every exchange.

    Raises UsageError for bad arguments and TargetUnreachable when nothing answers.
    """
    config = config.resolved()
    _validate(config)
    checks = select_checks(config.checks)
    purposes = _purposes(checks)
    total = plan(config).requests

    def on_exchange(exchange: Exchange) -> None:
        if progress is not None:
            progress(exchange.index + 1, total, exchange)

    stopped: str | None = None
    unsent: list[str] = []
    try:
        sandwich = start_sandwich(config)
    except UpstreamUnavailable as error:
        raise UsageError(str(error)) from error
    pricing = pricing_for(config)
    target = (TaggingTarget(config, sandwich, transport=transport, pricing=pricing, on_exchange=on_exchange)
              if sandwich else Target(config, transport, pricing=pricing, on_exchange=on_exchange))
    with target:
        try:
            _send_all(target, config, purposes, unsent)
            if isinstance(target, TaggingTarget):
                target.send_probes(purposes)
                unsent += target.unsent
        except BudgetExhausted as error:
            stopped = str(error)
        except TargetUnreachable as error:
            if not any(exchange.status is not None for exchange in target.exchanges):
                raise
            stopped = f"the target stopped answering: {target.redact(str(error))}"
        if sandwich is not None:
            sandwich.collect()
            ask_directly(sandwich, config, target.exchanges)
        results = _judge(checks, target, CheckContext(config, relay=sandwich))
        summary = {
            "models": list(config.models), "auth": config.auth, "max_examples": config.max_examples,
            "max_requests": config.max_requests, "budget_usd": config.budget_usd,
            "rate_limit_per_min": config.rate_limit_per_min, "seed": config.seed, "api_version": config.api_version,
            "api_flavour": config.api_flavour, "batch": config.batch,
            "parity_versions": list(config.parity_versions), "upstream_fake": config.upstream_fake,
        }
        return RunResult(target=config.base_url, checks=results, exchanges=target.exchanges,
                         requests=target.budget.requests, estimated_cost_usd=target.budget.spent_usd,
                         stopped=stopped, config=summary, unsent=unsent,
                         scorecard=relay_scorecard(results, sandwich, target.exchanges) if sandwich else None)

