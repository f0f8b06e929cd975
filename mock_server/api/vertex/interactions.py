"""The Interactions API on Vertex AI's paths, served by the shared Interactions handlers.

google-genai 3.6.1 with ``vertexai=True`` sends ``client.interactions`` to
``/v1beta1/projects/{p}/locations/{l}/interactions[/{id}[/cancel]]`` (project mode, OAuth) and, with
an API key and no project, to ``/v1beta1/interactions[...]`` (express mode); Vertex's own REST sample
for express mode uses ``/v1beta1/locations/{l}/interactions`` (api-2026.md §1.1, §4). Credentials as
on Vertex's publisher-model paths. The body is the Interactions body (snake_case, ``response_format``
an object or a list), ``input`` turns may also be written ``{"role", "content"}`` as Vertex's REST
samples do, and an image entry's ``gcs_uri`` delivers the images by URI (``{"type": "image", "uri"}``
blocks naming files in that folder, as ``outputConfig.outputUriPrefix`` does on generateContent).
Answers are the same ``Interaction`` documents and event streams. Errors use Google's standard
envelope (``{"code": 404, "message", "status"}``), as every Vertex method answers, and an unknown
model is Vertex's "Publisher Model ... was not found" (docs/vertex.md).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import cache, partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.api.interactions.handlers import cancel, create, delete, get
from mock_server.api.interactions.request import invalid
from mock_server.api.interactions.surface import Surface, use_surface
from mock_server.api.vertex.auth import VERTEX_VERSIONS, authenticate_vertex
from mock_server.web.errors import ApiError
from schemas import load_schema

__all__ = ["BodyReader", "Handler", "on_vertex", "read_vertex_body", "routes"]

Handler = Callable[[Request], Awaitable[Response]]
BodyReader = Callable[[Any], tuple[Any, str | None]]
# The Gemini API version whose rules (ratios, sizes, texts) apply: v1beta1 is Vertex's beta like v1beta.
_RULES_VERSION = "v1beta"
# The SDK's express-mode path has no location segment: only v1beta1 is told apart from the Gemini API's
# own /v1/interactions, which an express client on api_version v1 would reach (docs/vertex.md).
_EXPRESS_VERSION = "v1beta1"
_ROLE_STEPS = {"user": "user_input", "model": "model_output"}


def _as_steps(document: dict[str, Any]) -> dict[str, Any]:
    """The create body with Vertex's ``{"role", "content"}`` turns (its REST samples still write the
    shape the Gemini API dropped in June 2026) read as steps: ``user`` -> ``user_input``, ``model`` ->
    ``model_output``; a string ``content`` is one text block. Anything else is left to the shared checks."""
    if not isinstance(document.get("input"), list):
        return document
    items: list[Any] = []
    for item in document["input"]:
        if isinstance(item, dict) and "type" not in item and item.get("role") in _ROLE_STEPS:
            content = item.get("content")
            blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
            item = {"type": _ROLE_STEPS[item["role"]], "content": blocks} | (
                {key: value for key, value in item.items() if key not in ("role", "content")})
        items.append(item)
    return document | {"input": items}


@cache
def _gcs_pattern() -> re.Pattern[str]:
    """A Cloud Storage URI, as Vertex's ``outputConfig.outputUriPrefix`` is checked (one table, the schema's)."""
    prefix = load_schema("vertex_request_extras")["properties"]["outputConfig"]["properties"]["outputUriPrefix"]
    return re.compile(prefix["pattern"])


def _delivery(document: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The body without the image entry's URI delivery (``delivery: "uri"`` and ``gcs_uri``, the folder the
    images are written to), and that folder; ``gcs_uri`` alone asks for URI delivery too."""
    formats = document.get("response_format")
    listed = isinstance(formats, list)
    prefix: str | None = None
    entries: list[Any] = []
    given: list[Any] = list(formats) if isinstance(formats, list) else [formats]
    for entry in given:
        if isinstance(entry, dict) and entry.get("type") == "image" and (
                "gcs_uri" in entry or entry.get("delivery") == "uri"):
            entry = dict(entry)
            uri, delivery = entry.pop("gcs_uri", None), entry.pop("delivery", "uri")
            if delivery == "inline":
                raise invalid("gcs_uri_inline")
            if delivery == "uri" and uri is None:
                raise invalid("gcs_uri_required")
            if not isinstance(uri, str) or not _gcs_pattern().fullmatch(uri):
                raise invalid("gcs_uri_invalid", value=str(uri)[:100])
            prefix = uri if uri.endswith("/") else uri + "/"
        entries.append(entry)
    if prefix is None:
        return document, None
    return document | {"response_format": entries if listed else entries[0]}, prefix


def read_vertex_body(document: Any) -> tuple[Any, str | None]:
    """Vertex's create body in the Gemini API's shape, and the ``gs://`` folder of URI delivery (or None)."""
    if not isinstance(document, dict):
        return document, None
    return _delivery(_as_steps(document))


def _unknown_model(scope: str, model: str) -> ApiError:
    return ApiError.named("vertex_model_not_found", resource=f"{scope}publishers/google/models/{model}")


def on_vertex(handler: Handler, read_body: BodyReader = read_vertex_body) -> Handler:
    """``handler`` behind Vertex's version and credential checks, with Vertex's ``Surface``; ``read_body``
    turns the create body into the Gemini API's shape."""

    async def endpoint(request: Request) -> Response:
        params = request.path_params
        if params.get("version", _EXPRESS_VERSION) not in VERTEX_VERSIONS:
            raise ApiError.named("not_found_path")
        authenticate_vertex(request)
        scope = f"projects/{params['project']}/locations/{params['location']}/" if "project" in params else ""
        use_surface(request.scope, Surface(rules_version=_RULES_VERSION, google_errors=True,
                                           unknown_model=partial(_unknown_model, scope), read_body=read_body))
        return await handler(request)

    endpoint.__name__ = endpoint.__qualname__ = handler.__name__
    return endpoint


def routes() -> list[Route]:
    found: list[Route] = []
    for base in ("/{version}/projects/{project}/locations/{location}", "/{version}/locations/{location}",
                 f"/{_EXPRESS_VERSION}"):
        collection, item = f"{base}/interactions", f"{base}/interactions/{{interaction_id}}"
        found += [
            Route(collection, on_vertex(create), methods=["POST"]),
            Route(item, on_vertex(get), methods=["GET"]),
            Route(item, on_vertex(delete), methods=["DELETE"]),
            Route(f"{item}/cancel", on_vertex(cancel), methods=["POST"]),
        ]
    return found
