"""The ``:countTokens`` answer, with the undocumented breakdown Google always sends (obs. 29).

Google answers ``{totalTokens, systemInstructionsTokens, contentTokens: [{partTokens: [...],
roleTokens}], promptTokensDetails}`` (in that key order; ``systemInstructionsTokens`` is ``{}``
without a system instruction). The fake keeps ``totalTokens`` equal to the ``promptTokenCount`` its
generateContent bills for the same request, and splits that total without changing it:
- text parts by running rounding over the same character count the total uses (each part gets
  the tokens its characters add), images by their input-image cost;
- one token of each content's largest text part goes to ``roleTokens`` when the content has at
  least two (the captured answer: ``partTokens [10], roleTokens 1`` for an 11-token prompt), as the
  sources show only that one value;
- a system instruction's parts are counted last, as its text is billed last.
"""

from __future__ import annotations

from typing import Any

from mock_server.answer.usage import prompt_details
from mock_server.answer.validation import ImageRequest
from schemas import load_profile_book

__all__ = ["count_tokens_document"]


def _with_role(parts: list[int], texts: list[int]) -> dict[str, Any]:
    """One token of the content's largest text part moves to ``roleTokens`` (images keep their cost)."""
    largest = max(texts, key=lambda index: parts[index], default=None)
    if largest is None or sum(parts) < 2 or parts[largest] < 1:
        return {"partTokens": parts}
    parts[largest] -= 1
    return {"partTokens": parts, "roleTokens": 1}


def count_tokens_document(request: ImageRequest) -> dict[str, Any]:
    """The countTokens response body for a checked request."""
    per_token = load_profile_book().text_chars_per_token
    images = {(image.content_index, image.part_index): request.profile.input_image_tokens(
        image.width or 0, image.height or 0) for image in request.images}
    chars = 0

    def text_tokens(text: str) -> int:
        nonlocal chars
        before = -(-chars // per_token)
        chars += len(text)
        return -(-chars // per_token) - before

    contents = []
    for content_index, content in enumerate(request.body.get("contents", [])):
        parts = [images.get((content_index, part_index)) or text_tokens(str(part.get("text", "")))
                 for part_index, part in enumerate(content.get("parts", []))]
        texts = [index for index in range(len(parts)) if (content_index, index) not in images]
        contents.append(_with_role(parts, texts))
    system_parts = request.body.get("systemInstruction", {}).get("parts", [])
    system = {"partTokens": [text_tokens(str(part.get("text", ""))) for part in system_parts]} if system_parts else {}
    return {
        "totalTokens": request.prompt_text_tokens + request.prompt_image_tokens,
        "systemInstructionsTokens": system,
        "contentTokens": contents,
        "promptTokensDetails": prompt_details(request.prompt_text_tokens, request.prompt_image_tokens),
    }
