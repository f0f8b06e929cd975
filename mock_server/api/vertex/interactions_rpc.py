"""The Interactions methods Vertex AI's discovery document adds beside the SDK's REST paths.

gRPC-transcoded (aiplatform v1/v1beta1, ``projects.locations.interactions`` and ``interactions``):
``POST {parent}/interactions:create`` and ``:createStream`` (body: ``CreateInteractionRequest``,
``{"interaction": {...}, "stream", "store", "background"}`` in proto-JSON), ``GET interactions/{id}:poll``
(unary) and ``:stream`` (server-streaming, ``lastEventId``), ``POST interactions/{id}:cancel``; raw-body
(``projects.locations.interactionsHttp``): ``POST {parent}/interactionsHttp`` whose body is the REST
create body itself (its get and cancel, ``GET interactions/{id}`` and ``POST interactions/{id}/cancel``,
are the SDK's express paths, already served). All of them route onto the shared handlers (create, get,
cancel) through ``on_vertex``; only the transcoded create body is read differently (``_from_proto``).
Answers are the same Interaction documents and SSE events (docs/vertex.md says why).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.api.interactions.handlers import cancel, create, get
from mock_server.api.vertex.interactions import BodyReader, Handler, on_vertex, read_vertex_body
from schemas.wire.casing import camel_to_snake, map_keys

__all__ = ["routes"]

# The proto's input oneof (``interaction.<field>``) -> how it reads as the REST ``input``.
_INPUTS = ("stringContent", "content", "contentList", "stepList", "turnList")
# Fields of the proto Interaction that are the REST create body's, renamed to snake_case.
_PLAIN = ("systemInstruction", "tools", "previousInteractionId", "responseModalities", "responseMimeType",
          "safetySettings", "labels", "serviceTier", "webhookConfig", "cachedContent", "environment")
# Output-only fields of the proto Interaction: ignored in a request, as Google's APIs ignore them.
_OUTPUT_ONLY = ("id", "status", "created", "updated", "role", "outputs", "usage", "environmentId", "steps", "errors")
# Proto-JSON accepts both spellings of a field name; these are read in either.
_SPELLINGS = {"model_interaction": "modelInteraction", "response_format_list": "responseFormatList",
              "response_format_singleton": "responseFormatSingleton", "string_content": "stringContent",
              "content_list": "contentList", "step_list": "stepList", "turn_list": "turnList"}


def _snake(value: Any) -> Any:
    return map_keys(value, camel_to_snake)


def _typed(item: Any) -> Any:
    """A proto oneof wrapper ``{"image": {...}}`` as the REST union ``{"type": "image", ...}`` (an item
    that already has a ``type``, or is not a one-key object, keeps its shape)."""
    if not isinstance(item, dict) or "type" in item or len(item) != 1:
        return _snake(item)
    (kind, inner), = item.items()
    kind = camel_to_snake(kind)
    if isinstance(inner, dict):
        return {"type": kind} | _typed_fields(_snake(inner))
    return {"type": kind, kind: inner}


def _typed_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """A step's ``content`` list read item by item (the proto wraps each content block too)."""
    if isinstance(fields.get("content"), list):
        fields["content"] = [_typed(item) for item in fields["content"]]
    return fields


