"""Realistic payloads: images padded to the byte sizes real ones have, and still decoding exactly.

A filler block (one private PNG chunk after IHDR, or APP15 segments after JPEG's JFIF APP0) is
built once per (format, head, size) with its base64 and hash state, so a padded image costs one
join and one hash continuation, not megabytes of fresh encoding.
"""

from __future__ import annotations

import base64
import hashlib
import random
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mock_server.answer.png_stream import PNG_HEAD_BYTES

__all__ = ["encode_padded"]


@dataclass(frozen=True)
class _Padding:
    """A fixed filler block for one (format, head, size): its base64 and hash state are computed once."""

    head: bytes  # the bytes before the filler (PNG signature + IHDR, or JPEG SOI + APP0)
    block: bytes
    aligned_base64: bytes  # base64 of block[lead:], where head + block[:lead] fills whole 3-byte groups
    lead: int
    hash_state: Any  # sha256 over head + block, ready to be copied and continued


@lru_cache(maxsize=8)  # a 4K filler is ~22 MB: keep few
def _padding(mime_type: str, head: bytes, target: int) -> _Padding:
    """A filler of about ``target`` bytes whose length keeps the base64 after it aligned."""
    rng = random.Random(target)
    lead = -len(head) % 3
    if mime_type == "image/png":
        # One private ancillary chunk ("gkPd") after IHDR: decoders skip it, the bytes are real.
        size = max(0, target - 12)
        size -= (12 + size - lead) % 3
        data = rng.randbytes(size)
        block = struct.pack(">I", size) + b"gkPd" + data + struct.pack(">I", zlib.crc32(b"gkPd" + data))
    else:
        # APP15 segments after APP0 (4 bytes of marker and length, then up to 65533 bytes): decoders skip them.
        remaining = max(4, target)
        remaining -= (remaining - lead) % 3
        segments = []
        while remaining:
            size = min(65533, remaining - 4)
            if 0 < remaining - size - 4 < 4:  # never leave less than an empty segment's 4 bytes
                size -= 4
            segments.append(b"\xff\xef" + struct.pack(">H", size + 2) + rng.randbytes(size))
            remaining -= size + 4
        block = b"".join(segments)
    return _Padding(head, block, base64.b64encode(block[lead:]), lead, hashlib.sha256(head + block))


def encode_padded(encoded: bytes, mime_type: str, target: int) -> tuple[bytes, bytes]:
    """(base64, sha256) of ``encoded`` with a cached ~``target``-byte filler block inserted after its head."""
    # After PNG's signature + IHDR, or JPEG's SOI + JFIF APP0 (which must come first).
    head_length = PNG_HEAD_BYTES if mime_type == "image/png" else 4 + int.from_bytes(encoded[4:6], "big")
    head, rest = encoded[:head_length], encoded[head_length:]
    padding = _padding(mime_type, head, target)
    digest = padding.hash_state.copy()
    digest.update(rest)
    data = b"".join((base64.b64encode(head + padding.block[:padding.lead]), padding.aligned_base64,
                     base64.b64encode(rest)))
    return data, digest.digest()
