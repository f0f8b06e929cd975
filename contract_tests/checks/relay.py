"""Sandwich checks (``--upstream-fake``): faults arrive faithfully, requests are forwarded unchanged,
and the relay's answer equals the fake's direct answer to the same request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from contract_tests.checks.base import CheckContext, Failure, Skip, camel_view, check
from contract_tests.checks.images import final_images
from contract_tests.generation.cases import Exchange, Purpose
from contract_tests.sandwich.compare import (
    Difference,
    answer_differences,
    body_differences,
    header_differences,
    path_below,
    query_differences,
    query_pairs,
    raw_body_differences,
    resolved_differences,
)
from contract_tests.sandwich.session import Evidence, SandwichRun
from contract_tests.sandwich.upstream import TAG_PARAMETER
from schemas.wire.sse import parse_sse

__all__ = ["relay_differential", "relay_fault_fidelity", "relay_forwarding"]

_POSTS: tuple[Purpose, ...] = ("generate", "casing", "auth", "negative", "multi_turn", "stream", "settings", "relay")
# Every request the suite sends through a relay is tagged, so every one's forwarding is judged.
_FORWARDED: tuple[Purpose, ...] = (*_POSTS, "models", "probe", "interactions", "interactions_stream",
                                   "interactions_continuation", "interactions_negative", "batch")
_INTERACTIONS_CHECKS = ("interactions_image_dimensions", "interactions_usage", "interactions_image_present",
                        "interactions_continuation", "interactions_error_envelope", "interactions_schema")
# Findings of the sandwich explain what these checks would report about the same exchange.
_CONTENT_CHECKS = ("image_dimensions", "usage_arithmetic", "settings_effective", "casing_tolerance",
                   "image_present_or_explained", "status_code_conformance")


def _evidence(exchange: Exchange, context: CheckContext) -> tuple[SandwichRun, Evidence]:
    sandwich = context.relay
    if not isinstance(sandwich, SandwichRun):
        raise Skip("not judged: no --upstream-fake")
    evidence = sandwich.evidence.get(exchange.index)
    if evidence is None:
        raise Skip("not judged: request carries no tag")
    return sandwich, evidence


def _error(document: Any) -> dict[str, Any]:
    if isinstance(document, dict) and isinstance(document.get("error"), dict):
        return dict(document["error"])
    return {}


def _outcome(document: Any) -> dict[str, Any]:
    view = camel_view(document) if isinstance(document, dict) else {}
    candidates = [c for c in view.get("candidates") or [] if isinstance(c, dict)]
    return {"blockReason": (view.get("promptFeedback") or {}).get("blockReason"),
            "finishReason": [c.get("finishReason") for c in candidates]}


def _stream_ending(body: bytes) -> tuple[int, dict[str, Any]]:
    try:
        events = parse_sse(body)
    except ValueError:
        return -1, {}
    return len(events), _error(events[-1] if events else None)


@check("relay_fault_fidelity", "major", ("relay",), judges_silence=True)
def relay_fault_fidelity(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """Sandwich mode: every failure scenario of the fake provoked through the relay with its prompt
    marker (``rate_limited``, ``overloaded``, ``internal``, ``deadline_exceeded``, ``prompt_blocked``,
    ``image_safety``, ``no_image``, ``stream_cut``) arrives as the fake sent it: the same HTTP status,
    ``error.code``, ``error.status`` and ``details``, the ``Retry-After`` hint, ``finishReason`` and
    ``promptFeedback.blockReason``, and a cut stream's error event. Retrying is allowed (the journal
    shows each attempt); changing a 503 into a 500, losing the retry hint, or holding the client longer
    than the scenario timeout (12 s) is not: clients decide whether and when to retry from exactly these."""
    _sandwich, evidence = _evidence(exchange, context)
    if not evidence.probe.startswith("scenario:"):
        raise Skip("not judged: not a scenario probe")
    name = evidence.probe.removeprefix("scenario:")
    attempts = len(evidence.forwarded)
    if exchange.status is None:
        retried = f"; the relay sent it upstream {attempts} times" if attempts > 1 else ""
        waited = context.config.scenario_timeout_s
        yield Failure(f"upstream scenario {name}: no answer within {waited:g} s{retried}", "",
                      "the upstream's answer, passed on", exchange.error)
        return
    if not evidence.forwarded:
        yield Failure(f"upstream scenario {name}: the relay answered without asking the upstream", "",
                      "forwarded upstream", f"HTTP {exchange.status}")
        return
    direct = evidence.direct
    if direct is None or direct.status is None:
        raise Skip("not judged: the fake did not answer the direct request")
    context.note("relay_fault_fidelity", f"{name}: relay {exchange.elapsed_s * 1000:.0f} ms, upstream "
                 f"{direct.elapsed_s * 1000:.0f} ms, {attempts} upstream attempt(s)")
    if exchange.status != direct.status:
        yield Failure(f"upstream {name} (HTTP {direct.status}) arrived with another status", "",
                      direct.status, exchange.status)
    hint = direct.headers.get("retry-after")
    if hint is not None and not exchange.headers.get("retry-after"):
        yield Failure(f"upstream {name}: the Retry-After hint was lost", "", f"Retry-After: {hint}", None)
    if exchange.case.action == "streamGenerateContent":
        if _stream_ending(exchange.body) != _stream_ending(direct.body):
            yield Failure(f"upstream {name}: the cut stream arrived differently (events, final error)", "",
                          _stream_ending(direct.body), _stream_ending(exchange.body))
        return
    wanted, got = _error(direct.json), _error(exchange.json)
    for field in ("code", "status", "details"):
        if wanted.get(field) != got.get(field):
            yield Failure(f"upstream {name}: error.{field} changed", f"/error/{field}", wanted.get(field),
                          got.get(field))
    if not wanted and _outcome(direct.json) != _outcome(exchange.json):
        yield Failure(f"upstream {name}: finishReason or blockReason changed", "/candidates/0/finishReason",
                      _outcome(direct.json), _outcome(exchange.json))


def _sent(exchange: Exchange) -> Any:
    try:
        return json.loads(exchange.request_body or b"")
    except ValueError:
        return None


def _describe(difference: Difference, exchange: Exchange) -> str:
    where = difference.where
    if where.endswith(("/aspectRatio", "/imageSize")):
        return f"{where.rsplit('/', 1)[1]} changed on the way upstream"
    sent = _sent(exchange)
    if where.startswith("/generationConfig") and isinstance(sent, dict) and "generation_config" in sent:
        return "the snake_case generation_config was dropped on the way upstream (Google reads both spellings)"
    if exchange.case.purpose == "negative" and difference.kind == "dropped":
        return (f"unknown field {where} was stripped instead of forwarded: Google rejects it with 400, "
                "the relay turns an invalid request into a success")
    return f"field {where} {difference.kind} on the way upstream"


def _request_failures(exchange: Exchange, evidence: Evidence, forward: dict[str, Any],
                      context: CheckContext) -> Iterator[Failure]:
    """Path, query and headers as sent, whatever the request."""
    sent_path = path_below(exchange.url, context.config.base_url)
    if forward.get("path") != sent_path:
        yield Failure("the path was changed on the way upstream", "", sent_path, forward.get("path"))
    for difference in query_differences(exchange.url, forward.get("query")):
        if difference.kind == "added":
            context.note("relay_forwarding", f"the relay adds query parameter {difference.where[1:]}")
        else:
            yield Failure(f"query parameter {difference.where[1:]} {difference.kind} on the way upstream",
                          difference.where, difference.expected, difference.actual)
    for difference in header_differences(exchange.request_headers, forward.get("headers")):
        yield Failure("the body's Content-Type changed on the way upstream", "", difference.expected,
                      difference.actual)


def _body_failures(exchange: Exchange, evidence: Evidence, forward: dict[str, Any],
                   context: CheckContext) -> Iterator[Failure]:
    """The body as sent (casing-insensitively), or for an Interactions create what it resolves to."""
    if exchange.case.action == "interactions" and forward.get("prompt") is not None:
        direct = evidence.direct_entry
        if direct is None:
            return  # no direct request to compare what it resolves to
        if direct.get("prompt") is None:
            yield Failure("the upstream accepted the relay's request, but refuses the same request sent directly: "
                          "a field was dropped or changed on the way", "", f"HTTP {direct.get('status')}",
                          f"HTTP {forward.get('status')}")
            return
        for difference in resolved_differences(direct, forward):
            yield Failure(f"the Interactions request resolves to another {difference.where[1:] or 'body'} "
                          "upstream (a field was dropped or changed on the way)", difference.where,
                          difference.expected, difference.actual)
        return
    sent = _sent(exchange)
    if sent is None:
        for difference in raw_body_differences(exchange.request_body or b"", forward.get("body")):
            yield Failure("the body was changed on the way upstream", "", difference.expected, difference.actual)
        return
    differences = body_differences(sent, forward.get("body"))
    for difference in differences:
        if difference.kind == "added":
            context.note("relay_forwarding", f"the relay adds {difference.where} = {difference.actual!r}")
        else:
            yield Failure(_describe(difference, exchange), difference.where, difference.expected, difference.actual)


def _untagged_twin(exchange: Exchange, sandwich: SandwichRun, context: CheckContext) -> dict[str, Any] | None:
    """An untagged journal entry for this query-tagged request's method and path: the relay dropped the query."""
    path = path_below(exchange.url, context.config.base_url)
    return next((entry for entry in sandwich.untagged if entry.get("method") == exchange.case.method
                 and entry.get("path") == path and TAG_PARAMETER not in (entry.get("query") or {})), None)


