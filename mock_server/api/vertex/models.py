"""Vertex AI's models.get and models.list: the catalogue's image models as Model Garden PublisherModels.

google-genai with ``vertexai=True`` sends ``client.models.get`` to ``GET /{v}/publishers/google/models/{m}``
(project mode too: the SDK skips the project prefix for a GET under ``publishers/``) and
``client.models.list`` to ``GET /{v}/publishers/google/models`` (``query_base``, the default) or, for
tuned models, ``GET /{v}/projects/{p}/locations/{l}/models?filter=labels.tune-type:*``. The resource is
built from the catalogue (``schemas/model_profiles.json``: the ids and their ``vertex`` block) and
``schemas/vertex_publisher_model.json`` (the rest of the PublisherModel); what is served honours
``--as-of`` as the Gemini API's ListModels does (``api/models.py``). A project has no tuned models
here, so that list is ``{}`` (proto3 JSON leaves an empty list out). Unknown model: Vertex's
Publisher Model 404 (docs/vertex.md).
"""

from __future__ import annotations

from datetime import date
from functools import cache, lru_cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.api.models import served_profile
from mock_server.api.vertex.auth import VERTEX_VERSIONS, authenticate_vertex
from mock_server.runtime import runtime_of
from mock_server.web.answers import remember_answer
from mock_server.web.errors import ApiError
from mock_server.web.http import json_bytes_response, page_body, page_request, pretty_json
from schemas import load_json, load_profile_book

__all__ = ["routes"]

_PUBLISHER = "google"  # the only publisher whose models the fake serves


@cache
def _template() -> dict[str, Any]:
    template: dict[str, Any] = load_json("vertex_publisher_model.json")
    return template


def _publisher_model(model_id: str) -> dict[str, Any]:
    """The PublisherModel of a catalogue id (an alias shows its target's stage under its own name)."""
    profile = load_profile_book().get(model_id)
    assert profile is not None
    fields = {"model": model_id, **profile.data["vertex"]}
    resource: dict[str, Any] = {}
    for key, value in _template()["resource"].items():
        for name, replacement in fields.items():
            value = value.replace("{" + name + "}", replacement)
        resource[key] = value
    return resource


@lru_cache(maxsize=64)
def _listed(as_of: str | None, apply_announced: bool) -> tuple[str, ...]:
    """The ids served on ``as_of`` (aliases after the catalogue's ids, as the Gemini API lists them)."""
    book = load_profile_book()
    day = date.fromisoformat(as_of) if as_of else None
    return tuple(model_id for model_id in [*book.ids(), *book.aliases]
                 if book.served(model_id, day, apply_announced) is not None)


@lru_cache(maxsize=256)
def _page(as_of: str | None, apply_announced: bool, offset: int, size: int) -> bytes:
    return pretty_json(page_body(_listed(as_of, apply_announced), offset, size, "publisherModels", _publisher_model))


def _check(request: Request) -> None:
    if request.path_params["version"] not in VERTEX_VERSIONS:
        raise ApiError.named("not_found_path")
    authenticate_vertex(request)


async def get_publisher_model(request: Request) -> Response:
    _check(request)
    remember_answer(request.scope)
    params = request.path_params
    model_id = str(params["model"])
    scope = f"projects/{params['project']}/locations/{params['location']}/" if "project" in params else ""
    profile = served_profile(model_id, runtime_of(request).settings) if params["publisher"] == _PUBLISHER else None
    if profile is None:
        raise ApiError.named("vertex_model_not_found", resource=f"{scope}publishers/{params['publisher']}/models/"
                                                                 f"{model_id[:200]}")
    return json_bytes_response([pretty_json(_publisher_model(model_id))])


def _page_window(request: Request) -> tuple[int, int]:
    """(offset, size) of a list request, by the template's page sizes; 400 for a bad size or token."""
    sizes = _template()["listPageSize"]
    return page_request(request, int(sizes["default"]), int(sizes["max"]))


async def list_publisher_models(request: Request) -> Response:
    _check(request)
    remember_answer(request.scope)
    offset, size = _page_window(request)
    if request.path_params["publisher"] != _PUBLISHER:
        return json_bytes_response([pretty_json({})])
    settings = runtime_of(request).settings
    return json_bytes_response([_page(settings.as_of, settings.announced_shutdowns == "apply", offset, size)])


async def list_tuned_models(request: Request) -> Response:
    """A project's own models (tuned ones, by the SDK's label filter): none in the fake."""
    _check(request)
    remember_answer(request.scope)
    _page_window(request)  # a bad page size or token is still a 400
    return json_bytes_response([pretty_json({})])


def routes() -> list[Route]:
    project = "/{version}/projects/{project}/locations/{location}"
    return [
        Route("/{version}/publishers/{publisher}/models", list_publisher_models, methods=["GET"]),
        Route("/{version}/publishers/{publisher}/models/{model}", get_publisher_model, methods=["GET"]),
        Route(f"{project}/publishers/{{publisher}}/models/{{model}}", get_publisher_model, methods=["GET"]),
        Route(f"{project}/models", list_tuned_models, methods=["GET"]),
    ]
