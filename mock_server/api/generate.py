"""``:generateContent`` and ``:countTokens``: from a checked request to Google's response bytes."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mock_server.answer.flavour import GEMINI, Flavour, flavour_of
from mock_server.answer.reply import Reply, encode_reply, new_response_id, plan_reply, render_reply
from mock_server.answer.token_count import count_tokens_document
from mock_server.answer.validation import (
    FileResolver,
    ImageRequest,
    parse_json_body,
    read_generate_request,
    read_validated,
)
from mock_server.instrument.journal import note_request
from mock_server.instrument.latency import plan_delay
from mock_server.instrument.scenarios import apply_scenario, scenario_of
from mock_server.runtime import Runtime, runtime_of
from mock_server.web.answers import remember_answer
from mock_server.web.errors import ApiError
from mock_server.web.http import json_bytes_response, pretty_json, read_body
from schemas import ModelProfile

__all__ = ["Prepared", "count_tokens", "generate_content", "plan_document", "prepare", "rendered_for"]

_CACHEABLE_BODY_BYTES = 64 * 1024
_SHORT_BODY_BYTES = 1024
_T = TypeVar("_T")


def _file_resolver(runtime: Runtime) -> FileResolver | None:
    resolver: FileResolver | None = runtime.extensions.get("file_resolver")
    return resolver


class Prepared(NamedTuple):
    image_request: ImageRequest
    reply: Reply
    pure: bool  # a function of the request bytes alone: a remembered plan, no scenario applied


async def prepare(request: Request, profile: ModelProfile) -> Prepared:
    """Parse, check and plan a request, then apply its scenario (never to the cached plan)."""
    image_request, reply, remembered = await _plan(request, profile)
    note_request(request.scope, image_request)
    reply = await apply_scenario(request, image_request, reply)
    return Prepared(image_request, reply, remembered and scenario_of(request.scope) is None)


async def _plan(request: Request, profile: ModelProfile) -> tuple[ImageRequest, Reply, bool]:
    """Parse, check and plan a request. The outcome of a small body is remembered by its digest, a
    refusal as well as a plan: the same bytes are never parsed, validated and planned twice (the third
    value says whether it is remembered)."""
    runtime = runtime_of(request)
    flavour = flavour_of(request.scope)
    body = await read_body(request)
    version = str(request.path_params.get("version", "v1beta"))
    # The version shows in a refusal's details.
    key = _cache_key(flavour, body, "generateContent", profile.model_id, version)
    try:
        cached = _recalled(runtime, key)
        if cached is not None:
            image_request, reply = cached
            return image_request, reply.with_changes(response_id=new_response_id()), True
        planned: tuple[ImageRequest, Reply] = await _remembered(
            runtime, key, body, lambda: plan_document(runtime, profile, parse_json_body(body), flavour, version))
    except ApiError:
        if key is not None:  # a refusal of these bytes is the answer to them every time
            remember_answer(request.scope)
        raise
    return *planned, key is not None


def _cache_key(flavour: Flavour, body: bytes, *parts: str) -> tuple[Any, ...] | None:
    """Where the outcome of ``body`` is remembered, or None when it must be worked out every time:
    large bodies, and bodies that may reference uploaded files (their outcome depends on server state)."""
    if not flavour.cacheable or len(body) > _CACHEABLE_BODY_BYTES or b"file" in body:
        return None
    # A short body is its own key (a dict hashes it in nanoseconds); a long one keys by digest.
    return (*parts, flavour.name, body if len(body) <= _SHORT_BODY_BYTES else hashlib.sha256(body).digest())


def _recalled(runtime: Runtime, key: tuple[Any, ...] | None) -> Any:
    """The remembered outcome under ``key`` (a remembered refusal is raised again), or None."""
    if key is None:
        return None
    cached = runtime.planned.get(key)
    if isinstance(cached, ApiError):
        raise cached.again()
    return cached


async def _remembered(runtime: Runtime, key: tuple[Any, ...] | None, body: bytes, work: Callable[[], _T]) -> _T:
    """``work()``'s outcome, remembered under ``key``: a refusal too, its envelope encoded once."""
    try:
        outcome = await _off_loop_if_large(body, work)
    except ApiError as error:
        if key is not None:
            error.encoded()  # once, shared by every copy answered from the cache
            runtime.planned.put(key, error.again())
        raise
    if key is not None:
        runtime.planned.put(key, outcome)
    return outcome


