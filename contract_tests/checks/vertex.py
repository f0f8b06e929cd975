"""The Vertex AI flavour of an answer (``--api-flavour vertex``), as recorded (README observations 3, 4, 8,
15, 19): what Vertex adds is checked here and removed before the shared schema checks judge the rest."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from contract_tests.checks.base import CheckContext, Failure, Skip, check, pointer
from contract_tests.config import RunConfig
from contract_tests.generation.cases import Exchange
from schemas import load_schema
from schemas.wire.sse import parse_sse

__all__ = ["gemini_view", "vertex_flavour"]

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def _additions() -> dict[str, Any]:
    additions: dict[str, Any] = load_schema("vertex_request_extras")["x-vertex-response"]
    return additions


def gemini_view(document: Any, config: RunConfig) -> Any:
    """A Vertex answer without Vertex's additions, for the Gemini API schemas; anything else unchanged."""
    if not config.vertex or not isinstance(document, dict):
        return document
    additions = _additions()
    view = {key: value for key, value in document.items() if key not in additions["topLevelAdditions"]}
    usage = view.get("usageMetadata")
    if isinstance(usage, dict):
        view["usageMetadata"] = {k: v for k, v in usage.items() if k not in additions["usageAdditions"]}
    return view


def _document_failures(document: Any, where: tuple[str | int, ...], final: bool) -> Iterator[Failure]:
    if not isinstance(document, dict):
        return
    for index, candidate in enumerate(document.get("candidates") or []):
        if not isinstance(candidate, dict):
            continue
        if "index" in candidate:
            yield Failure("Vertex candidates carry no index", pointer(*where, "candidates", index, "index"),
                          "absent", candidate["index"])
        content = candidate.get("content")
        if isinstance(content, dict) and "parts" in content and list(content)[:1] != ["role"]:
            yield Failure("Vertex content lists role before parts", pointer(*where, "candidates", index, "content"),
                          ["role", "parts"], list(content))
    keys = list(document)
    if not _TIMESTAMP.match(str(document.get("createTime", ""))):
        yield Failure("createTime is missing or not a timestamp", pointer(*where, "createTime"),
                      "RFC 3339 UTC", document.get("createTime"))
    elif "responseId" in keys and keys.index("createTime") > keys.index("responseId"):
        yield Failure("createTime does not come before responseId", pointer(*where), "createTime, responseId", keys)
    usage = document.get("usageMetadata")
    if not isinstance(usage, dict) or usage.get("trafficType") not in _additions()["trafficTypes"]:
        yield Failure("usageMetadata.trafficType is missing", pointer(*where, "usageMetadata", "trafficType"),
                      _additions()["trafficTypes"], (usage or {}).get("trafficType") if isinstance(usage, dict)
                      else None)
        return
    if not final:
        counts = sorted(key for key in usage if key.endswith("Count"))
        if counts:
            yield Failure("a non-final stream chunk carries token counts", pointer(*where, "usageMetadata"),
                          "only trafficType", counts)
        return
    details = usage.get("candidatesTokensDetails") or []
    itemised = sum(d.get("tokenCount", 0) for d in details if isinstance(d, dict))
    if "candidatesTokenCount" in usage and usage["candidatesTokenCount"] != itemised:
        yield Failure("candidatesTokenCount is not the sum of its itemised details",
                      pointer(*where, "usageMetadata", "candidatesTokenCount"), itemised, usage["candidatesTokenCount"])


@check("vertex_flavour", "major", ("generate", "casing", "auth", "multi_turn", "stream"))
def vertex_flavour(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """With ``--api-flavour vertex``, answers wear Vertex AI's recorded dress: candidates without
    ``index``, content ``role`` before ``parts``, a ``createTime`` timestamp before ``responseId``,
    ``usageMetadata.trafficType``, and ``candidatesTokenCount`` equal to the sum of its itemised
    ``candidatesTokensDetails`` (Vertex lists TEXT and IMAGE). Streamed: every chunk has the same
    ``createTime`` and non-final chunks carry no token counts."""
    if not context.config.vertex:
        raise Skip("not a Vertex run")
    if exchange.status != 200:
        raise Skip(f"HTTP {exchange.status}")
    if exchange.case.purpose != "stream":
        yield from _document_failures(exchange.json, (), final=True)
        return
    try:
        events = parse_sse(exchange.body)
    except ValueError:
        raise Skip("stream does not parse (streaming reports it)") from None
    for index, event in enumerate(events):
        yield from _document_failures(event, (f"event{index}",), final=index == len(events) - 1)
    times = {event.get("createTime") for event in events if isinstance(event, dict)}
    if len(times) > 1:
        yield Failure("createTime differs between chunks", "/createTime", "one timestamp", sorted(map(str, times)))
