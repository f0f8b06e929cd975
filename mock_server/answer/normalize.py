"""Schema-guided reading of a JSON request, the way Google's proto3 JSON parser reads it.

One walk over the document, driven by the JSON Schema in ``schemas/``:
- accepts lowerCamelCase and snake_case keys mixed at any depth, emitting the canonical camelCase;
- treats ``null`` as absent; accepts enum names case-insensitively (Google's own samples send "Image");
- leaves ``x-free-form`` (google.protobuf.Struct) values untouched: their keys are user data;
- collects every unknown name, wrong type and bad enum value with the snake_case path Google reports.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import schemas
from schemas.wire.casing import camel_to_snake, snake_to_camel

__all__ = ["Problem", "Shape", "enum_name", "normalize", "shape_of"]

_BASE64 = re.compile(r"^[A-Za-z0-9+/_-]*={0,2}$")
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "object": (dict,), "array": (list,),
}


@dataclass
class Shape:
    """The parts of a (resolved) schema node that reading a document needs."""

    types: tuple[str, ...] = ()
    proto_type: str = ""
    free_form: bool = False
    properties: dict[str, Shape] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # snake_case -> camelCase
    rank: dict[str, int] = field(default_factory=dict)  # camelCase -> position among the properties
    required: tuple[str, ...] = ()
    items: Shape | None = None
    enum: frozenset[str] = frozenset()
    is_bytes: bool = False


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the document; ``kind`` is 'unknown', 'invalid', 'bytes' or 'required'."""

    kind: str
    path: str  # snake_case path of the offending field ('' for the root)
    name: str = ""  # the unknown name or the missing field, as the caller spelled it
    proto_type: str = ""
    value: Any = None

    @property
    def parent(self) -> str:
        return self.path


@cache
def shape_of(schema_name: str) -> Shape:
    """The compiled shape tree of a schema in ``schemas/`` (built once per process)."""
    schema = schemas.load_schema(schema_name)
    resolver = schemas.registry().resolver(base_uri=schema["$id"])
    return _compile(schema, resolver, {})


def _compile(node: dict[str, Any], resolver: Any, seen: dict[str, Shape]) -> Shape:
    while "$ref" in node:
        resolved = resolver.lookup(node["$ref"])
        key = str(id(resolved.contents))
        if key in seen:
            return seen[key]
        node, resolver = resolved.contents, resolved.resolver
    raw_type = node.get("type", ())
    shape = Shape(
        types=(raw_type,) if isinstance(raw_type, str) else tuple(raw_type),
        proto_type=str(node.get("x-proto-type", "")),
        free_form=bool(node.get("x-free-form")),
        required=tuple(node.get("required", ())),
        enum=frozenset(node.get("enum", ())),
        is_bytes=node.get("x-proto-type") == "TYPE_BYTES",
    )
    seen[str(id(node))] = shape
    for name, sub in node.get("properties", {}).items():
        shape.properties[name] = _compile(sub, resolver, seen)
        shape.aliases[camel_to_snake(name)] = name
        shape.rank[name] = len(shape.rank)
    if "items" in node:
        shape.items = _compile(node["items"], resolver, seen)
    return shape


def normalize(document: Any, schema_name: str) -> tuple[Any, list[Problem]]:
    """The canonical camelCase form of ``document`` and every problem found reading it."""
    problems: list[Problem] = []
    return _walk(document, shape_of(schema_name), "", problems), problems


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _type_ok(value: Any, types: tuple[str, ...]) -> bool:
    if not types:
        return True
    if isinstance(value, bool):
        return "boolean" in types
    if any(isinstance(value, _JSON_TYPES[kind]) for kind in types):
        return True
    # proto3 JSON: integers may arrive as strings or as integral floats.
    if "integer" in types and isinstance(value, float) and value.is_integer():
        return True
    if "integer" in types and isinstance(value, str) and value.lstrip("-").isdigit():
        return True
    return "number" in types and isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity")


@cache
def _enum_numbers() -> dict[str, dict[int, str]]:
    """Enum names by number, per proto enum type without its package (``schemas/proto_enums.json``)."""
    tables: dict[str, list[str] | dict[str, int]] = schemas.load_json("proto_enums.json")["numbers"]
    return {enum: ({number: name for name, number in table.items()} if isinstance(table, dict)
                   else dict(enumerate(table))) for enum, table in tables.items()}


def enum_name(proto_type: str, number: int) -> str | None:
    """The name proto3 JSON's enum ``number`` stands for, or None when the enum has no such value."""
    enum = ".".join(proto_type.split(".")[4:])  # drop "google.ai.generativelanguage.<version>"
    return _enum_numbers().get(enum, {}).get(number)


def _walk(value: Any, shape: Shape, path: str, problems: list[Problem]) -> Any:
    if shape.free_form:
        return value
    if shape.enum and isinstance(value, int) and not isinstance(value, bool):
        # proto3 JSON accepts an enum's number for its name (the legacy Python SDK sends them).
        name = enum_name(shape.proto_type, value)
        if name is None:
            problems.append(Problem("invalid", path, proto_type=shape.proto_type, value=value))
            return value
        return name
    if not _type_ok(value, shape.types):
        # A repeated field given a scalar is reported with the element's type, as Google does.
        proto = shape.items.proto_type if shape.items and not shape.proto_type else shape.proto_type
        problems.append(Problem("invalid", path, proto_type=proto, value=value))
        return value
    if isinstance(value, dict):
        return _walk_object(value, shape, path, problems)
    if isinstance(value, list) and shape.items is not None:
        return [_walk(item, shape.items, f"{path}[{index}]", problems) for index, item in enumerate(value)]
    if isinstance(value, str):
        if shape.enum and value not in shape.enum:
            upper = value.upper()
            if upper in shape.enum:
                return upper
            problems.append(Problem("invalid", path, proto_type=shape.proto_type, value=value))
        elif shape.is_bytes and not _BASE64.match(value):
            problems.append(Problem("bytes", path, value=value))
    return value


def _walk_object(value: dict[str, Any], shape: Shape, path: str, problems: list[Problem]) -> dict[str, Any]:
    if not shape.properties:
        return value
    out: dict[str, Any] = {}
    start = len(problems)
    spans: list[tuple[int, int, int, int]] = []  # (field rank, position, first problem, end)
    for position, (key, item) in enumerate(value.items()):
        name = key if key in shape.properties else shape.aliases.get(key) or shape.aliases.get(
            camel_to_snake(snake_to_camel(key))
        )
        begin = len(problems)
        if name is None:
            problems.append(Problem("unknown", path, name=key))
            spans.append((len(shape.properties), position, begin, begin + 1))
            continue
        if item is None:
            continue
        out[name] = _walk(item, shape.properties[name], _join(path, camel_to_snake(name)), problems)
        spans.append((shape.rank[name], position, begin, len(problems)))
    if len(problems) > start:
        # Google reports a message's problems in field order (aspect_ratio before image_size however
        # the document orders them), unknown names after the known fields' problems.
        found = problems[start:]
        problems[start:] = [problem for _r, _p, begin, end in sorted(spans)
                            for problem in found[begin - start:end - start]]
    for name in shape.required:
        if name not in out:
            problems.append(Problem("required", _join(path, camel_to_snake(name)), name=camel_to_snake(name)))
    return out


def render_value(value: Any) -> str:
    """A value as Google quotes it in 'Invalid value at ...' messages."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 100 else text[:97] + "..."
