"""``/{version}/interactions``: create (unary, stream, background), get, cancel, delete.

A create is planned exactly like ``:generateContent`` (``request.py`` respells it; the scenario,
latency and journal instruments apply unchanged), then answered as an ``Interaction``. With
``store`` (the default) the interaction and its conversation are kept in the runtime's bounded
``InteractionStore``, so ``previous_interaction_id`` continues it server-side and GET returns it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from mock_server.answer.images import RenderedImage
from mock_server.answer.reply import Reply, plan_reply
from mock_server.answer.validation import parse_json_body
from mock_server.api.generate import rendered_for
from mock_server.api.interactions.envelope import interactions_endpoint
from mock_server.api.interactions.events import DONE_FRAME, completion_events, frame, opening_events, step_events
from mock_server.api.interactions.request import CreateCall, invalid, read_create
from mock_server.api.interactions.resource import (
    interaction_usage,
    model_turn,
    new_interaction_id,
    now,
    output_steps,
    resource,
    status_of,
)
from mock_server.api.interactions.streaming import stream_answer
from mock_server.instrument.journal import note_request
from mock_server.instrument.latency import plan_delay
from mock_server.instrument.scenarios import apply_scenario
from mock_server.runtime import Runtime, runtime_of
from mock_server.settings import Settings
from mock_server.state.interaction_store import InteractionStore, MemoryInteractionStore
from mock_server.web.errors import ApiError
from mock_server.web.http import check_version, json_response, read_body, require_key
from schemas.interactions import error_codes
from schemas.wire.sse import SSE_CONTENT_TYPE

__all__ = ["cancel", "create", "delete", "get", "store_of"]

_RUNNING = ("in_progress", "queued")


def store_of(runtime: Runtime) -> InteractionStore:
    store: InteractionStore | None = runtime.extensions.get("interactions")
    if store is None:
        settings = runtime.settings
        memory = MemoryInteractionStore(settings.interactions_store_bytes, settings.interactions_ttl_seconds)
        store = runtime.extensions.setdefault("interactions", memory)
    return store


def _not_found(interaction_id: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", error_codes()["messages"]["interaction_not_found"].format(id=interaction_id))


def _settings_for(settings: Settings, call: CreateCall) -> Settings:
    """``response_format.mime_type`` picks the encoding; without it, the generateContent default."""
    if call.mime_type is None:
        return settings
    return settings.with_changes(image_format="jpeg" if call.mime_type == "image/jpeg" else "png")


@dataclass(frozen=True)
class Planned:
    call: CreateCall
    reply: Reply
    interaction_id: str
    created: str
    settings: Settings


def finished(planned: Planned, rendered: dict[int, RenderedImage]) -> dict[str, Any]:
    """The terminal ``Interaction`` (output steps only, as POST answers)."""
    call, reply = planned.call, planned.reply
    steps = output_steps(reply, rendered, call.profile.thinking, planned.settings.signing_secret)
    status, errors = status_of(reply)
    return resource(interaction_id=planned.interaction_id, status=status, model=call.model, created=planned.created,
                    service_tier=call.service_tier, steps=steps, usage=interaction_usage(reply.usage), errors=errors,
                    previous_id=call.previous_id, echo=call.echo)


def keep(runtime: Runtime, planned: Planned, document: dict[str, Any]) -> None:
    """Store the interaction with its whole timeline and the conversation a continuation resumes."""
    call = planned.call
    timeline = dict(document) | {"steps": call.user_steps + document.get("steps", [])}
    answer = model_turn(document.get("steps", []))
    history = None
    if document["status"] == "completed":
        history = call.history + call.turn + ([answer] if answer else [])
    store_of(runtime).put(planned.interaction_id, {"interaction": timeline, "history": history})


def _history(runtime: Runtime, document: Any) -> list[dict[str, Any]] | None:
    previous = document.get("previous_interaction_id") if isinstance(document, dict) else None
    if not isinstance(previous, str) or not previous or document.get("store") is False:
        return None  # read_create reports store=false with a previous id
    record = store_of(runtime).get(previous)
    if record is None:
        raise _not_found(previous)
    if record["history"] is None:
        status = record["interaction"]["status"]
        raise invalid("not_continuable", id=previous, status=status)
    history: list[dict[str, Any]] = record["history"]
    return history


async def _plan(request: Request) -> Planned:
    version = check_version(request)
    require_key(request)
    runtime = runtime_of(request)
    document = parse_json_body(await read_body(request))
    call = read_create(document, version, _history(runtime, document), unknown_image_size=
                       runtime.settings.unknown_image_size, files=runtime.extensions.get("file_resolver"))
    note_request(request.scope, call.image_request)
    settings = _settings_for(runtime.settings, call)
    reply = await apply_scenario(request, call.image_request, plan_reply(call.image_request, settings))
    return Planned(call, reply, new_interaction_id(), now(), settings)


async def _complete_later(runtime: Runtime, planned: Planned, delay: float) -> None:
    await asyncio.sleep(delay)
    rendered = await rendered_for(runtime, planned.reply)
    record = store_of(runtime).get(planned.interaction_id)
    if record is None or record["interaction"]["status"] not in _RUNNING:
        return  # cancelled or deleted meanwhile: a cancelled interaction stays cancelled
    keep(runtime, planned, finished(planned, rendered))


def _start_background(runtime: Runtime, planned: Planned) -> Response:
    call = planned.call
    document = resource(interaction_id=planned.interaction_id, status="in_progress", model=call.model,
                        created=planned.created, service_tier=call.service_tier, previous_id=call.previous_id,
                        echo=call.echo)
    store_of(runtime).put(planned.interaction_id, {"interaction": document | {"steps": call.user_steps},
                                                   "history": None})
    delay = plan_delay(runtime, call.profile, call.image_request.image_size).total
    task = asyncio.get_running_loop().create_task(_complete_later(runtime, planned, delay))
    tasks: set[asyncio.Task[None]] = runtime.extensions.setdefault("interaction_tasks", set())
    tasks.add(task)  # a reference, so the task is not collected before it ends
    task.add_done_callback(tasks.discard)
    return json_response(document)


@interactions_endpoint
async def create(request: Request) -> Response:
    runtime = runtime_of(request)
    planned = await _plan(request)
    if planned.call.stream:
        return stream_answer(request, runtime, planned)
    if planned.call.background:
        return _start_background(runtime, planned)
    delay = plan_delay(runtime, planned.call.profile, planned.call.image_request.image_size).total
    if delay > 0:
        await asyncio.sleep(delay)
    document = finished(planned, await rendered_for(runtime, planned.reply))
    if planned.call.store:
        keep(runtime, planned, document)
    else:
        document.pop("id")  # observed: store=false answers carry no id
    return json_response(document)


def _record(request: Request) -> tuple[str, dict[str, Any]]:
    check_version(request)
    require_key(request)
    interaction_id = str(request.path_params["interaction_id"])
    record = store_of(runtime_of(request)).get(interaction_id)
    if record is None:
        raise _not_found(interaction_id)
    return interaction_id, record


@interactions_endpoint
async def get(request: Request) -> Response:
    interaction_id, record = _record(request)
    document: dict[str, Any] = dict(record["interaction"])
    if request.query_params.get("include_input", "true").lower() == "false":
        document["steps"] = [step for step in document.get("steps", []) if step["type"] != "user_input"]
    if request.query_params.get("stream", "false").lower() != "true":
        return json_response(document)
    outputs = [step for step in document.get("steps", []) if step["type"] != "user_input"]
    frames = [frame(event) for event in opening_events(document, interaction_id)]
    frames += [frame(event) for group in step_events(outputs) for event in group]
    if document["status"] not in _RUNNING:
        frames += [frame(event) for event in completion_events(document, interaction_id)] + [DONE_FRAME]

    async def body() -> Any:
        for piece in frames:
            yield piece

    return StreamingResponse(body(), media_type=SSE_CONTENT_TYPE, headers={"cache-control": "no-cache"})


@interactions_endpoint
async def cancel(request: Request) -> Response:
    interaction_id, record = _record(request)
    document = dict(record["interaction"])
    if document["status"] not in _RUNNING:
        raise invalid("not_cancellable", id=interaction_id, status=document["status"])
    document |= {"status": "cancelled", "updated": now()}
    store_of(runtime_of(request)).put(interaction_id, {"interaction": document, "history": None})
    return json_response({key: value for key, value in document.items() if key != "steps"})


@interactions_endpoint
async def delete(request: Request) -> Response:
    if runtime_of(request).settings.interactions_delete == "not_implemented":
        check_version(request)
        require_key(request)
        raise ApiError(501, "UNIMPLEMENTED", error_codes()["messages"]["delete_not_implemented"])
    interaction_id, _record_found = _record(request)
    store_of(runtime_of(request)).delete(interaction_id)
    return json_response({})
