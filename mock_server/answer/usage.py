"""usageMetadata as Google bills an image response (facts §4): totals always add up."""

from __future__ import annotations

import random
from typing import Any

from mock_server.answer.validation import ImageRequest

__all__ = ["overhead_tokens", "prompt_details", "thoughts_tokens", "usage_metadata"]


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


def overhead_tokens(request: ImageRequest, key: str) -> int:
    """Tokens Gemini 3 adds to candidatesTokenCount beyond image and text (obs. 16), deterministic."""
    low, high = request.profile.candidates_overhead_range
    return random.Random(key + "overhead").randint(low, high) if high else 0


def usage_metadata(
    request: ImageRequest, *, images: int, text_tokens: int, thoughts: int, service_tier: str | None,
    tool_use_tokens: int = 0, overhead: int = 0,
) -> dict[str, Any]:
    """Counts for a response with ``images`` final images and ``text_tokens`` of answer text.

    As recorded on the Gemini API (obs. 15-19): candidatesTokensDetails lists the IMAGE spend only
    and is absent from a text-only answer; candidatesTokenCount also covers the answer text and, on
    Gemini 3, an ``overhead`` beyond them; models whose catalogue ``usageReport.thoughts`` is
    'inCandidates' (3.1 Flash) fold thinking into candidatesTokenCount and have no thoughtsTokenCount.
    Zero-valued counts are omitted (proto3 JSON); ``service_tier`` (the profile's on the date answered
    for) closes the object as in captures.
    """
    profile = request.profile
    prompt = request.prompt_text_tokens + request.prompt_image_tokens
    image_tokens = images * profile.output_tokens_per_image(request.image_size)
    candidates = image_tokens + text_tokens
    if candidates and images:
        candidates += overhead
    if profile.thoughts_reporting != "thoughtsTokenCount":
        candidates += thoughts if candidates else 0
        thoughts = 0
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
    if service_tier:
        usage["serviceTier"] = service_tier
    return usage
