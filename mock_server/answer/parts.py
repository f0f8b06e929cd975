"""One part of a planned reply, before it is rendered: text, or an image to render, maybe a thought."""

from __future__ import annotations

from dataclasses import dataclass, replace

from mock_server.answer.images import ImageSpec

__all__ = ["PlannedPart", "stored_under"]

_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}


@dataclass(frozen=True)
class PlannedPart:
    text: str | None = None
    image: ImageSpec | None = None
    thought: bool = False
    signed: bool = False
    signature_chars: int = 0  # realistic payloads: the signature's base64 length (0 = compact)
    # Delivered by reference (Vertex outputConfig.outputUriPrefix): fileData instead of inline bytes.
    file_uri: str | None = None


def stored_under(part: PlannedPart, prefix: str) -> PlannedPart:
    """``part`` delivered by reference: an image is named in the ``gs://`` folder ``prefix`` (ends with ``/``)
    after its own key, so equal images get equal URIs; text is unchanged."""
    if part.image is None:
        return part
    image = part.image
    return replace(part, file_uri=f"{prefix}{image.key[:24]}.{_EXTENSIONS.get(image.mime_type, 'bin')}")
