"""Contract-suite self-test for the Interactions checks: each defect breaks exactly one rule of that surface.

``apply_defect`` (``defects.py``) applies these rewrites to ``/{version}/interactions`` exchanges only
(generateContent stays intact), the way a buggy relay would; ``interactions_ignores_previous`` rewrites
the request instead of the response.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from typing import Any

from PIL import Image
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas import load_profile_book
from schemas.wire.casing import map_keys, snake_to_camel

__all__ = ["INTERACTIONS_DEFECTS", "INTERACTIONS_REWRITES", "is_interactions_path", "widened",
           "without_previous_interaction"]

INTERACTIONS_DEFECTS: dict[str, str] = {
    "interactions_rpc_errors": "Interactions errors come in generateContent's google.rpc.Status envelope",
    "interactions_usage_mismatch": "Interactions usage.total_tokens is not input + output + thought",
    "interactions_wrong_dimensions": "Interactions output images are 25% wider than the profile's size",
    "interactions_camel_case": "Interactions answers are spelled in camelCase (mimeType, totalTokens, ...)",
    "interactions_wrong_model": "Interactions answers name a different model than the one requested",
    "interactions_no_image": "completed Interactions answers carry no image (usage adjusted to match)",
    "interactions_stream_order": "Interactions streams send status_update before interaction.created",
    "interactions_ignores_previous": "previous_interaction_id is dropped: every turn starts a new conversation",
}

Rewrite = Callable[[int, bytes], tuple[int, bytes]]


def _images(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [block for step in document.get("steps") or [] if step.get("type") == "model_output"
            for block in step.get("content") or [] if block.get("type") == "image"]


def widened(data: str) -> str:
    """Base64 image ``data`` re-encoded 25% wider, in its own format (both surfaces' wrong_dimensions)."""
    with Image.open(io.BytesIO(base64.b64decode(data))) as image:
        fmt = image.format or "PNG"
        wider = image.convert("RGB").resize((image.width * 5 // 4, image.height))
    buffer = io.BytesIO()
    wider.save(buffer, format=fmt)
    return base64.b64encode(buffer.getvalue()).decode()


def _widen(document: dict[str, Any]) -> None:
    for block in _images(document):
        block["data"] = widened(block["data"])


def _break_total(document: dict[str, Any]) -> None:
    if "usage" in document:
        document["usage"]["total_tokens"] += 100


def _swap_model(document: dict[str, Any]) -> None:
    document["model"] = next(model for model in load_profile_book().ids() if model != document.get("model"))


def _drop_images(document: dict[str, Any]) -> None:
    usage = document.get("usage") or {}
    by_modality = usage.get("output_tokens_by_modality") or []
    image_tokens = sum(m["tokens"] for m in by_modality if m["modality"] == "image")
    for step in document.get("steps") or []:
        if step.get("type") == "model_output":
            step["content"] = [block for block in step.get("content") or [] if block.get("type") != "image"]
    if usage:
        usage["output_tokens_by_modality"] = [m for m in by_modality if m["modality"] != "image"]
        usage["total_output_tokens"] -= image_tokens
        usage["total_tokens"] -= image_tokens


def _on_success(change: Callable[[dict[str, Any]], None]) -> Rewrite:
    def rewrite(status: int, body: bytes) -> tuple[int, bytes]:
        if status != 200 or not body.lstrip().startswith(b"{"):
            return status, body  # streams pass through untouched
        document = json.loads(body)
        change(document)
        return status, json.dumps(document).encode()

    return rewrite


def _camel(status: int, body: bytes) -> tuple[int, bytes]:
    if status != 200 or not body.lstrip().startswith(b"{"):
        return status, body
    return status, json.dumps(map_keys(json.loads(body), snake_to_camel)).encode()


def _rpc_errors(status: int, body: bytes) -> tuple[int, bytes]:
    if status < 400:
        return status, body
    message = json.loads(body)["error"]["message"]
    return status, json.dumps({"error": {"code": status, "message": message, "status": "INVALID_ARGUMENT"}}).encode()


def _swap_opening(status: int, body: bytes) -> tuple[int, bytes]:
    if status != 200 or body.lstrip().startswith(b"{"):
        return status, body
    events = body.split(b"\n\n")
    events[0], events[1] = events[1], events[0]
    return status, b"\n\n".join(events)


INTERACTIONS_REWRITES: dict[str, Rewrite] = {
    "interactions_rpc_errors": _rpc_errors,
    "interactions_usage_mismatch": _on_success(_break_total),
    "interactions_wrong_dimensions": _on_success(_widen),
    "interactions_camel_case": _camel,
    "interactions_wrong_model": _on_success(_swap_model),
    "interactions_no_image": _on_success(_drop_images),
    "interactions_stream_order": _swap_opening,
}


def _without_previous(body: bytes) -> bytes:
    try:
        document = json.loads(body)
    except ValueError:
        return body
    if isinstance(document, dict):
        document.pop("previous_interaction_id", None)
    return json.dumps(document).encode()


def is_interactions_path(path: str) -> bool:
    return "/interactions" in path


def without_previous_interaction(app: ASGIApp) -> ASGIApp:
    """``interactions_ignores_previous``: the request loses ``previous_interaction_id`` before the app sees it."""

    async def defective(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_interactions_path(str(scope.get("path", ""))):
            await app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = _without_previous(b"".join(chunks))
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, replay, send)

    return defective
