"""Delivering webhook events: where the fake may call, how, and the record of each attempt.

``--webhooks`` bounds the destinations: ``off`` (none; each event is recorded as skipped),
``loopback`` (default: ``localhost`` or a loopback IP literal, no name resolved, so a test's receiver
works and a request to the fake can never make it call another host: a fake must not be an SSRF
vector) or ``any`` (http or https anywhere). Deliveries run as background tasks, off every request's
path: each attempt has ``--webhook-timeout`` seconds, a failed one (no answer, or not 2xx) is retried
``--webhook-retries`` times with doubling back-off (scaled by ``--time-scale``), redirects are not
followed, and nothing a receiver does can break or delay an answer of the API. Every delivery is
recorded (``GET /_mock/webhooks/deliveries``); no API key is ever sent or recorded.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from mock_server.api.webhooks.signing import now_seconds, sign_dynamic, sign_static
from mock_server.runtime import Runtime
from mock_server.state import state_of
from mock_server.state.webhook_store import WebhookRegistry
from mock_server.web.errors import ApiError
from schemas.wire.redaction import redact_document, redact_text

__all__ = ["Target", "check_destination", "destination_refusal", "dispatch", "event_document", "registry_of",
           "rfc3339"]

log = logging.getLogger("gemini_mock.webhooks")

_ALLOWED = {"off": "no destination", "loopback": "localhost and loopback addresses only", "any": "http(s) only"}
_BACKOFF_SECONDS = 0.5


def registry_of(runtime: Runtime) -> WebhookRegistry:
    registry: WebhookRegistry | None = runtime.extensions.get("webhooks")
    if registry is None:
        registry = runtime.extensions.setdefault("webhooks", WebhookRegistry(state_of(runtime)))
    return registry


def rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def destination_refusal(uri: str, mode: str) -> str | None:
    """Why ``--webhooks mode`` forbids ``uri`` (None: allowed). Decided on the text, never by resolving."""
    parts = urlsplit(uri)
    if mode == "off" or parts.scheme not in ("http", "https") or not parts.hostname:
        return _ALLOWED[mode]
    if mode == "any":
        return None
    host = parts.hostname.lower()
    if host == "localhost" or host.endswith(".localhost"):
        return None
    try:
        return None if ipaddress.ip_address(host).is_loopback else _ALLOWED[mode]
    except ValueError:  # a name: resolving it would let DNS choose the destination
        return _ALLOWED[mode]


def check_destination(runtime: Runtime, uri: Any, request: str, field: str) -> str:
    """``uri`` when it is an absolute http(s) URI the settings allow; else a Google-shaped 400."""
    if not isinstance(uri, str) or urlsplit(uri).scheme not in ("http", "https") or not urlsplit(uri).hostname:
        raise ApiError.named("webhook_invalid", request=request, field=field,
                             detail="must be an absolute http or https URI.")
    mode = runtime.settings.webhooks
    # off accepts registrations (events are then recorded as skipped): only a forbidden host is refused
    refusal = destination_refusal(uri, "any" if mode == "off" else mode)
    if refusal is not None:
        raise ApiError.named("webhook_destination_refused", request=request, field=field,
                             uri=redact_text(uri, runtime.settings.api_keys), mode=mode, allowed=refusal)
    return uri


@dataclass(frozen=True)
class Target:
    """One destination of an event: a registered webhook (HMAC with its live secrets) or a per-job URI
    (JWT; ``secrets`` empty)."""

    uri: str
    webhook_id: str | None = None
    secrets: tuple[str, ...] = ()


def event_document(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": event_type, "version": "v1", "timestamp": rfc3339(time.time()), "data": data}


def dispatch(runtime: Runtime, event: dict[str, Any], targets: list[Target]) -> None:
    """Start one background delivery per target; returns at once (call it from the event loop)."""
    tasks: set[asyncio.Task[None]] = runtime.extensions.setdefault("webhook_tasks", set())
    for target in targets:
        task = asyncio.get_running_loop().create_task(_deliver(runtime, event, target))
        tasks.add(task)  # held until done: the loop keeps only weak references to tasks
        task.add_done_callback(tasks.discard)


async def _deliver(runtime: Runtime, event: dict[str, Any], target: Target) -> None:
    settings = runtime.settings
    registry = registry_of(runtime)
    body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    message_id = "msg_" + secrets.token_urlsafe(18)
    record: dict[str, Any] = {
        "message_id": message_id, "event": event["type"], "uri": redact_text(target.uri, settings.api_keys),
        "webhook_id": target.webhook_id, "signing": "jwt" if target.webhook_id is None else "hmac",
        "outcome": "pending", "attempts": [], "body": redact_document(event, settings.api_keys), "headers": {},
    }
    try:
        refusal = destination_refusal(target.uri, settings.webhooks)
        if refusal is not None:
            record["outcome"] = "skipped" if settings.webhooks == "off" else "refused"
            record["reason"] = f"--webhooks {settings.webhooks}: {refusal}"
            return
        registry.record_delivery(message_id, record)
        timeout = httpx.Timeout(settings.webhook_timeout_seconds)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            for attempt in range(1 + max(0, settings.webhook_retries)):
                if attempt:
                    await asyncio.sleep(_BACKOFF_SECONDS * 2 ** (attempt - 1) * settings.time_scale)
                if await _attempt(runtime, client, target, message_id, body, record):
                    record["outcome"] = "delivered"
                    return
                registry.record_delivery(message_id, record)
        record["outcome"] = "failed"
    except Exception:  # a fault of the fake's own: recorded, never raised into the loop
        log.exception("webhook delivery %s failed", message_id)
        record["outcome"] = "failed"
    finally:
        try:
            registry.record_delivery(message_id, record)
        except Exception:  # e.g. the shared state store is unreachable: the log still has it
            log.warning("webhook delivery %s not recorded", message_id)
        log.info("webhook %s %s -> %s: %s", message_id, event["type"], record["uri"], record["outcome"])


async def _attempt(runtime: Runtime, client: httpx.AsyncClient, target: Target, message_id: str, body: bytes,
                   record: dict[str, Any]) -> bool:
    timestamp = now_seconds()
    signature = (sign_static(list(target.secrets), message_id, timestamp, body) if target.webhook_id is not None
                 else sign_dynamic(state_of(runtime), target.uri, message_id, timestamp, body))
    headers = {"content-type": "application/json", "user-agent": "gemini-image-kit-webhooks",
               "webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}
    record["headers"] = {name: value for name, value in headers.items() if name.startswith("webhook-")}
    outcome: dict[str, Any] = {"at": rfc3339(time.time())}
    record["attempts"].append(outcome)
    try:
        answer = await client.post(target.uri, content=body, headers=headers)
    except httpx.HTTPError as error:
        outcome["error"] = type(error).__name__
        return False
    outcome["status"] = answer.status_code
    return 200 <= answer.status_code < 300

