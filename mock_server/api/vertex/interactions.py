"""The Interactions API on Vertex AI's paths, served by the shared Interactions handlers.

google-genai 3.6.1 with ``vertexai=True`` sends ``client.interactions`` to
``/v1beta1/projects/{p}/locations/{l}/interactions[/{id}[/cancel]]`` (project mode, OAuth) and, with
an API key and no project, to ``/v1beta1/interactions[...]`` (express mode); Vertex's own REST sample
for express mode uses ``/v1beta1/locations/{l}/interactions`` (api-2026.md §1.1, §4). Credentials as
on Vertex's publisher-model paths. The body is the Interactions body (snake_case, ``response_format``
an object or a list), and ``input`` turns may also be written ``{"role", "content"}`` as Vertex's REST
samples do; answers are the same ``Interaction`` documents and event streams. Errors use
Google's standard envelope (``{"code": 404, "message", "status"}``), as every Vertex method answers,
and an unknown model is Vertex's "Publisher Model ... was not found" (docs/vertex.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.api.interactions.handlers import cancel, create, delete, get
from mock_server.api.interactions.surface import Surface, use_surface
from mock_server.api.vertex.auth import VERTEX_VERSIONS, authenticate_vertex
from mock_server.web.errors import ApiError

__all__ = ["routes"]

Handler = Callable[[Request], Awaitable[Response]]
# The Gemini API version whose rules (ratios, sizes, texts) apply: v1beta1 is Vertex's beta like v1beta.
_RULES_VERSION = "v1beta"
# The SDK's express-mode path has no location segment: only v1beta1 is told apart from the Gemini API's
# own /v1/interactions, which an express client on api_version v1 would reach (docs/vertex.md).
_EXPRESS_VERSION = "v1beta1"
_ROLE_STEPS = {"user": "user_input", "model": "model_output"}


def _as_steps(document: Any) -> Any:
    """The create body with Vertex's ``{"role", "content"}`` turns (its REST samples still write the
    shape the Gemini API dropped in June 2026) read as steps: ``user`` -> ``user_input``, ``model`` ->
    ``model_output``; a string ``content`` is one text block. Anything else is left to the shared checks."""
    if not isinstance(document, dict) or not isinstance(document.get("input"), list):
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


def _unknown_model(scope: str, model: str) -> ApiError:
    return ApiError.named("vertex_model_not_found", resource=f"{scope}publishers/google/models/{model}")


def _on_vertex(handler: Handler) -> Handler:
    async def endpoint(request: Request) -> Response:
        params = request.path_params
        if params.get("version", _EXPRESS_VERSION) not in VERTEX_VERSIONS:
            raise ApiError.named("not_found_path")
        authenticate_vertex(request)
        scope = f"projects/{params['project']}/locations/{params['location']}/" if "project" in params else ""
        use_surface(request.scope, Surface(rules_version=_RULES_VERSION, google_errors=True,
                                           unknown_model=partial(_unknown_model, scope), read_body=_as_steps))
        return await handler(request)

    endpoint.__name__ = endpoint.__qualname__ = handler.__name__
    return endpoint


def routes() -> list[Route]:
    found: list[Route] = []
    for base in ("/{version}/projects/{project}/locations/{location}", "/{version}/locations/{location}",
                 f"/{_EXPRESS_VERSION}"):
        collection, item = f"{base}/interactions", f"{base}/interactions/{{interaction_id}}"
        found += [
            Route(collection, _on_vertex(create), methods=["POST"]),
            Route(item, _on_vertex(get), methods=["GET"]),
            Route(item, _on_vertex(delete), methods=["DELETE"]),
            Route(f"{item}/cancel", _on_vertex(cancel), methods=["POST"]),
        ]
    return found