def _listed(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else value


def _input(interaction: dict[str, Any]) -> Any:
    if "stringContent" in interaction:
        return interaction["stringContent"]
    if "content" in interaction:
        return [_typed(interaction["content"])]
    if "contentList" in interaction:
        return [_typed(item) for item in _listed(interaction["contentList"], "contents") or []]
    if "stepList" in interaction:
        return [_typed(item) for item in _listed(interaction["stepList"], "steps") or []]
    turns = _listed(interaction.get("turnList"), "turns") or []
    return [_snake(turn) for turn in turns] if isinstance(turns, list) else turns


def _response_format(interaction: dict[str, Any]) -> Any:
    if "responseFormatSingleton" in interaction:
        return _typed(interaction["responseFormatSingleton"])
    formats = _listed(interaction["responseFormatList"], "responseFormats")
    return [_typed(entry) for entry in formats] if isinstance(formats, list) else formats


def _from_proto(document: Any) -> Any:
    """A ``CreateInteractionRequest`` as the REST create body. Anything that is not one (no
    ``interaction`` object) is left as it is, for the shared checks to judge as the REST body."""
    if not isinstance(document, dict) or not isinstance(document.get("interaction"), dict):
        return document
    interaction = {_SPELLINGS.get(key, key): value for key, value in document["interaction"].items()}
    rest = {key: value for key, value in document.items() if key != "interaction"}
    body: dict[str, Any] = _snake(rest)
    model = interaction.pop("modelInteraction", None)
    if isinstance(model, dict):
        body |= _snake(model)
        if isinstance(body.get("model"), str):  # a resource name names the same model as its id
            body["model"] = body["model"].rpartition("/models/")[2]
    elif model is not None:
        body["model_interaction"] = model  # not an object: the shared checks refuse the unknown name
    if any(key in interaction for key in _INPUTS):
        body["input"] = _input(interaction)
    if "responseFormatSingleton" in interaction or "responseFormatList" in interaction:
        body["response_format"] = _response_format(interaction)
    elif "responseFormat" in interaction:
        body["response_format"] = _snake(interaction["responseFormat"])
    for key in _PLAIN:
        if key in interaction:
            body[camel_to_snake(key)] = interaction[key] if key == "labels" else _snake(interaction[key])
    known = {*_INPUTS, *_PLAIN, *_OUTPUT_ONLY, "responseFormatSingleton", "responseFormatList", "responseFormat"}
    leftover = sorted(set(interaction) - known)
    body |= {camel_to_snake(key): interaction[key] for key in leftover}  # refused by the shared checks
    return body


def _proto_reader(stream: bool | None) -> BodyReader:
    def read(document: Any) -> tuple[Any, str | None]:
        body = _from_proto(document)
        if stream is not None and isinstance(body, dict):
            body = body | {"stream": stream}
        return read_vertex_body(body)

    return read


def _with_query(handler: Handler, forced: dict[str, str], renamed: Iterable[tuple[str, str]]) -> Handler:
    """``handler`` seeing the query the REST method takes: proto-JSON's camelCase parameters renamed,
    and what the method implies (``stream``) forced."""
    names = dict(renamed)

    async def endpoint(request: Request) -> Response:
        pairs = [(names.get(key, key), value) for key, value in request.query_params.multi_items()
                 if names.get(key, key) not in forced]
        scope = dict(request.scope)
        scope["query_string"] = urlencode([*pairs, *forced.items()]).encode()
        return await handler(Request(scope, request.receive))

    endpoint.__name__ = endpoint.__qualname__ = handler.__name__
    return endpoint


_QUERY_NAMES = (("lastEventId", "last_event_id"), ("includeInput", "include_input"))


def routes() -> list[Route]:
    # Top-level names (``interactions/{id}``) only on v1beta1: /v1/interactions is the Gemini API's.
    project = "/{version}/projects/{project}/locations/{location}"
    found = [
        Route(f"{project}/interactions:create", on_vertex(create, _proto_reader(None)), methods=["POST"]),
        Route(f"{project}/interactions:createStream", on_vertex(create, _proto_reader(True)), methods=["POST"]),
        Route(f"{project}/interactionsHttp", on_vertex(create), methods=["POST"]),
    ]
    for base in (f"{project}/interactions", "/v1beta1/interactions"):
        item = f"{base}/{{interaction_id}}"
        found += [
            Route(f"{item}:poll", on_vertex(_with_query(get, {"stream": "false"}, _QUERY_NAMES)), methods=["GET"]),
            Route(f"{item}:stream", on_vertex(_with_query(get, {"stream": "true"}, _QUERY_NAMES)), methods=["GET"]),
            Route(f"{item}:cancel", on_vertex(cancel), methods=["POST"]),
        ]
    return found
