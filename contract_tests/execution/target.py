"""The endpoint under test: sends cases through httpx (any transport), within budget and rate limit."""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import time
from collections.abc import Callable

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal

from contract_tests.config import RunConfig
from contract_tests.execution.budget import Budget, Pricing, RateLimiter
from contract_tests.generation.cases import Case, Exchange
from contract_tests.reporting.redact import KEY_PLACEHOLDER, redact, redact_bytes
from schemas.wire.casing import map_strings

__all__ = ["KEY_PLACEHOLDER", "Target", "TargetUnreachable", "curl_reproducer", "url_path"]

_ELIDE_OVER = 4096
_MAX_LATE_IN_A_ROW = 3
_BILLED = ("generateContent", "streamGenerateContent", "interactions")


class TargetUnreachable(Exception):
    """No HTTP response at all (connection refused, DNS, TLS, timeout)."""


class _AsyncTransportAdapter(httpx.BaseTransport):
    """Drives an async transport (e.g. ``httpx.ASGITransport(app=...)``) from the synchronous runner.

    One event loop in a helper thread serves every request, so app state bound to a loop stays valid.
    """

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self._transport = transport
        self._stack = contextlib.ExitStack()
        self._portal: BlockingPortal | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._portal is None:
            self._portal = self._stack.enter_context(start_blocking_portal())
        content = request.read()

        async def call() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            forwarded = httpx.Request(request.method, request.url, headers=request.headers, content=content)
            response = await self._transport.handle_async_request(forwarded)
            body = await response.aread()
            return response.status_code, response.headers.raw, body

        status, headers, body = self._portal.call(call)
        return httpx.Response(status, headers=headers, content=body, request=request)

    def close(self) -> None:
        self._stack.close()


def _elide(text: str) -> str:
    return f"<{len(text)} characters elided>" if len(text) > _ELIDE_OVER else text


def url_path(config: RunConfig, case: Case) -> str:
    """``case``'s path on the run's surface: model calls move to Vertex's publisher paths there."""
    if config.vertex and case.model and not case.route:
        return config.model_path(case.model, case.action)
    return case.path(config.api_version)


def curl_reproducer(case: Case, base_url: str, api_version: str, secrets: tuple[str, ...],
                    path: str | None = None) -> str:
    """A copy-pasteable curl command for ``case``; the key comes from ``$GEMINI_API_KEY``."""
    url = base_url + (path or case.path(api_version))
    query = dict(case.query)
    headers = [f"{name}: {value}" for name, value in case.headers.items()]
    key = "AIzaSy-contract-suite-deliberately-wrong-key" if case.wrong_key else KEY_PLACEHOLDER
    if case.auth == "query":
        query["key"] = key
    elif case.auth == "header":
        headers.append(f"x-goog-api-key: {key}")
    elif case.auth == "bearer":
        headers.append(f"Authorization: Bearer {key}")
    if query:
        url += "?" + "&".join(f"{name}={value}" for name, value in query.items())
    # Double quotes so the shell expands $GEMINI_API_KEY; nothing else in these strings is special.
    parts = [f'curl -sS -X {case.method} "{url}"']
    parts += [f'-H "{header}"' for header in headers]
    body = case.body()
    if body is not None and "content-type" not in case.headers:
        parts.append("-H 'Content-Type: application/json'")
        try:
            text = json.dumps(map_strings(json.loads(body), _elide), ensure_ascii=False)
        except ValueError:
            text = body.decode("utf-8", "replace")
        parts.append("--data-binary " + shlex.quote(text))
    return redact(" \\\n  ".join(parts), secrets)


