"""Images: exact profile dimensions for every model/ratio/size, determinism, edits, formats, sizes."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image, ImageChops, ImageOps, ImageStat

from mock_server.answer.images import ImageSpec, render_image
from mock_server.settings import Settings
from schemas import load_profile_book
from tests.support.fake import InProcess, images_in, png_bytes, text_request

BOOK = load_profile_book()
ALL_COMBINATIONS = [
    (model_id, ratio, size)
    for model_id, profile in BOOK.profiles.items()
    for size in profile.image_sizes
    for ratio in profile.aspect_ratios
]


@pytest.fixture(scope="module")
def shared_fake() -> InProcess:
    return InProcess()


@pytest.mark.parametrize(("model", "ratio", "size"), ALL_COMBINATIONS)
def test_every_ratio_and_size_decodes_at_the_profile_dimensions(
    shared_fake: InProcess, model: str, ratio: str, size: str
) -> None:
    body = text_request("dimension check", aspectRatio=ratio, imageSize=size)
    body["generationConfig"]["responseModalities"] = ["IMAGE"]
    response = shared_fake.generate(model, body)
    assert response.status_code == 200, response.text
    (image,) = images_in(response.json())
    image.load()  # a full decode, not just the header
    assert image.size == BOOK.profiles[model].dimensions(ratio, size)


def test_known_sizes_from_the_facts(fake: InProcess) -> None:
    # Spot values straight from the facts tables, so a wrong profile cannot pass by agreeing with itself.
    cases = [("gemini-3-pro-image-preview", "4:3", "1K", (1200, 896)),
             ("gemini-2.5-flash-image", "4:3", "1K", (1184, 864)),
             ("gemini-3.1-flash-image-preview", "21:9", "512", (792, 336)),
             ("gemini-3.1-flash-image-preview", "1:8", "512", (192, 1536))]
    for model, ratio, size, expected in cases:
        (image,) = images_in(fake.generate(model, text_request(aspectRatio=ratio, imageSize=size)).json())
        assert image.size == expected


def test_same_request_and_seed_give_identical_bytes_and_prompts_differ() -> None:
    first, second = InProcess(Settings(seed=7)), InProcess(Settings(seed=7))
    body = text_request("a red bicycle")

    def data(app: InProcess, request: dict[str, object]) -> str:
        parts = app.generate("gemini-2.5-flash-image", request).json()["candidates"][0]["content"]["parts"]
        return next(part["inlineData"]["data"] for part in parts if "inlineData" in part)

    assert data(first, body) == data(second, body)
    assert data(first, body) != data(first, text_request("a blue bicycle"))
    assert data(first, body) != data(InProcess(Settings(seed=8)), body)


def test_request_seed_overrides_server_seed(fake: InProcess) -> None:
    body = text_request("seeded")
    body["generationConfig"] = {"seed": 42}
    runs = {fake.generate("gemini-2.5-flash-image", body).json()["candidates"][0]["content"]["parts"][1]
            ["inlineData"]["data"] for _ in range(2)}
    assert len(runs) == 1


def test_edit_derives_from_input_image_and_infers_its_ratio(fake: InProcess) -> None:
    source = Image.new("RGB", (1600, 900), (20, 20, 20))
    source.paste((240, 240, 240), (0, 0, 400, 900))  # a bright left band, easy to follow
    buffer = io.BytesIO()
    source.save(buffer, "PNG")
    body = {"contents": [{"parts": [{"text": "make it moody"},
                                    {"inline_data": {"mime_type": "image/png",
                                                     "data": base64.b64encode(buffer.getvalue()).decode()}}]}]}
    (edited,) = images_in(fake.generate("gemini-3-pro-image-preview", body).json())
    assert edited.size == (1376, 768)  # 16:9 is the accepted ratio closest to 1600x900
    unmirrored = ImageOps.mirror(edited.convert("L")).resize((16, 9))
    expected = ImageOps.fit(source.convert("L"), (1376, 768)).resize((16, 9))
    assert ImageStat.Stat(ImageChops.difference(unmirrored.crop((0, 0, 16, 6)),
                                                expected.crop((0, 0, 16, 6)))).mean[0] < 40


def test_no_ratio_and_no_input_image_gives_a_square(fake: InProcess) -> None:
    (image,) = images_in(fake.generate("gemini-3.1-flash-image-preview", text_request()).json())
    assert image.size == (1024, 1024)


@pytest.mark.parametrize("encoder", [base64.b64encode, base64.urlsafe_b64encode])
@pytest.mark.parametrize("padded", [True, False])
def test_input_base64_standard_or_urlsafe_padded_or_not(fake: InProcess, encoder, padded: bool) -> None:
    raw = png_bytes(61, 47)  # odd sizes so padding is needed
    data = encoder(raw).decode()
    data = data if padded else data.rstrip("=")
    body = {"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": data}}, {"text": "edit"}]}]}
    assert fake.generate("gemini-2.5-flash-image", body).status_code == 200


@pytest.mark.parametrize(("image_format", "expected"), [("png", {"image/png"}), ("jpeg", {"image/jpeg"}),
                                                        ("mixed", {"image/png", "image/jpeg"})])
def test_image_format_setting(image_format: str, expected: set[str]) -> None:
    app = InProcess(Settings(image_format=image_format))  # type: ignore[arg-type]
    seen = set()
    for index in range(12):
        part = app.generate("gemini-3-pro-image-preview", text_request(f"prompt {index}")).json()[
            "candidates"][0]["content"]["parts"][-1]
        mime = part["inlineData"]["mimeType"]
        decoded = Image.open(io.BytesIO(base64.b64decode(part["inlineData"]["data"])))
        assert Image.MIME[decoded.format] == mime  # the mimeType tells the truth about the bytes
        seen.add(mime)
    assert seen == expected


def test_realistic_payload_reaches_profile_sizes_and_still_decodes() -> None:
    app = InProcess(Settings(payload="realistic"))
    part = app.generate("gemini-3.1-flash-image-preview", text_request(imageSize="512")).json()[
        "candidates"][0]["content"]["parts"][-1]
    raw = base64.b64decode(part["inlineData"]["data"])
    typical = BOOK.profiles["gemini-3.1-flash-image-preview"].typical_image_bytes("512")
    assert typical <= len(raw) < typical * 1.15  # the filler is the typical size; the picture adds its own
    image = Image.open(io.BytesIO(raw))
    image.load()
    assert image.size == (512, 512)


def test_rendered_image_draws_the_prompt_band() -> None:
    spec = ImageSpec("gemini-2.5-flash-image", 1024, 1024, "1:1", "1K", "hello", "image/png", 0)
    image = Image.open(io.BytesIO(base64.b64decode(render_image(spec).base64_data))).convert("RGB")
    band = image.crop((0, 900, 1024, 1000))
    assert len(band.getcolors(4096) or []) > 2  # text drawn over the dark band, not a flat fill


@pytest.mark.parametrize("mime_type", ["image/png", "image/jpeg"])
def test_realistic_filler_keeps_base64_digest_and_decoding_exact(mime_type: str) -> None:
    import hashlib

    for width, height in ((1024, 1024), (512, 2048)):
        spec = ImageSpec("m", width, height, "1:1", "1K", "filler", mime_type, 0, pad_to_bytes=300_001)
        rendered = render_image(spec)
        raw = base64.b64decode(rendered.base64_data, validate=True)
        assert base64.b64encode(raw) == rendered.base64_data  # the spliced base64 is canonical
        assert hashlib.sha256(raw).digest() == rendered.digest  # signatures sign the real bytes
        assert len(raw) >= 300_001
        image = Image.open(io.BytesIO(raw))
        image.load()
        assert (image.size, Image.MIME[image.format]) == ((width, height), mime_type)
