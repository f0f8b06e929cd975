"""Validation of success bodies against the JSON Schemas in ``schemas/``."""

from __future__ import annotations

from collections.abc import Iterator

from contract_tests.checks.base import CheckContext, Failure, Skip, check, pointer
from contract_tests.checks.vertex import gemini_view
from contract_tests.generation.cases import Exchange
from schemas import validator

__all__ = ["response_schema_conformance", "schema_failures", "summarise"]

_MAX_REPORTED = 5


def summarise(value: object, limit: int = 160) -> object:
    """A short stand-in for a large instance (a whole response, a base64 blob) in a failure."""
    if isinstance(value, dict):
        return {"keys": sorted(map(str, value))}
    if isinstance(value, list):
        return f"<array of {len(value)}>"
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + f"... <{len(value)} characters>"
    return value


def schema_failures(document: object, schema_name: str, prefix: tuple[str | int, ...] = ()) -> Iterator[Failure]:
    """One Failure per schema violation (the first few), each with its JSON pointer."""
    errors = sorted(validator(schema_name).iter_errors(document), key=lambda error: list(error.path))
    for error in errors[:_MAX_REPORTED]:
        yield Failure(f"{schema_name}: {error.message}", pointer(*prefix, *error.path),
                      f"conforms to {schema_name}.schema.json ({error.validator})", summarise(error.instance))
    if len(errors) > _MAX_REPORTED:
        yield Failure(f"{schema_name}: {len(errors) - _MAX_REPORTED} more violations not shown", "")


@check("response_schema_conformance", "major", ("generate", "casing", "auth", "multi_turn", "models"))
def response_schema_conformance(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """Every 200 body validates against its schema in ``schemas/`` (GenerateContentResponse, Model,
    ListModelsResponse): camelCase field names only, no unknown fields, right types and enum values.
    The SDKs silently drop what they do not recognise, so a snake_case ``inline_data`` or a misspelled
    field means the client sees no image at all. Error bodies are judged by ``error_envelope``."""
    if exchange.status != 200:
        raise Skip(f"HTTP {exchange.status}")
    document = exchange.json
    if document is None:
        raise Skip("body is not JSON")  # content_type_conformance reports it
    case = exchange.case
    name = "generate_content_response"
    if case.purpose == "models":
        name = "model" if case.model else "list_models"
    yield from schema_failures(gemini_view(document, context.config), name)
