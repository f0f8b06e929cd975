"""The Webhooks API (google-genai ``client.webhooks``): create, list, get, update, delete, ping and
rotateSigningSecret under ``/{version}/webhooks``; the fake's JWKS for per-job deliveries; and the
record of deliveries at ``/_mock/webhooks/deliveries`` (docs/webhooks.md)."""

from __future__ import annotations

import re
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.answer.validation import parse_json_body
from mock_server.api.webhooks.delivery import Target, check_destination, dispatch, event_document, registry_of
from mock_server.api.webhooks.resource import live_secrets, read_body_document, shown
from mock_server.api.webhooks.signing import jwks, new_secret
from mock_server.runtime import runtime_of
from mock_server.state import state_of
from mock_server.state.file_store import new_id
from mock_server.web.errors import ApiError
from mock_server.web.http import check_version, json_response, page_body, page_request, read_body, require_key
from schemas import load_schema
from schemas.wire.casing import camel_to_snake

__all__ = ["routes"]

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_GRACE_SECONDS = 24 * 3600  # revoke_previous_secrets_after_h24
_CREATE, _UPDATE, _ROTATE = "CreateWebhookRequest.webhook", "UpdateWebhookRequest.webhook", "RotateSigningSecretRequest"


async def _body(request: Request, schema_name: str, what: str) -> dict[str, Any]:
    raw = await read_body(request)
    return read_body_document(parse_json_body(raw) if raw.strip() else {}, schema_name, what)


def _found(request: Request, webhook_id: str) -> dict[str, Any]:
    record = registry_of(runtime_of(request)).get(webhook_id)
    if record is None:
        raise ApiError.named("webhook_not_found")
    return record


async def create_webhook(request: Request) -> Response:
    check_version(request)
    require_key(request)
    runtime = runtime_of(request)
    body = await _body(request, "create_request", _CREATE)
    check_destination(runtime, body["uri"], _CREATE, "uri")
    registry = registry_of(runtime)
    webhook_id = request.query_params.get("webhook_id") or request.query_params.get("webhookId") or new_id()
    if not _ID.match(webhook_id):
        raise ApiError.named("webhook_invalid", request="CreateWebhookRequest", field="webhook_id",
                             detail="must be 1-63 lower-case letters, digits or hyphens.")
    if registry.get(webhook_id) is not None:
        raise ApiError.named("webhook_already_exists", id=webhook_id)
    now, secret = time.time(), new_secret()
    record = {"id": webhook_id, "uri": body["uri"], "subscribed_events": body["subscribed_events"],
              "state": "enabled", "created": now, "updated": now, "secrets": [{"secret": secret, "expire": None}]}
    if body.get("name"):
        record["name"] = body["name"]
    registry.put(webhook_id, record)
    return json_response(shown(record) | {"new_signing_secret": secret})


async def list_webhooks(request: Request) -> Response:
    check_version(request)
    require_key(request)
    records = registry_of(runtime_of(request)).all()
    sizes = load_schema("webhooks/list_webhooks")["x-page-size"]
    start, size = page_request(request, sizes["default"], sizes["max"])
    return json_response(page_body(records, start, size, "webhooks", shown, token_key="next_page_token"))


def _mask(request: Request, body: dict[str, Any]) -> list[str]:
    raw = request.query_params.get("update_mask") or request.query_params.get("updateMask")
    if not raw:
        return list(body)
    known = load_schema("webhooks/update_request")["properties"]
    fields = [camel_to_snake(name.strip()) for name in raw.split(",") if name.strip()]
    for name in fields:
        if name not in known:
            raise ApiError.named("webhook_invalid", request="UpdateWebhookRequest", field="update_mask",
                                 detail=f"unknown field {name!r}.")
    return fields


async def _update(request: Request, record: dict[str, Any]) -> dict[str, Any]:
    body = await _body(request, "update_request", _UPDATE)
    for name in _mask(request, body):
        if name in body:
            record[name] = body[name]
        elif name == "name":
            record.pop("name", None)
        else:
            raise ApiError.named("webhook_invalid", request=_UPDATE, field=name,
                                 detail="is named in update_mask but not set.")
    check_destination(runtime_of(request), record["uri"], _UPDATE, "uri")
    record["updated"] = time.time()
    return record


async def _rotate(request: Request, record: dict[str, Any]) -> dict[str, Any]:
    body = await _rotate_body(request)
    now, secret = time.time(), new_secret()
    kept: list[dict[str, Any]] = []
    if body.get("revocation_behavior") != "revoke_previous_secrets_immediately":
        deadline = now + _GRACE_SECONDS
        kept = [dict(old, expire=min(old["expire"] or deadline, deadline)) for old in record["secrets"]
                if old["expire"] is None or old["expire"] > now]
    record["secrets"] = [*kept, {"secret": secret, "expire": None}]
    record["updated"] = now
    return {"secret": secret}


async def _rotate_body(request: Request) -> dict[str, Any]:
    raw = await read_body(request)
    document = parse_json_body(raw) if raw.strip() else {}
    schema = load_schema("webhooks/update_request")["$defs"]["RotateSigningSecretRequest"]
    if not isinstance(document, dict):
        raise ApiError.named("root_not_object")
    for name, value in document.items():
        if name not in schema["properties"]:
            raise ApiError.named("unknown_field", name=name, at="")
        if value not in schema["properties"][name]["enum"]:
            raise ApiError.named("webhook_invalid", request=_ROTATE, field=name,
                                 detail=f"must be one of {', '.join(schema['properties'][name]['enum'])}.")
    return document


async def webhook_action(request: Request) -> Response:
    check_version(request)
    require_key(request)
    webhook_id, _, action = str(request.path_params["target"]).partition(":")
    allowed = {"": ("GET", "PATCH", "DELETE"), "ping": ("POST",), "rotateSigningSecret": ("POST",)}
    if request.method not in allowed.get(action, ()):
        raise ApiError.named("not_found_path")
    runtime = runtime_of(request)
    registry = registry_of(runtime)
    record = _found(request, webhook_id)
    if request.method == "GET":
        return json_response(shown(record))
    if request.method == "DELETE":
        registry.delete(webhook_id)
        return json_response({})
    if action == "ping":
        await read_body(request)  # an empty PingWebhookRequest; anything in it is ignored
        event = event_document("webhook.ping", {"id": f"webhooks/{webhook_id}"})
        dispatch(runtime, event, [Target(record["uri"], webhook_id, tuple(live_secrets(record)))])
        return json_response({})
    answer = await _rotate(request, record) if action else shown(await _update(request, record))
    registry.put(webhook_id, record)
    return json_response(answer)


async def jwks_document(request: Request) -> Response:
    """The public keys of per-job deliveries' JWTs (no API key: receivers fetch it)."""
    return json_response(jwks(state_of(runtime_of(request))))


async def deliveries(request: Request) -> Response:
    registry = registry_of(runtime_of(request))
    if request.method == "DELETE":
        return json_response({"cleared": registry.clear_deliveries()})
    return json_response({"deliveries": registry.deliveries()})


def routes() -> list[Route]:
    return [  # the admin path first: /{version}/webhooks/{target} would take it for version "_mock"
        Route("/_mock/webhooks/deliveries", deliveries, methods=["GET", "DELETE"]),
        Route("/{version}/webhooks", create_webhook, methods=["POST"]),
        Route("/{version}/webhooks", list_webhooks, methods=["GET"]),
        Route("/{version}/webhooks/{target}", webhook_action, methods=["GET", "PATCH", "DELETE", "POST"]),
        Route("/.well-known/jwks.json", jwks_document, methods=["GET"]),
    ]
