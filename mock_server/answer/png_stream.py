"""8-bit RGB PNGs whose constant top rows are compressed once and reused.

A fake image is a cached canvas with a per-request label band at the bottom. Compressing a whole
1K RGB image costs ~12 ms; here the canvas rows go through zlib once, the compressor is kept, and
each request copies it and compresses only its band rows. The result is one ordinary IDAT stream:
colour type 2 (RGB, not palette), as Google's PNGs are.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageChops

__all__ = ["PNG_HEAD_BYTES", "PngStart", "finish_png", "start_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_HEAD_BYTES = len(_SIGNATURE) + 25  # signature + IHDR chunk: where realistic padding goes
_FILTER_NONE, _FILTER_UP = b"\x00", b"\x02"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _rows(raw: bytes, stride: int, filter_byte: bytes) -> bytes:
    view = memoryview(raw)
    return b"".join(filter_byte + view[offset:offset + stride] for offset in range(0, len(raw), stride))


@dataclass(frozen=True)
class PngStart:
    """The compressed top rows of an image and the compressor state right after them."""

    width: int
    height: int
    compressed: bytes
    compressor: Any  # zlib.Compress: copied per image, never used directly
    crc: int  # crc32 of b"IDAT" + compressed, continued per image


def start_png(top: Image.Image, height: int) -> PngStart:
    """Compress ``top`` (RGB, the image's first rows) for images ``height`` rows tall.

    The rows use PNG's Up filter, computed as one modular image subtraction, so gradients shrink to
    almost nothing; the band rows added later use no filter.
    """
    width = top.width
    shifted = Image.new("RGB", top.size)
    if top.height > 1:
        shifted.paste(top.crop((0, 0, width, top.height - 1)), (0, 1))
    up = ImageChops.subtract_modulo(top, shifted).tobytes()
    compressor = zlib.compressobj(1)
    compressed = compressor.compress(_rows(up, width * 3, _FILTER_UP)) if top.height else b""
    return PngStart(width, height, compressed, compressor, zlib.crc32(b"IDAT" + compressed))


def finish_png(start: PngStart, rest: Image.Image) -> bytes:
    """The whole PNG: ``start``'s rows followed by ``rest`` (RGB, the remaining rows)."""
    compressor = start.compressor.copy()
    tail = compressor.compress(_rows(rest.tobytes(), start.width * 3, _FILTER_NONE)) + compressor.flush()
    length = len(start.compressed) + len(tail)
    crc = zlib.crc32(tail, start.crc)
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", start.width, start.height, 8, 2, 0, 0, 0))
    return b"".join((_SIGNATURE, header, struct.pack(">I", length), b"IDAT", start.compressed, tail,
                     struct.pack(">I", crc), _chunk(b"IEND", b"")))