def plan_document(
    runtime: Runtime, profile: ModelProfile, document: Any, flavour: Flavour = GEMINI, api_version: str = "v1beta",
) -> tuple[ImageRequest, Reply]:
    """Check a parsed generateContent body and plan its reply (no scenario yet); batch items come here too."""
    document, options = flavour.read_request(document)
    image_request = read_generate_request(
        document, profile.model_id, unknown_image_size=runtime.settings.unknown_image_size,
        files=_file_resolver(runtime), api_version=flavour.gemini_version(api_version),
        max_input_pixels=runtime.settings.max_input_pixels,
    )
    reply = plan_reply(image_request, runtime.settings)
    return image_request, flavour.shape_reply(reply, image_request, options, runtime.settings)


async def rendered_for(runtime: Runtime, reply: Reply) -> dict[int, Any]:
    """The reply's images, one cache look-up each; rendering (CPU-bound, GIL-releasing) happens off
    the event loop."""
    rendered: dict[int, Any] = {}
    for index, part in enumerate(reply.parts):
        if part.image is not None and part.file_uri is None:  # a fileData image is never drawn
            image = runtime.images.get(part.image)
            if image is None:
                return await run_in_threadpool(render_reply, reply, runtime.images)
            rendered[index] = image
    return rendered


async def generate_content(request: Request, profile: ModelProfile) -> Response:
    runtime = runtime_of(request)
    image_request, reply, pure = await prepare(request, profile)
    delay = plan_delay(runtime, profile, image_request.image_size)
    if delay.total > 0:
        await asyncio.sleep(delay.total)
    rendered = await rendered_for(runtime, reply)
    if pure and not delay.total:  # images included: the same plan draws the same image
        remember_answer(request.scope, reply.response_id)
    return json_bytes_response(encode_reply(reply, rendered, runtime.settings.signing_secret))


async def count_tokens(request: Request, profile: ModelProfile) -> Response:
    """Prompt tokens for ``contents`` or a whole ``generateContentRequest``, as Gemini mode sends; the
    answer to a small body is remembered as encoded bytes, as a plan is."""
    runtime = runtime_of(request)
    flavour = flavour_of(request.scope)
    body = await read_body(request)
    version = flavour.gemini_version(str(request.path_params.get("version", "v1beta")))
    key = _cache_key(flavour, body, "countTokens", profile.model_id, version)
    if key is not None:
        remember_answer(request.scope)  # the count, or the refusal, of these bytes every time
    encoded: bytes | None = _recalled(runtime, key)
    if encoded is None:
        def work() -> bytes:
            return pretty_json(_count(body, profile, runtime, flavour, version))

        encoded = await _remembered(runtime, key, body, work)
    return json_bytes_response([encoded])


def _count(body: bytes, profile: ModelProfile, runtime: Runtime, flavour: Flavour, version: str) -> dict[str, Any]:
    document = flavour.read_count_request(parse_json_body(body))
    counted = read_validated(document, "count_tokens_request", version)
    inner: dict[str, Any] = counted.get("generateContentRequest") or {"contents": counted.get("contents", [])}
    inner.pop("model", None)
    if not inner.get("contents"):
        raise ApiError.named("contents_missing")
    # Counting shares the generate path's reading of images and text, so the numbers agree.
    image_request = read_generate_request(
        inner, profile.model_id, unknown_image_size="fallback", files=_file_resolver(runtime),
        api_version=version, generating=False, max_input_pixels=runtime.settings.max_input_pixels,
    )
    shaped: dict[str, Any] = flavour.shape_count(count_tokens_document(image_request), image_request)
    return shaped


async def _off_loop_if_large(body: bytes, work: Callable[[], _T]) -> _T:
    """``work()``: in a worker thread for large bodies (20,000 parts once held the loop for seconds),
    inline for small ones (a thread hop costs more than reading them)."""
    if len(body) > _CACHEABLE_BODY_BYTES:
        return await run_in_threadpool(work)
    return work()
