"""Thought signatures that any replica can verify without shared state.

A signature is ``base64("gik1" + HMAC-SHA256(secret, sha256(part content)))``: stateless, so several
workers or replicas sharing ``--signing-secret`` accept each other's signatures.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from schemas import error_catalogue

__all__ = ["BYPASS_VALUES", "content_digest", "is_bypass", "sign", "verify"]

_PREFIX = b"gik1"
BYPASS_VALUES = frozenset(error_catalogue()["thoughtSignatureBypass"])
_ENCODED_BYPASS = frozenset(base64.b64encode(value.encode()).decode().rstrip("=") for value in BYPASS_VALUES)


def content_digest(content: bytes) -> bytes:
    return hashlib.sha256(content).digest()


def sign(secret: str, digest: bytes) -> str:
    mac = hmac.new(secret.encode(), digest, hashlib.sha256).digest()
    return base64.b64encode(_PREFIX + mac).decode()


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
    return hmac.compare_digest(_canonical(signature), _canonical(sign(secret, digest)))
