"""The image options of a request, in either of Google's two spellings (api-2026.md §2.1).

Both spellings work on ``/v1`` and ``/v1beta`` alike:
- ``generationConfig.imageConfig {aspectRatio: "16:9", imageSize: "2K"}``: plain strings, judged
  against the model afterwards (``aspect_ratio must be one of …``);
- ``generationConfig.responseFormat.image {aspectRatio: ASPECT_RATIO_SIXTEEN_BY_NINE, imageSize:
  IMAGE_SIZE_TWO_K, mimeType: IMAGE_JPEG}``: proto enums (names or numbers), so a plain ``"16:9"``
  there already fails while the request is parsed (``normalize``), with Google's type URL.
The enum names map to the imageConfig strings through ``schemas/proto_enums.json``. Where both
spellings set a field, ``responseFormat.image`` wins: it is the newer spelling, and Vertex marks
imageConfig deprecated in its favour. ``mimeType`` has one value, JPEG; the output format stays the
model's (its only other reading would be to force JPEG on 2.5, which no source shows).

``delivery`` (INLINE or URI) is refused by live ``generateContent`` although ``countTokens``
accepts the same body (api-2026.md §2.1, §6.10); the fake does the same, in its own words.
"""

from __future__ import annotations

from typing import Any

from mock_server.web.errors import ApiError
from schemas import load_json

__all__ = ["image_options"]


def image_options(generation: dict[str, Any], *, generating: bool = True) -> dict[str, str]:
    """``aspectRatio``/``imageSize`` as imageConfig strings, whichever spelling the request used."""
    options = {key: str(value) for key, value in generation.get("imageConfig", {}).items()}
    image = generation.get("responseFormat", {}).get("image", {})
    if generating and "delivery" in image:
        raise ApiError.named("delivery_unsupported")
    tables: dict[str, dict[str, str]] = load_json("proto_enums.json")["imageResponseFormat"]
    for field in ("aspectRatio", "imageSize"):
        value = tables[field].get(image.get(field, ""))
        if value is not None:  # *_UNSPECIFIED leaves the field to imageConfig or the default
            options[field] = value
    return options
