"""Server-sent events as Google frames them and as the SDKs read them."""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["SSE_CONTENT_TYPE", "SSE_SEPARATORS", "parse_sse", "parse_stream"]

SSE_CONTENT_TYPE = "text/event-stream"
SSE_SEPARATORS = {"crlf": b"\r\n\r\n", "lf": b"\n\n"}
"""Event separators by ``Settings.sse_line_ending`` name."""


def parse_sse(body: bytes) -> list[Any]:
    """The JSON documents of an SSE body's ``data:`` events, read leniently (either line ending,
    multi-line data) as the SDKs read them; raises ValueError for a body or event that is not JSON."""
    events: list[Any] = []
    for block in re.split(r"\r?\n\r?\n", body.decode("utf-8")):
        lines = [line[5:].lstrip(" ") for line in block.splitlines() if line.startswith("data:")]
        if lines:
            events.append(json.loads("\n".join(lines)))
    return events


def parse_stream(body: bytes) -> list[Any]:
    """The JSON documents of either framing: one JSON array, or SSE events."""
    if body.lstrip().startswith(b"["):
        value = json.loads(body)
        return value if isinstance(value, list) else [value]
    return parse_sse(body)
