"""Thought signatures that any replica can verify without shared state.

A signature is ``base64("gik1" + HMAC-SHA256(secret, sha256(part content)))``: stateless, so several
workers or replicas sharing ``--signing-secret`` accept each other's signatures.

Google's weigh 1-3 million base64 characters and start with ``E`` (obs. 10). Under
``--payload realistic`` a signature is ``0x12 + "gik1" + MAC`` followed by filler up to the wanted
length: it weighs what Google's do, starts like them, and verifies on its first bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import random
from functools import lru_cache

from schemas import error_catalogue

__all__ = ["BYPASS_VALUES", "content_digest", "is_bypass", "sign", "verify"]

_PREFIX = b"gik1"
_HEAVY_HEAD = b"\x12" + _PREFIX  # protobuf tag 0x12, as Google's signatures begin
BYPASS_VALUES = frozenset(error_catalogue()["thoughtSignatureBypass"])
_ENCODED_BYPASS = frozenset(base64.b64encode(value.encode()).decode().rstrip("=") for value in BYPASS_VALUES)


def content_digest(content: bytes) -> bytes:
    return hashlib.sha256(content).digest()


def sign(secret: str, digest: bytes, chars: int = 0) -> str:
    """The signature for content ``digest``; ``chars`` > 0 pads it to about that many base64 characters."""
    mac = hmac.new(secret.encode(), digest, hashlib.sha256).digest()
    if chars <= 0:
        return base64.b64encode(_PREFIX + mac).decode()
    head = _HEAVY_HEAD + mac + b"\x00\x00"  # 39 bytes: the filler's base64 starts on a 3-byte boundary
    return base64.b64encode(head).decode() + _filler(max(0, chars - 52) // 4 * 3)


@lru_cache(maxsize=16)
def _filler(size: int) -> str:
    """``size`` (a multiple of 3) pseudo-random bytes as base64, cached per size."""
    return base64.b64encode(random.Random(size).randbytes(size)).decode()


def _canonical(signature: str) -> str:
    """Standard base64 without padding: the SDK echoes signatures URL-safe, proto3 JSON allows both."""
    return signature.replace("-", "+").replace("_", "/").rstrip("=")


def is_bypass(signature: str) -> bool:
    """Google documents dummy values that skip signature validation.

    Accepted as sent in raw JSON (the literal string) and as the SDK sends ``bytes`` holding it
    (base64 of the string).
    """
    if signature in BYPASS_VALUES:
        return True
    return _canonical(signature) in _ENCODED_BYPASS


def verify(secret: str, digest: bytes, signature: str) -> bool:
    """True for a bypass value or a signature this secret made for this content."""
    if is_bypass(signature):
        return True
    mac = hmac.new(secret.encode(), digest, hashlib.sha256).digest()
    canonical = _canonical(signature)
    if canonical[:1] == "E":  # a realistic-weight signature: only its head carries the MAC
        try:
            head = base64.b64decode(canonical[:52], validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(head[:len(_HEAVY_HEAD) + len(mac)], _HEAVY_HEAD + mac)
    return hmac.compare_digest(canonical, _canonical(base64.b64encode(_PREFIX + mac).decode()))
