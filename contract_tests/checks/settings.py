"""The request's settings took effect: a 200 is not enough when the ratio or size was ignored."""

from __future__ import annotations

from collections.abc import Iterator

from contract_tests.checks.base import CheckContext, Failure, Skip, check, success_body, walk_parts
from contract_tests.checks.images import final_image_sizes, size_tier
from contract_tests.generation.cases import Exchange
from schemas import ModelProfile, load_profile_book

__all__ = ["settings_effective"]


def _setting_in_force(profile: ModelProfile, width: int, height: int) -> tuple[str, str] | None:
    """The (ratio, size) of the profile whose exact pixels the image has, if any."""
    for size in profile.image_sizes:
        for ratio in profile.aspect_ratios:
            if profile.dimensions(ratio, size) == (width, height):
                return ratio, size
    return None


@check("settings_effective", "major", ("casing", "settings"))
def settings_effective(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """The settings of a valid request took effect, whatever its spelling: when the image has exactly
    the pixels of another (ratio, size) of the model's table, the requested ``aspectRatio`` or
    ``imageSize`` was ignored; on edits, whose ratio is inferred from the input image, the size tier
    (pixel count) must be the requested one. A relay that drops a snake_case ``generation_config`` or a
    field it does not know answers 200 with the default 1:1 1K image; this check names that cause, where
    ``image_dimensions`` and ``usage_arithmetic`` would only see a wrong size or a wrong bill. Images of
    no size in the table are ``image_dimensions``' finding. A request for ``responseModalities: [IMAGE]``
    must not be answered with a (non-thought) text part."""
    profile = load_profile_book().get(exchange.case.model)
    expect = exchange.case.expect
    if profile is None or expect.image_size is None:
        raise Skip("not judged: no profile for this model")
    document = success_body(exchange)
    images = final_image_sizes(document)
    if not images:
        raise Skip("not judged: no image part to judge")
    if expect.modalities == ("IMAGE",):
        texts = [where for where, _c, _p, part in walk_parts(document) if "text" in part and not part.get("thought")]
        if texts:
            yield Failure("responseModalities [IMAGE] did not take effect: the answer has a text part", texts[0],
                          "image parts only", "a text part")
    size = profile.canonical_image_size(expect.image_size) or profile.default_image_size
    spelling = "" if exchange.case.casing == "camel" else f" ({exchange.case.casing} spelling)"
    for where, width, height in images:
        actual = f"{width}x{height}"
        in_force = _setting_in_force(profile, width, height)
        if expect.aspect_ratio is None:  # an edit: the ratio follows the input image, the size must not
            tier = size_tier(profile, width, height)
            if tier != size:
                yield Failure(f"imageSize {size} did not take effect on an edit{spelling}", where, size,
                              f"{actual} ({tier})")
                context.supersede(exchange.index, "settings_effective", "image_dimensions", "usage_arithmetic")
            continue
        if in_force is None or in_force == (expect.aspect_ratio, size):
            continue
        ratio_in_force, size_in_force = in_force
        ignored = [name for name, wanted, got in (("aspectRatio", expect.aspect_ratio, ratio_in_force),
                                                  ("imageSize", size, size_in_force)) if wanted != got]
        yield Failure(f"{' and '.join(ignored)} did not take effect{spelling}: the image is "
                      f"{ratio_in_force} at {size_in_force}", where, f"{expect.aspect_ratio} at {size}", actual)
        context.supersede(exchange.index, "settings_effective", "image_dimensions", "usage_arithmetic")
