"""From request bytes to a checked ``ImageRequest``, or the error Google would answer with.

Order follows Google's: JSON syntax, then field names and types (proto parsing), then
semantic rules from the model profile (ratios, sizes, input images, candidates).
"""

from __future__ import annotations

import binascii
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image

from mock_server.answer.image_header import header_size
from mock_server.answer.normalize import Problem, normalize, render_value
from mock_server.answer.response_format import image_options
from mock_server.web.errors import ApiError, bad_request_details
from schemas import ModelProfile, load_profile_book, validator
from schemas.wire.b64 import decode_base64
from schemas.wire.strict_json import JsonRejected, loads_strict, scrub_surrogates

__all__ = [
    "FileResolver", "ImageRequest", "InputImage", "decode_base64", "parse_json_body", "read_generate_request",
    "read_validated", "sniff_mime",
]

MAX_INPUT_PIXELS = 50_000_000  # the default of Settings.max_input_pixels (docs/security.md)

FileResolver = Callable[[str], tuple[str, bytes]]
"""Maps a ``fileData.fileUri`` to (mimeType, bytes); raises ApiError for unknown files."""

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF8", 0, "image/gif"),
)
_HEIF_BRANDS = {b"heic": "image/heic", b"heix": "image/heic", b"hevc": "image/heic", b"mif1": "image/heif",
                b"msf1": "image/heif", b"heif": "image/heif"}


def sniff_mime(data: bytes) -> str | None:
    """The image MIME type the bytes' magic number says, or None."""
    for magic, offset, mime in _MAGIC:
        if data[offset:offset + len(magic)] == magic:
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        return _HEIF_BRANDS.get(data[8:12])
    return None


@dataclass(frozen=True)
class InputImage:
    """One image found in the request's contents."""

    mime_type: str
    data: bytes
    width: int | None  # None when Pillow cannot read the format (HEIC/HEIF)
    height: int | None
    role: str
    content_index: int
    part_index: int
    thought: bool
    thought_signature: str | None


@dataclass(frozen=True)
class ImageRequest:
    """A checked generateContent request, with everything the response depends on resolved."""

    profile: ModelProfile
    body: dict[str, Any]  # canonical camelCase form
    prompt: str  # the text of the last user turn
    aspect_ratio: str
    ratio_inferred: bool
    image_size: str
    width: int
    height: int
    modalities: tuple[str, ...]
    include_thoughts: bool
    thinking_level: str | None
    images: tuple[InputImage, ...]
    google_search: bool
    seed: int | None
    prompt_text_tokens: int
    prompt_image_tokens: int

    @property
    def edit_source(self) -> InputImage | None:
        """The image this request edits: the last readable non-thought image in the conversation."""
        for image in reversed(self.images):
            if not image.thought and image.width is not None:
                return image
        return None


def parse_json_body(body: bytes) -> Any:
    """JSON or Google's 'Invalid JSON payload received.' error; an empty body reads as ``{}``.

    Strict (``schemas.wire.strict_json``): invalid UTF-8, lone surrogates, non-finite numbers and
    nesting past protobuf's limit are the caller's 400, never something a later step chokes on.
    """
    if not body.strip():
        return {}
    try:
        return loads_strict(body)
    except JsonRejected as exc:
        if exc.reason != "Unexpected token." or exc.position is None:
            raise ApiError.named("malformed_json", detail=exc.reason) from exc
        snippet = scrub_surrogates(body[max(0, exc.position - 20):exc.position + 20].decode("utf-8", "replace"))
        caret = " " * min(exc.position, 20) + "^"
        detail = f"Unexpected token.\n{snippet}\n{caret}"
        raise ApiError.named(
            "malformed_json", details=bad_request_details([("", f"Invalid JSON payload received. {detail}")]),
            detail=detail,
        ) from exc


def _problem_error(problems: list[Problem], api_version: str = "v1beta") -> ApiError:
    """All parse problems as one 400, messages joined by newlines as Google joins them; type URLs
    name the API version of the path (``…generativelanguage.v1.ImageResponseFormat…`` on /v1)."""
    violations: list[tuple[str, str]] = []
    for problem in problems:
        if problem.kind == "unknown":
            at = f" at '{problem.path}'" if problem.path else ""
            text = ApiError.named("unknown_field", name=problem.name, at=at).message
        elif problem.kind == "bytes":
            text = ApiError.named("bad_base64", path=problem.path, value=str(problem.value)[:50]).message
        elif problem.kind == "required":
            if problem.path == "contents":
                return ApiError.named("contents_missing")
            text = ApiError.named("data_missing", path=problem.path, field=problem.name).message.strip()
        else:
            proto = problem.proto_type
            proto = proto if proto.startswith("TYPE_") else \
                f"type.googleapis.com/{proto.replace('.v1beta.', f'.{api_version}.', 1)}"
            text = ApiError.named(
                "invalid_value", path=problem.path, type=proto, value=render_value(problem.value)
            ).message
        violations.append((problem.path if problem.kind != "required" else "", text))
    message = "\n".join(text for _, text in violations)
    return ApiError(400, "INVALID_ARGUMENT", message, bad_request_details(violations))


