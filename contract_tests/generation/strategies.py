"""Hypothesis strategies for valid generateContent requests, drawn from the schemas and model profiles.

Every table (ratios, sizes, MIME types, limits, thinking levels, enums) is read from ``schemas/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from contract_tests.config import AuthStyle
from contract_tests.generation.cases import B64Style, Case, Casing, Expectation, InputImage, b64encode
from contract_tests.generation.images import make_image, writable_mime_types
from schemas import ModelProfile, load_profile_book, load_schema

__all__ = ["base_document", "input_images", "modalities", "prompts", "valid_cases"]

CASINGS: tuple[Casing, ...] = ("camel", "snake", "mixed")
B64_STYLES: tuple[B64Style, ...] = ("standard", "urlsafe", "urlsafe_unpadded")
# Input images stay small: the suite tests the contract, not upload bandwidth, and bodies stay readable.
_MAX_INPUT_IMAGES_DRAWN = 3
_INPUT_SIDE = (16, 96)


def _modality_enum() -> list[str]:
    return list(load_schema("common")["$defs"]["Modality"]["enum"])


def modalities() -> st.SearchStrategy[tuple[str, ...] | None]:
    """responseModalities an image model accepts: IMAGE alone, or with TEXT; None leaves the default."""
    enum = _modality_enum()
    image, text = enum[enum.index("IMAGE")], enum[enum.index("TEXT")]
    return st.sampled_from([None, (image,), (text, image)])


def prompts() -> st.SearchStrategy[str]:
    # Printable text in any script; control characters and lone surrogates are not valid JSON strings.
    return st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(
        lambda text: text.strip() != ""
    )


@st.composite
def input_images(draw: st.DrawFn, profile: ModelProfile) -> list[tuple[InputImage, bytes]]:
    """Zero to a few Pillow images within the model's limit, in MIME types it accepts."""
    mimes = writable_mime_types(profile.input_mime_types)
    limit = min(profile.max_input_images, _MAX_INPUT_IMAGES_DRAWN)
    count = draw(st.integers(0, limit)) if mimes else 0
    images = []
    for _ in range(count):
        width, height = draw(st.integers(*_INPUT_SIDE)), draw(st.integers(*_INPUT_SIDE))
        mime = draw(st.sampled_from(mimes))
        colour = draw(st.tuples(*[st.integers(0, 255)] * 3))
        images.append((InputImage(width, height, mime), make_image(width, height, mime, colour)))
    return images


def base_document(prompt: str, images: Sequence[tuple[InputImage, bytes]], b64: B64Style,
                  aspect_ratio: str | None, image_size: str | None,
                  response_modalities: Sequence[str] | None, thinking: dict[str, Any] | None = None) -> dict[str, Any]:
    """A canonical camelCase GenerateContentRequest."""
    parts: list[dict[str, Any]] = [{"text": prompt}]
    parts += [{"inlineData": {"mimeType": image.mime_type, "data": b64encode(data, b64)}} for image, data in images]
    document: dict[str, Any] = {"contents": [{"role": "user", "parts": parts}]}
    config: dict[str, Any] = {}
    if response_modalities is not None:
        config["responseModalities"] = list(response_modalities)
    image_config = {name: value for name, value in (("aspectRatio", aspect_ratio), ("imageSize", image_size)) if value}
    if image_config:
        config["imageConfig"] = image_config
    if thinking:
        config["thinkingConfig"] = thinking
    if config:
        document["generationConfig"] = config
    return document


def _sizes(profile: ModelProfile, allowed: Sequence[str] | None) -> list[str]:
    sizes = [size for size in profile.image_sizes if not allowed or size in allowed]
    return sizes or [profile.default_image_size]


@st.composite
def _thinking(draw: st.DrawFn, profile: ModelProfile) -> dict[str, Any] | None:
    if not profile.thinking:
        return None
    config: dict[str, Any] = {}
    levels = profile.data.get("thinkingLevels") or []
    if levels and draw(st.booleans()):
        config["thinkingLevel"] = draw(st.sampled_from(levels))
    if draw(st.booleans()):
        config["includeThoughts"] = draw(st.booleans())
    return config or None


@st.composite
def valid_cases(draw: st.DrawFn, models: Sequence[str], auth_styles: Sequence[AuthStyle] = ("header",),
                image_sizes: Sequence[str] | None = None, purpose: str = "generate") -> Case:
    """A request every conforming endpoint must answer with 200 and an image."""
    book = load_profile_book()
    model = draw(st.sampled_from([m for m in models if book.get(m) is not None]))
    profile = book.get(model)
    assert profile is not None
    sizes = _sizes(profile, image_sizes)
    ratio = draw(st.one_of(st.none(), st.sampled_from(profile.aspect_ratios)))
    # A single-size model gets no imageSize: Google documents imageSize for Gemini 3 models only (facts §11.4).
    size = draw(st.one_of(st.none(), st.sampled_from(sizes))) if len(profile.image_sizes) > 1 else None
    if size is None and image_sizes and profile.default_image_size not in sizes:
        size = sizes[0]
    images = draw(input_images(profile))
    chosen_modalities = draw(modalities())
    document = base_document(draw(prompts()), images, draw(st.sampled_from(B64_STYLES)), ratio, size,
                             chosen_modalities, draw(_thinking(profile)))
    expect = Expectation(
        aspect_ratio=ratio, image_size=size or profile.default_image_size, size_explicit=size is not None,
        input_images=tuple(image for image, _ in images), modalities=tuple(chosen_modalities or ()),
    )
    return Case(
        purpose="generate" if purpose == "generate" else "casing", label=f"generate {model}", model=model,
        document=document, casing=draw(st.sampled_from(CASINGS)), auth=draw(st.sampled_from(list(auth_styles))),
        expect=expect,
    )
