"""The Webhooks API's wire shapes (``/{version}/webhooks``, google-genai ``client.webhooks``) and the
event a delivery carries.

Snake_case like the Interactions API (the two are documented in one OpenAPI spec). The events a
webhook may subscribe to are the enum of ``webhook.schema.json``: ``subscribable_events()`` reads them
from there, so no list of them is restated in Python.
"""

from __future__ import annotations

from typing import Any

import schemas

__all__ = ["subscribable_events"]


def subscribable_events() -> tuple[str, ...]:
    """The event types of ``Webhook.subscribed_events`` (batch.succeeded, interaction.completed, ...)."""
    schema: dict[str, Any] = schemas.load_schema("webhooks/webhook")
    return tuple(schema["$defs"]["EventType"]["enum"])
