"""Image bytes as Google sends them per model (obs. 21), the --image-format switch, and heavy signatures."""

from __future__ import annotations

import base64
import io
import struct
from typing import Any

import pytest
from PIL import Image

from mock_server.answer.jpeg_stream import encode_jpeg, finish_jpeg, start_jpeg
from mock_server.answer.png_stream import finish_png, start_png
from mock_server.settings import Settings
from schemas import load_profile_book
from tests.support.fake import InProcess, text_request

BOOK = load_profile_book()


def final_image(response_json: dict[str, Any]) -> tuple[str, bytes]:
    part = response_json["candidates"][0]["content"]["parts"][-1]
    return part["inlineData"]["mimeType"], base64.b64decode(part["inlineData"]["data"], validate=True)


def png_colour_type(data: bytes) -> tuple[int, int]:
    """(bit depth, colour type) from the IHDR chunk: 8 and 2 for RGB, 3 for a palette."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    _w, _h, depth, colour = struct.unpack(">IIBB", data[16:26])
    return depth, colour


def assert_google_like(mime: str, data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert Image.MIME[image.format or ""] == mime  # mimeType tells the truth
        if mime == "image/png":
            assert png_colour_type(data) == (8, 2) and image.mode == "RGB"  # not palette
            assert b"PLTE" not in data[:64]
        else:
            assert data[:4] == b"\xff\xd8\xff\xe0" and data[6:11] == b"JFIF\x00"  # JFIF APP0 first
            assert image.info["dpi"] == (300, 300) and not image.info.get("progressive")
            assert image.mode == "RGB"


@pytest.mark.parametrize("model", BOOK.ids())
def test_default_format_follows_the_model(fake: InProcess, model: str) -> None:
    mime, data = final_image(fake.generate(model, text_request(f"format of {model}")).json())
    assert mime == BOOK.profiles[model].output_mime_types[0]
    assert mime == ("image/png" if model == "gemini-2.5-flash-image" else "image/jpeg")
    assert_google_like(mime, data)


@pytest.mark.parametrize("forced", ["png", "jpeg"])
def test_image_format_forces_one_for_every_model(forced: str) -> None:
    app = InProcess(Settings(image_format=forced))  # type: ignore[arg-type]
    for model in ("gemini-2.5-flash-image", "gemini-3.1-flash-image"):
        mime, data = final_image(app.generate(model, text_request("forced")).json())
        assert mime == f"image/{forced}"
        assert_google_like(mime, data)


def test_mixed_only_where_two_formats_were_reported() -> None:
    app = InProcess(Settings(image_format="mixed"))
    seen: dict[str, set[str]] = {}
    for model in ("gemini-3-pro-image", "gemini-3.1-flash-image", "gemini-2.5-flash-image"):
        for index in range(10):
            mime, data = final_image(app.generate(model, text_request(f"mixed {index}")).json())
            assert_google_like(mime, data)
            seen.setdefault(model, set()).add(mime)
    assert seen == {"gemini-3-pro-image": {"image/png", "image/jpeg"}, "gemini-3.1-flash-image": {"image/jpeg"},
                    "gemini-2.5-flash-image": {"image/png"}}


def test_edits_come_back_in_the_model_format_too(fake: InProcess) -> None:
    _mime, source = final_image(fake.generate("gemini-2.5-flash-image", text_request("source")).json())
    body = {"contents": [{"parts": [{"text": "make it blue"}, {"inlineData": {
        "mimeType": "image/png", "data": base64.b64encode(source).decode()}}]}]}
    for model in ("gemini-2.5-flash-image", "gemini-nano-banana-2.1"):
        mime, data = final_image(fake.generate(model, body).json())
        assert_google_like(mime, data)


def test_realistic_signatures_weigh_what_googles_do_and_still_verify() -> None:
    app = InProcess(Settings(payload="realistic"))
    prompt = {"role": "user", "parts": [{"text": "a heavy signature"}]}
    answer = app.generate("gemini-3-pro-image", {"contents": [prompt]}).json()
    parts = answer["candidates"][0]["content"]["parts"]
    low, high = BOOK.profiles["gemini-3-pro-image"].realistic_signature_chars or (0, 0)
    for part in parts:
        signature = part["thoughtSignature"]
        assert low <= len(signature) <= high and signature[0] == "E"  # 1.1-2.9 M chars (obs. 10)
        base64.b64decode(signature, validate=True)
    history = {"contents": [prompt, {"role": "model", "parts": parts},
                            {"role": "user", "parts": [{"text": "now in blue"}]}]}
    assert app.generate("gemini-3-pro-image", history).status_code == 200
    signature = parts[-1]["thoughtSignature"]
    parts[-1]["thoughtSignature"] = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    refused = app.generate("gemini-3-pro-image", history)
    assert refused.status_code == 400 and "signature" in refused.json()["error"]["message"]


def test_png_stream_joins_cached_rows_and_band_into_one_exact_image() -> None:
    gradient = Image.linear_gradient("L").resize((97, 61)).convert("RGB")  # odd sizes: no alignment luck
    start = start_png(gradient.crop((0, 0, 97, 40)), 61)
    band = Image.new("RGB", (97, 21), (200, 10, 10))
    data = finish_png(start, band)
    expected = gradient.copy()
    expected.paste(band, (0, 40))
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert png_colour_type(data) == (8, 2) and image.tobytes() == expected.tobytes()
    assert finish_png(start, band) == data  # the cached compressor is copied, never consumed


@pytest.mark.parametrize(("width", "height", "band_top"), [(1024, 1024, 848), (97, 61, 32), (1408, 768, 0)])
def test_jpeg_stream_decodes_like_one_encoding_of_the_whole_image(width: int, height: int, band_top: int) -> None:
    gradient = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    start = start_jpeg(gradient, band_top, (300, 300))
    band = Image.new("RGB", (width, height - band_top), (200, 10, 10))
    data = finish_jpeg(start, band, (300, 300))
    assert data is not None
    whole = gradient.copy()
    whole.paste(band, (0, band_top))
    with Image.open(io.BytesIO(data)) as spliced, Image.open(io.BytesIO(encode_jpeg(whole, (300, 300)))) as reference:
        spliced.load()
        reference.load()
        assert spliced.size == (width, height) and spliced.tobytes() == reference.tobytes()
        assert spliced.info["dpi"] == (300, 300) and not spliced.info.get("progressive")
