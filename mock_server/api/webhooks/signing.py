"""How a delivery proves it came from the fake, as Google's does (docs/webhooks.md).

- A registered (static) webhook signs per Standard Webhooks: ``webhook-signature: v1,<base64 HMAC-SHA256>``
  over ``{webhook-id}.{webhook-timestamp}.{body}``, keyed with the base64 part of each live ``whsec_``
  secret (several entries, space-separated, while a rotated secret is still live).
- A per-job (dynamic) ``webhook_config`` delivery carries an RS256 JWT in ``webhook-signature`` instead,
  verifiable against the fake's ``/.well-known/jwks.json``: ``aud`` is the destination URI, ``jti`` the
  ``webhook-id``, ``body_sha256`` binds it to the body. The RSA key is a document of the state store, so
  every worker and replica signs with the key any of them publishes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mock_server.state.store import StateStore

__all__ = ["ISSUER", "jwks", "new_secret", "sign_dynamic", "sign_static", "truncated"]

ISSUER = "https://generativelanguage.googleapis.com"
_KEY_KIND, _KEY_ID = "webhook_signing_key", "current"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def truncated(secret: str) -> str:
    """What the API shows of a secret after creation: enough to tell two apart."""
    return f"whsec_...{secret[-6:]}"


def sign_static(live_secrets: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    entries = []
    for secret in live_secrets:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        entries.append("v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode())
    return " ".join(entries)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64url(number: int) -> str:
    return _b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))


def _private_key(store: StateStore) -> tuple[str, rsa.RSAPrivateKey]:
    found = store.get_document(_KEY_KIND, _KEY_ID)
    if found is None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        store.put_document(_KEY_KIND, _KEY_ID, {"kid": secrets.token_hex(8), "pem": pem})
        found = store.get_document(_KEY_KIND, _KEY_ID) or {}  # another worker may have won the race
    loaded = serialization.load_pem_private_key(str(found["pem"]).encode(), password=None)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    return str(found["kid"]), loaded


def jwks(store: StateStore) -> dict[str, Any]:
    kid, key = _private_key(store)
    numbers = key.public_key().public_numbers()
    return {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                      "n": _int_b64url(numbers.n), "e": _int_b64url(numbers.e)}]}


def sign_dynamic(store: StateStore, uri: str, message_id: str, timestamp: int, body: bytes) -> str:
    kid, key = _private_key(store)
    header = {"alg": "RS256", "typ": "JWT", "kid": kid}
    claims = {"iss": ISSUER, "aud": uri, "iat": timestamp, "exp": timestamp + 300, "jti": message_id,
              "body_sha256": _b64url(hashlib.sha256(body).digest())}
    signing_input = ".".join(_b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims))
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64url(signature)}"


def now_seconds() -> int:
    return int(time.time())
