"""One sandwich run: tag every request sent through the relay, find what the fake received, and ask
the fake the same question directly.

Sending is ``contract_tests.execution.relay``'s; this module holds what is known. Every request is
tagged, so the suite finds its own entries in the fake's journal even when other traffic is there: in
the prompt text where it has one (generateContent's last user turn, an Interactions ``input``), else
in the ``quotaUser`` query parameter (GETs, DELETEs, batch jobs, bodies without a prompt), Google's
standard system parameter that every Google API accepts; relays may strip custom headers, but a
relay that drops the query is itself a finding. The journal is read once before the direct requests
(which carry the same tags), so forwarded entries are the relay's alone, and once after them for the
direct requests' own entries (what the same request resolves to when nobody is in between).
"""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field, replace
from typing import Any

from contract_tests.config import RunConfig
from contract_tests.generation.cases import Case, Exchange
from contract_tests.sandwich.upstream import TAG_PARAMETER, UpstreamFake, entry_mentions, refused_without_body

__all__ = ["Evidence", "SandwichRun", "tag_document", "tag_interaction"]


def _tag_text(text: str, tag: str) -> str:
    return f"{text} ({tag})"


def tag_interaction(document: Any, tag: str) -> Any:
    """An Interactions body with the tag in its ``input``: a string, the last text block of a list, or the
    last text of the last user turn (``{"type": "user_input", "content"}`` or Vertex's ``{"role", "content"}``)."""
    if not isinstance(document, dict) or "input" not in document:
        return document
    tagged = copy.deepcopy(document)
    given = tagged["input"]
    if isinstance(given, str):
        tagged["input"] = _tag_text(given, tag)
        return tagged
    for item in reversed(given if isinstance(given, list) else [given]):
        if not isinstance(item, dict):
            continue
        if item.get("type") == "text" and isinstance(item.get("text"), str):
            item["text"] = _tag_text(item["text"], tag)
            return tagged
        if item.get("role", "user") == "user" and item.get("type", "user_input") == "user_input":
            if isinstance(item.get("content"), str):
                item["content"] = _tag_text(item["content"], tag)
                return tagged
            for block in reversed(item.get("content") or []):
                if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
                    block["text"] = _tag_text(block["text"], tag)
                    return tagged
    return document


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
                part["text"] = _tag_text(part["text"], tag)
                return tagged
    return document


@dataclass
class Evidence:
    """What the sandwich knows about one exchange with the relay."""

    tag: str
    probe: str = ""  # the fixed probe's kind, "" for the ordinary requests of the run
    by: str = "prompt"  # where the tag travels: "prompt" (the body's text) or "query" (quotaUser)
    forwarded: list[dict[str, Any]] = field(default_factory=list)  # journal entries (several: retries)
    direct: Exchange | None = None  # the fake's own answer to the same request
    direct_entry: dict[str, Any] | None = None  # the journal's entry of that direct request

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
        self.seen = 0  # the last journal id ``collect`` read
        self.untagged: list[dict[str, Any]] = []  # journal entries of the run that carry no tag of ours
        # Requests the fake refused for their key before reading a body (so without a tag): a relay that
        # sends the client's key upstream leaves these.
        self.refused_upstream = 0

    def start(self) -> None:
        """Remember where the journal stands; raises UpstreamUnavailable when it cannot be read or the
        fake refuses the upstream key."""
        self.since = self.upstream.last_id()
        self.upstream.check_key()
        self.since = self.upstream.last_id()  # the key check's own GET is not the relay's

    def tag(self, case: Case, index: int, probe: str) -> Case:
        """``case`` tagged in its prompt, or else in the query; every request the relay gets is tagged."""
        tag = f"ct-{self.run_id}-{index:03d}"
        tagger = tag_interaction if case.action == "interactions" else tag_document
        tagged = tagger(case.document, tag) if case.raw_body is None else case.document
        if tagged is not case.document:
            self.evidence[index] = Evidence(tag=tag, probe=probe)
            return replace(case, document=tagged)
        self.evidence[index] = Evidence(tag=tag, probe=probe, by="query")
        return replace(case, query={**case.query, TAG_PARAMETER: tag})

    def collect(self) -> None:
        """Read the journal once and attach every forwarded entry to the exchange it belongs to."""
        entries = [entry for entry in self.upstream.journal() if int(entry.get("id") or 0) > self.since]
        self.seen = max((int(entry.get("id") or 0) for entry in entries), default=self.since)
        matched: set[int] = set()
        for evidence in self.evidence.values():
            evidence.forwarded = [entry for entry in entries if entry_mentions(entry, evidence.tag)]
            matched.update(id(entry) for entry in evidence.forwarded)
        self.untagged = [entry for entry in entries if id(entry) not in matched]
        self.refused_upstream = sum(1 for e in self.untagged if refused_without_body(e))

    def collect_direct(self) -> None:
        """Read the journal again for the direct requests' own entries (sent after ``collect``)."""
        entries = [entry for entry in self.upstream.journal() if int(entry.get("id") or 0) > self.seen]
        for evidence in self.evidence.values():
            if evidence.direct is not None:
                mine = [entry for entry in entries if entry_mentions(entry, evidence.tag)]
                evidence.direct_entry = mine[-1] if mine else None
