"""Baseline JPEGs whose constant top rows are encoded once and reused.

Like ``png_stream.py`` for PNG: a fake image is a cached canvas with a per-request label band at
the bottom. The canvas is encoded once with a restart marker after every MCU row, which makes each
row's entropy-coded data independent of the rows before it; a request encodes only its band (same
quality, subsampling and standard Huffman tables, starting on an MCU-row boundary) and the rows are
joined with renumbered restart markers. The result is one ordinary baseline JFIF stream.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from PIL import Image

__all__ = ["JPEG_QUALITY", "MCU_ROWS", "JpegStart", "encode_jpeg", "finish_jpeg", "start_jpeg"]

MCU_ROWS = 16  # pixel rows per MCU row with 4:2:0 subsampling: the band must start on a multiple
JPEG_QUALITY = 85  # the default; other qualities (Vertex compressionQuality) are encoded whole
_RESTART = re.compile(rb"\xff[\xd0-\xd7]")
_TABLE_MARKERS = (0xDB, 0xC4, 0xDD)  # DQT, DHT, DRI: must match for rows to be interchangeable


def encode_jpeg(image: Image.Image, dpi: tuple[int, int], restarts: bool = False, quality: int = JPEG_QUALITY) -> bytes:
    buffer = io.BytesIO()
    options = {"restart_marker_rows": 1} if restarts else {}
    image.save(buffer, "JPEG", quality=quality, dpi=dpi, subsampling="4:2:0", **options)
    return buffer.getvalue()


def _parts(data: bytes) -> tuple[bytes, bytes, list[bytes]]:
    """(everything up to the scan data, the tables that must match, each MCU row's scan data)."""
    position, tables = 2, []
    while True:
        marker, length = data[position + 1], int.from_bytes(data[position + 2:position + 4], "big")
        if marker in _TABLE_MARKERS:
            tables.append(data[position:position + 2 + length])
        position += 2 + length
        if marker == 0xDA:  # SOS: the scan data follows its header
            break
    end = data.rindex(b"\xff\xd9")
    return data[:position], b"".join(tables), _RESTART.split(data[position:end])


@dataclass(frozen=True)
class JpegStart:
    """A whole image's JPEG head and the scan data of its first MCU rows."""

    head: bytes
    tables: bytes
    rows: tuple[bytes, ...]


def start_jpeg(image: Image.Image, band_top: int, dpi: tuple[int, int]) -> JpegStart:
    """Encode ``image`` (the whole canvas) once; keep its rows above ``band_top`` (a multiple of 16)."""
    head, tables, rows = _parts(encode_jpeg(image, dpi, restarts=True))
    return JpegStart(head, tables, tuple(rows[:band_top // MCU_ROWS]))


def finish_jpeg(start: JpegStart, band: Image.Image, dpi: tuple[int, int]) -> bytes | None:
    """The whole JPEG: ``start``'s rows, then ``band`` (the remaining rows); None if tables differ."""
    _head, tables, rows = _parts(encode_jpeg(band, dpi, restarts=True))
    if tables != start.tables:
        return None
    every = [*start.rows, *rows]
    pieces = [start.head]
    for index, row in enumerate(every):
        pieces.append(row)
        if index < len(every) - 1:
            pieces.append(bytes((0xFF, 0xD0 + index % 8)))
    pieces.append(b"\xff\xd9")
    return b"".join(pieces)
