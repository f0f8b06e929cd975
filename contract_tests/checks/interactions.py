"""Checks of the Interactions API (``POST /{version}/interactions``), judged against schemas/interactions.

Content checks read the answer leniently (keys respelled to snake_case, as the SDK's generated client
does not), so a casing defect is reported by ``interactions_schema`` alone. A stream is judged through
the ``Interaction`` it assembles to: the completed event's header and usage plus the step deltas.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from contract_tests.checks.base import CheckContext, Failure, Skip, check, pointer
from contract_tests.checks.images import expected_size
from contract_tests.checks.schema import schema_failures
from contract_tests.generation.cases import Exchange, Purpose
from contract_tests.generation.images import decode_image, mime_of_bytes
from contract_tests.generation.interactions import NEGATIVE, VERTEX_NEGATIVE
from schemas import load_profile_book
from schemas.interactions import validator
from schemas.wire.b64 import decode_strict_base64
from schemas.wire.casing import camel_to_snake, map_keys
from schemas.wire.sse import parse_sse

__all__ = ["answer_of", "images_of"]

ANSWERS: tuple[Purpose, ...] = ("interactions", "interactions_stream", "interactions_continuation")
_MAX_REPORTED = 5


def _schema_failures(document: object, name: str, prefix: tuple[str | int, ...] = ()) -> Iterator[Failure]:
    errors = sorted(validator(name).iter_errors(document), key=lambda error: list(error.path))
    for error in errors[:_MAX_REPORTED]:
        yield Failure(f"interactions/{name}: {error.message}", pointer(*prefix, *error.path),
                      f"conforms to interactions/{name}.schema.json ({error.validator})", str(error.instance)[:160])


def _events(exchange: Exchange) -> list[Any]:
    try:
        return parse_sse(exchange.body.split(b"data: [DONE]")[0])
    except (ValueError, UnicodeDecodeError) as error:
        raise Skip(f"stream not parseable: {error}") from error


def answer_of(exchange: Exchange) -> dict[str, Any]:
    """The answer as one snake_case Interaction (a stream assembled from its events); Skip when not 200."""
    if exchange.status != 200:
        raise Skip(f"HTTP {exchange.status}")
    if exchange.case.purpose != "interactions_stream":
        if not isinstance(exchange.json, dict):
            raise Skip("body is not a JSON object")
        answer: dict[str, Any] = map_keys(exchange.json, camel_to_snake)
        return answer
    events = [map_keys(event, camel_to_snake) for event in _events(exchange) if isinstance(event, dict)]
    assembled: dict[str, Any] = {}
    steps: dict[int, dict[str, Any]] = {}
    for event in events:
        kind = event.get("event_type")
        if kind in ("interaction.created", "interaction.completed") and isinstance(event.get("interaction"), dict):
            assembled |= event["interaction"]
        elif kind == "step.start" and isinstance(event.get("step"), dict):
            steps[int(event.get("index", 0))] = dict(event["step"]) | {"content": []}
        elif kind == "step.delta" and isinstance(event.get("delta"), dict):
            delta = event["delta"]
            if delta.get("type") in ("text", "image"):
                steps.setdefault(int(event.get("index", 0)), {"type": "model_output", "content": []})["content"].append(
                    delta)
    assembled["steps"] = [steps[index] for index in sorted(steps)]
    return assembled


def images_of(answer: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(pointer, image block) for every image of every ``model_output`` step."""
    for s_index, step in enumerate(answer.get("steps") or []):
        if not isinstance(step, dict) or step.get("type") != "model_output":
            continue
        for c_index, block in enumerate(step.get("content") or []):
            if isinstance(block, dict) and block.get("type") == "image":
                yield pointer("steps", s_index, "content", c_index), block


