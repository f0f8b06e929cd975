"""A webhook as stored and as the API shows it, and the checks of the bodies that change one.

Stored: ``{id, name?, uri, subscribed_events, state, created, updated, secrets: [{secret, expire}]}``.
Shown (``schemas/webhooks/webhook.schema.json``): the same in snake_case with RFC 3339 times and the
secrets truncated (``signing_secrets``); only the create answer carries ``new_signing_secret`` in full.
Bodies are checked against ``schemas/webhooks/*``: an unknown field is Google's "Unknown name" 400, any
other fault a field error naming the field.
"""

from __future__ import annotations

import time
from typing import Any

from mock_server.api.webhooks.delivery import rfc3339
from mock_server.api.webhooks.signing import truncated
from mock_server.web.errors import ApiError, bad_request_details
from schemas import validator

__all__ = ["live_secrets", "read_body_document", "shown"]


def _unexpired(record: dict[str, Any], now: float | None = None) -> list[dict[str, Any]]:
    """The kept secrets not yet expired, newest first."""
    now = time.time() if now is None else now
    return [kept for kept in reversed(record["secrets"]) if kept["expire"] is None or kept["expire"] > now]


def live_secrets(record: dict[str, Any], now: float | None = None) -> list[str]:
    """The secrets a delivery is signed with."""
    return [kept["secret"] for kept in _unexpired(record, now)]


def shown(record: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = {"id": record["id"]}
    if record.get("name"):
        document["name"] = record["name"]
    document |= {"uri": record["uri"], "subscribed_events": list(record["subscribed_events"]),
                 "state": record["state"], "create_time": rfc3339(record["created"]),
                 "update_time": rfc3339(record["updated"])}
    document["signing_secrets"] = [
        {"truncated_secret": truncated(kept["secret"])} | ({"expire_time": rfc3339(kept["expire"])}
                                                           if kept["expire"] is not None else {})
        for kept in _unexpired(record)]
    return document


def read_body_document(document: Any, schema_name: str, request: str) -> dict[str, Any]:
    """``document`` checked against ``schemas/webhooks/<schema_name>``; Google-shaped 400s otherwise."""
    if not isinstance(document, dict):
        raise ApiError.named("root_not_object")
    schema_validator = validator(f"webhooks/{schema_name}")
    known = schema_validator.schema.get("properties", {})
    for name in document:
        if name not in known:
            raise ApiError.named("unknown_field", name=name, at="",
                                 details=bad_request_details([("", f'Unknown name "{name}": Cannot find field.')]))
    for error in schema_validator.iter_errors(document):
        path = [str(part) for part in error.absolute_path]
        if error.validator == "required":
            path.append(str(error.message).split("'")[1])
        field = ".".join(path) or "body"
        raise ApiError.named("webhook_invalid", request=request, field=field, detail=error.message,
                             details=bad_request_details([(field, error.message)]))
    return document
