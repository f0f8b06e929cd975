"""An Interactions create body, read as the equivalent generateContent request.

Both surfaces share one set of rules (ratios, sizes, limits, MIME types, token costs): the create
body is checked against ``schemas/interactions/create_request.schema.json``, then respelled as a
canonical generateContent body (history from ``previous_interaction_id`` first) and handed to
``read_generate_request``, exactly as ``:generateContent`` reads its own. Errors stay ``ApiError``;
the handlers render them in the Interactions envelope.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mock_server.answer.validation import FileResolver, ImageRequest, read_generate_request, sniff_mime
from mock_server.api.models import served_profile
from mock_server.settings import Settings
from mock_server.web.errors import ApiError
from schemas import ModelProfile
from schemas.interactions import error_codes, validator
from schemas.wire.b64 import decode_base64

__all__ = ["CreateCall", "invalid", "read_create"]

_STEP_TYPES = {"user_input", "model_output", "thought"}
_MODALITIES = {"text": "TEXT", "image": "IMAGE", "audio": "AUDIO", "video": "VIDEO", "document": "DOCUMENT"}
_RESPELL = (
    ("* GenerateContentRequest.generation_config.image_config.", "response_format."),
    ("* GenerateContentRequest.contents", "input"),
    ("* GenerateContentRequest.", ""),
    ("generation_config.image_config.", "response_format."),
)
_ECHOED = ("response_format", "generation_config", "system_instruction", "tools")


def invalid(message_name: str, **values: Any) -> ApiError:
    """A 400 with one of the Interactions-only texts of ``error_codes.json``."""
    return ApiError(400, "INVALID_ARGUMENT", error_codes()["messages"][message_name].format(**values))


@dataclass(frozen=True)
class CreateCall:
    """A checked create request: what to generate and how to answer."""

    model: str  # as the caller named it, without ``models/``
    profile: ModelProfile
    image_request: ImageRequest
    turn: list[dict[str, Any]]  # this turn's generateContent contents (user side)
    history: list[dict[str, Any]]  # contents of the previous interactions, oldest first
    user_steps: list[dict[str, Any]]  # this turn's input as Interactions steps (for GET)
    stream: bool = False
    background: bool = False
    store: bool = True
    previous_id: str | None = None
    service_tier: str = "standard"
    mime_type: str | None = None
    echo: dict[str, Any] = field(default_factory=dict)
    webhook_config: Any = None  # as sent; checked when a background interaction starts (api/webhooks/)


def _check_shape(document: Any) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise ApiError.named("root_not_object")
    for error in sorted(validator("create_request").iter_errors(document), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(part) for part in error.absolute_path)
        where = f" at '{path}'" if path else ""
        raise ApiError(400, "INVALID_ARGUMENT", f"Invalid request{where}: {error.message}")
    return document


def _part(content: dict[str, Any], path: str) -> dict[str, Any]:
    """One Interactions content block as a generateContent part."""
    kind = content["type"]
    if kind == "text":
        return {"text": content["text"]}
    if "data" in content:
        mime = content.get("mime_type")
        if mime is None:
            try:
                mime = sniff_mime(decode_base64(content["data"])) or "application/octet-stream"
            except (binascii.Error, ValueError) as exc:
                raise ApiError.named("bad_base64", path=f"{path}.data", value=content["data"][:50]) from exc
        return {"inlineData": {"mimeType": mime, "data": content["data"]}}
    if "uri" in content:
        blob = {"fileUri": content["uri"]} | ({"mimeType": content["mime_type"]} if "mime_type" in content else {})
        return {"fileData": blob}
    raise invalid("missing_image_data", path=path)


def _contents(value: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(generateContent contents, Interactions user_input steps) of an ``input``."""
    if isinstance(value, str):
        value = [{"type": "text", "text": value}]
    items = value if isinstance(value, list) else [value]
    contents: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    loose: list[tuple[str, dict[str, Any]]] = []  # content blocks outside steps form one user turn
    signature: str | None = None

    def flush() -> None:
        if loose:
            contents.append({"role": "user", "parts": [_part(block, path) for path, block in loose]})
            steps.append({"type": "user_input", "content": [block for _, block in loose]})
            loose.clear()

    for index, item in enumerate(items):
        path = f"input[{index}]" if isinstance(value, list) else "input"
        kind = item["type"]
        if kind not in _STEP_TYPES:
            loose.append((path, item))
            continue
        flush()
        if kind == "thought":
            signature = item.get("signature")
            continue
        blocks = item.get("content") or []
        parts = [_part(block, f"{path}.content[{n}]") for n, block in enumerate(blocks)]
        if kind == "model_output":
            # A thought step's signature covers the model output that follows it (its image).
            for part in parts:
                if signature and "inlineData" in part:
                    part["thoughtSignature"] = signature
            signature = None
            contents.append({"role": "model", "parts": parts})
        else:
            contents.append({"role": "user", "parts": parts})
            steps.append({"type": "user_input", "content": blocks})
    flush()
    return contents, steps


