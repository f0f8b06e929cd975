"""Base64 as proto3 JSON ``bytes`` allows it (lenient: the fake accepts what Google accepts) and as
Google emits it (strict: what the contract suite demands of an answer)."""

from __future__ import annotations

import base64
import binascii

__all__ = ["decode_base64", "decode_strict_base64"]


def decode_base64(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not (proto3 JSON ``bytes``)."""
    cleaned = text.replace("-", "+").replace("_", "/").rstrip("=")
    return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)


def decode_strict_base64(text: object) -> bytes:
    """Strict standard, padded base64 (what Google emits); raises ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError("data is not a string")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as error:
        raise ValueError(str(error)) from error