@check("relay_forwarding", "major", _FORWARDED)
def relay_forwarding(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """Sandwich mode: the fake's journal shows what the relay forwarded, and it is what the client sent,
    for every request (generateContent, Interactions, ListModels and GetModel, batch jobs): the same path
    and query (the client's key aside), a JSON body's Content-Type, and the body compared
    casing-insensitively (proto JSON accepts both spellings): no field dropped or renamed (a snake_case
    ``generation_config`` included), unknown fields passed on for the upstream to reject rather than
    stripped, the same model, ratio and size (an Interactions create must resolve upstream to what it
    resolves to sent directly); a 200 is never invented without asking the upstream (a cache across
    different prompts); and the upstream accepts the relay's own key, not the client's. Fields and query
    parameters the relay adds are noted, not failed."""
    sandwich, evidence = _evidence(exchange, context)
    if not evidence.forwarded:
        twin = _untagged_twin(exchange, sandwich, context) if evidence.by == "query" else None
        if twin is not None:
            yield Failure("the query string was dropped on the way upstream (the quotaUser tag with it)", "",
                          dict(query_pairs(exchange.url)), twin.get("query"))
        elif exchange.status in (400, 401, 403) and exchange.case.expect.error is None and sandwich.refused_upstream:
            yield Failure("the upstream refused the key the relay sent: the relay forwards the client's key "
                          "instead of its own", "", "the relay's upstream key",
                          f"{sandwich.refused_upstream} requests refused upstream before reading their body")
            context.supersede(exchange.index, "relay_forwarding", "relay_fault_fidelity", *_CONTENT_CHECKS,
                              "auth_styles", "streaming")
        elif exchange.status == 200:
            yield Failure("the relay answered 200 without asking the upstream (a cached or invented answer)",
                          "", "a forwarded request", "no journal entry")
            context.supersede(exchange.index, "relay_forwarding", "relay_differential", *_CONTENT_CHECKS)
        return
    forward = evidence.forward or {}
    if exchange.case.model and forward.get("model") and forward.get("model") != exchange.case.model:
        yield Failure("the model was changed on the way upstream", "", exchange.case.model, forward.get("model"))
    direct_ok = evidence.direct is not None and evidence.direct.status == 200
    if forward.get("status") in (400, 401, 403) and direct_ok and exchange.case.expect.error is None:
        yield Failure("the upstream refused the key the relay sent: the relay forwards the client's key "
                      "instead of its own", "", "the relay's upstream key", f"HTTP {forward.get('status')} upstream")
    changed = [*_request_failures(exchange, evidence, forward, context),
               *_body_failures(exchange, evidence, forward, context)]
    yield from changed
    if changed:
        context.supersede(exchange.index, "relay_forwarding", "relay_differential", "error_envelope",
                          *_CONTENT_CHECKS, *_INTERACTIONS_CHECKS)


def _differential_failures(direct: Any, relayed: Any, prefix: str = "") -> Iterator[tuple[str, Difference]]:
    for difference in answer_differences(direct, relayed):
        where = difference.where
        if "/usageMetadata" in where:
            yield "usageMetadata was rewritten", difference
        elif where.endswith("/thoughtSignature"):
            yield f"a thoughtSignature was {'stripped' if difference.kind == 'dropped' else 'changed'}", difference
        elif where.endswith("/inlineData/data"):
            yield "image bytes were re-encoded or resized", difference
        else:
            yield f"field {where} {difference.kind} on the way back", difference


_SUPERSEDES = {"usageMetadata": ("usage_arithmetic",), "thoughtSignature": ("thought_signatures",),
               "image bytes": ("image_dimensions", "image_payload", "settings_effective"),
               "field": ("response_schema_conformance",)}


def _image_data(document: Any) -> set[str]:
    return {str(blob.get("data")) for _w, blob, _t in final_images(camel_view(document))} \
        if isinstance(document, dict) else set()


def _served_elsewhere(exchange: Exchange, evidence: Evidence, sandwich: SandwichRun) -> int | None:
    """The exchange whose direct answer carries this relayed answer's images, when it is another one."""
    mine = _image_data(exchange.json)
    if not mine or mine & _image_data(evidence.direct.json if evidence.direct else None):
        return None
    for index, other in sandwich.evidence.items():
        if other is not evidence and other.direct is not None and mine & _image_data(other.direct.json):
            return index
    return None


@check("relay_differential", "major", ("generate", "casing", "auth", "multi_turn", "stream", "settings"))
def relay_differential(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """Sandwich mode: the relay's answer equals the fake's direct answer to the same request, apart from
    ``responseId`` and transport headers: the same status, ``usageMetadata`` (not rewritten, thoughts not
    folded into candidates, details kept), ``thoughtSignature`` values (not stripped), fields, and image
    bytes (not re-encoded or resized, not another request's answer from a cache); streams event by
    event, the number of events included."""
    sandwich, evidence = _evidence(exchange, context)
    direct = evidence.direct
    if not evidence.forwarded or direct is None or direct.status is None:
        raise Skip("not judged: no direct answer to compare with")
    served = _served_elsewhere(exchange, evidence, sandwich)
    if served is not None:
        yield Failure("the relay served another request's answer (cached across different prompts)", "",
                      "the answer to this prompt", f"the answer to exchange #{served}")
        context.supersede(exchange.index, "relay_differential", *_CONTENT_CHECKS, "image_payload")
        return
    if exchange.status != direct.status:
        yield Failure("the relay's status differs from the upstream's", "", direct.status, exchange.status)
        return
    if exchange.case.action == "streamGenerateContent":
        try:
            mine, theirs = parse_sse(exchange.body), parse_sse(direct.body)
        except ValueError:
            return  # streaming reports unparseable events
        if len(mine) != len(theirs):
            yield Failure("the stream has a different number of events than upstream's", "", len(theirs), len(mine))
            return
        pairs = [(f"/event{i}", a, b) for i, (a, b) in enumerate(zip(theirs, mine, strict=True))]
    else:
        pairs = [("", direct.json, exchange.json)]
    seen: set[str] = set()
    for prefix, upstream, relayed in pairs:
        for message, difference in _differential_failures(upstream, relayed):
            if message in seen:
                continue  # one finding per kind and exchange; the first place shows it
            seen.add(message)
            yield Failure(message, prefix + difference.where, difference.expected, difference.actual)
            for key, checks in _SUPERSEDES.items():
                if message.startswith(key) or key in message:
                    context.supersede(exchange.index, "relay_differential", *checks)
