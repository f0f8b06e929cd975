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

from schemas import error_catalogue

__all__ = ["BYPASS_VALUES", "content_digest", "heavy_signature_head", "is_bypass", "sign", "signature_filler",
           "verify"]

_PREFIX = b"gik1"
_HEAVY_HEAD = b"\x12" + _PREFIX  # protobuf tag 0x12, as Google's signatures begin
BYPASS_VALUES = frozenset(error_catalogue()["thoughtSignatureBypass"])
_ENCODED_BYPASS = frozenset(base64.b64encode(value.encode()).decode().rstrip("=") for value in BYPASS_VALUES)


def content_digest(content: bytes) -> bytes:
    return hashlib.sha256(content).digest()


def sign(secret: str, digest: bytes, chars: int = 0) -> str:
    """The signature for content ``digest``; ``chars`` > 0 pads it to about that many base64 characters."""
    if chars <= 0:
        mac = hmac.new(secret.encode(), digest, hashlib.sha256).digest()
        return base64.b64encode(_PREFIX + mac).decode()
    return heavy_signature_head(secret, digest) + signature_filler(chars).decode()


def heavy_signature_head(secret: str, digest: bytes) -> str:
    """The first 52 base64 characters of a realistic-weight signature: the part that carries the MAC."""
    mac = hmac.new(secret.encode(), digest, hashlib.sha256).digest()
    return base64.b64encode(_HEAVY_HEAD + mac + b"\x00\x00").decode()  # 39 bytes: the filler starts aligned


_filler_block: list[bytes] = [b""]


def signature_filler(chars: int) -> bytes:
    """Base64 filler so that a heavy signature has about ``chars`` characters: a slice of one cached block
    (pseudo-random bytes, so it does not compress away), grown when a longer one is asked for."""
    size = max(0, chars - 52) // 4 * 4
    block = _filler_block[0]
    if len(block) < size:
        block = base64.b64encode(random.Random(0).randbytes(size // 4 * 3))
        _filler_block[0] = block
    return block[:size]


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
