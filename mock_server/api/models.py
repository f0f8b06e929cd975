"""``GET models`` and ``GET models/{id}``, and model lookup with Google's 404 texts.

What is listed and served comes from the catalogue (``schemas/model_profiles.json``): every known id
by default, or, with ``--as-of``, the ids Google served on that date (the others 404 as unknown ids do).
"""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache

from starlette.requests import Request
from starlette.responses import Response

from mock_server.runtime import runtime_of
from mock_server.settings import Settings
from mock_server.web.answers import remember_answer
from mock_server.web.errors import ApiError
from mock_server.web.http import (
    check_version,
    json_bytes_response,
    next_page_token,
    page_request,
    pretty_json,
    require_key,
)
from schemas import ModelProfile, error_catalogue, load_profile_book

__all__ = ["get_model", "list_models", "resolve_model", "served_profile"]

_DEFAULT_PAGE_SIZE = 50
_MAX_PAGE_SIZE = 1000


def served_profile(model_id: str, settings: Settings | None) -> ModelProfile | None:
    """The profile of a model id Google served on ``settings.as_of`` (any known id without settings)."""
    if settings is None:
        return load_profile_book().get(model_id)
    return _served(model_id, settings.as_of, settings.announced_shutdowns == "apply")


@lru_cache(maxsize=512)
def _served(model_id: str, as_of: str | None, apply_announced: bool) -> ModelProfile | None:
    # A pure function of its arguments (the catalogue is loaded once): every request names a model,
    # and reading a lifecycle parses its dates.
    day = date.fromisoformat(as_of) if as_of else None
    return load_profile_book().served(model_id, day, apply_announced)


@lru_cache(maxsize=512)
def _serves(model_id: str, method: str) -> bool:
    profile = load_profile_book().get(model_id)
    return profile is not None and method in profile.resource["supportedGenerationMethods"] + ["streamGenerateContent"]


def resolve_model(name: str, version: str, method: str, settings: Settings | None = None) -> ModelProfile:
    """The profile for a model path segment, or the 404 Google answers for unknown models.

    With ``settings``, an id not served on ``settings.as_of`` is unknown too.
    """
    model_id = name.removeprefix("models/")
    profile = served_profile(model_id, settings)
    if profile is None or not _serves(profile.model_id, method):
        # The streaming method is named generateContent in this text too (obs. 9).
        named = "generateContent" if method == "streamGenerateContent" else method
        error = ApiError.named("model_not_found", model=model_id, version=version, method=named)
        debug = error_catalogue()["errors"]["model_not_found"]["debugInfo"]
        error.details = [{"@type": "type.googleapis.com/google.rpc.DebugInfo",
                          "detail": debug.format(message=error.message, quoted=json.dumps(error.message))}]
        raise error
    return profile


@lru_cache(maxsize=64)
def _listed(as_of: str | None, apply_announced: bool) -> tuple[dict[str, object], ...]:
    book = load_profile_book()
    listed = []
    for model_id in book.ids():
        if _served(model_id, as_of, apply_announced) is not None:
            listed.append(book.profiles[model_id].resource)
    for alias, target in book.aliases.items():  # aliases are listed with their target's fields
        if _served(alias, as_of, apply_announced) is not None:
            listed.append(book.profiles[target].resource | {"name": f"models/{alias}"})
    return tuple(listed)


# The answers are pure functions of the date answered for and the page: encoded once each (the
# pretty-printing encoder is pure Python), as Google's front end would serve them from a cache.
@lru_cache(maxsize=256)
def _page(as_of: str | None, apply_announced: bool, offset: int, page_size: int) -> bytes:
    models = _listed(as_of, apply_announced)
    body: dict[str, object] = {"models": list(models[offset:offset + page_size])}
    if offset + page_size < len(models):
        body["nextPageToken"] = next_page_token(offset + page_size)
    return pretty_json(body)


@lru_cache(maxsize=256)
def _model(as_of: str | None, apply_announced: bool, model_id: str) -> bytes | None:
    for resource in _listed(as_of, apply_announced):
        if resource["name"] == f"models/{model_id}":
            return pretty_json(resource)
    return None


async def list_models(request: Request) -> Response:
    remember_answer(request.scope)  # a function of the path, query and headers (the settings are fixed)
    check_version(request)
    require_key(request)
    offset, page_size = page_request(request, _DEFAULT_PAGE_SIZE, _MAX_PAGE_SIZE)
    settings = runtime_of(request).settings
    return json_bytes_response([_page(settings.as_of, settings.announced_shutdowns == "apply", offset, page_size)])


async def get_model(request: Request) -> Response:
    remember_answer(request.scope)
    version = check_version(request)
    require_key(request)
    model_id = str(request.path_params["target"]).removeprefix("models/")
    settings = runtime_of(request).settings
    encoded = _model(settings.as_of, settings.announced_shutdowns == "apply", model_id[:200])
    if encoded is None:
        raise ApiError.named("model_get_not_found", model=model_id, version=version)
    return json_bytes_response([encoded])
