"""Verdicts that name the cause: one headline when most requests fail the same way, failures in
severity order with "and N more", and the endpoint's own body beside each finding."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from contract_tests.generation.cases import Exchange
from contract_tests.reporting.results import CheckResult, RunResult
from schemas.wire.casing import map_strings

__all__ = ["SEVERITY_ORDER", "Headline", "body_excerpt", "failure_lines", "headlines"]

SEVERITY_ORDER = ("security", "critical", "major", "minor")
SHOWN_PER_CHECK = 3
_EXCERPT_CHARS = 300
_MOST = 0.6  # "most requests": this share of the valid requests failing one way


@dataclass(frozen=True)
class Headline:
    """A root cause shared by many failures, and the likely fix."""

    cause: str
    fix: str
    affected: int
    total: int

    def __str__(self) -> str:
        return f"{self.affected} of {self.total} requests: {self.cause}. Likely fix: {self.fix}"


def body_excerpt(exchange: Exchange, limit: int = _EXCERPT_CHARS) -> str:
    """The start of a response body, long strings (image data) shortened, on one line."""
    if exchange.status is None:
        return f"no answer ({exchange.error})"
    document = exchange.json
    if document is not None:
        short = map_strings(document, lambda s: s if len(s) <= 80 else f"{s[:40]}...<{len(s)} chars>")
        text = json.dumps(short, ensure_ascii=False, separators=(",", ":"))
    else:
        text = " ".join(exchange.body[: limit * 2].decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[:limit] + "..."


def _is_google_envelope(document: Any) -> bool:
    error = document.get("error") if isinstance(document, dict) else None
    return isinstance(error, dict) and isinstance(error.get("code"), int) and isinstance(error.get("status"), str)


def _signature(exchange: Exchange) -> tuple[int, str]:
    document = exchange.json
    if _is_google_envelope(document):
        if "API_KEY_INVALID" in json.dumps(document["error"].get("details")):
            return exchange.status or 0, "API_KEY_INVALID"
        return exchange.status or 0, str(document["error"]["status"])
    return exchange.status or 0, "foreign" if document is not None else "not JSON"


def _cause(status: int, kind: str, result: RunResult) -> tuple[str, str]:
    path = urlsplit(result.target).path.rstrip("/")
    auth = str(result.config.get("auth", "header"))
    if status == 404 and path.rsplit("/", 1)[-1] in ("v1beta", "v1", "v1alpha", "models"):
        return (f"the base URL ends with '{path.rsplit('/', 1)[-1]}', so every path is doubled "
                "(/v1beta/v1beta/...)", f"pass the root: --base-url {result.target[: -len(path) or None]}")
    if status in (401, 403) or kind in ("UNAUTHENTICATED", "PERMISSION_DENIED", "API_KEY_INVALID"):
        others = ", ".join(f"--auth {style}" for style in ("header", "query", "bearer") if style != auth)
        return (f"the key was refused (HTTP {status} {kind}) when sent as --auth {auth}",
                f"check the key (a relay must send its own key upstream, not the client's), or try {others} "
                "(the relay may expect another auth style)")
    if status == 404:
        return "every model path is unknown (HTTP 404)", "check the base URL's path prefix and the model names"
    if kind in ("foreign", "not JSON"):
        return (f"HTTP {status} with a relay-specific body instead of Google's error envelope",
                "configure the relay to pass Google's errors through (or it is not a Gemini-native endpoint)")
    if status >= 500:
        return f"HTTP {status} {kind}: the relay or its upstream fails", "check the relay's upstream configuration"
    return f"HTTP {status} {kind}", "read the first failure's body excerpt"


def headlines(result: RunResult) -> list[Headline]:
    """Root causes shared by most valid requests, or by most error bodies (a relay-specific envelope)."""
    valid = [e for e in result.exchanges
             if e.status is not None and e.case.expect.error is None and e.case.purpose != "relay"]
    found: list[Headline] = []
    failing = Counter(_signature(e) for e in valid if e.status != 200)
    for (status, kind), count in failing.most_common(1):
        if count >= 2 and count >= _MOST * len(valid):
            cause, fix = _cause(status, kind, result)
            found.append(Headline(cause, fix, count, len(valid)))
    errors = [e for e in result.exchanges if e.status is not None and e.status >= 400 and e.case.purpose != "relay"]
    foreign = [e for e in errors if not _is_google_envelope(e.json)]
    if len(foreign) >= 2 and len(foreign) >= _MOST * len(errors) and not found:
        cause, fix = _cause(foreign[0].status or 0, "foreign", result)
        found.append(Headline(cause, fix, len(foreign), len(errors)))
    return found


def _ordered(checks: list[CheckResult]) -> list[CheckResult]:
    rank = {severity: index for index, severity in enumerate(SEVERITY_ORDER)}
    return sorted((c for c in checks if c.failures), key=lambda c: rank.get(c.severity, len(rank)))


def failure_lines(result: RunResult, shown: int = SHOWN_PER_CHECK) -> list[str]:
    """The console's account of the failures: headlines first, then by severity, each check's first
    ``shown`` failures with the endpoint's body, and how many more there are."""
    lines = [f"\nROOT CAUSE: {headline}" for headline in headlines(result)]
    for check in _ordered(result.checks):
        for record in check.failures[:shown]:
            failure = record.failure
            exchange = result.exchanges[record.exchange] if record.exchange < len(result.exchanges) else None
            answer = f"\n  endpoint answered HTTP {exchange.status}: {body_excerpt(exchange)}" if exchange else ""
            lines.append(f"\n{check.id} [{check.severity}]: {failure.message} at {failure.pointer or '/'} "
                         f"({record.request})\n  expected {failure.expected!r}, got {failure.actual!r}"
                         f"{answer}\n{record.reproducer}")
        if len(check.failures) > shown:
            lines.append(f"  ... and {len(check.failures) - shown} more {check.id} failures (see the report)")
    return lines