@check("interactions_schema", "major", ANSWERS)
def interactions_schema(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """Every 200 answer of ``POST /interactions`` validates against schemas/interactions: the ``Interaction``
    resource (snake_case only, ``object: "interaction"``, known statuses, steps and content blocks,
    ``Usage``, no SDK-computed ``output_*`` fields), and for a stream every event against its
    ``event_type``'s shape. The SDK's generated client drops what it does not know."""
    if exchange.status != 200:
        raise Skip(f"HTTP {exchange.status}")
    if exchange.case.purpose == "interactions_stream":
        for index, event in enumerate(_events(exchange)):
            yield from _schema_failures(event, "sse_event", (f"event{index}",))
        return
    if exchange.json is None:
        raise Skip("body is not JSON")
    yield from _schema_failures(exchange.json, "interaction")


@check("interactions_image_present", "critical", ANSWERS)
def interactions_image_present(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """A completed answer to a valid image request carries at least one ``image`` block in a
    ``model_output`` step, unless it explains why not: a status other than ``completed`` with ``errors``,
    or a ``model_output.error``. A completed interaction without an image is a silent, billed failure."""
    answer = answer_of(exchange)
    if any(True for _ in images_of(answer)):
        return
    steps = [s for s in answer.get("steps") or [] if isinstance(s, dict)]
    if any(s.get("error") for s in steps) or (answer.get("status") != "completed" and answer.get("errors")):
        context.note("interactions_image_present", f"no image, explained (status {answer.get('status')})")
        return
    yield Failure("completed interaction without an image and without a reason", "/steps",
                  "an image block, or errors / model_output.error", answer.get("status"))


@check("interactions_image_dimensions", "major", ANSWERS)
def interactions_image_dimensions(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """Each output image is valid base64 whose bytes decode, whose ``mime_type`` names what the bytes are,
    and whose width x height is exactly the profile's for the requested ``aspect_ratio`` and
    ``image_size`` (a continuation without a ratio keeps the first turn's). Same table as generateContent."""
    answer = answer_of(exchange)
    profile, size = expected_size(exchange)
    expect = exchange.case.expect
    seen = False
    for where, block in images_of(answer):
        seen = True
        try:
            data = decode_strict_base64(block.get("data"))
            image = decode_image(data)
        except Exception as error:
            yield Failure(f"image data does not decode: {error}", where + "/data", "a decodable image", None)
            continue
        if mime_of_bytes(data) != block.get("mime_type"):
            yield Failure("mime_type does not match the bytes", where + "/mime_type", mime_of_bytes(data),
                          block.get("mime_type"))
        ratio = expect.aspect_ratio or "the default shape"
        wanted = profile.expected_dimensions(expect.aspect_ratio, size)
        if (image.width, image.height) != wanted:
            yield Failure(f"wrong dimensions for {ratio} at {size}", where + "/data", "x".join(map(str, wanted)),
                          f"{image.width}x{image.height}")
    if not seen:
        raise Skip("no image")


@check("interactions_usage", "major", ANSWERS)
def interactions_usage(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """``usage`` adds up: ``total_tokens = total_input_tokens + total_output_tokens + total_thought_tokens
    (+ total_tool_use_tokens)``, and the ``image`` line of ``output_tokens_by_modality`` is the model's
    per-image output cost (the same as generateContent's) times the images returned."""
    answer = answer_of(exchange)
    usage = answer.get("usage")
    if answer.get("status") != "completed" or not isinstance(usage, dict):
        raise Skip("no usage on a completed answer")
    parts = [usage.get(name, 0) for name in ("total_input_tokens", "total_output_tokens", "total_thought_tokens",
                                              "total_tool_use_tokens")]
    if not all(isinstance(value, int) for value in parts) or usage.get("total_tokens") != sum(parts):
        yield Failure("total_tokens is not input + output + thought + tool_use", "/usage/total_tokens",
                      sum(v for v in parts if isinstance(v, int)), usage.get("total_tokens"))
    profile = load_profile_book().get(exchange.case.model)
    size = exchange.case.expect.image_size
    if profile is None or size is None:
        return
    images = sum(1 for _ in images_of(answer))
    listed = [m for m in usage.get("output_tokens_by_modality") or [] if isinstance(m, dict)]
    image_tokens = sum(int(m.get("tokens", 0)) for m in listed if m.get("modality") == "image")
    wanted = images * profile.output_tokens_per_image(profile.canonical_image_size(size) or size)
    if image_tokens != wanted:
        yield Failure("image output tokens are not images x the per-image cost", "/usage/output_tokens_by_modality",
                      wanted, image_tokens)


@check("interactions_model_identity", "critical", ANSWERS)
def interactions_model_identity(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """The answer names the model that was asked for (``model``, without a ``models/`` prefix), is an
    ``object: "interaction"``, and, being stored (``store`` defaults to true), has an ``id``. A relay
    that silently routes to a cheaper model is caught here."""
    answer = answer_of(exchange)
    if answer.get("model") != exchange.case.model:
        yield Failure("the answer names another model", "/model", exchange.case.model, answer.get("model"))
    if answer.get("object") != "interaction":
        yield Failure("object is not 'interaction'", "/object", "interaction", answer.get("object"))
    if not isinstance(answer.get("id"), str) or not answer["id"]:
        yield Failure("a stored interaction has no id", "/id", "an id", answer.get("id"))


_ORDER_HEAD = ["interaction.created", "interaction.status_update"]


@check("interactions_stream_order", "major", ("interactions_stream",))
def interactions_stream_order(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """``stream: true`` answers ``text/event-stream``; each event is ``event: NAME`` plus a ``data:`` JSON
    whose ``event_type`` is NAME; the order is ``interaction.created``, ``interaction.status_update``,
    then per step ``step.start``, ``step.delta``*, ``step.stop`` (same index), then
    ``interaction.completed`` and finally ``data: [DONE]``."""
    if exchange.status != 200:
        raise Skip(f"HTTP {exchange.status}")
    if not exchange.content_type.lower().startswith("text/event-stream"):
        yield Failure("stream is not text/event-stream", "", "text/event-stream", exchange.content_type)
    text = exchange.body.decode("utf-8", "replace").replace("\r\n", "\n")
    blocks = [block for block in text.split("\n\n") if block.strip()]
    if not blocks or not blocks[-1].rstrip().endswith("data: [DONE]"):
        yield Failure("the stream does not end with data: [DONE]", "", "data: [DONE]", (blocks or [""])[-1][-40:])
    events = _events(exchange)
    kinds = [event.get("event_type") if isinstance(event, dict) else None for event in events]
    for index, (block, kind) in enumerate(zip(blocks, kinds, strict=False)):
        if not block.startswith(f"event: {kind}\n"):
            yield Failure("event: line does not match event_type", f"/event{index}", kind, block.split("\n")[0])
    if kinds[:2] != _ORDER_HEAD:
        yield Failure("the stream does not open with created, status_update", "/event0", _ORDER_HEAD, kinds[:2])
    if not kinds or kinds[-1] != "interaction.completed":
        yield Failure("the last event is not interaction.completed", "", "interaction.completed",
                      kinds[-1] if kinds else None)
    open_index: int | None = None
    for number, event in enumerate(events[2:-1], start=2):
        kind, index = event.get("event_type"), event.get("index")
        expected = ("step.start",) if open_index is None else ("step.delta", "step.stop")
        if kind not in expected or (open_index is not None and index != open_index):
            yield Failure("step events out of order", f"/event{number}", f"{' or '.join(expected)}", kind)
            return
        open_index = index if kind in ("step.start", "step.delta") else None


@check("interactions_continuation", "major", ("interactions_continuation",))
def interactions_continuation(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """A second turn that names the first through ``previous_interaction_id`` (without resending it) is
    answered 200 ``completed``, and its input includes the previous turn: the previous image shows up
    as ``image`` input tokens (or the input grew). Without server-side history an edit edits nothing."""
    if exchange.status != 200:
        yield Failure("the continuation was refused", "", 200, exchange.status)
        return
    answer = answer_of(exchange)
    if answer.get("status") != "completed":
        yield Failure("the continuation did not complete", "/status", "completed", answer.get("status"))
    usage: dict[str, Any] = answer["usage"] if isinstance(answer.get("usage"), dict) else {}
    by_modality = {m.get("modality"): m.get("tokens") for m in usage.get("input_tokens_by_modality") or []
                   if isinstance(m, dict)}
    previous = exchange.case.expect.previous_input_tokens
    grew = isinstance(previous, int) and isinstance(usage.get("total_input_tokens"), int) and \
        usage["total_input_tokens"] > previous
    if not by_modality.get("image") and not grew:
        yield Failure("the previous turn is not part of the input", "/usage/input_tokens_by_modality",
                      "image input tokens from the previous turn", usage.get("input_tokens_by_modality"))


@check("interactions_error_envelope", "major", ("interactions_negative",))
def interactions_error_envelope(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """Invalid Interactions requests get the status generateContent gives the same fault (400 bad input,
    404 unknown model or interaction id) and the Interactions envelope ``{"error": {"code": "<slug>",
    "message": "..."}}``: a string ``code`` (``invalid_request``, ``not_found``), no google.rpc ``status``.
    Never a 5xx, which the SDK would retry four times. On Vertex's Interactions paths (``--api-flavour
    vertex``) the envelope is Google's standard one, as every Vertex method answers: ``{"error": {"code":
    <HTTP status>, "message", "status": "INVALID_ARGUMENT" | "NOT_FOUND"}}``."""
    kind = exchange.case.expect.error or ""
    vertex = context.config.vertex
    status, code = (VERTEX_NEGATIVE if vertex else NEGATIVE)[kind]
    if exchange.status != status:
        yield Failure(f"{kind} answered with the wrong status", "", status, exchange.status)
    document: Any = exchange.json
    if not isinstance(document, dict) or not isinstance(document.get("error"), dict):
        yield Failure("error body is not {\"error\": {...}}", "",
                      "Google's error envelope" if vertex else "the Interactions envelope",
                      exchange.body[:160].decode("utf-8", "replace"))
        return
    error = document["error"]
    if not vertex:
        yield from _schema_failures(document, "error")
        if error.get("code") != code:
            yield Failure("wrong error code", "/error/code", code, error.get("code"))
        return
    yield from schema_failures(document, "error")
    if error.get("code") != status:
        yield Failure("error.code is not the HTTP status (Vertex answers google.rpc.Status)", "/error/code",
                      status, error.get("code"))
    if error.get("status") != code:
        yield Failure("wrong error.status", "/error/status", code, error.get("status"))
