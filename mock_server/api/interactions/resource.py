"""The ``Interaction`` resource from a planned and rendered ``Reply``: steps, status, usage.

The reply is the one generateContent would answer with (same images, same token counts); only the
spelling differs. A thinking model's answer starts with a ``thought`` step whose signature signs the
final image (or the answer text when there is no image), so a stateless history that sends the
steps back verifies exactly like a generateContent history. ``thinking_summaries: "auto"`` puts the
thought parts (text and interim images) in that step's ``summary``.
"""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime
from typing import Any

from mock_server.answer.images import RenderedImage
from mock_server.answer.parts import PlannedPart
from mock_server.answer.reply import Reply
from mock_server.answer.signatures import content_digest, sign

__all__ = ["TRUNCATED", "interaction_usage", "model_turn", "new_interaction_id", "now", "output_steps", "resource",
           "status_of"]

_MODALITY_ORDER = ("text", "image", "audio", "video", "document")

TRUNCATED = (b'{\n  "id": "v1_ChdGUVFJYXBXVUdLVEF4TjhQ",\n  "object": "interaction",\n  "status": "completed",\n'
             b'  "model": "')
"""The start of an ``Interaction`` as ``json_response`` writes it, cut mid-string: the body of the
``malformed_body`` fault on this surface (generateContent's would not be a truncated Interaction)."""


def new_interaction_id() -> str:
    """``v1_`` and URL-safe base64, like Google's ids (``v1_ChdGUVFJYXBX...``)."""
    return "v1_" + base64.urlsafe_b64encode(os.urandom(33)).decode()


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _content(part: PlannedPart, image: RenderedImage | None) -> dict[str, Any]:
    if part.file_uri is not None and part.image is not None:
        return {"type": "image", "mime_type": part.image.mime_type, "uri": part.file_uri}
    if image is not None:
        return {"type": "image", "mime_type": image.mime_type, "data": image.base64_data.decode()}
    return {"type": "text", "text": part.text or ""}


def output_steps(reply: Reply, rendered: dict[int, RenderedImage], thinking: bool, secret: str) -> list[dict[str, Any]]:
    """The answer as steps: ``thought`` (thinking models) then ``model_output``."""
    summary: list[dict[str, Any]] = []
    content: list[dict[str, Any]] = []
    digest: bytes | None = None
    for index, part in enumerate(reply.parts):
        block = _content(part, rendered.get(index))
        if part.thought:
            summary.append(block)
            continue
        content.append(block)
        if index in rendered:
            digest = rendered[index].digest
        elif part.file_uri is not None:
            digest = content_digest(part.file_uri.encode())
        elif digest is None:
            digest = content_digest((part.text or "").encode())
    steps: list[dict[str, Any]] = []
    if thinking and reply.has_candidate:
        thought: dict[str, Any] = {"type": "thought"}
        if digest is not None:
            thought["signature"] = sign(secret, digest)
        if summary:
            thought["summary"] = summary
        steps.append(thought)
    output: dict[str, Any] = {"type": "model_output", "content": content}
    if not content and reply.finish_reason not in (None, "STOP"):
        # Blocked output: the facts are silent; google.rpc.Status in model_output.error is the SDK's slot.
        output["error"] = {"code": 3, "message": reply.finish_message or f"Output blocked: {reply.finish_reason}."}
    if reply.has_candidate:
        steps.append(output)
    return steps


def status_of(reply: Reply) -> tuple[str, list[dict[str, str]]]:
    """(status, errors[]) for a finished reply."""
    if not reply.has_candidate:
        reason = (reply.prompt_feedback or {}).get("blockReason", "OTHER")
        return "failed", [{"code": "prompt_blocked", "message": f"The prompt was blocked (reason {reason})."}]
    if reply.finish_reason == "MAX_TOKENS":
        return "incomplete", []
    if reply.finish_reason not in (None, "STOP") and not any(not p.thought for p in reply.parts):
        message = reply.finish_message or f"Output blocked: {reply.finish_reason}."
        return "failed", [{"code": str(reply.finish_reason).lower(), "message": message}]
    return "completed", []


