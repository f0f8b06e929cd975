"""What the fake answers to an image request: planned first, rendered second, encoded last.

A ``Reply`` is plain data (parts, finish reason, usage). Scenarios and streaming transform or
split it before any bytes exist; images are rendered once (and cached); encoding splices the
large base64 blobs into pre-serialised JSON instead of re-serialising megabytes per request.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from mock_server.answer.images import ImageCache, ImageSpec, RenderedImage
from mock_server.answer.parts import PlannedPart
from mock_server.answer.signatures import content_digest, heavy_signature_head, sign, signature_filler
from mock_server.answer.thoughts import thought_parts
from mock_server.answer.usage import overhead_tokens, thoughts_tokens, usage_metadata
from mock_server.answer.validation import ImageRequest
from mock_server.settings import Settings
from schemas import ModelProfile, load_profile_book

__all__ = ["Reply", "encode_reply", "new_response_id", "plan_reply", "render_reply", "request_key"]

_BLOB_MARK = "@@gik-blob-%d-" + os.urandom(6).hex() + "@@"
# Realistic signatures end in megabytes of constant filler: spliced in like image data, never JSON-encoded.
_SIGNATURE_MARK = "@@gik-sig-%d-" + os.urandom(6).hex() + "@@"


@dataclass(frozen=True)
class Reply:
    model_version: str
    response_id: str
    parts: tuple[PlannedPart, ...] = ()
    finish_reason: str | None = "STOP"
    finish_message: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    prompt_feedback: dict[str, Any] | None = None
    grounding: dict[str, Any] | None = None
    has_candidate: bool = True
    # The surface whose dress the documents wear (answer/flavour.py) and when the answer was made.
    flavour: str = "gemini"
    create_time: str = ""
    # The encoded body, once built, for every copy of this reply that differs only in responseId.
    template: list[bytes | int] = field(default_factory=list, compare=False, repr=False)
    # The same for its streamed events, per framing (api/streaming.py).
    streams: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def with_changes(self, **changes: Any) -> Reply:
        if changes.keys() == {"response_id"}:
            # Every cached reply's copy for a repeated request: a shallow copy (dataclasses.replace
            # re-runs __init__), sharing ``template`` and ``streams``: the body is the same but for the id.
            copy = object.__new__(Reply)
            copy.__dict__.update(self.__dict__, response_id=changes["response_id"])
            return copy
        return replace(self, template=[], streams={}, **changes)


_URLSAFE = bytes.maketrans(b"+/", b"-_")


DocumentShaper = Callable[[Reply, dict[str, Any], bool, bool], dict[str, Any]]
SHAPERS: dict[str, DocumentShaper] = {}
"""How each flavour dresses its documents, by flavour name (``answer/flavour.py`` registers them)."""


def shape_document(reply: Reply, document: dict[str, Any], first: bool, final: bool) -> dict[str, Any]:
    """A response (``first`` and ``final``) or one stream chunk of ``reply``, in its flavour's dress."""
    shaper = SHAPERS.get(reply.flavour)
    return shaper(reply, document, first, final) if shaper is not None else document


def new_response_id() -> str:
    """23 URL-safe characters, like Google's responseId (unique, not secret: no system call)."""
    raw = random.getrandbits(136).to_bytes(17, "big")
    return binascii.b2a_base64(raw, newline=False).translate(_URLSAFE)[:23].decode()