def _image_options(body: dict[str, Any]) -> tuple[tuple[str, ...] | None, dict[str, Any]]:
    """(response modalities or None for the default, the image entry) from either spelling."""
    generation = body.get("generation_config") or {}
    image: dict[str, Any] = dict(generation.get("image_config") or {})
    modalities: tuple[str, ...] | None = None
    if "response_modalities" in body:
        modalities = tuple(_MODALITIES[m] for m in body["response_modalities"])
    formats = body.get("response_format")
    if formats is not None:
        entries = formats if isinstance(formats, list) else [formats]
        modalities = tuple(_MODALITIES[entry["type"]] for entry in entries)
        for entry in entries:
            if entry["type"] != "image":
                continue
            for name in ("aspect_ratio", "image_size"):
                if name in entry and name in image and entry[name] != image[name]:
                    raise invalid("conflicting_image_options", field=name)
            image |= {k: v for k, v in entry.items() if k != "type"}
    return modalities, image


def _generation_config(body: dict[str, Any], profile: ModelProfile, model: str) -> dict[str, Any]:
    generation = body.get("generation_config") or {}
    modalities, image = _image_options(body)
    config: dict[str, Any] = {}
    if modalities is not None:
        unsupported = [m for m in modalities if m not in ("TEXT", "IMAGE")]
        if unsupported:
            raise invalid("unsupported_output", type=unsupported[0].lower(), model=model)
        config["responseModalities"] = list(modalities)
    if image.get("delivery") == "uri":
        raise invalid("unsupported_delivery")
    image_config = {camel: image[snake] for snake, camel in (("aspect_ratio", "aspectRatio"),
                                                             ("image_size", "imageSize")) if snake in image}
    if image_config:
        config["imageConfig"] = image_config
    level = generation.get("thinking_level")
    if level is not None:
        if profile.thinking_levels is not None and level.upper() not in profile.thinking_levels:
            raise invalid("thinking_level", level=level.upper())
        config["thinkingConfig"] = {"thinkingLevel": level.upper()}
    if generation.get("thinking_summaries") == "auto":
        config.setdefault("thinkingConfig", {})["includeThoughts"] = True
    if "seed" in generation:
        config["seed"] = generation["seed"]
    return config


def _mime_type(body: dict[str, Any], profile: ModelProfile) -> str | None:
    _, image = _image_options(body)
    mime = image.get("mime_type")
    # image/jpeg is the only value the SDK's enum knows, shown for every model; the catalogue adds the rest.
    allowed = sorted({"image/jpeg", *profile.output_mime_types})
    if mime is not None and mime not in allowed:
        raise invalid("unsupported_mime", mime=mime, choices=", ".join(allowed))
    return str(mime) if mime is not None else None


def _respelled(error: ApiError) -> ApiError:
    """generateContent's field paths in a rule's message, named as the Interactions request names them."""
    message = error.message
    for old, new in _RESPELL:
        message = message.replace(old, new)
    return ApiError(error.code, error.status, message.strip(), error.details, error.headers)


def read_create(
    document: Any, version: str, history: list[dict[str, Any]] | None, *, unknown_image_size: str,
    files: FileResolver | None, settings: Settings | None = None,
    unknown_model: Callable[[str], ApiError] | None = None,
) -> CreateCall:
    """Check a create body; ``history`` is the stored conversation of ``previous_interaction_id``.

    With ``settings``, a model not served on ``settings.as_of`` is unknown, as on generateContent;
    ``unknown_model`` is the error another surface (Vertex AI) answers for it instead."""
    body = _check_shape(document)
    model = body["model"].removeprefix("models/")
    profile = served_profile(model, settings)
    if profile is None:
        if unknown_model is not None:
            raise unknown_model(model)
        raise ApiError.named("model_not_found", model=model, version=version, method="createInteraction")
    if body.get("input") in (None, "", []):
        raise invalid("input_required")
    store = bool(body.get("store", True))
    if not store and body.get("previous_interaction_id"):
        raise invalid("store_false_continuation")
    if not store and body.get("background"):
        raise invalid("store_false_background")
    turn, user_steps = _contents(body["input"])
    generate: dict[str, Any] = {"contents": [*(history or []), *turn]}
    if body.get("system_instruction"):
        generate["systemInstruction"] = {"parts": [{"text": body["system_instruction"]}]}
    if any(tool.get("type") == "google_search" for tool in body.get("tools") or []):
        generate["tools"] = [{"googleSearch": {}}]
    config = _generation_config(body, profile, model)
    if config:
        generate["generationConfig"] = config
    mime = _mime_type(body, profile)
    try:
        image_request = read_generate_request(generate, profile.model_id, unknown_image_size=unknown_image_size,
                                              files=files)
    except ApiError as error:
        raise _respelled(error) from None
    return CreateCall(
        model=model, profile=profile, image_request=image_request, turn=turn, history=list(history or []),
        user_steps=user_steps, stream=bool(body.get("stream")), background=bool(body.get("background")),
        store=store, previous_id=body.get("previous_interaction_id"),
        service_tier=str(body.get("service_tier") or "standard"), mime_type=mime,
        echo={name: body[name] for name in _ECHOED if name in body}, webhook_config=body.get("webhook_config"),
    )
