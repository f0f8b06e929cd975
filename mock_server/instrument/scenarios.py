"""Scenarios: provoke Google's failure modes on demand (catalogue in ``schemas/scenarios.json``).

A scenario is chosen per request, first match wins: the ``X-Mock-Scenario`` header, a
``[mock:NAME]`` marker in the prompt, then the server-side rules (``mock_server/instrument/scenario_rules.py``).
It is applied after the request was read and checked (bad input keeps its 4xx) and after the
planned-reply cache, so a cached plan never carries a scenario. Errors raise ``ApiError``;
content scenarios reshape the planned ``Reply``; transport faults raise ``ScenarioFault``, which
the app turns into a broken HTTP exchange; ``stream_cut`` is left in the request scope for the
streaming handler (``stream_plan``).
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mock_server.answer.parts import PlannedPart
from mock_server.answer.reply import Reply, answer_text
from mock_server.answer.thoughts import interim_parts
from mock_server.answer.usage import usage_metadata
from mock_server.answer.validation import ImageRequest
from mock_server.instrument.latency import scaled_seconds
from mock_server.instrument.quota import quota_error
from mock_server.instrument.scenario_rules import rules_of
from mock_server.runtime import runtime_of
from mock_server.web.answers import remember_answer
from mock_server.web.errors import JSON_CONTENT_TYPE, ApiError
from schemas import error_catalogue, load_profile_book, scenario_catalogue
from schemas.wire.casing import map_strings

__all__ = [
    "SCOPE_KEY", "TRUNCATED_BODY_KEY", "Scenario", "ScenarioFault", "StreamPlan", "apply_scenario",
    "fault_response", "scenario_of", "select_scenario", "stream_plan",
]

SCOPE_KEY = "gemini_mock.scenario"
TRUNCATED_BODY_KEY = "gemini_mock.truncated_body"  # a surface not shaped like generateContent: its own start


@dataclass(frozen=True)
class Scenario:
    name: str
    spec: dict[str, Any]
    source: str  # "header", "prompt" or "rule:<name>"
    params: str = "{}"  # a rule's parameters as canonical JSON: with ``name``, all ``spec`` depends on

    @property
    def kind(self) -> str:
        return str(self.spec["kind"])


@dataclass(frozen=True)
class StreamPlan:
    """How a stream must end, for the streaming handler: ``cut`` is 'error_chunk' or 'drop'."""

    cut: str
    after_chunks: int = 1
    error: ApiError | None = None


@dataclass
class ScenarioFault(Exception):
    """A transport-level scenario; ``fault_response`` renders it."""

    name: str
    spec: dict[str, Any] = field(default_factory=dict)


def lookup(name: str, source: str, params: dict[str, Any] | None = None) -> Scenario:
    catalogued = _catalogued(name, source)
    if not params:
        return catalogued
    return Scenario(name, {**catalogued.spec, **params}, source, json.dumps(params, sort_keys=True))


@lru_cache(maxsize=256)
def _catalogued(name: str, source: str) -> Scenario:
    """A catalogue scenario without parameters: one object per (name, source), as a marker or header
    names it on every request of a scripted run."""
    spec = scenario_catalogue()["scenarios"].get(name)
    if spec is None:
        known = ", ".join(scenario_catalogue()["scenarios"])
        raise ApiError(400, "INVALID_ARGUMENT", f"Unknown mock scenario \"{name}\" ({source}). Known: {known}.")
    return Scenario(name, dict(spec), source)


@cache
def _prompt_marker() -> re.Pattern[str]:
    return re.compile(scenario_catalogue()["promptMarker"])


async def select_scenario(request: Request, image_request: ImageRequest) -> Scenario | None:
    """The scenario for this request (header, then prompt marker, then rules), remembered in scope."""
    chosen: Scenario | None = None
    name = scenario_catalogue()["headerName"]
    # Membership first: a missing header is the common case, and Headers.get finds it by a KeyError.
    header = request.headers[name].strip() if name in request.headers else ""
    if header:
        chosen = lookup(header, "header")
    else:
        marker = _prompt_marker().search(image_request.prompt)
        if marker:
            chosen = lookup(marker.group(1), "prompt")
        else:
            book = rules_of(runtime_of(request))
            fired = await book.pick(request, image_request) if book.may_fire() else None
            if fired is not None:
                rule_name, name, params = fired
                chosen = lookup(name, f"rule:{rule_name}", params)
    if chosen is not None and chosen.kind == "none":
        chosen = None
    request.scope[SCOPE_KEY] = chosen
    return chosen


def scenario_of(scope: Scope) -> Scenario | None:
    scenario: Scenario | None = scope.get(SCOPE_KEY)
    return scenario


def stream_plan(scope: Scope) -> StreamPlan | None:
    """For the streaming handler: how to break the stream, or None for a normal stream."""
    scenario = scenario_of(scope)
    if scenario is None or scenario.kind != "stream":
        return None
    spec = scenario.spec
    error = ApiError.named(spec["error"]) if spec.get("cut", "error_chunk") == "error_chunk" else None
    return StreamPlan(cut=str(spec.get("cut", "error_chunk")), after_chunks=int(spec.get("afterChunks", 1)),
                      error=error)


async def apply_scenario(request: Request, image_request: ImageRequest, reply: Reply) -> Reply:
    """Select and apply this request's scenario to its planned reply."""
    scenario = await select_scenario(request, image_request)
    if scenario is None:
        return reply
    kind = scenario.kind
    if kind == "error":
        if scenario.source in ("header", "prompt"):  # named by the request itself: its answer every time
            remember_answer(request.scope)
        raise error_for(scenario, image_request.profile.model_id)
    if kind == "transport":
        raise ScenarioFault(scenario.name, scenario.spec)
    if kind == "delay":
        _median, p99 = image_request.profile.latency_ms(image_request.image_size)
        delay_ms = float(scenario.spec.get("delayMs", p99 * float(scenario.spec.get("p99Multiple", 1.0))))
        await asyncio.sleep(scaled_seconds(runtime_of(request).settings, delay_ms))
        return reply
    if kind == "content":
        return reshape(scenario, image_request, reply)
    return reply  # "stream": the streaming handler reads stream_plan()