def request_key(request: ImageRequest, seed: int) -> str:
    """A stable digest of everything the reply's content depends on."""
    canonical = json.dumps(request.body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{request.profile.model_id}\x00{seed}\x00{canonical}".encode()).hexdigest()


def _mime_type(settings: Settings, profile: ModelProfile, key: str) -> str:
    """The forced format, or the model's own (catalogue ``outputMimeTypes``, first = default)."""
    if settings.image_format in ("png", "jpeg"):
        return f"image/{settings.image_format}"
    formats = profile.output_mime_types
    if settings.image_format == "mixed":  # deterministic per request, like a coin Google flips
        return formats[int(key[:2], 16) % len(formats)]
    return formats[0]


def _signature_chars(profile: ModelProfile, settings: Settings, key: str) -> int:
    """Under realistic payloads, a signature length in the catalogue's recorded range (obs. 10)."""
    span = profile.realistic_signature_chars
    if settings.payload != "realistic" or span is None:
        return 0
    return span[0] + int(key[8:16], 16) % (span[1] - span[0] + 1)


def answer_text(request: ImageRequest) -> str:
    subject = request.prompt.strip().rstrip(".") or "your image"
    verb = "edited" if request.edit_source else "generated"
    return f"Here is the {verb} image: {subject[:80]}."


def plan_reply(request: ImageRequest, settings: Settings) -> Reply:
    """The parts of a successful answer, before any image is drawn."""
    # Feature modules that build on PlannedPart; imported here to keep the import graph acyclic.
    from mock_server.answer.conversation import check_history
    from mock_server.answer.grounding import synthetic_grounding

    check_history(request, settings)  # a reply is planned only for a well-formed conversation
    seed = settings.seed if request.seed is None else request.seed
    key = request_key(request, seed)
    profile = request.profile
    pad = profile.typical_image_bytes(request.image_size) if settings.payload == "realistic" else 0
    source = request.edit_source
    final = ImageSpec(
        model_id=profile.model_id, width=request.width, height=request.height, aspect_ratio=request.aspect_ratio,
        image_size=request.image_size, prompt=request.prompt, mime_type=_mime_type(settings, profile, key), seed=seed,
        source=source.data if source else None, pad_to_bytes=pad,
    )
    parts: list[PlannedPart] = []
    text_tokens = 0
    weight = _signature_chars(profile, settings, key)
    if "TEXT" in request.modalities:
        text = answer_text(request)
        text_tokens = load_profile_book().text_tokens(text)
        parts.append(PlannedPart(text=text, signed=profile.thinking, signature_chars=weight))
    if "IMAGE" in request.modalities:
        parts.append(PlannedPart(image=final, signed=profile.thinking, signature_chars=weight))
    images = sum(1 for part in parts if part.image is not None)
    day = date.fromisoformat(settings.as_of) if settings.as_of else None
    usage = usage_metadata(request, images=images, text_tokens=text_tokens, thoughts=thoughts_tokens(request, key),
                           overhead=overhead_tokens(request, key), service_tier=profile.service_tier(day))
    thoughts = thought_parts(request, final if "IMAGE" in request.modalities else None, settings)
    return Reply(model_version=profile.model_version, response_id=new_response_id(), parts=thoughts + tuple(parts),
                 usage=usage, grounding=synthetic_grounding(request))


def render_reply(reply: Reply, cache: ImageCache) -> dict[int, RenderedImage]:
    """Every image of the reply, by part index (blocking: call from a worker thread on a miss)."""
    return {index: cache.render(part.image) for index, part in enumerate(reply.parts)
            if part.image is not None and part.file_uri is None}


def _part_document(part: PlannedPart, index: int, image: RenderedImage | None, secret: str) -> dict[str, Any]:
    document: dict[str, Any] = {}
    if part.file_uri is not None and part.image is not None:
        document["fileData"] = {"mimeType": part.image.mime_type, "fileUri": part.file_uri}
        digest = content_digest(part.file_uri.encode())
    elif image is not None:
        document["inlineData"] = {"mimeType": image.mime_type, "data": _BLOB_MARK % index}
        digest = image.digest
    else:
        document["text"] = part.text or ""
        digest = content_digest((part.text or "").encode())
    if part.thought:
        document["thought"] = True
    elif part.signed and part.signature_chars:
        document["thoughtSignature"] = heavy_signature_head(secret, digest) + _SIGNATURE_MARK % index
    elif part.signed:
        document["thoughtSignature"] = sign(secret, digest)
    return document


def _blobs(reply: Reply, rendered: dict[int, RenderedImage], chosen: range) -> dict[str, bytes]:
    """Blob bytes by marker, in the order the markers appear in the document."""
    blobs: dict[str, bytes] = {}
    for index in chosen:
        part = reply.parts[index]
        if index in rendered:
            blobs[_BLOB_MARK % index] = rendered[index].base64_data
        if part.signed and part.signature_chars and not part.thought:
            blobs[_SIGNATURE_MARK % index] = signature_filler(part.signature_chars)
    return blobs


def reply_document(
    reply: Reply, rendered: dict[int, RenderedImage], secret: str, indices: range | None = None,
    final: bool = True,
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The response as a JSON-ready dict with blob markers, plus the blobs by marker."""
    chosen = indices if indices is not None else range(len(reply.parts))
    parts = [_part_document(reply.parts[i], i, rendered.get(i), secret) for i in chosen]
    blobs = _blobs(reply, rendered, chosen)
    document: dict[str, Any] = {}
    if reply.has_candidate:
        content: dict[str, Any] = {"parts": parts, "role": "model"} if parts else {"role": "model"}
        candidate: dict[str, Any] = {"content": content}
        if final and reply.finish_reason:
            candidate["finishReason"] = reply.finish_reason
        if final and reply.finish_message:
            candidate["finishMessage"] = reply.finish_message
        if final and reply.grounding:
            candidate["groundingMetadata"] = reply.grounding
        candidate["index"] = 0
        document["candidates"] = [candidate]
    if reply.prompt_feedback:
        document["promptFeedback"] = reply.prompt_feedback
    document["usageMetadata"] = reply.usage
    document["modelVersion"] = reply.model_version
    document["responseId"] = reply.response_id
    return document, blobs


def splice(document: dict[str, Any], blobs: dict[str, bytes], indent: int | None) -> list[bytes]:
    """JSON bytes of ``document`` with each blob marker replaced by its bytes (no re-serialising)."""
    separators = (",", ": ")  # single-line (SSE) chunks too: Google writes {"a": 1,"b": 2} there
    text = json.dumps(document, indent=indent, ensure_ascii=False, separators=separators).encode()
    pieces: list[bytes] = []
    for marker, blob in blobs.items():
        head, _, text = text.partition(marker.encode())
        pieces += [head, blob]
    pieces.append(text)
    return pieces


_RESPONSE_ID = -1  # template slot for the responseId; slots >= 0 are image part indices


def _build_template(reply: Reply, rendered: dict[int, RenderedImage], secret: str) -> list[bytes | int]:
    document, blobs = reply_document(reply, rendered, secret)
    document = shape_document(reply, document, first=True, final=True)
    id_marker = _BLOB_MARK % _RESPONSE_ID
    document["responseId"] = id_marker
    text = json.dumps(document, indent=2, ensure_ascii=False, separators=(",", ": ")).encode()
    # Slots: image indices and the responseId are filled per copy; signature fillers are constant.
    fills: dict[bytes, bytes | int] = {(_BLOB_MARK % index).encode(): index for index in [*rendered, _RESPONSE_ID]}
    fills |= {marker.encode(): blob for marker, blob in blobs.items()
              if marker.startswith("@@gik-sig-") and marker.encode() in text}
    slots = sorted((text.index(marker), marker) for marker in fills)
    template: list[bytes | int] = []
    position = 0
    for offset, marker in slots:
        template += [text[position:offset], fills[marker]]
        position = offset + len(marker)
    template.append(text[position:])
    return template


def encode_reply(reply: Reply, rendered: dict[int, RenderedImage], secret: str) -> list[bytes]:
    """A whole (non-streamed) response body, pretty-printed as Google prints it.

    Pretty-printing runs the pure-Python JSON encoder, so the body is encoded once per planned reply
    and later copies (same plan, new responseId) only fill in their id and image blobs.
    """
    if not reply.template:
        reply.template.extend(_build_template(reply, rendered, secret))
    response_id = reply.response_id.encode()
    return [piece if isinstance(piece, bytes) else response_id if piece == _RESPONSE_ID
            else rendered[piece].base64_data for piece in reply.template]