def read_validated(document: Any, schema_name: str, api_version: str = "v1beta") -> dict[str, Any]:
    """``document`` in canonical form, checked against ``schemas/<schema_name>``."""
    if not isinstance(document, dict):
        raise ApiError.named("root_not_object")
    normalized, problems = normalize(document, schema_name)
    if problems:
        raise _problem_error(problems, api_version)
    # The schema itself is the last word: anything the walk let through is still checked.
    for error in validator(schema_name).iter_errors(normalized):
        path = ".".join(str(part) for part in error.absolute_path)
        raise ApiError(400, "INVALID_ARGUMENT", f"Invalid value at '{path}': {error.message}",
                       bad_request_details([(path, error.message)]))
    return normalized


def _choices(values: list[str]) -> str:
    quoted = [f"'{value}'" for value in values]
    return ", ".join(quoted[:-1]) + f", or {quoted[-1]}" if len(quoted) > 1 else quoted[0]


def _read_images(body: dict[str, Any], profile: ModelProfile, files: FileResolver | None,
                 max_pixels: int) -> list[InputImage]:
    images: list[InputImage] = []
    for content_index, content in enumerate(body.get("contents", [])):
        role = content.get("role", "user")
        if role not in ("user", "model"):
            raise ApiError.named("invalid_role")
        parts = content.get("parts") or []
        if not parts:
            raise ApiError.named("parts_missing", index=content_index)
        for part_index, part in enumerate(parts):
            path = f"contents[{content_index}].parts[{part_index}]"
            if "inlineData" in part:
                declared = part["inlineData"]["mimeType"]
                try:
                    data = decode_base64(part["inlineData"]["data"])
                except (binascii.Error, ValueError) as exc:
                    raise ApiError.named("bad_base64", path=f"{path}.inline_data.data",
                                         value=part["inlineData"]["data"][:50]) from exc
            elif "fileData" in part:
                if files is None:
                    raise ApiError.named("file_not_found", file=part["fileData"]["fileUri"])
                declared_file, data = files(part["fileData"]["fileUri"])
                declared = part["fileData"].get("mimeType") or declared_file
            else:
                continue
            images.append(_read_image(declared, data, profile, role, content_index, part_index, part, max_pixels))
    return images


def _read_image(
    declared: str, data: bytes, profile: ModelProfile, role: str, content_index: int, part_index: int,
    part: dict[str, Any], max_pixels: int,
) -> InputImage:
    if declared not in profile.input_mime_types:
        raise ApiError.named("unsupported_mime", mime=declared)
    actual = sniff_mime(data)
    if actual is None:
        raise ApiError.named("undecodable_image")
    if actual != declared and not {actual, declared} <= {"image/heic", "image/heif"}:
        raise ApiError.named("mime_mismatch", actual=actual)
    # A decompression bomb is refused from its header, before Pillow opens it (which warns past its own limit).
    size = header_size(data, actual)
    if size is not None and size[0] * size[1] > max_pixels:
        raise ApiError.named("undecodable_image")
    width = height = None
    if actual not in ("image/heic", "image/heif"):
        try:
            with Image.open(io.BytesIO(data)) as opened:
                width, height = opened.size
        except Exception as exc:  # Pillow raises many types for corrupt input; all mean the same here.
            raise ApiError.named("undecodable_image") from exc
    return InputImage(declared, data, width, height, role, content_index, part_index,
                      bool(part.get("thought")), part.get("thoughtSignature"))


def _prompt_text(body: dict[str, Any]) -> str:
    for content in reversed(body.get("contents", [])):
        if content.get("role", "user") == "user":
            texts = [part["text"] for part in content.get("parts", []) if "text" in part and not part.get("thought")]
            if texts:
                return " ".join(texts)
    return ""


