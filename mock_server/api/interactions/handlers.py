"""``/{version}/interactions``: create (unary, stream, background), get, cancel, delete.

Each create is one turn (``turn.py``): planned like ``:generateContent``, answered as an
``Interaction``, and kept in the bounded store unless ``store`` is false.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from mock_server.api.generate import rendered_for
from mock_server.api.interactions.envelope import interactions_endpoint
from mock_server.api.interactions.events import DONE_FRAME, Framer, completion_events, opening_events, step_events
from mock_server.api.interactions.request import invalid
from mock_server.api.interactions.resource import now, resource
from mock_server.api.interactions.streaming import stream_answer
from mock_server.api.interactions.surface import admit
from mock_server.api.interactions.turn import RUNNING, Planned, finished, keep, not_found, plan_turn, store_of
from mock_server.api.webhooks.events import notify_interaction, read_webhook_config
from mock_server.instrument.latency import plan_delay
from mock_server.runtime import Runtime, runtime_of
from mock_server.web.errors import ApiError
from mock_server.web.http import json_response
from schemas.interactions import error_codes
from schemas.wire.sse import SSE_CONTENT_TYPE

__all__ = ["cancel", "create", "delete", "get"]


async def _complete_later(runtime: Runtime, planned: Planned, delay: float, webhook_config: Any) -> None:
    await asyncio.sleep(delay)
    rendered = await rendered_for(runtime, planned.reply)
    record = store_of(runtime).get(planned.interaction_id)
    if record is None or record["interaction"]["status"] not in RUNNING:
        return  # cancelled or deleted meanwhile: a cancelled interaction stays cancelled
    document = finished(planned, rendered)
    keep(runtime, planned, document)
    notify_interaction(runtime, document, webhook_config)


def _start_background(runtime: Runtime, planned: Planned) -> Response:
    call = planned.call
    webhook_config = read_webhook_config(runtime, call.webhook_config, "CreateInteractionRequest")
    document = resource(interaction_id=planned.interaction_id, status="in_progress", model=call.model,
                        created=planned.created, service_tier=call.service_tier, previous_id=call.previous_id,
                        echo=call.echo)
    store_of(runtime).put(planned.interaction_id, {"interaction": document | {"steps": call.user_steps},
                                                   "history": None})
    delay = plan_delay(runtime, call.profile, call.image_request.image_size).total
    task = asyncio.get_running_loop().create_task(_complete_later(runtime, planned, delay, webhook_config))
    tasks: set[asyncio.Task[None]] = runtime.extensions.setdefault("interaction_tasks", set())
    tasks.add(task)  # a reference, so the task is not collected before it ends
    task.add_done_callback(tasks.discard)
    return json_response(document)


@interactions_endpoint
async def create(request: Request) -> Response:
    runtime = runtime_of(request)
    planned = await plan_turn(request)
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
    admit(request)
    interaction_id = str(request.path_params["interaction_id"])
    record = store_of(runtime_of(request)).get(interaction_id)
    if record is None:
        raise not_found(interaction_id)
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
    last = request.query_params.get("last_event_id", "0") or "0"
    if not last.isdigit():
        raise invalid("bad_last_event_id", value=last)
    frame = Framer(resume_after=int(last))
    frames = [frame(event) for event in opening_events(document, interaction_id)]
    frames += [frame(event) for group in step_events(outputs) for event in group]
    if document["status"] not in RUNNING:
        frames += [frame(event) for event in completion_events(document, interaction_id)] + [DONE_FRAME]

    async def body() -> Any:
        for piece in frames:
            yield piece

    return StreamingResponse(body(), media_type=SSE_CONTENT_TYPE, headers={"cache-control": "no-cache"})


@interactions_endpoint
async def cancel(request: Request) -> Response:
    interaction_id, record = _record(request)
    document = dict(record["interaction"])
    if document["status"] not in RUNNING:
        raise invalid("not_cancellable", id=interaction_id, status=document["status"])
    document |= {"status": "cancelled", "updated": now()}
    store_of(runtime_of(request)).put(interaction_id, {"interaction": document, "history": None})
    return json_response({key: value for key, value in document.items() if key != "steps"})


@interactions_endpoint
async def delete(request: Request) -> Response:
    if runtime_of(request).settings.interactions_delete == "not_implemented":
        admit(request)
        raise ApiError(501, "UNIMPLEMENTED", error_codes()["messages"]["delete_not_implemented"])
    interaction_id, _record_found = _record(request)
    store_of(runtime_of(request)).delete(interaction_id)
    return json_response({})
