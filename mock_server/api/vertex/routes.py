"""Vertex AI publisher-model paths, served by the shared generateContent handlers in the Vertex flavour.

``/{v1|v1beta1}/projects/{p}/locations/{l}/publishers/google/models/{m}:{action}`` (project mode, OAuth)
and ``/{v1|v1beta1}/publishers/google/models/{m}:{action}`` (express mode, API key), for
``generateContent``, ``streamGenerateContent`` and ``countTokens`` (api-2026.md §4; the paths
google-genai builds with ``vertexai=True``). Credentials: ``auth.py``. The Interactions API's Vertex
paths (``interactions.py``) and models.get/list (``models.py``) are part of ``routes()``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.answer.flavour import use_flavour
from mock_server.api.generate import count_tokens, generate_content
from mock_server.api.models import served_profile
from mock_server.api.streaming import stream_generate_content
from mock_server.api.vertex import interactions, interactions_rpc, models
from mock_server.api.vertex.auth import VERTEX_VERSIONS, authenticate_vertex
from mock_server.api.vertex.flavour import VERTEX
from mock_server.runtime import runtime_of
from mock_server.web.errors import ApiError
from schemas import ModelProfile

__all__ = ["routes"]

_ACTIONS: dict[str, Callable[[Request, ModelProfile], Awaitable[Response]]] = {
    "generateContent": generate_content,
    "streamGenerateContent": stream_generate_content,
    "countTokens": count_tokens,
}


async def publisher_model_action(request: Request) -> Response:
    params = request.path_params
    if params["version"] not in VERTEX_VERSIONS:
        raise ApiError.named("not_found_path")
    model, _, action = str(params["target"]).rpartition(":")
    handler = _ACTIONS.get(action)
    if not model or handler is None:
        raise ApiError.named("not_found_path")
    authenticate_vertex(request)
    scope = f"projects/{params['project']}/locations/{params['location']}/" if "project" in params else ""
    resource = f"{scope}publishers/{params['publisher']}/models/{model}"
    served = served_profile(model, runtime_of(request).settings)  # --as-of applies on Vertex too
    profile = served if params["publisher"] == "google" else None
    if profile is None:
        raise ApiError.named("vertex_model_not_found", resource=resource)
    use_flavour(request.scope, VERTEX)
    return await handler(request, profile)


def routes() -> list[Route]:
    return [
        Route("/{version}/projects/{project}/locations/{location}/publishers/{publisher}/models/{target}",
              publisher_model_action, methods=["POST"]),
        Route("/{version}/publishers/{publisher}/models/{target}", publisher_model_action, methods=["POST"]),
        *models.routes(),
        *interactions_rpc.routes(),  # before interactions.routes(): their item path would take "{id}:poll"
        *interactions.routes(),
    ]
