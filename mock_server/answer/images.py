"""Real, decodable images of exactly the profile's size, made fast enough to serve at load.

Output is what Google sends: 8-bit RGB PNG (not palette) and baseline JFIF JPEG at 300 dpi. The
picture is a gradient canvas (cached per size, in palette indices, coloured by one of a few schemes
picked by the request's hash) with a per-request label band at the bottom. For PNG the canvas rows
are compressed once per (size, scheme) and only the band is compressed per request
(``png_stream.py``); JPEG encodes the whole image, which libjpeg does in about 2 ms at 1K.
Encoded results are cached by content key, so a repeated request re-does no image work at all.
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
import textwrap
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property, lru_cache

from PIL import Image, ImageDraw, ImageFont, ImageOps

from mock_server.answer.jpeg_stream import JPEG_QUALITY, JpegStart, encode_jpeg, finish_jpeg, start_jpeg
from mock_server.answer.padding import encode_padded
from mock_server.answer.png_stream import PngStart, finish_png, start_png

__all__ = ["ImageCache", "ImageSpec", "RenderedImage", "render_image"]

_GRADIENT_COLOURS = 248  # palette indices 0..247 hold the gradient
_SCHEMES = 8  # colour schemes a canvas can have; each (size, scheme) is compressed once
_BAND, _INK, _ACCENT = (16, 16, 24), (255, 255, 255), (255, 196, 0)
_MAX_LINES = 4
_CACHED_CANVAS_PIXELS = 1600 * 1024  # RGB canvases up to 1.6 MP (1K) are kept per (size, scheme): <= 4.9 MB each
_CACHED_BAND_PIXELS = 1_000_000  # title bands up to 1 MP (1K and 2K) are kept per title: <= 3 MB each
_JPEG_DPI = (300, 300)  # Google's JPEGs are baseline JFIF at 300 dpi (obs. 21)


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


@lru_cache(maxsize=_SCHEMES)
def _palette(scheme: int) -> list[int]:
    """A two-colour gradient palette for one colour scheme."""
    rng = random.Random(scheme)
    start = [rng.randrange(0, 128) for _ in range(3)]
    end = [rng.randrange(128, 256) for _ in range(3)]
    palette: list[int] = []
    for index in range(_GRADIENT_COLOURS):
        palette += [s + (e - s) * index // (_GRADIENT_COLOURS - 1) for s, e in zip(start, end, strict=True)]
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


def _border(width: int, height: int) -> int:
    return max(1, min(width, height) // 128)


def _coloured_canvas(width: int, height: int, scheme: int) -> Image.Image:
    """The canvas in RGB with its outline (the band covers the bottom later); a copy the caller may change."""
    if width * height <= _CACHED_CANVAS_PIXELS:  # copying is 3x cheaper than colouring again
        return _cached_coloured_canvas(width, height, scheme).copy()
    return _colour(width, height, scheme)


@lru_cache(maxsize=16)
def _cached_coloured_canvas(width: int, height: int, scheme: int) -> Image.Image:
    return _colour(width, height, scheme)


def _colour(width: int, height: int, scheme: int) -> Image.Image:
    image = _canvas(width, height).copy()
    image = image.convert("P") if image.mode != "P" else image
    image.putpalette(_palette(scheme))
    rgb = image.convert("RGB")
    ImageDraw.Draw(rgb).rectangle([(0, 0), (width - 1, height - 1)], outline=_ACCENT, width=_border(width, height))
    return rgb


@dataclass(frozen=True)
class _Layout:
    font_size: int
    margin: int
    band_top: int  # a multiple of 16: JPEG MCU rows stay whole, and every prompt gets the same band
    chars_per_line: int


@lru_cache(maxsize=256)
def _layout(width: int, height: int) -> _Layout:
    font_size = max(10, min(width // 40, height // 10))
    margin = max(4, font_size // 2)
    chars_per_line = max(8, (width - 2 * margin) // max(1, font_size * 6 // 10))
    lines = max(1, min(_MAX_LINES, (height // 2) // (font_size + 4) - 1))
    block = (lines + 1) * (font_size + 4) + 2 * margin
    return _Layout(font_size, margin, max(0, height - block) // 16 * 16, chars_per_line)


@lru_cache(maxsize=32)
def _jpeg_start(width: int, height: int, scheme: int) -> JpegStart:
    return start_jpeg(_coloured_canvas(width, height, scheme), _layout(width, height).band_top, _JPEG_DPI)


@lru_cache(maxsize=32)
def _png_start(width: int, height: int, scheme: int) -> PngStart:
    top = _layout(width, height).band_top
    return start_png(_coloured_canvas(width, height, scheme).crop((0, 0, width, top)), height)


@lru_cache(maxsize=64)
def _cached_titled_band(width: int, height: int, title: str) -> Image.Image:
    return _titled_band(width, height, title)


def _titled_band(width: int, height: int, title: str) -> Image.Image:
    """The band with its title and outline (the title depends on the model and shape, not the prompt)."""
    layout = _layout(width, height)
    band = Image.new("RGB", (width, height - layout.band_top), _BAND)
    draw = ImageDraw.Draw(band)
    draw.text((layout.margin, layout.margin), title, font=_font(layout.font_size), fill=_ACCENT)
    border = _border(width, height)
    draw.rectangle([(0, -layout.band_top - border), (width - 1, band.height - 1)], outline=_ACCENT, width=border)
    return band


def _band(spec: ImageSpec) -> Image.Image:
    """The label band: model, ratio, size, pixels, label and the prompt, over the image's bottom rows."""
    width, height = spec.width, spec.height
    layout = _layout(width, height)
    title = f"{spec.model_id} · {spec.aspect_ratio} · {spec.image_size} · {width}x{height} · {spec.label}"
    if spec.source is not None:
        title = "EDIT · " + title
    small = width * (height - layout.band_top) <= _CACHED_BAND_PIXELS  # bounded memory: 1K-2K bands only
    band = _cached_titled_band(width, height, title).copy() if small else _titled_band(width, height, title)
    max_lines = max(1, (band.height - 2 * layout.margin) // (layout.font_size + 4) - 1)
    lines = textwrap.wrap(spec.prompt or "(no prompt)", layout.chars_per_line)[:min(_MAX_LINES, max_lines)]
    draw = ImageDraw.Draw(band)
    font = _font(layout.font_size)
    for index, line in enumerate(lines, start=1):
        draw.text((layout.margin, layout.margin + index * (layout.font_size + 4)), line, font=font, fill=_INK)
    return band


def _edited(spec: ImageSpec, source: bytes) -> Image.Image:
    """The source, cropped to the output shape, visibly reworked (mirrored and posterised)."""
    return ImageOps.posterize(ImageOps.mirror(_decode_reduced(source, spec.width, spec.height)), 4)


def _scheme(spec: ImageSpec) -> int:
    return int(spec.key[:8], 16) % _SCHEMES


def _encode(spec: ImageSpec) -> bytes:
    band = _band(spec)
    top = _layout(spec.width, spec.height).band_top
    if spec.mime_type == "image/png" and spec.source is None:
        return finish_png(_png_start(spec.width, spec.height, _scheme(spec)), band)
    if spec.source is None and spec.quality == JPEG_QUALITY:
        spliced = finish_jpeg(_jpeg_start(spec.width, spec.height, _scheme(spec)), band, _JPEG_DPI)
        if spliced is not None:
            return spliced
    if spec.source is None:
        image = _coloured_canvas(spec.width, spec.height, _scheme(spec))
    else:
        image = _edited(spec, spec.source)
    if spec.mime_type == "image/png":
        return finish_png(start_png(image.crop((0, 0, spec.width, top)), spec.height), band)
    image.paste(band, (0, top))
    return encode_jpeg(image, _JPEG_DPI, quality=max(1, min(95, spec.quality)))


def render_image(spec: ImageSpec) -> RenderedImage:
    """Draw and encode one image (no caching here; see ImageCache)."""
    encoded = _encode(spec)
    if spec.pad_to_bytes > len(encoded):
        data, digest = encode_padded(encoded, spec.mime_type, spec.pad_to_bytes)
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
