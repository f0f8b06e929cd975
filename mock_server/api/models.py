"""``GET models`` and ``GET models/{id}``, and model lookup with Google's 404 texts."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

from mock_server.web.errors import ApiError
from mock_server.web.http import check_version, json_response, next_page_token, page_request, require_key
from schemas import ModelProfile, error_catalogue, load_profile_book

__all__ = ["get_model", "list_models", "resolve_model"]

_DEFAULT_PAGE_SIZE = 50
_MAX_PAGE_SIZE = 1000


def resolve_model(name: str, version: str, method: str) -> ModelProfile:
    """The profile for a model path segment, or the 404 Google answers for unknown models."""
    model_id = name.removeprefix("models/")
    profile = load_profile_book().get(model_id)
    if profile is None or method not in profile.resource["supportedGenerationMethods"] + ["streamGenerateContent"]:
        # The streaming method is named generateContent in this text too (obs. 9).
        named = "generateContent" if method == "streamGenerateContent" else method
        error = ApiError.named("model_not_found", model=model_id, version=version, method=named)
        debug = error_catalogue()["errors"]["model_not_found"]["debugInfo"]
        error.details = [{"@type": "type.googleapis.com/google.rpc.DebugInfo",
                          "detail": debug.format(message=error.message, quoted=json.dumps(error.message))}]
        raise error
    return profile


def _resources() -> list[dict[str, object]]:
    book = load_profile_book()
    listed = [profile.resource for profile in book.profiles.values()]
    for alias, target in book.aliases.items():  # aliases are listed with their target's fields
        listed.append(book.profiles[target].resource | {"name": f"models/{alias}"})
    return listed


async def list_models(request: Request) -> Response:
    check_version(request)
    require_key(request)
    offset, page_size = page_request(request, _DEFAULT_PAGE_SIZE, _MAX_PAGE_SIZE)
    models = _resources()
    body: dict[str, object] = {"models": models[offset:offset + page_size]}
    if offset + page_size < len(models):
        body["nextPageToken"] = next_page_token(offset + page_size)
    return json_response(body)


async def get_model(request: Request) -> Response:
    version = check_version(request)
    require_key(request)
    model_id = str(request.path_params["target"]).removeprefix("models/")
    for resource in _resources():
        if resource["name"] == f"models/{model_id}":
            return json_response(resource)
    raise ApiError.named("model_get_not_found", model=model_id, version=version)
