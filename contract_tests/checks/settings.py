"""The request's settings took effect: a 200 is not enough when the ratio or size was ignored."""

from __future__ import annotations

from collections.abc import Iterator

from contract_tests.checks.base import CheckContext, Failure, Skip, check, success_body
from contract_tests.checks.images import decode_b64, final_images, size_tier
from contract_tests.generation.cases import Exchange
from contract_tests.generation.images import decode_image
from schemas import load_profile_book

__all__ = ["settings_effective"]

_SHAPE_TOLERANCE = 0.02


def _images(exchange: Exchange) -> list[tuple[str, int, int]]:
    found = []
    for where, blob, thought in final_images(success_body(exchange)):
        if thought:
            continue
        try:
            image = decode_image(decode_b64(blob.get("data")))
        except Exception:
            continue  # image_payload reports undecodable images
        found.append((where + "/data", image.width, image.height))
    return found


@check("settings_effective", "major", ("casing", "settings"))
def settings_effective(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """The settings of a valid request took effect, whatever its spelling: the image has the requested
    aspect ratio and lies in the requested size tier (pixel count), also on edits whose ratio is
    inferred from the input image. A relay that drops a snake_case ``generation_config`` or an unknown
    -to-it field answers 200 with a default 1:1 1K image; this check names that cause, where
    ``image_dimensions`` and ``usage_arithmetic`` would only see a wrong size or a wrong bill."""
    profile = load_profile_book().get(exchange.case.model)
    expect = exchange.case.expect
    if profile is None or expect.image_size is None:
        raise Skip("not judged: no profile for this model")
    images = _images(exchange)
    if not images:
        raise Skip("not judged: no image part to judge")
    size = profile.canonical_image_size(expect.image_size) or profile.default_image_size
    spelling = "" if exchange.case.casing == "camel" else f" ({exchange.case.casing} spelling)"
    for where, width, height in images:
        failed = False
        if expect.aspect_ratio:
            wanted = profile.ratio_value(expect.aspect_ratio)
            if abs(width / height / wanted - 1) > _SHAPE_TOLERANCE:
                failed = True
                yield Failure(f"aspectRatio {expect.aspect_ratio} did not take effect{spelling}", where,
                              expect.aspect_ratio, f"{width}x{height}")
        tier = size_tier(profile, width, height)
        if tier != size:
            failed = True
            edit = " on an edit" if expect.input_images else ""
            yield Failure(f"imageSize {size} did not take effect{edit}{spelling}", where, size,
                          f"{width}x{height} ({tier})")
        if failed:
            context.supersede(exchange.index, "settings_effective", "image_dimensions", "usage_arithmetic")
