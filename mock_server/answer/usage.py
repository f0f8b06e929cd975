"""usageMetadata as Google bills an image response (facts §4): totals always add up."""

from __future__ import annotations

import random
from typing import Any

from mock_server.answer.validation import ImageRequest

__all__ = ["prompt_details", "thoughts_tokens", "usage_metadata"]


def prompt_details(text_tokens: int, image_tokens: int) -> list[dict[str, Any]]:
    details = [{"modality": "TEXT", "tokenCount": text_tokens}]
    if image_tokens:
        details.append({"modality": "IMAGE", "tokenCount": image_tokens})
    return details


def thoughts_tokens(request: ImageRequest, key: str) -> int:
    """Deterministic thinking spend in the profile's range for the request's thinking level."""
    span = request.profile.thought_tokens_range(request.thinking_level)
    if span is None:
        return 0
    return random.Random(key).randint(*span)


def usage_metadata(
    request: ImageRequest, *, images: int, text_tokens: int, thoughts: int, tool_use_tokens: int = 0,
) -> dict[str, Any]:
    """Counts for a response with ``images`` final images and ``text_tokens`` of answer text.

    As in captures, candidatesTokensDetails lists the IMAGE spend only; candidatesTokenCount also
    covers the answer text. Zero-valued counts are omitted (proto3 JSON).
    """
    prompt = request.prompt_text_tokens + request.prompt_image_tokens
    image_tokens = images * request.profile.output_tokens_per_image(request.image_size)
    candidates = image_tokens + text_tokens
    usage: dict[str, Any] = {"promptTokenCount": prompt}
    if candidates:
        usage["candidatesTokenCount"] = candidates
    usage["totalTokenCount"] = prompt + candidates + thoughts + tool_use_tokens
    usage["promptTokensDetails"] = prompt_details(request.prompt_text_tokens, request.prompt_image_tokens)
    if image_tokens:
        usage["candidatesTokensDetails"] = [{"modality": "IMAGE", "tokenCount": image_tokens}]
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    if tool_use_tokens:
        usage["toolUsePromptTokenCount"] = tool_use_tokens
    return usage
