"""Sending in sandwich mode: the relay as a Target that tags its requests, the fixed probes, and the
same requests asked of the fake directly."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Any

import httpx

from contract_tests.config import RunConfig
from contract_tests.execution.budget import Pricing
from contract_tests.execution.target import Target, TargetUnreachable
from contract_tests.generation.cases import Case, Exchange
from contract_tests.sandwich.probes import Probe, sandwich_probes
from contract_tests.sandwich.session import SandwichRun
from contract_tests.sandwich.upstream import UpstreamFake
from schemas import load_profile_book

__all__ = ["TaggingTarget", "ask_directly", "pricing_for", "start_sandwich"]


class TaggingTarget(Target):
    """The relay as a Target whose requests carry the sandwich's tags; scenario probes time out early."""

    def __init__(self, config: RunConfig, sandwich: SandwichRun, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.sandwich = sandwich
        self.probe = ""
        self.unsent: list[str] = []  # fixed probes that could not be built for these models

    def send(self, case: Case) -> Exchange:
        case = self.sandwich.tag(case, len(self.exchanges), self.probe)
        if not self.probe.startswith("scenario:"):
            return super().send(case)
        saved = self._client.timeout
        self._client.timeout = httpx.Timeout(min(self.config.scenario_timeout_s, self.config.timeout_s))
        try:
            return super().send(case)
        finally:
            self._client.timeout = saved

    def send_probes(self, purposes: Collection[str]) -> list[Probe]:
        """Send the fixed probes the selected checks judge; one the relay did not answer in time is
        recorded, not fatal."""
        probes = [p for p in sandwich_probes(self.config, self.pricing.per_image) if p.case.purpose in purposes]
        kinds = {probe.kind for probe in probes}
        self.unsent = [f"sandwich probe {kind}: no model under test offers {kind.split(':')[1].split()[0]}"
                       for kind in ("size:2K", "size:4K edit") if "settings" in purposes and kind not in kinds]
        for probe in probes:
            self.probe = probe.kind
            try:
                self.send(probe.case)
            except TargetUnreachable:
                continue  # an exchange without status: relay_fault_fidelity reports it
            finally:
                self.probe = ""
        return probes


def ask_directly(sandwich: SandwichRun, config: RunConfig, exchanges: list[Exchange]) -> None:
    """Send every forwarded request tagged in its prompt to the fake directly, as the relay should have:
    its key, header auth. Requests tagged in the query (GETs, DELETEs, batch jobs) are not repeated: their
    forwarding is judged from the journal alone, and repeating a DELETE or a batch job changes the fake's state.

    The fake is free and local to the sandwich, so these requests are outside the run's budget.
    """
    direct = replace(config, base_url=sandwich.upstream.root, api_key=sandwich.upstream.api_key or "direct",
                     max_requests=None, budget_usd=None, rate_limit_per_min=None)
    with Target(direct, pricing=Pricing()) as target:
        for exchange in exchanges:
            evidence = sandwich.evidence.get(exchange.index)
            if evidence is None or evidence.by != "prompt" or not evidence.forwarded or exchange.status is None:
                continue
            try:
                evidence.direct = target.send(replace(exchange.case, auth="header", wrong_key=False))
            except TargetUnreachable:
                continue  # judged without a direct answer
    sandwich.collect_direct()


def pricing_for(config: RunConfig) -> Pricing:
    """Profile prices, or nothing at all in sandwich mode: the relay's upstream is the fake."""
    if not config.upstream_fake:
        return Pricing(config.price_overrides)
    book = load_profile_book()
    return Pricing({(p.model_id, size): 0.0 for p in book.profiles.values() for size in p.image_sizes})


def start_sandwich(config: RunConfig) -> SandwichRun | None:
    """The sandwich of a run with ``--upstream-fake``; raises UpstreamUnavailable when the fake is not
    there or refuses the upstream key."""
    if not config.upstream_fake:
        return None
    sandwich = SandwichRun(config, UpstreamFake(config.upstream_fake, config.upstream_api_key))
    sandwich.start()
    return sandwich
