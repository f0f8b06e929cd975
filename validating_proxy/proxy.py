"""``gemini-mock proxy --upstream URL``: relay traffic unchanged and judge every exchange.

Each request is read as Google reads it (``normalize`` against the request schema: unknown fields,
bad types and enums); each response is validated against its schema in ``schemas/`` (every chunk of
a stream too) and run through the contract suite's checks (``contract_tests.checks``) when that
package is importable. Violations are logged (keys redacted) and kept for ``GET /_mock/violations``;
for non-streamed responses they are also reported in headers: ``X-Mock-Violations: <count>`` and one
``X-Mock-Violation: <text>`` per violation (first ten). A streamed response has already left when its
last chunk is judged, so its headers report the request's violations only. Bodies are never touched.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import threading
from collections import deque
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from mock_server.answer.normalize import normalize
from mock_server.instrument.forwarding import Exchange, Forwarder, closing, decoded_body
from mock_server.web.front import Front
from mock_server.web.http import model_and_action
from schemas import validator
from schemas.wire.redaction import extract_api_key, redact_text, worth_redacting
from schemas.wire.sse import parse_stream
from validating_proxy.checks import carries_stream, contract_failures

__all__ = ["ViolationObserver", "add_proxy_command", "create_proxy", "find_violations"]

log = logging.getLogger("gemini_mock.proxy")

_HEADER_LIMIT = 10
_TEXT_LIMIT = 300
_REQUEST_SCHEMAS = {"generateContent": "generate_content_request", "streamGenerateContent": "generate_content_request",
                    "countTokens": "count_tokens_request"}


def _schema_errors(document: Any, name: str, where: str) -> list[str]:
    errors = sorted(validator(name).iter_errors(document), key=lambda e: list(e.path))
    return [f"{where}: {name} at /{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:20]]


def request_violations(exchange: Exchange) -> list[str]:
    _model, action = model_and_action(exchange.path)
    schema = _REQUEST_SCHEMAS.get(action or "")
    if exchange.method != "POST" or schema is None:
        return []
    try:
        document = json.loads(exchange.request_body or b"{}")
    except ValueError:
        return ["request: body is not JSON"]
    canonical, problems = normalize(document, schema)
    found = [f"request: {p.kind} field {(p.path + '.' if p.path else '') + p.name if p.name else p.path}"
             for p in problems]
    return found + _schema_errors(canonical, schema, "request")


def response_violations(exchange: Exchange) -> list[str]:
    model, action = model_and_action(exchange.path)
    body = decoded_body(exchange)
    if body is None:
        return []  # an encoding we cannot undo: nothing to judge
    content_type = exchange.response_header("content-type")
    if "json" not in content_type and "event-stream" not in content_type:
        return [f"response: content-type {content_type!r} is not JSON"] if exchange.status >= 400 or action else []
    try:
        documents = parse_stream(body) if carries_stream(exchange) and exchange.status < 400 else [json.loads(body)]
    except (ValueError, UnicodeDecodeError):
        return ["response: body is not valid JSON"]
    if exchange.status >= 400:
        document = documents[0]
        if isinstance(document, list) and len(document) == 1:
            document = document[0]  # JSON-array streams wrap errors in a list
        return _schema_errors(document, "error", "response")
    if action in ("generateContent", "streamGenerateContent"):
        name = "generate_content_response"
    elif action == "countTokens":
        name = "count_tokens_response"
    elif exchange.method == "GET" and "/models" in exchange.path:
        name = "model" if model else "list_models"
    else:
        return []
    found: list[str] = []
    for index, document in enumerate(documents):
        where = f"response chunk {index}" if carries_stream(exchange) else "response"
        schema = "error" if isinstance(document, dict) and "error" in document else name
        found += _schema_errors(document, schema, where)
    return found


def find_violations(exchange: Exchange, complete: bool = True) -> list[str]:
    """Request violations, plus (once the response is complete) response and contract violations."""
    key = "violations" if complete else "request_violations"
    if key not in exchange.notes:
        found = request_violations(exchange)
        if complete:
            found += response_violations(exchange) + contract_failures(exchange)
        exchange.notes[key] = found
    found_now: list[str] = exchange.notes[key]
    return found_now


class ViolationObserver:
    """Judges every exchange; keeps the last ``size`` reports."""

    def __init__(self, size: int = 1000) -> None:
        self.reports: deque[dict[str, Any]] = deque(maxlen=size)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    @staticmethod
    def _secrets(exchange: Exchange) -> list[str]:
        found = extract_api_key(dict(exchange.request_headers), dict(parse_qsl(exchange.query_string)))
        return worth_redacting([found[0]]) if found else []

    def extra_headers(self, exchange: Exchange) -> list[tuple[str, str]]:
        secrets = self._secrets(exchange)
        found = [redact_text(text, secrets) for text in find_violations(exchange, complete=not exchange.streamed)]
        headers = [("x-mock-violations", str(len(found)))]
        for text in found[:_HEADER_LIMIT]:
            clean = " ".join(text.split())[:_TEXT_LIMIT].encode("latin-1", "replace").decode("latin-1")
            headers.append(("x-mock-violation", clean))
        return headers

    def finished(self, exchange: Exchange) -> None:
        secrets = self._secrets(exchange)
        found = [redact_text(text, secrets) for text in find_violations(exchange)]
        report = {"method": exchange.method, "path": exchange.path, "status": exchange.status,
                  "streamed": exchange.streamed, "violations": found}
        with self._lock:
            report["id"] = next(self._ids)
            self.reports.append(report)
        for text in found:
            log.warning("contract violation: %s %s -> %d: %s", exchange.method, exchange.path, exchange.status, text)

    def state(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.reports)


def create_proxy(upstream: str) -> Starlette:
    observer = ViolationObserver()
    forwarder = Forwarder(upstream, observer)

    async def violations(request: Request) -> Response:
        if request.method == "DELETE":
            with observer._lock:
                observer.reports.clear()
        return JSONResponse({"reports": observer.state()})

    app = Starlette(
        routes=[Route("/_mock/violations", violations, methods=["GET", "DELETE"]), Mount("/", app=forwarder)],
        middleware=[Middleware(Front)], lifespan=closing(forwarder),
    )
    app.state.observer = observer
    return app


def _proxy(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    uvicorn.run(create_proxy(args.upstream), host=args.host, port=args.port, log_level=args.log_level,
                access_log=False)
    return 0


def add_proxy_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("proxy", help="relay to an upstream, validating every exchange")
    parser.add_argument("--upstream", required=True, help="base URL of the endpoint to watch")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    parser.set_defaults(func=_proxy)
