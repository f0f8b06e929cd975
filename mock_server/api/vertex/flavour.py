"""The Vertex AI flavour: Vertex-only request fields read off, the shared answer dressed as Vertex sends it.

Request: ``imageConfig.personGeneration / prominentPeople / imageOutputOptions``, ``responseFormat`` as an
array with enum names, ``outputConfig`` and ``modelArmorConfig`` are checked against
``schemas/vertex_request_extras.schema.json`` and removed; what remains is an ordinary generateContent
body for the shared validation. ``responseFormat[].image`` wins over ``imageConfig`` (Vertex marks the
latter deprecated). Honoured: output MIME type and JPEG quality, ``outputUriPrefix`` (``fileData.fileUri``
instead of inline bytes). Accepted and ignored: person and prominent-people policies, Model Armor.

Answer, as recorded (README observations 3, 4, 8, 12, 15, 19): content ``role`` before ``parts``,
candidates without ``index``, ``createTime`` before ``responseId`` (same in every chunk),
``usageMetadata.trafficType``, TEXT and IMAGE both itemised so ``candidatesTokenCount`` is their sum,
non-final stream chunks carry ``{"trafficType"}`` only, and thinking models show a ``thought: true``
summary before the image even when includeThoughts is off (``Settings.vertex_thought_summaries``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from typing import Any

from mock_server.answer.flavour import Flavour, register
from mock_server.answer.parts import stored_under
from mock_server.answer.reply import PlannedPart, Reply
from mock_server.answer.thoughts import thought_texts
from mock_server.answer.validation import ImageRequest, read_validated
from mock_server.settings import Settings
from mock_server.web.errors import ApiError
from schemas import load_json, load_schema
from schemas.wire.casing import snake_to_camel

__all__ = ["VERTEX", "VertexFlavour"]

_EXTRAS = "vertex_request_extras"
_TOP_LEVEL = ("outputConfig", "modelArmorConfig")
_IMAGE_CONFIG = ("personGeneration", "prominentPeople", "imageOutputOptions")
# Key order of a Vertex usageMetadata (byte-faithful capture js-genai__stream_image_output_vertex_2025-07).
_USAGE_ORDER = ("promptTokenCount", "candidatesTokenCount", "totalTokenCount", "trafficType", "promptTokensDetails",
                "candidatesTokensDetails", "thoughtsTokenCount", "toolUsePromptTokenCount")
_DROPPED_USAGE = ("serviceTier",)  # a Gemini API field; Vertex reports trafficType instead


@cache
def _wire_values(field: str) -> dict[str, str]:
    """Enum name -> imageConfig string for a ``responseFormat.image`` field: the Gemini API's table
    (``proto_enums.json``) plus what only Vertex's enum has (``x-wire-values`` in its schema)."""
    shared: dict[str, str] = load_json("proto_enums.json")["imageResponseFormat"].get(field, {})
    node = load_schema(_EXTRAS)["properties"]["generationConfig"]["properties"]["responseFormat"]["items"]
    return {**shared, **node["properties"]["image"]["properties"][field].get("x-wire-values", {})}


