"""One sandwich run: tag every request sent through the relay, find what the fake received, and ask
the fake the same question directly.

Requests are tagged in the prompt text (relays may strip custom headers), so the suite finds its own
entries in the fake's journal even when other traffic is there. The journal is read once, before the
direct requests (which carry the same tags), so forwarded entries are the relay's alone.
"""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from contract_tests.budget import Pricing
from contract_tests.cases import Case, Exchange
from contract_tests.config import RunConfig
from contract_tests.sandwich.probes import Probe, sandwich_probes
from contract_tests.sandwich.upstream import UpstreamFake, entry_mentions
from contract_tests.target import Target

__all__ = ["Evidence", "SandwichRun", "TaggingTarget", "tag_document"]

# A relay that retries an upstream failure is allowed to; one that holds a request longer than this
# is reported (and the suite does not wait for it: scenario probes never sleep for a retry hint).
SCENARIO_TIMEOUT_S = 12.0


def tag_document(document: Any, tag: str) -> Any:
    """``document`` with `` (tag)`` appended to the first text of its last user turn."""
    if not isinstance(document, dict) or not isinstance(document.get("contents"), list):
        return document
    tagged = copy.deepcopy(document)
    for content in reversed(tagged["contents"]):
        if not isinstance(content, dict) or content.get("role", "user") != "user":
            continue
        for part in content.get("parts") or []:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                part["text"] = f"{part['text']} ({tag})"
                return tagged
    return document


@dataclass
class Evidence:
    """What the sandwich knows about one exchange with the relay."""

    tag: str
    probe: str = ""  # the fixed probe's kind, "" for the ordinary requests of the run
    forwarded: list[dict[str, Any]] = field(default_factory=list)  # journal entries (several: retries)
    direct: Exchange | None = None  # the fake's own answer to the same request

    @property
    def forward(self) -> dict[str, Any] | None:
        """The last forwarded attempt (the one whose answer the relay passed on, if it retried)."""
        return self.forwarded[-1] if self.forwarded else None


class SandwichRun:
    """State of the sandwich for one run: tags, probes, journal entries and direct answers."""

    def __init__(self, config: RunConfig, upstream: UpstreamFake) -> None:
        self.config = config
        self.upstream = upstream
        self.run_id = secrets.token_hex(4)
        self.evidence: dict[int, Evidence] = {}
        self.since = 0
        self.journal_error: str | None = None

    def start(self) -> None:
        """Remember where the journal stands (raises UpstreamUnavailable when it cannot be read)."""
        self.since = self.upstream.last_id()

    def tag(self, case: Case, index: int, probe: str) -> Case:
        if case.document is None:
            return case
        tag = f"ct-{self.run_id}-{index:03d}"
        tagged = tag_document(case.document, tag)
        if tagged is case.document:
            return case
        self.evidence[index] = Evidence(tag=tag, probe=probe)
        return replace(case, document=tagged)

    def collect(self) -> None:
        """Read the journal once and attach every forwarded entry to the exchange it belongs to."""
        entries = [entry for entry in self.upstream.journal() if int(entry.get("id") or 0) > self.since]
        for evidence in self.evidence.values():
            evidence.forwarded = [entry for entry in entries if entry_mentions(entry, evidence.tag)]

    def ask_directly(self, exchanges: list[Exchange]) -> None:
        """Send every forwarded request to the fake directly, as the relay should have (its key, header auth)."""
        direct_config = replace(self.config, base_url=self.upstream.root, api_key=self.upstream.api_key or "direct",
                                max_requests=None, budget_usd=None, rate_limit_per_min=None)
        with Target(direct_config, pricing=Pricing()) as target:
            for exchange in exchanges:
                evidence = self.evidence.get(exchange.index)
                if evidence is None or not evidence.forwarded or exchange.status is None:
                    continue
                case = replace(exchange.case, auth="header", wrong_key=False)
                try:
                    evidence.direct = target.send(case)
                except Exception:  # the fake stopped answering: judge without a direct answer
                    continue


class TaggingTarget(Target):
    """The relay as a Target whose requests carry the sandwich's tags; scenario probes time out early."""

    def __init__(self, config: RunConfig, sandwich: SandwichRun, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.sandwich = sandwich
        self.probe = ""

    def send(self, case: Case) -> Exchange:
        case = self.sandwich.tag(case, len(self.exchanges), self.probe)
        if not self.probe.startswith("scenario:"):
            return super().send(case)
        saved = self._client.timeout
        self._client.timeout = httpx.Timeout(min(SCENARIO_TIMEOUT_S, self.config.timeout_s))
        try:
            return super().send(case)
        finally:
            self._client.timeout = saved

    def send_probes(self, pricing: Pricing) -> list[Probe]:
        """Send the fixed probes; a probe the relay did not answer in time is recorded, not fatal."""
        from contract_tests.target import TargetUnreachable

        probes = sandwich_probes(self.config, pricing)
        for probe in probes:
            self.probe = probe.kind
            try:
                self.send(probe.case)
            except TargetUnreachable:
                continue  # recorded as an exchange without status; relay_fault_fidelity reports it
            finally:
                self.probe = ""
        return probes
