"""``gemini-mock record --upstream URL --cassettes DIR``: forward to a real endpoint, keep what it said.

The recorder is a forwarding server (``forwarding.py``): clients point at it instead of the upstream,
get the upstream's answers unchanged, and each exchange is written to a cassette
(``cassettes.py``) with the key redacted. ``GET /_mock/recorder`` tells what was written or refused.
Replay with ``gemini-mock serve --replay DIR``.
"""

from __future__ import annotations

import argparse
import logging
import threading
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from mock_server.instrument.cassettes import CassetteStore, SecretLeak, canonical_request
from mock_server.instrument.forwarding import Exchange, Forwarder, closing
from mock_server.web.front import Front
from schemas.wire.redaction import extract_api_key, redact_text, worth_redacting

__all__ = ["Recorder", "add_record_command", "create_recorder"]

log = logging.getLogger("gemini_mock")


class Recorder:
    """Forwarder observer writing every finished exchange to the cassette store."""

    def __init__(self, store: CassetteStore, extra_secrets: tuple[str, ...] = ()) -> None:
        self.store = store
        self.extra_secrets = extra_secrets
        self.written: list[str] = []
        self.refused: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def extra_headers(self, exchange: Exchange) -> list[tuple[str, str]]:
        return []

    def finished(self, exchange: Exchange) -> None:
        headers = dict(exchange.request_headers)
        found = extract_api_key(headers, dict(parse_qsl(exchange.query_string)))
        secrets = [found[0]] if found else []
        secrets = worth_redacting(secrets + list(self.extra_secrets))
        canonical = canonical_request(exchange.method, exchange.path, exchange.query_string, headers,
                                      exchange.request_body)
        try:
            path = self.store.write(canonical, exchange.status, exchange.response_headers,
                                    exchange.response_body, secrets)
        except SecretLeak as exc:
            with self._lock:
                self.refused.append({"path": exchange.path, "reason": str(exc)})
            log.error("%s", redact_text(str(exc), secrets))
            return
        with self._lock:
            self.written.append(path.name)

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {"cassettes": str(self.store.directory), "written": list(self.written),
                    "refused": list(self.refused)}


def create_recorder(upstream: str, cassettes: str, extra_secrets: tuple[str, ...] = ()) -> Starlette:
    recorder = Recorder(CassetteStore(cassettes), extra_secrets)
    forwarder = Forwarder(upstream, recorder)

    async def state(_request: Request) -> Response:
        return JSONResponse(recorder.state())

    app = Starlette(
        routes=[Route("/_mock/recorder", state, methods=["GET"]), Mount("/", app=forwarder)],
        middleware=[Middleware(Front)], lifespan=closing(forwarder),
    )
    app.state.recorder = recorder
    return app


def _record(args: argparse.Namespace) -> int:
    app = create_recorder(args.upstream, args.cassettes, tuple(args.secret))
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


def add_record_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("record", help="forward to an upstream and record cassettes")
    parser.add_argument("--upstream", required=True, help="base URL of the real endpoint")
    parser.add_argument("--cassettes", required=True, metavar="DIR", help="directory for cassettes and blobs")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--secret", action="append", default=[], metavar="TEXT",
                        help="more text to redact and refuse to write (besides the client's key)")
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    parser.set_defaults(func=_record)
