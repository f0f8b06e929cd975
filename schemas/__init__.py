"""The single source of truth: JSON Schemas of the wire format plus model profiles as data.

Both the fake (``mock_server``) and the contract suite (``contract_tests``) read these files;
neither restates a table that lives here.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from schemas.profiles import ModelProfile, ProfileBook, load_profile_book

__all__ = [
    "SCHEMA_NAMES",
    "ModelProfile",
    "ProfileBook",
    "error_catalogue",
    "load_json",
    "load_profile_book",
    "load_schema",
    "registry",
    "scenario_catalogue",
    "validator",
]

SCHEMA_NAMES = (
    "common",
    "generate_content_request",
    "generate_content_response",
    "error",
    "count_tokens_request",
    "count_tokens_response",
    "model",
    "list_models",
    "file",
    "list_files",
    "create_file_request",
    "vertex_request_extras",
    "batch_create_request",
    "batch_operation",
    "list_batches",
    "vertex_batch_prediction_job_request",
    "vertex_batch_prediction_job",
    # The Interactions API (schemas/interactions/, issue 9).
    "interactions/content",
    "interactions/create_request",
    "interactions/interaction",
    "interactions/sse_event",
    "interactions/error",
    # The Webhooks API (schemas/webhooks/).
    "webhooks/webhook",
    "webhooks/create_request",
    "webhooks/update_request",
    "webhooks/list_webhooks",
    "webhooks/event",
)


@cache
def load_json(filename: str) -> Any:
    """Parse one data file shipped in this package (cached: the files never change at run time)."""
    return json.loads(resources.files(__package__).joinpath(filename).read_text(encoding="utf-8"))


def load_schema(name: str) -> dict[str, Any]:
    """The JSON Schema called ``name`` (e.g. ``"generate_content_request"``)."""
    schema: dict[str, Any] = load_json(f"{name}.schema.json")
    return schema


@cache
def registry() -> Registry:
    """A referencing registry holding every schema, so cross-file ``$ref``s resolve offline."""
    resources_ = [
        (load_schema(name)["$id"], Resource.from_contents(load_schema(name)))
        for name in SCHEMA_NAMES
    ]
    return Registry().with_resources(resources_)


@cache
def validator(name: str) -> Draft202012Validator:
    """A compiled validator for schema ``name``; built once, reused for every document."""
    return Draft202012Validator(load_schema(name), registry=registry())


def scenario_catalogue() -> dict[str, Any]:
    """The fake's scenarios and how a request chooses one (``scenarios.json``)."""
    catalogue: dict[str, Any] = load_json("scenarios.json")
    return catalogue


def error_catalogue() -> dict[str, Any]:
    """Google's error texts and finish messages (``error_catalogue.json``)."""
    catalogue: dict[str, Any] = load_json("error_catalogue.json")
    return catalogue
