"""Real, decodable images of exactly the profile's size, made fast enough to serve at load.

Why palette mode: an ``L`` gradient canvas per (width, height) is built once and cached; each
request copies it, draws its text, and swaps in a palette derived from the request's hash.
A palette PNG encodes about 10x faster than RGB, and the palette swap colours every pixel for free.
Encoded results are cached by content key, so a repeated request re-does no image work at all.
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
import struct
import textwrap
import threading
import zlib
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from PIL import Image, ImageDraw, ImageFont, ImageOps

__all__ = ["ImageCache", "ImageSpec", "RenderedImage", "render_image"]

_GRADIENT_COLOURS = 248  # palette indices 0..247 hold the gradient; the rest are ink colours
_BAND, _INK, _ACCENT = 248, 249, 250


@dataclass(frozen=True)
class ImageSpec:
    """Everything an image's bytes depend on; equal specs give identical bytes."""

    model_id: str
    width: int
    height: int
    aspect_ratio: str
    image_size: str
    prompt: str
    mime_type: str  # "image/png" or "image/jpeg"
    seed: int
    label: str = "final"  # "final", "thought 1", ...
    source: bytes | None = None  # the image this one edits
    pad_to_bytes: int = 0  # realistic payload size; 0 = compact
    quality: int = 85  # JPEG quality (Vertex imageOutputOptions.compressionQuality)

    @cached_property
    def key(self) -> str:
        """Content key for caching: computed once per spec (specs are immutable)."""
        digest = hashlib.sha256()
        for value in (self.model_id, self.width, self.height, self.aspect_ratio, self.image_size, self.prompt,
                      self.mime_type, self.seed, self.label, self.pad_to_bytes, self.quality):
            digest.update(str(value).encode() + b"\x00")
        digest.update(hashlib.sha256(self.source).digest() if self.source else b"-")
        return digest.hexdigest()


@dataclass(frozen=True)
class RenderedImage:
    mime_type: str
    width: int
    height: int
    base64_data: bytes  # standard base64 with padding, as the API sends it
    digest: bytes  # sha256 of the image bytes: what its thought signature signs

    @property
    def size_bytes(self) -> int:
        return len(self.base64_data)


_CANVAS_BYTES = 128 * 1024 * 1024  # every 1K and 2K canvas fits; 4K ones (up to 17 MB each) take turns
_canvases: OrderedDict[tuple[int, int], Image.Image] = OrderedDict()
_canvas_lock = threading.Lock()


def _canvas(width: int, height: int) -> Image.Image:
    """The canvas for one size, cached by bytes (all 65 catalogue sizes together would be 330 MB)."""
    with _canvas_lock:
        found = _canvases.get((width, height))
        if found is not None:
            _canvases.move_to_end((width, height))
            return found
    canvas = _draw_canvas(width, height)
    with _canvas_lock:
        _canvases[(width, height)] = canvas
        while len(_canvases) > 1 and sum(w * h for w, h in _canvases) > _CANVAS_BYTES:
            _canvases.popitem(last=False)
    return canvas


