"""JSON as Google's front end reads it, and as anything facing hostile input must: strict and bounded.

``loads_strict`` refuses what Python's ``json`` would let through and something later would choke on:
bytes that are not UTF-8 (``json.loads`` on bytes decodes with ``surrogatepass``), lone surrogate
escapes (``"\\ud800"``: they cannot be encoded back to UTF-8), non-finite numbers (``NaN``, ``1e999``),
integers beyond Python's digit limit, and nesting deeper than protobuf's default recursion limit (100).
Every refusal is one ``JsonRejected`` with a short reason; no ``RecursionError`` ever escapes.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["MAX_DEPTH", "JsonRejected", "depth_exceeds", "loads_strict", "scrub_surrogates"]

MAX_DEPTH = 100  # protobuf's default recursion limit for parsing
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonRejected(ValueError):
    """Not acceptable JSON; ``reason`` says why in a few words."""

    def __init__(self, reason: str, position: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.position = position


def _no_constant(name: str) -> Any:
    raise JsonRejected(f"Invalid token {name}.")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise JsonRejected(f"Number out of range: {text[:20]}.")
    return value


def depth_exceeds(document: Any, max_depth: int) -> bool:
    """Whether ``document`` nests containers deeper than ``max_depth`` (iterative: any depth is safe)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            items: Any = value.values()
        elif isinstance(value, list):
            items = value
        else:
            continue
        if depth > max_depth:
            return True
        stack.extend((item, depth + 1) for item in items if isinstance(item, dict | list))
    return False


def _has_lone_surrogate(document: Any) -> bool:
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if _LONE_SURROGATE.search(value):
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def loads_strict(data: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """The parsed document, or ``JsonRejected``; see the module docstring for what is refused."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonRejected("Invalid UTF-8.", exc.start) from exc
    else:
        text = data
    try:
        document = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except JsonRejected:
        raise
    except json.JSONDecodeError as exc:
        raise JsonRejected("Unexpected token.", exc.pos) from exc
    except RecursionError as exc:
        raise JsonRejected("Message nesting too deep.") from exc
    except ValueError as exc:  # integers past the digit limit
        raise JsonRejected("Number out of range.") from exc
    if depth_exceeds(document, max_depth):
        raise JsonRejected("Message nesting too deep.")
    # Surrogate escapes are rare: only then walk every string.
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(document):
        raise JsonRejected("Invalid UTF-8: lone surrogate.")
    return document


def scrub_surrogates(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD, so it always encodes as UTF-8."""
    return _LONE_SURROGATE.sub("\ufffd", text) if _LONE_SURROGATE.search(text) else text
