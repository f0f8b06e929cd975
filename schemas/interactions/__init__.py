"""The Interactions API's wire shapes (``POST /{version}/interactions`` and its SSE events).

Separate files from the generateContent schemas because the two surfaces spell the same things
differently (snake_case only, string error codes, steps instead of candidates); both read image
options from the same model catalogue (``schemas.load_profile_book()``). The schemas are registered
with the others (``schemas.SCHEMA_NAMES``); ``validator("create_request")`` here is
``schemas.validator("interactions/create_request")``.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

import schemas

__all__ = ["error_code", "error_codes", "validator"]


def validator(name: str) -> Draft202012Validator:
    """The compiled validator of ``schemas/interactions/<name>.schema.json``."""
    return schemas.validator(f"interactions/{name}")


def error_codes() -> dict[str, Any]:
    """``error_codes.json``: HTTP status to code slug, and the Interactions-only error texts."""
    data: dict[str, Any] = schemas.load_json("interactions/error_codes.json")
    return data


def error_code(status: int) -> str:
    """The Interactions ``error.code`` slug for an HTTP status."""
    table = error_codes()
    found = table["byStatus"].get(str(status))
    return str(found if found is not None else table["fallback"].get(str(status)[0], "internal_error"))