class Target:
    """Sends cases to ``config.base_url``; every request passes the rate limiter and the budget first."""

    def __init__(self, config: RunConfig, transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
                 budget: Budget | None = None, pricing: Pricing | None = None,
                 on_exchange: Callable[[Exchange], None] | None = None) -> None:
        self.config = config
        self.pricing = pricing or Pricing(config.price_overrides)
        self.budget = budget or Budget(config.max_requests, config.budget_usd)
        self.limiter = RateLimiter(config.rate_limit_per_min)
        self.exchanges: list[Exchange] = []
        self._late_in_a_row = 0
        self._on_exchange = on_exchange
        sync_transport: httpx.BaseTransport | None
        if isinstance(transport, httpx.AsyncBaseTransport):
            sync_transport = _AsyncTransportAdapter(transport)
        else:
            sync_transport = transport
        self._client = httpx.Client(transport=sync_transport, timeout=config.timeout_s, follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def redact(self, text: str) -> str:
        return redact(text, self.config.secrets())

    def worst_case_cost(self, case: Case) -> float:
        """What ``case`` may cost: one image at the requested size."""
        # Negative cases are expected to be refused; if one is not, ``settle`` charges what it returned.
        if case.action == "batchGenerateContent":  # billed in full at creation: half price per image
            return sum(self.pricing.per_batch_image(case.model, item.image_size)
                       for item in case.expect.batch_items if not item.fails)
        if case.action not in _BILLED or case.purpose in ("negative", "interactions_negative"):
            return 0.0
        return self.pricing.per_image(case.model, case.expect.image_size or "")

    def send(self, case: Case) -> Exchange:
        """Send ``case``; raises BudgetExhausted before sending, TargetUnreachable if nothing answers."""
        reserved = self.worst_case_cost(case)
        self.budget.reserve(reserved)
        self.limiter.wait()
        config = self.config
        params = dict(case.query)
        headers = {"user-agent": "gemini-contract/0.1"}
        key = config.wrong_api_key if case.wrong_key else (config.api_key or "")
        if case.auth == "header":
            headers["x-goog-api-key"] = key
        elif case.auth == "query":
            params["key"] = key
        elif case.auth == "bearer":
            headers["authorization"] = f"Bearer {key}"
        body = case.body()
        if body is not None:
            headers["content-type"] = "application/json"
        headers.update(case.headers)
        request = self._client.build_request(
            case.method, config.base_url + url_path(config, case), params=params, headers=headers,
            content=body,
        )
        exchange = Exchange(
            index=len(self.exchanges), case=case, url=self.redact(str(request.url)),
            request_headers={name: self.redact(f"{name}: {value}").split(": ", 1)[1]
                             for name, value in request.headers.items()},
            request_body=body,
        )
        started = time.perf_counter()
        try:
            self._receive(request, exchange, started + config.timeout_s)
        except httpx.TransportError as error:
            exchange.error = self.redact(f"{type(error).__name__}: {error}")
            exchange.elapsed_s = time.perf_counter() - started
            self.budget.settle(reserved, 0.0)
            self._record(exchange)
            raise TargetUnreachable(exchange.error) from error
        exchange.elapsed_s = time.perf_counter() - started
        exchange.cost_usd = self._actual_cost(case, exchange)
        self.budget.settle(reserved, exchange.cost_usd)
        self._record(exchange)
        late = exchange.problem is not None and "deadline" in exchange.problem
        self._late_in_a_row = self._late_in_a_row + 1 if late else 0
        if self._late_in_a_row >= _MAX_LATE_IN_A_ROW:  # each costs a whole deadline: stop, the verdict is in
            raise TargetUnreachable(f"{_MAX_LATE_IN_A_ROW} responses in a row missed the {config.timeout_s:g} s "
                                    "deadline")
        return exchange

    def _receive(self, request: httpx.Request, exchange: Exchange, deadline: float) -> None:
        """Status, headers and at most ``max_response_bytes`` of body, all before ``deadline``.

        The body is redacted as it is stored, before any check quotes (and cuts) a piece of it.
        """
        cap = self.config.max_response_bytes
        response = self._client.send(request, stream=True)
        chunks: list[bytes] = []
        size = 0
        try:
            exchange.status = response.status_code
            exchange.headers = {name.lower(): self.redact(value) for name, value in response.headers.items()}
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > cap:
                    exchange.problem = f"the body exceeded the {cap}-byte size cap (--max-response-bytes)"
                    break
                if time.perf_counter() > deadline:
                    exchange.problem = (f"the body did not complete within the {self.config.timeout_s:g} s "
                                        "deadline (--timeout)")
                    break
        except httpx.TimeoutException:
            exchange.problem = f"the body did not complete within the {self.config.timeout_s:g} s deadline (--timeout)"
        finally:
            response.close()
        exchange.body = redact_bytes(b"".join(chunks)[:cap], self.config.secrets())

    def _record(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)
        if self._on_exchange is not None:
            self._on_exchange(exchange)

    def _actual_cost(self, case: Case, exchange: Exchange) -> float:
        if case.action == "batchGenerateContent":
            return self.worst_case_cost(case) if exchange.status == 200 else 0.0
        if exchange.status != 200 or case.action not in _BILLED:
            return 0.0
        if case.action == "interactions":  # image blocks and image deltas, one per output image
            text = exchange.body.decode("utf-8", "replace")
            images = len(re.findall(r'"type": ?"image"', text))
            return max(images, 0) * self.pricing.per_image(case.model, case.expect.image_size or "")
        # Count final images in the body (a stream's images are counted from its text, one per inlineData).
        text = exchange.body.decode("utf-8", "replace")
        images = max(text.count('"inlineData"') + text.count('"inline_data"'), 0)
        thoughts = text.count('"thought": true') + text.count('"thought":true')
        images = max(images - thoughts, 1 if images else 0)
        size = case.expect.image_size or ""
        return images * self.pricing.per_image(case.model, size)