def _take(mapping: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """Remove and return the entries of ``mapping`` that spell one of ``names`` (camelCase or snake_case)."""
    keys = [key for key in mapping if snake_to_camel(key) in names]
    return {key: mapping.pop(key) for key in keys}


def _key_for(mapping: dict[str, Any], name: str) -> str:
    """The key ``mapping`` already uses for ``name`` (either spelling), else the camelCase one."""
    return next((key for key in mapping if snake_to_camel(key) == name), name)


def _split(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the body without Vertex-only fields, those fields in the same nesting)."""
    body = dict(document)
    extras = _take(body, _TOP_LEVEL)
    generation_key = _key_for(body, "generationConfig")
    generation = body.get(generation_key)
    if isinstance(generation, dict):
        generation = body[generation_key] = dict(generation)
        generation_extras = _take(generation, ("responseFormat",))
        image_key = _key_for(generation, "imageConfig")
        image_config = generation.get(image_key)
        if isinstance(image_config, dict):
            image_config = generation[image_key] = dict(image_config)
            taken = _take(image_config, _IMAGE_CONFIG)
            if taken:
                generation_extras["imageConfig"] = taken
        if generation_extras:
            extras["generationConfig"] = generation_extras
    return body, extras


def _apply_response_format(body: dict[str, Any], formats: list[dict[str, Any]], options: dict[str, Any]) -> None:
    """``responseFormat[].image`` onto imageConfig and the output options (it wins over imageConfig)."""
    image = next((entry["image"] for entry in formats if "image" in entry), None)
    if image is None:
        return
    generation = body.setdefault(_key_for(body, "generationConfig"), {})
    image_config = generation.setdefault(_key_for(generation, "imageConfig"), {})
    for field, target in (("aspectRatio", "aspectRatio"), ("imageSize", "imageSize")):
        value = _wire_values(field).get(str(image.get(field, "")))
        if value is not None:
            for key in [key for key in image_config if snake_to_camel(key) == target]:
                del image_config[key]
            image_config[target] = value
    mime = _wire_values("mimeType").get(str(image.get("mimeType", "")))
    if mime is not None:
        options["mime_type"] = mime
    if "compressionQuality" in image:
        options["quality"] = int(image["compressionQuality"])
    if image.get("delivery") == "URI":
        options["delivery_uri"] = True


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class VertexFlavour(Flavour):
    name = "vertex"
    cacheable = False  # every answer carries its own createTime

    def gemini_version(self, version: str) -> str:
        return "v1beta"  # Vertex's v1 and v1beta1 take what the Gemini API's most permissive version takes

    def read_request(self, document: Any) -> tuple[Any, dict[str, Any]]:
        if not isinstance(document, dict):
            return document, {}
        body, extras = _split(document)
        checked = read_validated(extras, _EXTRAS) if extras else {}
        options: dict[str, Any] = {}
        generation = checked.get("generationConfig", {})
        output_options = generation.get("imageConfig", {}).get("imageOutputOptions", {})
        if "mimeType" in output_options:
            options["mime_type"] = output_options["mimeType"]
        if "compressionQuality" in output_options:
            options["quality"] = int(output_options["compressionQuality"])
        _apply_response_format(body, generation.get("responseFormat", []), options)
        prefix = checked.get("outputConfig", {}).get("outputUriPrefix")
        if options.pop("delivery_uri", False) and not prefix:
            raise ApiError.named("data_missing", path="output_config.output_uri_prefix", field="output_uri_prefix")
        if prefix:
            options["uri_prefix"] = prefix if prefix.endswith("/") else prefix + "/"
        return body, options

    def read_count_request(self, document: Any) -> Any:
        if not isinstance(document, dict):
            return document
        inner = {key: value for key, value in document.items() if snake_to_camel(key) not in ("model", "instances")}
        body, _options = self.read_request(inner)
        return {"generateContentRequest": body}

    def shape_reply(self, reply: Reply, request: ImageRequest, options: dict[str, Any], settings: Settings) -> Reply:
        parts = [self._shape_part(part, options) for part in reply.parts]
        if (settings.vertex_thought_summaries == "always" and request.profile.thinking
                and parts and not any(part.thought for part in parts)):
            parts.insert(0, PlannedPart(text=thought_texts(request)[0], thought=True))
        return reply.with_changes(parts=tuple(parts), flavour=self.name, create_time=_now())

    @staticmethod
    def _shape_part(part: PlannedPart, options: dict[str, Any]) -> PlannedPart:
        if part.image is None:
            return part
        image = part.image
        if "mime_type" in options:
            image = replace(image, mime_type=options["mime_type"])
        if "quality" in options:
            image = replace(image, quality=options["quality"])
        part = replace(part, image=image, file_uri=None)
        return stored_under(part, options["uri_prefix"]) if "uri_prefix" in options else part

    def shape_document(self, reply: Reply, document: dict[str, Any], first: bool, final: bool) -> dict[str, Any]:
        shaped: dict[str, Any] = {}
        for key, value in document.items():
            if key == "candidates":
                shaped[key] = [_candidate(candidate) for candidate in value]
            elif key == "usageMetadata":
                shaped[key] = _usage(value) if final else {"trafficType": "ON_DEMAND"}
            elif key != "responseId":
                shaped[key] = value
        shaped["createTime"] = reply.create_time or _now()
        shaped["responseId"] = document.get("responseId", reply.response_id)
        return shaped

    def shape_count(self, body: dict[str, Any], request: ImageRequest) -> dict[str, Any]:
        characters = sum(len("".join(part.get("text", "").split()))
                         for content in request.body.get("contents", []) for part in content.get("parts", []))
        shaped = {"totalTokens": body["totalTokens"], "totalBillableCharacters": characters}
        return shaped | {key: value for key, value in body.items() if key not in shaped}


def _candidate(candidate: dict[str, Any]) -> dict[str, Any]:
    shaped = {key: value for key, value in candidate.items() if key != "index"}
    content = shaped.get("content")
    if isinstance(content, dict):
        shaped["content"] = {"role": content.get("role", "model")} | {k: v for k, v in content.items() if k != "role"}
    return shaped


def _usage(usage: dict[str, Any]) -> dict[str, Any]:
    """The final usage as Vertex itemises it: TEXT and IMAGE both listed, their sum the candidate count."""
    usage = {key: value for key, value in usage.items() if key not in _DROPPED_USAGE} | {"trafficType": "ON_DEMAND"}
    candidates = int(usage.get("candidatesTokenCount", 0))
    if candidates:
        image = sum(int(d["tokenCount"]) for d in usage.get("candidatesTokensDetails", []) if d["modality"] == "IMAGE")
        details = [{"modality": "TEXT", "tokenCount": candidates - image}] if candidates > image else []
        details += [{"modality": "IMAGE", "tokenCount": image}] if image else []
        usage["candidatesTokensDetails"] = details
        usage["candidatesTokenCount"] = sum(entry["tokenCount"] for entry in details)
    ordered = {key: usage[key] for key in _USAGE_ORDER if key in usage}
    return ordered | {key: value for key, value in usage.items() if key not in ordered}


VERTEX = register(VertexFlavour())
