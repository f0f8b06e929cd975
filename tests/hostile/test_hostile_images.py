"""Issue 12, item 4: decompression bombs cost a 400, not gigabytes; large real images decode at reduced size."""

from __future__ import annotations

import base64
import io
import json
import struct
import subprocess
import sys
import textwrap
import warnings
import zlib
from functools import cache
from pathlib import Path

import pytest
from PIL import Image

from tests.support.fake import InProcess, error_of

MODEL = "gemini-3-pro-image-preview"
HERE = Path(__file__).resolve().parent


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@cache
def bomb_png(width: int = 12_000, height: int = 12_000, colour_type: int = 2) -> bytes:
    """A valid PNG of ``width`` x ``height`` black pixels, built row by row (a few hundred KB on disk)."""
    channels = {0: 1, 2: 3, 6: 4}[colour_type]
    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + width * channels)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def bomb_jpeg(width: int = 12_000, height: int = 12_000) -> bytes:
    """A baseline JPEG's headers for ``width`` x ``height`` (frame and scan headers, no tables or data):
    enough for a header reader, and for Pillow to open it."""
    components = b"\x01\x22\x00\x02\x11\x00\x03\x11\x00"
    frame = b"\xff\xc0" + struct.pack(">HBHHB", 8 + len(components), 8, height, width, 3) + components
    scan = b"\xff\xda" + struct.pack(">HB", 12, 3) + b"\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
    return b"\xff\xd8" + frame + scan + b"\x00" * 64 + b"\xff\xd9"


def _edit(png: bytes, mime: str = "image/png") -> dict[str, object]:
    data = base64.b64encode(png).decode()
    parts = [{"text": "make it blue"}, {"inlineData": {"mimeType": mime, "data": data}}]
    return {"contents": [{"parts": parts}],
            "generationConfig": {"responseModalities": ["IMAGE"]}}


@pytest.mark.parametrize(("image", "mime"), [(bomb_png(), "image/png"), (bomb_jpeg(), "image/jpeg")])
def test_a_decompression_bomb_is_refused_with_a_400_before_pillow_opens_it(image: bytes, mime: str) -> None:
    assert len(image) < 1_000_000
    # Pillow itself warns as it opens one (144 MP is past its own limit): the fake must never get that far
    with pytest.warns(Image.DecompressionBombWarning), Image.open(io.BytesIO(image)) as opened:
        assert opened.size == (12_000, 12_000)
    fake = InProcess()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = fake.generate(MODEL, _edit(image, mime), key="k")
    assert response.status_code == 400, response.text[:300]
    assert error_of(response)["status"] == "INVALID_ARGUMENT"
    # refused from the header: Pillow never opened it, so never warned of a bomb
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]


def _encoded(image: Image.Image, format_name: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format_name, **options)
    return out.getvalue()


@pytest.mark.parametrize(("format_name", "mime", "mode", "options"), [
    ("PNG", "image/png", "RGB", {}),
    ("JPEG", "image/jpeg", "RGB", {}),
    ("JPEG", "image/jpeg", "RGB", {"progressive": True, "exif": b"Exif\x00\x00" + b"\x00" * 40}),
    ("WEBP", "image/webp", "RGB", {"quality": 80}),
    ("WEBP", "image/webp", "RGB", {"lossless": True}),
    ("WEBP", "image/webp", "RGBA", {"exif": b"Exif\x00\x00" + b"\x00" * 40}),
    ("GIF", "image/gif", "P", {}),
])
def test_header_sizes_agree_with_pillow(format_name: str, mime: str, mode: str, options: dict[str, object]) -> None:
    from mock_server.answer.image_header import header_size

    for width, height in ((1, 1), (77, 3), (1021, 517)):
        data = _encoded(Image.new(mode, (width, height)), format_name, **options)
        with Image.open(io.BytesIO(data)) as opened:
            assert header_size(data, mime) == opened.size == (width, height), (format_name, options)
    assert header_size(data[:20], mime) is None or format_name == "GIF"  # cut short: Pillow decides
    assert header_size(b"\x00" * 64, "image/heic") is None


def test_the_pixel_limit_is_a_setting() -> None:
    from mock_server.settings import Settings

    small_limit = InProcess(Settings(max_input_pixels=100 * 100))
    assert small_limit.generate(MODEL, _edit(bomb_png(120, 120)), key="k").status_code == 400
    assert small_limit.generate(MODEL, _edit(bomb_png(90, 90)), key="k").status_code == 200


_PEAK_SCRIPT = textwrap.dedent("""
    import asyncio, base64, json, resource, sys
    import httpx
    sys.path.insert(0, {tests!r})
    from mock_server.app import create_app

    app = create_app()
    bodies = json.loads(sys.stdin.read())

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://fake", timeout=120) as client:
            url = "/v1beta/models/{model}:generateContent"
            warm = await client.post(url, json=bodies["warm"], headers={{"x-goog-api-key": "k"}})
            assert warm.status_code == 200, warm.text
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            answers = await asyncio.gather(*(client.post(url, json=body, headers={{"x-goog-api-key": "k"}})
                                             for body in bodies["hostile"]))
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            print(json.dumps({{"statuses": [a.status_code for a in answers], "grown_kb": after - before}}))

    asyncio.run(main())
""")


def _peak(hostile: list[dict[str, object]], warm: dict[str, object]) -> dict[str, object]:
    script = _PEAK_SCRIPT.format(tests=str(HERE), model=MODEL)
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps({"hostile": hostile, "warm": warm}),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_four_bombs_at_once_stay_far_below_a_gigabyte() -> None:
    result = _peak([_edit(bomb_png())] * 4, _edit(bomb_png(64, 64)))
    assert result["statuses"] == [400] * 4
    assert int(str(result["grown_kb"])) < 150_000, result  # once 3 GB


def test_large_real_images_decode_at_reduced_size_and_concurrent_decodes_are_bounded() -> None:
    # 6000x4000 RGBA (24 MP, under the default limit): a full decode is ~96 MB; six at once used to be ~600 MB.
    big = _edit(bomb_png(6000, 4000, colour_type=6))
    result = _peak([big] * 6, _edit(bomb_png(64, 64)))
    assert result["statuses"] == [200] * 6
    assert int(str(result["grown_kb"])) < 350_000, result


def test_the_canvas_cache_is_bounded_by_bytes(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from mock_server.answer import images

    monkeypatch.setattr(images, "_CANVAS_BYTES", 3_000_000)
    monkeypatch.setattr(images, "_canvases", type(images._canvases)())
    for side in (1024, 1100, 1200, 1300, 1400):
        images._canvas(side, side)
        assert sum(w * h for w, h in images._canvases) <= 3_000_000 or len(images._canvases) == 1
    assert (1400, 1400) in images._canvases and (1024, 1024) not in images._canvases
