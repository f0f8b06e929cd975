"""A real webhook receiver on a loopback port: keeps every POST it gets (raw body, headers) and answers
the statuses it is told to, so tests verify deliveries as a user's endpoint would.

Verification follows the receivers' guides for Gemini webhooks: a registered webhook's delivery with the
``standardwebhooks`` library and the ``whsec_`` secret; a per-job delivery's JWT with PyJWT's
``PyJWKClient`` against the JWKS, ``RS256`` and the endpoint URL as audience.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.testing import serve_asgi_in_thread

__all__ = ["Delivery", "Receiver", "receiver", "verify_dynamic", "verify_static"]


@dataclass(frozen=True)
class Delivery:
    path: str
    body: bytes
    headers: dict[str, str]

    def event(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.body)
        return document


@dataclass
class Receiver:
    base_url: str = ""
    statuses: list[int] = field(default_factory=list)  # answered in turn, then 204
    delay: float = 0.0  # seconds before each answer (a slow endpoint)
    received: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook") -> str:
        return self.base_url + path

    def wait_for(self, count: int, seconds: float = 15) -> list[Delivery]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"{len(self.received)} deliveries, expected {count}")


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    async def receive(request: Request) -> Response:
        body = await request.body()
        with state.lock:
            state.received.append(Delivery(request.url.path, body, {k.lower(): v for k, v in request.headers.items()}))
            status = state.statuses.pop(0) if state.statuses else 204
        if state.delay:
            await asyncio.sleep(state.delay)
        return Response(status_code=status)

    app = Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])
    with serve_asgi_in_thread(app) as base_url:
        state.base_url = base_url
        yield state


def verify_static(delivery: Delivery, secret: str) -> dict[str, Any]:
    """The event, when the delivery is signed with ``secret``; raises WebhookVerificationError otherwise."""
    event: dict[str, Any] = Webhook(secret).verify(delivery.body, delivery.headers)
    return event


def verify_dynamic(delivery: Delivery, jwks_url: str, audience: str) -> dict[str, Any]:
    """The JWT's claims, when it verifies against the JWKS and binds this body; raises otherwise."""
    token = delivery.headers["webhook-signature"]
    key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(token).key
    claims: dict[str, Any] = jwt.decode(token, key, algorithms=["RS256"], audience=audience)
    digest = jwt.utils.base64url_encode(hashlib.sha256(delivery.body).digest()).decode()
    assert claims["body_sha256"] == digest and claims["jti"] == delivery.headers["webhook-id"]
    return claims
