"""Which events the fake emits, to whom, and the per-job ``webhook_config`` they may name.

A job created with ``webhook_config.uris`` notifies those URIs only (signed with a JWT), as google-genai
documents ("used instead of the registered webhooks"); otherwise every enabled registered webhook
subscribed to the event (signed with its secrets). ``user_metadata`` is echoed in ``data``.
Batch jobs emit ``batch.succeeded``, ``batch.failed`` and ``batch.expired`` (a cancelled job emits
nothing: the API has no event for it); background interactions ``interaction.completed`` and
``interaction.failed``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from mock_server.api.webhooks.delivery import Target, check_destination, dispatch, event_document, registry_of
from mock_server.api.webhooks.resource import live_secrets
from mock_server.runtime import Runtime
from mock_server.web.errors import ApiError

__all__ = ["notify", "notify_batch", "notify_interaction", "read_webhook_config"]

_BATCH_EVENTS = {"BATCH_STATE_SUCCEEDED": "batch.succeeded", "BATCH_STATE_FAILED": "batch.failed",
                 "BATCH_STATE_EXPIRED": "batch.expired"}
_INTERACTION_EVENTS = {"completed": "interaction.completed", "failed": "interaction.failed",
                       "requires_action": "interaction.requires_action"}
_MAX_URIS = 10
_MAX_METADATA_BYTES = 16 * 1024  # echoed in every event and kept in every delivery record

log = logging.getLogger("gemini_mock.webhooks")


def read_webhook_config(runtime: Runtime, config: Any, request: str) -> dict[str, Any] | None:
    """A job's ``webhook_config`` (either spelling) checked and in snake_case, or None when absent;
    a Google-shaped 400 for a bad one or a destination the settings forbid."""
    if config is None:
        return None
    field = f"{request}.webhook_config"
    if not isinstance(config, dict) or set(config) - {"uris", "user_metadata", "userMetadata"}:
        raise ApiError.named("webhook_invalid", request=request, field="webhook_config",
                             detail="only uris and user_metadata are allowed.")
    uris = config.get("uris") or []
    if not isinstance(uris, list) or len(uris) > _MAX_URIS:
        raise ApiError.named("webhook_invalid", request=request, field="webhook_config.uris",
                             detail=f"must be a list of at most {_MAX_URIS} URIs.")
    metadata = config.get("user_metadata", config.get("userMetadata"))
    if metadata is not None and (not isinstance(metadata, dict) or len(json.dumps(metadata)) > _MAX_METADATA_BYTES):
        raise ApiError.named("webhook_invalid", request=request, field="webhook_config.user_metadata",
                             detail=f"must be an object of at most {_MAX_METADATA_BYTES} bytes as JSON.")
    checked: dict[str, Any] = {"uris": [check_destination(runtime, uri, field, "uris") for uri in uris]}
    if metadata is not None:
        checked["user_metadata"] = metadata
    return checked


def notify(runtime: Runtime, event_type: str, data: dict[str, Any], config: dict[str, Any] | None) -> None:
    """Deliver ``event_type`` about ``data`` (in the background) to the job's URIs or the subscribers;
    never raises: a job that has ended stays ended whatever happens to its announcement."""
    try:
        _notify(runtime, event_type, data, config or {})
    except Exception:
        log.exception("webhook event %s about %s not sent", event_type, data.get("id"))


def _notify(runtime: Runtime, event_type: str, data: dict[str, Any], config: dict[str, Any]) -> None:
    if "user_metadata" in config:
        data = {**data, "user_metadata": config["user_metadata"]}
    if config.get("uris"):
        targets = [Target(uri) for uri in config["uris"]]
    else:
        targets = [Target(hook["uri"], hook["id"], tuple(live_secrets(hook))) for hook in registry_of(runtime).all()
                   if hook["state"] == "enabled" and event_type in hook["subscribed_events"]]
    if targets:
        dispatch(runtime, event_document(event_type, data), targets)


def notify_batch(runtime: Runtime, record: dict[str, Any]) -> None:
    """The event of a batch job that has just reached a terminal state (none for a cancelled one)."""
    event_type = _BATCH_EVENTS.get(str(record["state"]))
    if event_type is None:
        return
    data: dict[str, Any] = {"id": f"batches/{record['id']}", "state": record["state"]}
    if record.get("responsesFile"):
        data["file_name"] = record["responsesFile"]
    if record.get("error"):
        data["error_code"], data["error_message"] = record["error"]["code"], record["error"]["message"]
    notify(runtime, event_type, data, record.get("webhookConfig"))


def notify_interaction(runtime: Runtime, interaction: dict[str, Any], config: dict[str, Any] | None) -> None:
    """The event of a background interaction that has just finished."""
    event_type = _INTERACTION_EVENTS.get(str(interaction.get("status")))
    if event_type is not None:
        notify(runtime, event_type, {"id": str(interaction.get("id")), "state": interaction.get("status")}, config)