def _draw_canvas(width: int, height: int) -> Image.Image:
    """A diagonal gradient with a ruler grid, in palette indices 0..247."""
    horizontal = Image.linear_gradient("L").rotate(90).resize((width, height))
    vertical = Image.linear_gradient("L").resize((width, height))
    mixed = Image.blend(horizontal, vertical, 0.5).point(lambda v: v * (_GRADIENT_COLOURS - 1) // 255)
    draw = ImageDraw.Draw(mixed)
    step = max(8, min(width, height) // 8)
    for x in range(0, width, step):
        draw.line([(x, 0), (x, height)], fill=_GRADIENT_COLOURS - 1, width=max(1, step // 64))
    for y in range(0, height, step):
        draw.line([(0, y), (width, y)], fill=_GRADIENT_COLOURS - 1, width=max(1, step // 64))
    return mixed


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _palette(key: str) -> list[int]:
    """A two-colour gradient palette chosen by the spec's hash, plus fixed ink colours."""
    rng = random.Random(key)
    start = [rng.randrange(0, 128) for _ in range(3)]
    end = [rng.randrange(128, 256) for _ in range(3)]
    palette: list[int] = []
    for index in range(_GRADIENT_COLOURS):
        palette += [s + (e - s) * index // (_GRADIENT_COLOURS - 1) for s, e in zip(start, end, strict=True)]
    palette += [16, 16, 24, 255, 255, 255, 255, 196, 0]  # band, ink, accent
    return palette + [0] * (768 - len(palette))


_DECODER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gemini-mock-decode")
"""Input images are decoded one at a time, in this one thread: concurrent edits wait instead of multiplying
memory, and the decode buffers are reused from one allocator arena rather than one per worker thread
(glibc keeps each thread's freed memory: six threads each decoding 24 MP held about 1 GB)."""


def _decode_reduced(data: bytes, width: int, height: int) -> Image.Image:
    """The source fitted to ``width`` x ``height``, decoded no larger than needed (JPEG: at 1/2..1/8 scale
    by ``draft``; other formats: reduced by an integer factor right after decoding, before any copy)."""

    def decode() -> Image.Image:
        with Image.open(io.BytesIO(data)) as opened:
            opened.draft("RGB", (width, height))
            factor = max(1, min(opened.width // max(1, width), opened.height // max(1, height)))
            reduced = opened.reduce(factor) if factor > 1 else opened.copy()
        return ImageOps.fit(reduced.convert("RGB"), (width, height))

    return _DECODER.submit(decode).result()


def _base(spec: ImageSpec) -> Image.Image:
    if spec.source is None:
        image = _canvas(spec.width, spec.height).copy()
        image = image.convert("P") if image.mode != "P" else image
        image.putpalette(_palette(spec.key))
        return image
    # An edit: the source, cropped to the output shape and reduced to a palette, visibly reworked.
    source = _decode_reduced(spec.source, spec.width, spec.height)
    edited = ImageOps.posterize(ImageOps.mirror(source), 4)
    image = edited.quantize(colors=_GRADIENT_COLOURS, method=Image.Quantize.FASTOCTREE)
    palette = (image.getpalette() or [])[: _GRADIENT_COLOURS * 3]
    palette += [0] * (_GRADIENT_COLOURS * 3 - len(palette))
    image.putpalette(palette + _palette(spec.key)[_GRADIENT_COLOURS * 3:])
    return image


def _draw_labels(image: Image.Image, spec: ImageSpec) -> None:
    width, height = image.size
    font_size = max(10, min(width // 40, height // 10))
    font = _font(font_size)
    draw = ImageDraw.Draw(image)
    margin = max(4, font_size // 2)
    chars_per_line = max(8, (width - 2 * margin) // max(1, font_size * 6 // 10))
    max_lines = max(1, min(4, (height // 2) // (font_size + 4) - 1))
    lines = textwrap.wrap(spec.prompt or "(no prompt)", chars_per_line)[:max_lines]
    title = f"{spec.model_id} · {spec.aspect_ratio} · {spec.image_size} · {width}x{height} · {spec.label}"
    if spec.source is not None:
        title = "EDIT · " + title
    block = (len(lines) + 1) * (font_size + 4) + 2 * margin
    top = max(0, height - block)
    draw.rectangle([(0, top), (width, height)], fill=_BAND)
    draw.text((margin, top + margin), title, font=font, fill=_ACCENT)
    for index, line in enumerate(lines, start=1):
        draw.text((margin, top + margin + index * (font_size + 4)), line, font=font, fill=_INK)
    border = max(1, min(width, height) // 128)
    draw.rectangle([(0, 0), (width - 1, height - 1)], outline=_ACCENT, width=border)


@dataclass(frozen=True)
class _Padding:
    """A fixed filler block for one (format, head, size): its base64 and hash state are computed once."""

    head: bytes  # the bytes before the filler (PNG signature + IHDR, or JPEG SOI)
    block: bytes
    aligned_base64: bytes  # base64 of block[lead:], where head + block[:lead] fills whole 3-byte groups
    lead: int
    hash_state: Any  # sha256 over head + block, ready to be copied and continued


@lru_cache(maxsize=8)  # a 4K filler is ~22 MB: keep few
def _padding(mime_type: str, head: bytes, target: int) -> _Padding:
    """A filler of about ``target`` bytes whose length keeps the base64 after it aligned."""
    rng = random.Random(target)
    lead = -len(head) % 3
    if mime_type == "image/png":
        # One private ancillary chunk ("gkPd") after IHDR: decoders skip it, the bytes are real.
        size = max(0, target - 12)
        size -= (12 + size - lead) % 3
        data = rng.randbytes(size)
        block = struct.pack(">I", size) + b"gkPd" + data + struct.pack(">I", zlib.crc32(b"gkPd" + data))
    else:
        # APP15 segments after SOI (4 bytes of marker and length, then up to 65533 bytes): decoders skip them.
        remaining = max(4, target)
        remaining -= (remaining - lead) % 3
        segments = []
        while remaining:
            size = min(65533, remaining - 4)
            if 0 < remaining - size - 4 < 4:  # never leave less than an empty segment's 4 bytes
                size -= 4
            segments.append(b"\xff\xef" + struct.pack(">H", size + 2) + rng.randbytes(size))
            remaining -= size + 4
        block = b"".join(segments)
    return _Padding(head, block, base64.b64encode(block[lead:]), lead, hashlib.sha256(head + block))


def _encode_padded(encoded: bytes, mime_type: str, target: int) -> tuple[bytes, bytes]:
    """(base64, sha256) of ``encoded`` with a cached ~``target``-byte filler block inserted after its head."""
    head_length = 33 if mime_type == "image/png" else 2  # signature + IHDR / SOI
    head, rest = encoded[:head_length], encoded[head_length:]
    padding = _padding(mime_type, head, target)
    digest = padding.hash_state.copy()
    digest.update(rest)
    data = b"".join((base64.b64encode(head + padding.block[:padding.lead]), padding.aligned_base64,
                     base64.b64encode(rest)))
    return data, digest.digest()


def render_image(spec: ImageSpec) -> RenderedImage:
    """Draw and encode one image (no caching here; see ImageCache)."""
    image = _base(spec)
    _draw_labels(image, spec)
    buffer = io.BytesIO()
    if spec.mime_type == "image/jpeg":
        image.convert("RGB").save(buffer, "JPEG", quality=max(1, min(95, spec.quality)))
    else:
        image.save(buffer, "PNG", compress_level=1)
    encoded = buffer.getvalue()
    if spec.pad_to_bytes > len(encoded):
        data, digest = _encode_padded(encoded, spec.mime_type, spec.pad_to_bytes)
        return RenderedImage(spec.mime_type, spec.width, spec.height, data, digest)
    return RenderedImage(spec.mime_type, spec.width, spec.height, base64.b64encode(encoded),
                         hashlib.sha256(encoded).digest())


class ImageCache:
    """Rendered images by spec key, least recently used evicted past a byte budget; thread-safe."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._entries: OrderedDict[str, RenderedImage] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, spec: ImageSpec) -> RenderedImage | None:
        key = spec.key
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def render(self, spec: ImageSpec) -> RenderedImage:
        """The cached image for ``spec``, rendering it on a miss."""
        found = self.get(spec)
        if found is not None:
            return found
        rendered = render_image(spec)
        with self._lock:
            key = spec.key
            if key not in self._entries and rendered.size_bytes <= self._max_bytes:
                self._entries[key] = rendered
                self._bytes += rendered.size_bytes
                while self._bytes > self._max_bytes:
                    _, evicted = self._entries.popitem(last=False)
                    self._bytes -= evicted.size_bytes
        return rendered
