"""Multi-turn editing: the thought-signature rules a conversation history must satisfy (facts §5).

On thinking models Google requires every image part of a model turn to come back with the
``thoughtSignature`` it was sent with; a missing one is a 400:
``Image part is missing a thought_signature in content position N, part position M.``

Position numbering: both numbers are **1-based**. The only captured example reads "content
position 2, part position 1" for the most common shape of an image-editing chat,
``[user prompt, model image, user follow-up]``: the model turn is ``contents[1]`` and the image its
``parts[0]``, so 1-based numbering for both explains the example; 0-based would have said
"content position 1, part position 0".

Only non-thought image parts need a signature: thought parts never carry one (Google does not sign
them) and the SDK's chat replays them in the history as they came.

A signature that is present is checked too (``Settings.signature_check``):
- ``strict`` (default): it must be one this fake (or a replica sharing ``--signing-secret``) issued
  for exactly that content, or a documented bypass value; otherwise 400 ``Corrupted thought
  signature.`` — the text Google answers for signatures it did not issue (observed, gemini-cli).
- ``presence``: any value passes, only missing signatures fail (useful to replay recorded
  conversations whose signatures came from the real API).
- ``off``: no signature rules at all.
Signatures are stateless HMACs (``signatures.py``), so any worker or replica verifies any other's.
"""

from __future__ import annotations

from typing import Any

from mock_server.answer.signatures import content_digest, verify
from mock_server.answer.validation import ImageRequest
from mock_server.settings import Settings
from mock_server.web.errors import ApiError

__all__ = ["check_history"]


def _image_digests(request: ImageRequest) -> dict[tuple[int, int], bytes]:
    return {(image.content_index, image.part_index): content_digest(image.data)
            for image in request.images if image.role == "model"}


def _part_digest(part: dict[str, Any], image_digest: bytes | None) -> bytes | None:
    if image_digest is not None:
        return image_digest
    if "text" in part:
        return content_digest(str(part["text"]).encode())
    return None  # function calls etc.: signed by the real API over state the fake does not model


def check_history(request: ImageRequest, settings: Settings) -> None:
    """Raise Google's 400 when a model turn's signatures break the rules above."""
    if not request.profile.thinking or settings.signature_check == "off":
        return
    images = _image_digests(request)
    for content_index, content in enumerate(request.body.get("contents", [])):
        if content.get("role") != "model":
            continue
        for part_index, part in enumerate(content.get("parts", [])):
            image_digest = images.get((content_index, part_index))
            signature = part.get("thoughtSignature")
            if signature is None:
                if image_digest is not None and not part.get("thought"):
                    raise ApiError.named("missing_thought_signature", content=content_index + 1,
                                         part=part_index + 1)
                continue
            if settings.signature_check != "strict":
                continue
            digest = _part_digest(part, image_digest)
            if digest is not None and not verify(settings.signing_secret, digest, signature):
                raise ApiError.named("corrupted_thought_signature")
