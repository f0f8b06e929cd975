"""Invalid requests get the right 4xx with a google.rpc.Status envelope."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from contract_tests.checks.base import CheckContext, Failure, check, pointer
from contract_tests.checks.schema import schema_failures
from contract_tests.generation.cases import Exchange
from schemas import error_catalogue

__all__ = ["error_envelope"]


def _parses_to_envelope(text: Any) -> bool:
    if not isinstance(text, str):
        return False
    try:
        inner = json.loads(text)
    except ValueError:
        return False
    if isinstance(inner, list) and len(inner) == 1:
        inner = inner[0]
    return isinstance(inner, dict) and "error" in inner


@check("error_envelope", "major", ("negative",))
def error_envelope(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """Every invalid request (bad aspect ratio, bad image size, unknown field, malformed JSON,
    candidateCount 2, unknown model, missing key, wrong key) is refused with the HTTP code and
    ``error.status`` Google uses for it (from schemas/error_catalogue.json) and a google.rpc.Status
    envelope ``{"error": {"code", "message", "status", "details"?}}`` that validates against
    error.schema.json and is not double-encoded (a JSON string holding JSON, or an envelope inside
    ``message``). The SDKs build ``ClientError.code/status/message`` from exactly these fields."""
    expected = error_catalogue()["errors"][exchange.case.expect.error or ""]
    want_code, want_status = int(expected["code"]), str(expected["status"])
    if exchange.status != want_code:
        hint = " (an endpoint that accepts any key: pass --no-wrong-key-probe)" \
            if exchange.case.wrong_key and exchange.status is not None and 200 <= exchange.status < 300 else ""
        yield Failure(f"wrong HTTP status for {exchange.case.label}{hint}", "", want_code, exchange.status)
    document = exchange.json
    if isinstance(document, str) and _parses_to_envelope(document):
        yield Failure("error body is double-encoded (a JSON string containing the envelope)", "",
                      "a JSON object", "a JSON string")
        return
    if not isinstance(document, dict) or not isinstance(document.get("error"), dict):
        yield Failure("error body is not a google.rpc.Status envelope", "", '{"error": {...}}',
                      exchange.body[:200].decode("utf-8", "replace"))
        return
    status = document["error"]
    if _parses_to_envelope(status.get("message")):
        yield Failure("error message is itself an encoded error envelope", pointer("error", "message"),
                      "a human-readable message", status.get("message"))
    yield from schema_failures(document, "error")
    if status.get("status") != want_status:
        yield Failure(f"wrong error.status for {exchange.case.label}", pointer("error", "status"),
                      want_status, status.get("status"))