def _all_text(body: dict[str, Any]) -> str:
    chunks = [part.get("text", "") for content in body.get("contents", []) for part in content.get("parts", [])]
    chunks += [part.get("text", "") for part in body.get("systemInstruction", {}).get("parts", [])]
    return "".join(chunks)


def _image_size(config: dict[str, Any], profile: ModelProfile, unknown_size: str) -> str:
    requested = config.get("imageSize")
    if requested is None:
        return profile.default_image_size
    size = profile.canonical_image_size(str(requested))
    if size is not None:
        return size
    if unknown_size == "fallback":
        return profile.default_image_size
    raise ApiError.named("image_size", choices=_choices(profile.image_sizes))


def read_generate_request(
    document: Any, model: str, *, unknown_image_size: str = "reject", files: FileResolver | None = None,
    api_version: str = "v1beta", generating: bool = True, max_input_pixels: int = MAX_INPUT_PIXELS,
) -> ImageRequest:
    """Check a generateContent body for ``model`` against the schema and the model's profile
    (``generating=False``: for countTokens, which accepts what only generation refuses)."""
    book = load_profile_book()
    profile = book.get(model)
    if profile is None:
        raise LookupError(model)
    body = read_validated(document, "generate_content_request", api_version)
    if not body.get("contents"):
        raise ApiError.named("contents_missing")
    for part in body.get("systemInstruction", {}).get("parts", []):
        if set(part) - {"text"}:
            raise ApiError.named("system_instruction_text_only")
    generation = body.get("generationConfig", {})
    if int(generation.get("candidateCount", 1)) > 1:
        raise ApiError.named("candidate_count")
    modalities = tuple(generation.get("responseModalities") or ("TEXT", "IMAGE"))
    unsupported = [m for m in modalities if m not in ("TEXT", "IMAGE")]
    if unsupported:
        raise ApiError.named("modalities", modalities=",".join(m.lower() for m in modalities))
    if "IMAGE" in modalities and generation.get("responseMimeType") not in (None, "", "text/plain"):
        raise ApiError.named("response_mime_type")
    thinking = generation.get("thinkingConfig", {})
    if thinking and not profile.thinking and generating:
        raise ApiError.named("thinking_not_enabled")
    level = thinking.get("thinkingLevel")
    if level is not None and profile.thinking_levels is not None and level not in profile.thinking_levels:
        raise ApiError.named("thinking_level_unsupported")
    image_config = image_options(generation, generating=generating)
    ratio = image_config.get("aspectRatio")
    if ratio is not None and ratio not in profile.aspect_ratios:
        raise ApiError.named("aspect_ratio", choices=_choices(profile.aspect_ratios))
    size = _image_size(image_config, profile, unknown_image_size)
    images = _read_images(body, profile, files, max_input_pixels)
    # Sizes come from the image headers: a decompression bomb is refused before a pixel is decoded.
    if any((image.width or 0) * (image.height or 0) > max_input_pixels for image in images):
        raise ApiError.named("undecodable_image")
    if len(images) > profile.max_input_images:
        raise ApiError.named("too_many_images", count=len(images), model=profile.model_id,
                             limit=profile.max_input_images)
    inferred = ratio is None
    shape = None
    if ratio is None:
        source = next((image for image in reversed(images) if image.width and image.height), None)
        if source and source.width and source.height:
            ratio = profile.closest_aspect_ratio(source.width, source.height)
        else:  # the model's own default shape (3 Pro: 1408x768, obs. 20), else 1:1
            shape = profile.default_dimensions(size)
            ratio = profile.closest_aspect_ratio(*shape) if shape else "1:1"
    width, height = shape or profile.dimensions(ratio, size)
    text_tokens = book.text_tokens(_all_text(body))
    image_tokens = sum(profile.input_image_tokens(image.width or 0, image.height or 0) for image in images)
    if text_tokens + image_tokens > profile.input_token_limit:
        raise ApiError.named("too_many_tokens", count=text_tokens + image_tokens, limit=profile.input_token_limit)
    tools = body.get("tools", [])
    return ImageRequest(
        profile=profile, body=body, prompt=_prompt_text(body), aspect_ratio=ratio, ratio_inferred=inferred,
        image_size=size, width=width, height=height, modalities=modalities,
        include_thoughts=bool(thinking.get("includeThoughts")), thinking_level=level, images=tuple(images),
        google_search=profile.supports_google_search and any("googleSearch" in tool for tool in tools),
        seed=int(generation["seed"]) if "seed" in generation else None,
        prompt_text_tokens=text_tokens, prompt_image_tokens=image_tokens,
    )
