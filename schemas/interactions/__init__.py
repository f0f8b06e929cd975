"""The Interactions API's wire shapes (``POST /{version}/interactions`` and its SSE events).

Separate from the generateContent schemas because the two surfaces spell the same things
differently (snake_case only, string error codes, steps instead of candidates); both read image
options from the same model catalogue (``schemas.load_profile_book()``).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

__all__ = ["SCHEMA_NAMES", "error_code", "error_codes", "load_schema", "registry", "validator"]

SCHEMA_NAMES = ("content", "create_request", "interaction", "sse_event", "error")


@cache
def _load(filename: str) -> Any:
    return json.loads(resources.files(__package__).joinpath(filename).read_text(encoding="utf-8"))


def load_schema(name: str) -> dict[str, Any]:
    """The Interactions schema called ``name`` (one of ``SCHEMA_NAMES``)."""
    schema: dict[str, Any] = _load(f"{name}.schema.json")
    return schema


@cache
def registry() -> Registry:
    """Every Interactions schema by ``$id``, so relative ``$ref``s between them resolve offline."""
    return Registry().with_resources(
        (load_schema(name)["$id"], Resource.from_contents(load_schema(name))) for name in SCHEMA_NAMES
    )


@cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name), registry=registry())


def error_codes() -> dict[str, Any]:
    """``error_codes.json``: HTTP status to code slug, and the Interactions-only error texts."""
    data: dict[str, Any] = _load("error_codes.json")
    return data


def error_code(status: int) -> str:
    """The Interactions ``error.code`` slug for an HTTP status."""
    table = error_codes()
    found = table["byStatus"].get(str(status))
    return str(found if found is not None else table["fallback"].get(str(status)[0], "internal_error"))
