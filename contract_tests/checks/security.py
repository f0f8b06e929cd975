"""Leakage: what a relay must never hand its clients, and a relay that lets anyone in."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from contract_tests.checks.base import CheckContext, Failure, check
from contract_tests.generation.cases import Exchange, Purpose
from contract_tests.sandwich.session import SandwichRun
from schemas.wire.redaction import worth_redacting

__all__ = ["security_leakage"]

_ALL: tuple[Purpose, ...] = ("generate", "casing", "auth", "negative", "multi_turn", "stream", "models", "settings",
                             "relay")
# Hosts of Google's own API: named in a relay's response headers, they reveal where it forwards to
# (Google's bodies mention them legitimately, e.g. in quota details, so only headers are scanned).
_GOOGLE_API_HOSTS = ("generativelanguage.googleapis.com", "aiplatform.googleapis.com")


def _markers(exchange: Exchange, context: CheckContext) -> dict[str, str]:
    markers: dict[str, str] = {}
    if context.config.api_key and worth_redacting([context.config.api_key]):
        markers["the client's API key"] = context.config.api_key
    sandwich = context.relay
    if isinstance(sandwich, SandwichRun):
        markers.update(sandwich.upstream.leak_markers())
    return markers


@check("security_leakage", "security", _ALL)
def security_leakage(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """No response of the endpoint reveals a secret or its upstream: the client's API key, and in sandwich
    mode the upstream's URL, ``host:port`` or key (the one the relay injects) must not appear in any
    response header or body, and no response header names Google's API host when the endpoint is a
    relay. A wrong API key must be refused: a relay that accepts any key lets anyone spend its
    upstream quota. Found values are reported by what they are, never verbatim."""
    if exchange.case.wrong_key and exchange.status is not None and 200 <= exchange.status < 300:
        yield Failure("the endpoint accepted a wrong API key (anyone can use it)", "", "HTTP 400 API_KEY_INVALID",
                      exchange.status)
        context.supersede(exchange.index, "security_leakage", "error_envelope")
    headers = "\n".join(f"{name}: {value}" for name, value in exchange.headers.items())
    body = exchange.body.decode("utf-8", "replace")
    for what, marker in _markers(exchange, context).items():
        for place, text in (("a response header", headers), ("the response body", body)):
            if marker in text:
                yield Failure(f"{what} appears in {place}", "", "not revealed", f"{what} (redacted)")
    target_host = urlsplit(context.config.base_url).hostname or ""
    for host in _GOOGLE_API_HOSTS:
        if host in headers and not target_host.endswith(host):
            name = next(n for n, v in exchange.headers.items() if host in v)
            yield Failure(f"response header {name} names the upstream {host}", "", "not revealed", name)
