"""Token accounting: the totals add up and image tokens match the model profile."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from contract_tests.checks.base import GENERATING, CheckContext, Failure, check, pointer, success_body
from contract_tests.checks.images import final_images
from contract_tests.generation.cases import Exchange
from schemas import load_profile_book

__all__ = ["usage_arithmetic"]

_ADDENDS = ("promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount", "toolUsePromptTokenCount")


def _count(usage: dict[str, Any], name: str) -> int:
    value = usage.get(name, 0)  # proto3 JSON omits zero-valued fields
    return value if isinstance(value, int) else 0


def _details(usage: dict[str, Any], name: str) -> dict[str, int]:
    totals: dict[str, int] = {}
    for entry in usage.get(name) or []:
        if isinstance(entry, dict):
            modality = str(entry.get("modality"))
            totals[modality] = totals.get(modality, 0) + _count(entry, "tokenCount")
    return totals


@check("usage_arithmetic", "major", GENERATING)
def usage_arithmetic(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """``usageMetadata`` is present and consistent: ``totalTokenCount`` = prompt + candidates + thoughts
    (+ toolUsePrompt), as in every capture of the real API; ``promptTokensDetails`` sum to
    ``promptTokenCount``; ``candidatesTokensDetails`` do not exceed ``candidatesTokenCount``; and the IMAGE
    entry of ``candidatesTokensDetails`` equals the number of final images times the profile's output
    tokens per image for the requested size. Usage is what clients bill their own users with."""
    document = success_body(exchange)
    usage = document.get("usageMetadata")
    base = pointer("usageMetadata")
    if not isinstance(usage, dict):
        yield Failure("usageMetadata is missing", base, "an object", usage)
        return
    total = _count(usage, "totalTokenCount")
    addends = {name: _count(usage, name) for name in _ADDENDS}
    if total != sum(addends.values()):
        yield Failure("totalTokenCount is not the sum of its parts", base + "/totalTokenCount",
                      f"{sum(addends.values())} = " + " + ".join(f"{n} {v}" for n, v in addends.items()), total)
    prompt_details = _details(usage, "promptTokensDetails")
    if prompt_details and sum(prompt_details.values()) != addends["promptTokenCount"]:
        yield Failure("promptTokensDetails do not sum to promptTokenCount", base + "/promptTokensDetails",
                      addends["promptTokenCount"], sum(prompt_details.values()))
    candidate_details = _details(usage, "candidatesTokensDetails")
    if sum(candidate_details.values()) > addends["candidatesTokenCount"]:
        yield Failure("candidatesTokensDetails exceed candidatesTokenCount", base + "/candidatesTokensDetails",
                      f"<= {addends['candidatesTokenCount']}", sum(candidate_details.values()))
    profile = load_profile_book().get(exchange.case.model)
    size = exchange.case.expect.image_size
    images = sum(1 for _w, _b, thought in final_images(document) if not thought)
    if profile is None or size is None or images == 0:
        return
    canonical = profile.canonical_image_size(size) or profile.default_image_size
    wanted = images * profile.output_tokens_per_image(canonical)
    if candidate_details.get("IMAGE") != wanted:
        yield Failure(f"IMAGE tokens do not match {images} image(s) at {canonical}",
                      base + "/candidatesTokensDetails", wanted, candidate_details.get("IMAGE"))
