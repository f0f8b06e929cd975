"""One sandwich run: tag every request sent through the relay, find what the fake received, and ask
the fake the same question directly.

Sending is ``contract_tests.execution.relay``'s; this module holds what is known. Requests are
tagged in the prompt text (relays may strip custom headers), so the suite finds its own
entries in the fake's journal even when other traffic is there. The journal is read once, before the
direct requests (which carry the same tags), so forwarded entries are the relay's alone.
"""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field, replace
from typing import Any

from contract_tests.config import RunConfig
from contract_tests.generation.cases import Case, Exchange
from contract_tests.sandwich.upstream import UpstreamFake, entry_mentions, refused_without_body

__all__ = ["Evidence", "SandwichRun", "tag_document"]

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
        # Requests the fake refused for their key before reading a body (so without a tag): a relay that
        # sends the client's key upstream leaves these.
        self.refused_upstream = 0

    def start(self) -> None:
        """Remember where the journal stands; raises UpstreamUnavailable when it cannot be read or the
        fake refuses the upstream key."""
        self.since = self.upstream.last_id()
        self.upstream.check_key()

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
        matched: set[int] = set()
        for evidence in self.evidence.values():
            evidence.forwarded = [entry for entry in entries if entry_mentions(entry, evidence.tag)]
            matched.update(id(entry) for entry in evidence.forwarded)
        self.refused_upstream = sum(1 for e in entries if id(e) not in matched and refused_without_body(e))
