"""Pillow helpers: input images for requests, and what the bytes of an output image really are."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

__all__ = ["DecodedImage", "decode_image", "make_image", "mime_of_bytes", "thumbnail_png", "writable_mime_types"]


def _mime_to_format() -> dict[str, str]:
    Image.init()
    mapping: dict[str, str] = {}
    for fmt, mime in Image.MIME.items():
        if fmt in Image.SAVE:
            mapping.setdefault(mime, fmt)
    return mapping


def writable_mime_types(accepted: list[str]) -> list[str]:
    """The MIME types among ``accepted`` that Pillow can write here (HEIC/HEIF usually not)."""
    writable = _mime_to_format()
    return [mime for mime in accepted if mime in writable]


def make_image(width: int, height: int, mime_type: str, colour: tuple[int, int, int]) -> bytes:
    """A small image in ``mime_type`` with a two-tone pattern (so encoders do not collapse it)."""
    image = Image.new("RGB", (width, height), colour)
    inverse = tuple(255 - c for c in colour)
    image.paste(inverse, (0, 0, max(1, width // 2), max(1, height // 2)))
    buffer = io.BytesIO()
    image.save(buffer, format=_mime_to_format()[mime_type])
    return buffer.getvalue()


def mime_of_bytes(data: bytes) -> str | None:
    """The MIME type Pillow recognises from the bytes' signature, or None if it is not an image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format
    except Exception:
        return None
    Image.init()
    return Image.MIME.get(fmt or "")


@dataclass(frozen=True)
class DecodedImage:
    mime_type: str | None
    width: int
    height: int


def decode_image(data: bytes) -> DecodedImage:
    """Fully decode ``data`` (``load`` catches truncated bodies that ``open`` alone accepts)."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        Image.init()
        return DecodedImage(Image.MIME.get(image.format or ""), image.width, image.height)


def thumbnail_png(data: bytes, max_side: int = 160) -> bytes | None:
    """A small PNG preview for the HTML report, or None when the bytes do not decode."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((max_side, max_side))
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="PNG")
            return buffer.getvalue()
    except Exception:
        return None
