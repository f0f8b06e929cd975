"""Walks over JSON values and the proto3 JSON name spellings, shared by the fake and the contract suite."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["camel_to_snake", "map_keys", "map_strings", "snake_to_camel"]

_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")


def camel_to_snake(name: str) -> str:
    """``inlineData`` -> ``inline_data`` (the original proto field name)."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def snake_to_camel(name: str) -> str:
    """``inline_data`` -> ``inlineData`` (the proto3 JSON name)."""
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def map_keys(value: Any, rename: Callable[[str], str]) -> Any:
    """``value`` with every object key at every depth renamed."""
    if isinstance(value, list):
        return [map_keys(item, rename) for item in value]
    if isinstance(value, dict):
        return {rename(key): map_keys(item, rename) for key, item in value.items()}
    return value


def map_strings(value: Any, change: Callable[[str], Any]) -> Any:
    """``value`` with every string at every depth replaced by ``change(string)``; keys and structure kept."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [map_strings(item, change) for item in value]
    if isinstance(value, dict):
        return {key: map_strings(item, change) for key, item in value.items()}
    return value
