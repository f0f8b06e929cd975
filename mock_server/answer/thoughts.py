"""Thought parts of thinking models (facts §5): thought text and interim images before the answer.

With ``thinkingConfig.includeThoughts`` on a thinking model the answer is preceded by parts marked
``"thought": true``: a short thought text, then up to two interim images ("the model generates up to
two interim images to test composition and logic. The last image within Thinking is also the final
rendered image"). So the last interim image is byte-identical to the final image (rendered once,
cached), and an earlier one is a visibly different draft. Thought parts are never signed; the
signatures go on the final image parts and on the first non-thought text part (``reply.py``).
How many interim images a model draws per thinking level is data: ``thoughtImages`` in
``schemas/model_profiles.json``. Thought tokens are billed whether thoughts are shown or not
(``usage.py``); showing them adds no tokens.
"""

from __future__ import annotations

from dataclasses import replace

from mock_server.answer.images import ImageSpec
from mock_server.answer.parts import PlannedPart
from mock_server.answer.validation import ImageRequest
from mock_server.settings import Settings

__all__ = ["interim_parts", "shows_thoughts", "thought_parts", "thought_texts"]


def shows_thoughts(request: ImageRequest, settings: Settings) -> bool:
    """Whether the reply carries thought parts (facts §11.8: only on request, unless configured)."""
    if not request.profile.thinking:
        return False
    return request.include_thoughts or settings.thought_parts == "always"


def thought_texts(request: ImageRequest) -> tuple[str, str]:
    """Two deterministic thought summaries in the style Gemini prints them (bold heading, prose)."""
    subject = request.prompt.strip().rstrip(".")[:120] or "the image"
    shape = f"{request.aspect_ratio} ({request.width}x{request.height}, {request.image_size})"
    if request.edit_source is not None:
        first = (f"**Studying the source image**\n\nI'm examining the image I was given and working out "
                 f"which parts to keep and which to change for: \"{subject}\". The output will be {shape}.")
    else:
        first = (f"**Planning the composition**\n\nI'm sketching the layout for \"{subject}\" at {shape}, "
                 f"deciding on the focal point, lighting and palette before drawing.")
    second = ("**Refining the draft**\n\nThe draft's composition works; I'm fixing details, checking "
              "any text for legibility, and rendering the final image.")
    return first, second


def thought_parts(request: ImageRequest, final: ImageSpec | None, settings: Settings) -> tuple[PlannedPart, ...]:
    """The thought parts that precede the answer (empty when thoughts are not shown)."""
    if not shows_thoughts(request, settings):
        return ()
    return interim_parts(request, final, request.profile.thought_images(request.thinking_level))


def interim_parts(request: ImageRequest, final: ImageSpec | None, images: int) -> tuple[PlannedPart, ...]:
    """Thought text, ``images - 1`` drafts, more thought text, then the final image as the last thought image."""
    first, second = thought_texts(request)
    if final is None or images == 0:
        return (PlannedPart(text=first, thought=True),)
    parts = [PlannedPart(text=first, thought=True)]
    for number in range(1, images):  # drafts before the last interim image
        parts.append(PlannedPart(image=replace(final, label=f"thought {number} (draft)"), thought=True))
    parts.append(PlannedPart(text=second, thought=True))
    parts.append(PlannedPart(image=final, thought=True))  # "the last image within Thinking is also the final"
    return tuple(parts)
