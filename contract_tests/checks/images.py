"""Checks on the generated images: payload integrity, exact dimensions, and presence."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from contract_tests.checks.base import GENERATING, CheckContext, Failure, Skip, check, success_body, walk_parts
from contract_tests.generation.cases import Exchange
from contract_tests.generation.images import decode_image, mime_of_bytes
from schemas import ModelProfile, load_profile_book, load_schema
from schemas.wire.b64 import decode_strict_base64 as decode_b64

__all__ = [
    "expected_size",
    "final_image_sizes",
    "final_images",
    "image_dimensions",
    "image_payload",
    "image_present_or_explained",
    "size_tier",
]

# Inferred ratios are not exact in real captures (facts §11.2): allow this relative deviation.
_INFERRED_RATIO_TOLERANCE = 0.10


def final_images(document: Any) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """(pointer, inlineData, is_thought) for every image part of a camelCase response."""
    for where, _c, _p, part in walk_parts(document):
        blob = part.get("inlineData")
        if isinstance(blob, dict):
            yield where + "/inlineData", blob, bool(part.get("thought"))


@check("image_payload", "critical", GENERATING, shows_images=True)
def image_payload(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """Every ``inlineData`` image is standard, padded base64; its ``mimeType`` names what the bytes'
    signature says they are; the bytes decode completely with Pillow; and a final image's type is one the
    model's profile lists as an output type. Clients pick a decoder and a file extension from
    ``mimeType``, so a PNG labelled ``image/jpeg`` breaks them (observed on Gemini 3 Pro Image)."""
    document = success_body(exchange)
    profile = load_profile_book().get(exchange.case.model)
    seen = False
    for where, blob, thought in final_images(document):
        seen = True
        try:
            data = decode_b64(blob.get("data"))
        except ValueError as error:
            yield Failure(f"image data is not valid standard base64: {error}", where + "/data", "standard base64",
                          str(blob.get("data"))[:60])
            continue
        declared = blob.get("mimeType")
        actual = mime_of_bytes(data)
        if actual != declared:
            yield Failure("mimeType does not match the bytes' signature", where + "/mimeType", actual, declared)
        try:
            decode_image(data)
        except Exception as error:
            yield Failure(f"image bytes do not decode: {error}", where + "/data", "a decodable image", len(data))
        if profile is not None and not thought and actual and actual not in profile.output_mime_types:
            yield Failure("output image type not listed for this model", where + "/mimeType",
                          profile.output_mime_types, actual)
    if not seen:
        raise Skip("no image in response")


def final_image_sizes(document: Any) -> list[tuple[str, int, int]]:
    """(pointer to the data, width, height) of every decodable final (non-thought) image."""
    found = []
    for where, blob, thought in final_images(document):
        if thought:
            continue
        try:
            image = decode_image(decode_b64(blob.get("data")))
        except Exception:
            continue  # image_payload reports undecodable images
        found.append((where + "/data", image.width, image.height))
    return found


def size_tier(profile: ModelProfile, width: int, height: int) -> str:
    """The image size whose pixel count (averaged over the model's ratios) is nearest, on a log scale."""
    pixels = width * height

    def distance(size: str) -> float:
        counts = [w * h for w, h in (profile.dimensions(r, size) for r in profile.aspect_ratios)]
        return abs(math.log(pixels / (sum(counts) / len(counts))))

    return min(profile.image_sizes, key=distance)


def expected_size(exchange: Exchange) -> tuple[ModelProfile, str]:
    """The profile and canonical image size a request asked for; Skip when the model has no profile."""
    profile = load_profile_book().get(exchange.case.model)
    if profile is None or exchange.case.expect.image_size is None:
        raise Skip("no profile for this model")
    return profile, profile.canonical_image_size(exchange.case.expect.image_size) or profile.default_image_size


def _ratio(width: int, height: int) -> float:
    return width / height


@check("image_dimensions", "major", GENERATING, shows_images=True)
def image_dimensions(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """Each final (non-thought) image has exactly the width x height the model's profile gives for the
    requested aspect ratio and image size (the default size when none is requested, 1:1 when neither a
    ratio nor an input image is given). When the ratio is inferred from an input image the check is
    looser: the output's shape must be within 10% of the accepted ratio nearest an input image's shape,
    because real outputs deviate from the table there, and its pixel count must lie in the requested
    size tier (a 4K edit answered at 1K is caught)."""
    document = success_body(exchange)
    profile, size = expected_size(exchange)
    expect = exchange.case.expect
    inferred = expect.aspect_ratio is None and bool(expect.input_images)
    sizes = final_image_sizes(document)
    for where, width, height in sizes:
        actual = (width, height)
        if not inferred:
            ratio = expect.aspect_ratio or "1:1"
            wanted = profile.dimensions(ratio, size)
            if actual != wanted:
                yield Failure(f"wrong dimensions for {ratio} at {size}", where,
                              "x".join(map(str, wanted)), "x".join(map(str, actual)))
            continue
        targets = {profile.closest_aspect_ratio(i.width, i.height) for i in expect.input_images}
        deviation = min(abs(_ratio(*actual) / profile.ratio_value(r) - 1) for r in targets)
        if deviation > _INFERRED_RATIO_TOLERANCE:
            yield Failure("output shape is far from the ratio inferred from the input image", where,
                          " or ".join(sorted(targets)), "x".join(map(str, actual)))
        tier = size_tier(profile, *actual)
        if tier != size:
            yield Failure(f"edit answered in the {tier} size tier instead of {size}", where, size,
                          f"{'x'.join(map(str, actual))} ({tier})")
    if not sizes:
        raise Skip("no decodable final image")


def _explaining_finish_reasons() -> set[str]:
    enum = load_schema("generate_content_response")["$defs"]["Candidate"]["properties"]["finishReason"]["enum"]
    # STOP (and "unspecified") claim a normal completion: they explain nothing.
    return {reason for reason in enum if reason not in ("STOP", "FINISH_REASON_UNSPECIFIED")}


@check("image_present_or_explained", "critical", GENERATING)
def image_present_or_explained(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """A 200 answer to a valid image request contains at least one non-thought image, unless the response
    explains why not: ``promptFeedback.blockReason`` (prompt blocked) or a ``finishReason`` other than
    STOP (IMAGE_SAFETY, NO_IMAGE, ...). A 200 with ``finishReason: STOP`` and no image is a silent
    failure: the client is billed, gets nothing, and has no reason to show its user."""
    document = success_body(exchange)
    if any(not thought for _w, _b, thought in final_images(document)):
        return
    block = (document.get("promptFeedback") or {}).get("blockReason")
    if block:
        context.note("image_present_or_explained", f"prompt blocked: {block}")
        return
    candidates = document.get("candidates") or []
    reasons = [c.get("finishReason") for c in candidates if isinstance(c, dict)]
    explained = _explaining_finish_reasons()
    if any(reason in explained for reason in reasons):
        context.note("image_present_or_explained", f"no image, explained by finishReason {reasons}")
        return
    yield Failure("200 response without an image and without a reason", "/candidates/0/finishReason",
                  f"an image, or one of {sorted(explained)}", reasons[0] if reasons else None)
