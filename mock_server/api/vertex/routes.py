"""Vertex AI publisher-model paths, served by the shared generateContent handlers in the Vertex flavour.

``/{v1|v1beta1}/projects/{p}/locations/{l}/publishers/google/models/{m}:{action}`` (project mode, OAuth)
and ``/{v1|v1beta1}/publishers/google/models/{m}:{action}`` (express mode, API key), for
``generateContent``, ``streamGenerateContent`` and ``countTokens`` (api-2026.md §4; the paths
google-genai builds with ``vertexai=True``). Credentials: an ``Authorization: Bearer`` token is an
OAuth access token the fake cannot verify, so any non-empty one is accepted; an API key
(``x-goog-api-key`` or ``?key=``) is checked like on the Gemini API; none at all is Vertex's 401.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.answer.flavour import use_flavour
from mock_server.api.generate import count_tokens, generate_content
from mock_server.api.streaming import stream_generate_content
from mock_server.api.vertex.flavour import VERTEX
from mock_server.runtime import runtime_of
from mock_server.web.auth import authenticate
from mock_server.web.errors import ApiError
from schemas import ModelProfile, load_profile_book
from schemas.wire.redaction import extract_api_key

__all__ = ["VERTEX_VERSIONS", "routes"]

VERTEX_VERSIONS = ("v1", "v1beta1")

_ACTIONS: dict[str, Callable[[Request, ModelProfile], Awaitable[Response]]] = {
    "generateContent": generate_content,
    "streamGenerateContent": stream_generate_content,
    "countTokens": count_tokens,
}


def _authenticate(request: Request) -> None:
    found = extract_api_key(request.headers, request.query_params)
    if found is None:
        raise ApiError.named("vertex_unauthenticated")
    if found[1] != "bearer":  # express mode: a real API key, checked as the Gemini API checks it
        authenticate(request.headers, request.query_params, runtime_of(request).settings.api_keys)


async def publisher_model_action(request: Request) -> Response:
    params = request.path_params
    if params["version"] not in VERTEX_VERSIONS:
        raise ApiError.named("not_found_path")
    model, _, action = str(params["target"]).rpartition(":")
    handler = _ACTIONS.get(action)
    if not model or handler is None:
        raise ApiError.named("not_found_path")
    _authenticate(request)
    scope = f"projects/{params['project']}/locations/{params['location']}/" if "project" in params else ""
    resource = f"{scope}publishers/{params['publisher']}/models/{model}"
    profile = load_profile_book().get(model) if params["publisher"] == "google" else None
    if profile is None:
        raise ApiError.named("vertex_model_not_found", resource=resource)
    use_flavour(request.scope, VERTEX)
    return await handler(request, profile)


def routes() -> list[Route]:
    return [
        Route("/{version}/projects/{project}/locations/{location}/publishers/{publisher}/models/{target}",
              publisher_model_action, methods=["POST"]),
        Route("/{version}/publishers/{publisher}/models/{target}", publisher_model_action, methods=["POST"]),
    ]
