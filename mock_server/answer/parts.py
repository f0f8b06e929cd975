"""One part of a planned reply, before it is rendered: text, or an image to render, maybe a thought."""

from __future__ import annotations

from dataclasses import dataclass

from mock_server.answer.images import ImageSpec

__all__ = ["PlannedPart"]


@dataclass(frozen=True)
class PlannedPart:
    text: str | None = None
    image: ImageSpec | None = None
    thought: bool = False
    signed: bool = False
    # Delivered by reference (Vertex outputConfig.outputUriPrefix): fileData instead of inline bytes.
    file_uri: str | None = None
