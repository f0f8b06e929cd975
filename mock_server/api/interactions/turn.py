"""One turn of an interaction: planned like ``:generateContent``, finished as an ``Interaction``, stored.

A create is planned exactly like ``:generateContent`` (``request.py`` respells it; the scenario,
latency and journal instruments apply unchanged). With ``store`` (the default) the interaction and
its conversation are kept in the runtime's bounded ``InteractionStore``, so
``previous_interaction_id`` continues it server-side and GET returns it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from mock_server.answer.images import RenderedImage
from mock_server.answer.parts import stored_under
from mock_server.answer.reply import Reply, plan_reply
from mock_server.answer.validation import parse_json_body
from mock_server.api.interactions.request import CreateCall, invalid, read_create
from mock_server.api.interactions.resource import (
    TRUNCATED,
    interaction_usage,
    model_turn,
    new_interaction_id,
    now,
    output_steps,
    resource,
    status_of,
)
from mock_server.api.interactions.surface import admit
from mock_server.instrument.journal import note_request
from mock_server.instrument.scenarios import TRUNCATED_BODY_KEY, apply_scenario
from mock_server.runtime import Runtime, runtime_of
from mock_server.settings import Settings
from mock_server.state import state_of
from mock_server.state.interaction_store import InteractionStore, MemoryInteractionStore, SharedInteractionStore
from mock_server.web.errors import ApiError
from mock_server.web.http import read_body
from schemas import load_profile_book
from schemas.interactions import error_codes

__all__ = ["RUNNING", "Planned", "finished", "keep", "not_found", "plan_turn", "store_of"]

RUNNING = ("in_progress", "queued")


def store_of(runtime: Runtime) -> InteractionStore:
    store: InteractionStore | None = runtime.extensions.get("interactions")
    if store is None:
        settings, state = runtime.settings, state_of(runtime)
        kept: InteractionStore = (SharedInteractionStore(state, settings.interactions_ttl_seconds) if state.shared
                                  else MemoryInteractionStore(settings.interactions_store_bytes,
                                                              settings.interactions_ttl_seconds))
        store = runtime.extensions.setdefault("interactions", kept)
    return store


def not_found(interaction_id: str) -> ApiError:
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


def _text_tokens(reply: Reply) -> int:
    book = load_profile_book()
    return sum(book.text_tokens(part.text) for part in reply.parts if part.text and not part.thought)


def finished(planned: Planned, rendered: dict[int, RenderedImage]) -> dict[str, Any]:
    """The terminal ``Interaction`` (output steps only, as POST answers)."""
    call, reply = planned.call, planned.reply
    steps = output_steps(reply, rendered, call.profile.thinking, planned.settings.signing_secret)
    status, errors = status_of(reply)
    usage = interaction_usage(reply.usage, _text_tokens(reply))
    return resource(interaction_id=planned.interaction_id, status=status, model=call.model, created=planned.created,
                    service_tier=call.service_tier, steps=steps, usage=usage, errors=errors,
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
        raise not_found(previous)
    if record["history"] is None:
        status = record["interaction"]["status"]
        raise invalid("not_continuable", id=previous, status=status)
    history: list[dict[str, Any]] = record["history"]
    return history


async def plan_turn(request: Request) -> Planned:
    surface = admit(request)
    version = surface.rules_version if surface else str(request.path_params["version"])
    runtime = runtime_of(request)
    document = parse_json_body(await read_body(request))
    document, uri_prefix = surface.read_body(document) if surface else (document, None)
    call = read_create(document, version, _history(runtime, document), unknown_image_size=
                       runtime.settings.unknown_image_size, files=runtime.extensions.get("file_resolver"),
                       settings=runtime.settings, unknown_model=surface.unknown_model if surface else None)
    note_request(request.scope, call.image_request)
    settings = _settings_for(runtime.settings, call)
    request.scope[TRUNCATED_BODY_KEY] = TRUNCATED  # a malformed_body fault cuts an Interaction, not generateContent
    reply = await apply_scenario(request, call.image_request, plan_reply(call.image_request, settings))
    if uri_prefix is not None:  # delivered by reference: the images are named, never drawn
        reply = reply.with_changes(parts=tuple(stored_under(part, uri_prefix) for part in reply.parts))
    return Planned(call, reply, new_interaction_id(), now(), settings)