def _by_modality(details: list[dict[str, Any]], extra_text: int = 0) -> list[dict[str, Any]]:
    counts: dict[str, int] = {}
    for detail in details:
        modality = str(detail.get("modality", "TEXT")).lower()
        counts[modality] = counts.get(modality, 0) + int(detail.get("tokenCount", 0))
    if extra_text:
        counts["text"] = counts.get("text", 0) + extra_text
    return [{"modality": m, "tokens": counts[m]} for m in _MODALITY_ORDER if counts.get(m)]


def interaction_usage(usage_metadata: dict[str, Any], text_tokens: int | None = None) -> dict[str, Any]:
    """generateContent's usageMetadata respelled as Interactions ``Usage`` (zero totals emitted).

    Given the answer's ``text_tokens``, what candidatesTokenCount holds beyond image and text (Gemini 3's
    recorded overhead, or 3.1 Flash's folded thinking: docs/catalogue.md) counts as thought tokens here.
    """
    prompt = int(usage_metadata.get("promptTokenCount", 0))
    output = int(usage_metadata.get("candidatesTokenCount", 0))
    thought = int(usage_metadata.get("thoughtsTokenCount", 0))
    tool_use = int(usage_metadata.get("toolUsePromptTokenCount", 0))
    output_details = usage_metadata.get("candidatesTokensDetails", [])
    listed = sum(int(d.get("tokenCount", 0)) for d in output_details)
    if text_tokens is not None and output > listed + text_tokens:
        thought += output - listed - text_tokens
        output = listed + text_tokens
    usage: dict[str, Any] = {
        "total_input_tokens": prompt, "total_output_tokens": output, "total_thought_tokens": thought,
        "total_cached_tokens": 0, "total_tool_use_tokens": tool_use,
        "total_tokens": int(usage_metadata.get("totalTokenCount", prompt + output + thought + tool_use)),
        "input_tokens_by_modality": _by_modality(usage_metadata.get("promptTokensDetails", [])),
    }
    # generateContent lists only the image spend; here the answer text is its own modality line.
    by_output = _by_modality(output_details, extra_text=max(0, output - listed))
    if by_output:
        usage["output_tokens_by_modality"] = by_output
    return usage


def resource(
    *, interaction_id: str | None, status: str, model: str, created: str, service_tier: str,
    steps: list[dict[str, Any]] | None = None, usage: dict[str, Any] | None = None,
    errors: list[dict[str, str]] | None = None, previous_id: str | None = None, echo: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The wire ``Interaction``, keys in the order Google's samples show them."""
    document: dict[str, Any] = {}
    if interaction_id is not None:
        document["id"] = interaction_id
    document |= {"object": "interaction", "status": status, "model": model, "created": created, "updated": now(),
                 "service_tier": service_tier}
    if previous_id:
        document["previous_interaction_id"] = previous_id
    if steps is not None:
        document["steps"] = steps
    if usage is not None:
        document["usage"] = usage
    if errors:
        document["errors"] = errors
    return document | (echo or {})


def model_turn(steps: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The answer as a generateContent model turn, signature on the image, for the stored history."""
    signature = next((s.get("signature") for s in steps if s["type"] == "thought"), None)
    parts: list[dict[str, Any]] = []
    for step in steps:
        if step["type"] != "model_output":
            continue
        for block in step.get("content", []):
            if "uri" in block:
                continue  # delivered to Cloud Storage (Vertex gcs_uri): the fake cannot read it back
            if block["type"] == "text":
                parts.append({"text": block["text"]})
            else:
                part: dict[str, Any] = {"inlineData": {"mimeType": block["mime_type"], "data": block["data"]}}
                if signature:
                    part["thoughtSignature"] = signature
                parts.append(part)
    return {"role": "model", "parts": parts} if parts else None
