"""Every catalogue model x ratio x size through google-genai, on /v1 and /v1beta, in-process.

The SDK talks to the app through httpx's ASGITransport (its ``httpx_async_client`` option), so no
socket is opened. One app serves both API versions: the second version's identical requests reuse
the first one's rendered images, which keeps 500+ real SDK calls to a few seconds of drawing.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator

import httpx
import pytest
from google import genai
from google.genai import types
from PIL import Image

from mock_server.app import create_app
from mock_server.settings import Settings
from schemas import load_profile_book

BOOK = load_profile_book()
_LARGE = 2048 * 2048  # above this, a JPEG is decoded at 1/8 scale (still every block of it)


@pytest.fixture(scope="module")
def app() -> Iterator[object]:
    yield create_app(Settings())


def _check_image(data: bytes, mime: str, expected: tuple[int, int]) -> None:
    with Image.open(io.BytesIO(data)) as image:
        assert Image.MIME[image.format or ""] == mime
        assert image.size == expected
        if mime == "image/jpeg" and expected[0] * expected[1] > _LARGE:
            image.draft("RGB", (expected[0] // 8, expected[1] // 8))
        image.load()
        assert image.mode == "RGB"


async def _every_shape(app: object, model: str, version: str) -> int:
    profile = BOOK.profiles[model]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fake",  # type: ignore[arg-type]
                                 timeout=60) as http:
        client = genai.Client(api_key="test-key", http_options=types.HttpOptions(
            base_url="http://fake", api_version=version, httpx_async_client=http))
        checked = 0
        for size in profile.image_sizes:
            for ratio in profile.aspect_ratios:
                response = await client.aio.models.generate_content(
                    model=model, contents=f"a lighthouse, {ratio} at {size}",
                    config=types.GenerateContentConfig(
                        response_modalities=["IMAGE"],
                        image_config=types.ImageConfig(aspect_ratio=ratio, image_size=size)))
                blob = response.candidates[0].content.parts[-1].inline_data  # type: ignore[index,union-attr]
                assert blob is not None and blob.data is not None
                assert blob.mime_type == profile.default_output_mime_type
                _check_image(blob.data, blob.mime_type, profile.dimensions(ratio, size))
                assert response.usage_metadata is not None
                details = response.usage_metadata.candidates_tokens_details or []
                assert [d.token_count for d in details] == [profile.output_tokens_per_image(size)]
                checked += 1
        return checked


@pytest.mark.parametrize("version", ["v1beta", "v1"])
@pytest.mark.parametrize("model", BOOK.ids())
def test_every_ratio_and_size_decodes_at_the_exact_size(app: object, model: str, version: str) -> None:
    profile = BOOK.profiles[model]
    checked = asyncio.run(_every_shape(app, model, version))
    assert checked == len(profile.image_sizes) * len(profile.aspect_ratios)
