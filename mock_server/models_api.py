"""``GET models`` and ``GET models/{id}``, and model lookup with Google's 404 texts."""

from __future__ import annotations

import base64
import json

from starlette.requests import Request
from starlette.responses import Response

from mock_server.errors import ApiError
from mock_server.http import check_version, json_bytes_response, require_key
from schemas import ModelProfile, load_profile_book

__all__ = ["get_model", "list_models", "resolve_model"]

_DEFAULT_PAGE_SIZE = 50
_MAX_PAGE_SIZE = 1000


def resolve_model(name: str, version: str, method: str) -> ModelProfile:
    """The profile for a model path segment, or the 404 Google answers for unknown models."""
    model_id = name.removeprefix("models/")
    profile = load_profile_book().get(model_id)
    if profile is None or method not in profile.resource["supportedGenerationMethods"] + ["streamGenerateContent"]:
        raise ApiError.named("model_not_found", model=model_id, version=version, method=method)
    return profile


def _resources() -> list[dict[str, object]]:
    book = load_profile_book()
    listed = [profile.resource for profile in book.profiles.values()]
    for alias, target in book.aliases.items():  # aliases are listed with their target's fields
        listed.append(book.profiles[target].resource | {"name": f"models/{alias}"})
    return listed


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def _decode_token(token: str) -> int:
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["o"]
    except Exception as exc:  # any undecodable token is the caller's mistake
        raise ApiError.named("invalid_page_token") from exc
    if not isinstance(offset, int) or offset < 0:
        raise ApiError.named("invalid_page_token")
    return offset


async def list_models(request: Request) -> Response:
    check_version(request)
    require_key(request)
    raw_size = request.query_params.get("pageSize") or request.query_params.get("page_size") or ""
    try:
        page_size = int(raw_size) if raw_size else _DEFAULT_PAGE_SIZE
    except ValueError as exc:
        raise ApiError.named("invalid_value", path="page_size", type="TYPE_INT32", value=f'"{raw_size}"') from exc
    page_size = _DEFAULT_PAGE_SIZE if page_size <= 0 else min(page_size, _MAX_PAGE_SIZE)
    token = request.query_params.get("pageToken") or request.query_params.get("page_token") or ""
    offset = _decode_token(token) if token else 0
    models = _resources()
    body: dict[str, object] = {"models": models[offset:offset + page_size]}
    if offset + page_size < len(models):
        body["nextPageToken"] = _encode_token(offset + page_size)
    return json_bytes_response([json.dumps(body, indent=2).encode()])


async def get_model(request: Request) -> Response:
    version = check_version(request)
    require_key(request)
    model_id = str(request.path_params["target"]).removeprefix("models/")
    for resource in _resources():
        if resource["name"] == f"models/{model_id}":
            return json_bytes_response([json.dumps(resource, indent=2).encode()])
    raise ApiError.named("model_get_not_found", model=model_id, version=version)