def error_for(scenario: Scenario, model_id: str) -> ApiError:
    return _scenario_error(scenario.name, scenario.params, model_id).again()


@lru_cache(maxsize=512)
def _scenario_error(name: str, params: str, model_id: str) -> ApiError:
    """An error scenario's answer, a pure function of the scenario and the model: built and encoded once
    (a client retrying a scripted 429 meets it again and again)."""
    spec = {**scenario_catalogue()["scenarios"][name], **json.loads(params)}
    retry_after = spec.get("retryAfterSeconds")
    values = {"model": model_id, "retry_after": retry_after}
    details = map_strings(spec.get("details", []), lambda text: text.format(**values))
    if "quotaViolations" in spec:
        error = quota_error(spec, model_id, details)
    else:
        error = ApiError.named(spec["error"], details=details)
    if retry_after is not None:
        error.headers["retry-after"] = str(retry_after)
    error.encoded()
    return error


def reshape(scenario: Scenario, request: ImageRequest, reply: Reply) -> Reply:
    """A content scenario's reply, billed as Google bills it (facts §4c)."""
    spec = scenario.spec
    thoughts = int(reply.usage.get("thoughtsTokenCount", 0))
    tier = reply.usage.get("serviceTier")  # as planned for the date answered for
    if "blockReason" in spec:  # the prompt itself was refused: no candidate, no thinking billed
        usage = usage_metadata(request, images=0, text_tokens=0, thoughts=0, service_tier=tier)
        return reply.with_changes(parts=(), has_candidate=False, finish_reason=None, finish_message=None,
                                  prompt_feedback={"blockReason": spec["blockReason"]}, usage=usage)
    if "interimImages" in spec:
        return _with_thought_images(request, reply, int(spec["interimImages"]))
    finish = str(spec["finishReason"])
    if finish == "STOP":  # text_only
        text = answer_text(request).replace("Here is the", "I can describe the")
        tokens = load_profile_book().text_tokens(text)
        part = PlannedPart(text=text, signed=request.profile.thinking)
        usage = usage_metadata(request, images=0, text_tokens=tokens, thoughts=thoughts, service_tier=tier)
        return reply.with_changes(parts=(part,), usage=usage)
    # Blocked or declined output: no parts, nothing billed for candidates, thinking still billed.
    message = error_catalogue()["finishMessages"].get(finish)
    usage = usage_metadata(request, images=0, text_tokens=0, thoughts=thoughts, service_tier=tier)
    return reply.with_changes(parts=(), finish_reason=finish, finish_message=message, usage=usage)


def _with_thought_images(request: ImageRequest, reply: Reply, count: int) -> Reply:
    """Interim images as Gemini 3 thinks (facts §5), even where the request did not ask for thoughts:
    thought text, drafts, thought text, then the final image as the last thought image."""
    if any(part.thought and part.image is not None for part in reply.parts):
        return reply  # the request already shows its thought images
    final = next((part.image for part in reply.parts if part.image is not None), None)
    if final is None or count < 1:
        return reply
    answer = tuple(part for part in reply.parts if not part.thought)
    return reply.with_changes(parts=interim_parts(request, final, count) + answer)


class _Dropped(Response):
    """Status line and headers, then the connection closes with the body missing."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        # Returning without completing the body: uvicorn closes the transport.


def fault_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ScenarioFault)
    if exc.name == "connection_reset":
        return _Dropped(headers={"content-type": JSON_CONTENT_TYPE, "content-length": "4096"})
    # malformed_body: the start of a plausible response, cut mid-string.
    body = b'{\n  "candidates": [\n    {\n      "content": {\n        "parts": [\n          {\n            "inlineData'
    body = request.scope.get(TRUNCATED_BODY_KEY, body)  # a surface shaped otherwise (Interactions) cuts its own
    return Response(body, status_code=200, media_type=JSON_CONTENT_TYPE)
