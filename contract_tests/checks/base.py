"""The check registry: each check is a function over one exchange plus its documented metadata."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from contract_tests.config import RunConfig
from contract_tests.generation.cases import Exchange, Purpose
from schemas.wire.casing import map_keys, snake_to_camel

__all__ = [
    "CHECKS",
    "GENERATING",
    "Check",
    "CheckContext",
    "Failure",
    "Severity",
    "Skip",
    "camel_view",
    "check",
    "pointer",
    "success_body",
    "walk_parts",
]

# "security": a secret or the upstream revealed, or a door left open (ranked above critical).
Severity = Literal["security", "critical", "major", "minor"]


class Skip(Exception):
    """The check does not apply to this exchange (reason says why); not a pass, not a failure."""


@dataclass(frozen=True)
class Failure:
    """One violation: where (JSON pointer into the response, camelCase), what was expected, what came."""

    message: str
    pointer: str = ""
    expected: Any = None
    actual: Any = None


@dataclass
class CheckContext:
    """What a check may consult besides the exchange: the run's config, the sandwich (``relay``, a
    ``SandwichRun`` in sandwich mode), notes for the report, and which findings another check explains."""

    config: RunConfig
    notes: dict[str, list[str]] = field(default_factory=dict)
    relay: Any = None
    # (exchange index, check id) -> the check whose finding names the cause: reported there only.
    superseded: dict[tuple[int, str], str] = field(default_factory=dict)

    def supersede(self, index: int, by: str, *check_ids: str) -> None:
        """Failures of ``check_ids`` on exchange ``index`` are the finding ``by`` reports: drop them there."""
        for check_id in check_ids:
            if check_id != by:
                self.superseded.setdefault((index, check_id), by)

    def note(self, check_id: str, text: str) -> None:
        entries = self.notes.setdefault(check_id, [])
        if text not in entries:
            entries.append(text)


CheckFunction = Callable[[Exchange, CheckContext], Iterable[Failure]]


@dataclass(frozen=True)
class Check:
    id: str
    severity: Severity
    meaning: str
    purposes: frozenset[Purpose]
    function: CheckFunction
    # Sees response images: the HTML report shows thumbnails of them.
    shows_images: bool = False
    # Judges exchanges that got no HTTP answer at all (a relay that held a request too long).
    judges_silence: bool = False

    def run(self, exchange: Exchange, context: CheckContext) -> list[Failure]:
        """Failures for ``exchange``; raises Skip when it does not apply."""
        if exchange.case.purpose not in self.purposes:
            raise Skip("purpose")
        if exchange.status is None and not self.judges_silence:
            raise Skip("no response")
        return list(self.function(exchange, context))


CHECKS: dict[str, Check] = {}


def check(check_id: str, severity: Severity, purposes: Iterable[Purpose], *, shows_images: bool = False,
          judges_silence: bool = False) -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated function as check ``check_id``; its docstring is the documented meaning."""

    def register(function: CheckFunction) -> CheckFunction:
        if check_id in CHECKS:
            raise ValueError(f"duplicate check id {check_id}")
        meaning = " ".join((function.__doc__ or "").split())
        CHECKS[check_id] = Check(check_id, severity, meaning, frozenset(purposes), function, shows_images,
                                 judges_silence)
        return function

    return register


def pointer(*tokens: str | int) -> str:
    """An RFC 6901 JSON pointer from path tokens."""
    return "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in tokens)


def walk_parts(document: Any) -> Iterator[tuple[str, int, int, dict[str, Any]]]:
    """(pointer, candidate index, part index, part) for every part of every candidate."""
    if not isinstance(document, dict):
        return
    for c_index, candidate in enumerate(document.get("candidates") or []):
        if not isinstance(candidate, dict):
            continue
        parts = (candidate.get("content") or {}).get("parts") or []
        for p_index, part in enumerate(parts):
            if isinstance(part, dict):
                yield pointer("candidates", c_index, "content", "parts", p_index), c_index, p_index, part


def camel_view(document: Any) -> Any:
    """The document with every key in lowerCamelCase, read the way the SDKs read it (leniently).

    Content checks judge meaning through this view, so a casing defect in a response is reported by
    ``response_schema_conformance`` alone and does not hide every other property.
    """
    return map_keys(document, snake_to_camel)


# Purposes whose requests are valid generateContent calls, so their 200 responses carry images.
GENERATING: frozenset[Purpose] = frozenset({"generate", "casing", "auth", "multi_turn", "settings"})


def success_body(exchange: Exchange) -> Any:
    """The camelCase view of a 200 JSON body; Skip for anything else (other checks judge those)."""
    if exchange.status != 200:
        raise Skip(f"HTTP {exchange.status}")
    if not isinstance(exchange.json, dict):
        raise Skip("body is not a JSON object")
    return camel_view(exchange.json)
