"""An input image's pixel size read from its header bytes, without Pillow.

``PIL.Image.open`` runs Pillow's own decompression-bomb check as it opens: past ``Image.MAX_IMAGE_PIXELS``
(about 89 MP) it warns, past twice that it raises. The fake has its own limit (``--max-input-pixels``,
docs/security.md), so it reads the size here first and refuses a bomb before Pillow sees it at all.
"""

from __future__ import annotations

import struct

__all__ = ["header_size"]

# JPEG start-of-frame markers (SOF0..SOF15 but DHT, JPG and DAC), which carry the frame's size.
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE = frozenset([0x01, *range(0xD0, 0xD8)])  # TEM, RSTn: no length follows


def header_size(data: bytes, mime: str) -> tuple[int, int] | None:
    """(width, height) from the header of a PNG, JPEG, WebP or GIF, or None when it cannot be read
    there (another format, or bytes too broken to say; then Pillow's reading decides)."""
    try:
        if mime == "image/png" and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return width, height
        if mime == "image/gif":
            width, height = struct.unpack("<HH", data[6:10])
            return width, height
        if mime == "image/webp":
            return _webp_size(data)
        if mime == "image/jpeg":
            return _jpeg_size(data)
    except struct.error:  # cut short
        return None
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 ":  # lossy: after the frame tag and start code, 14-bit sizes
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":  # lossless: after the signature byte, 14 bits each, stored minus one
        (bits,) = struct.unpack("<I", data[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":  # extended: the canvas, 24 bits each, stored minus one
        canvas = data[24:30]
        if len(canvas) < 6:
            return None
        return int.from_bytes(canvas[:3], "little") + 1, int.from_bytes(canvas[3:], "little") + 1
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    offset = 2  # after SOI
    while offset + 4 <= len(data):
        if data[offset] != 0xFF:
            return None
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        if marker in _JPEG_STANDALONE:
            offset += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no frame header before it
            return None
        (length,) = struct.unpack(">H", data[offset + 2:offset + 4])
        if marker in _JPEG_FRAMES:
            height, width = struct.unpack(">HH", data[offset + 5:offset + 9])
            return width, height
        offset += 2 + length
    return None
