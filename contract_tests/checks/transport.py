"""HTTP-level checks: status codes, server errors, content types."""

from __future__ import annotations

from collections.abc import Iterator

from contract_tests.checks.base import CheckContext, Failure, Skip, check, pointer
from contract_tests.generation.cases import Exchange
from schemas import error_catalogue

__all__ = ["content_type_conformance", "not_a_server_error", "status_code_conformance"]


def _envelope_code(exchange: Exchange) -> int | None:
    document = exchange.json
    if isinstance(document, dict) and isinstance(document.get("error"), dict):
        code = document["error"].get("code")
        return code if isinstance(code, int) else None
    return None


@check("not_a_server_error", "critical",
       ("generate", "casing", "auth", "negative", "multi_turn", "stream", "models"))
def not_a_server_error(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """No request, valid or invalid, is answered with a 5xx status. A server error on a valid request is an
    outage or a crash; on an invalid one it means input validation is missing and the client is told to
    retry something that can never succeed (the SDKs retry 500/503 when retries are on)."""
    assert exchange.status is not None
    if exchange.status >= 500:
        yield Failure("the endpoint answered with a server error", "", "a status below 500", exchange.status)


@check("status_code_conformance", "major", ("generate", "negative", "models"))
def status_code_conformance(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """A valid camelCase request (and GET models) is answered 200; every non-2xx status is one Google
    documents for this API (from schemas/error_catalogue.json) and equals the ``error.code`` in the
    body's envelope. Which 4xx an invalid request deserves is judged by ``error_envelope``, and
    snake_case spellings of valid requests by ``casing_tolerance``."""
    case = exchange.case
    status = exchange.status
    assert status is not None
    owns_success = case.purpose == "models" or (case.purpose == "generate" and case.casing == "camel")
    if owns_success and status != 200:
        yield Failure("a valid request was not answered with 200", "", 200, status)
    if 200 <= status < 300:
        return
    documented = {int(entry["code"]) for entry in error_catalogue()["errors"].values()}
    if status not in documented:
        yield Failure("status code is not one Google documents for this API", "", sorted(documented), status)
    code = _envelope_code(exchange)
    if code is not None and code != status:
        yield Failure("HTTP status and error.code disagree", pointer("error", "code"), status, code)


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


@check("content_type_conformance", "minor", ("generate", "casing", "auth", "negative", "multi_turn", "models"))
def content_type_conformance(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """Every response, success or error, is declared ``Content-Type: application/json`` (charset optional)
    and its body parses as JSON, as Google's are. Clients branch on the content type to decide between
    parsing a response and reporting an HTML error page from a proxy."""
    if not exchange.body and exchange.status == 204:
        raise Skip("no content")
    media = _media_type(exchange.content_type)
    if media != "application/json":
        yield Failure("response is not declared as JSON", "", "application/json", exchange.content_type or None)
    elif exchange.json is None:
        snippet = exchange.body[:200].decode("utf-8", "replace")
        yield Failure("body declared JSON does not parse", "", "valid JSON", snippet)
