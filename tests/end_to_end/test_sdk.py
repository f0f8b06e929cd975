"""The official google-genai SDK against the fake on a loopback port, unchanged but for the base URL."""

from __future__ import annotations

import io

import pytest
from google import genai
from google.genai import errors, types
from PIL import Image

from mock_server.testing import RunningServer

PRO, FLASH31, FLASH25 = "gemini-3-pro-image-preview", "gemini-3.1-flash-image-preview", "gemini-2.5-flash-image"


def client_for(server: RunningServer, api_version: str | None = "v1beta", key: str = "sdk-key") -> genai.Client:
    options = types.HttpOptions(base_url=server.base_url, api_version=api_version) if api_version else \
        types.HttpOptions(base_url=server.base_url)  # SDK 3.x default: /v1
    return genai.Client(api_key=key, http_options=options)


@pytest.mark.parametrize("api_version", ["v1beta", None])
@pytest.mark.parametrize(("model", "ratio", "size", "expected"), [
    (PRO, "16:9", "2K", (2752, 1536)),
    (FLASH31, "1:4", "512", (256, 1024)),
    (FLASH25, "3:2", "1K", (1248, 832)),
])
def test_generate_image_through_the_sdk(live_server: RunningServer, api_version: str | None, model: str,
                                        ratio: str, size: str, expected: tuple[int, int]) -> None:
    client = client_for(live_server, api_version)
    config = types.GenerateContentConfig(
        response_modalities=["TEXT", "IMAGE"],
        image_config=types.ImageConfig(aspect_ratio=ratio, image_size=size if model != FLASH25 else None),
    )
    response = client.models.generate_content(model=model, contents="a lighthouse in a storm", config=config)
    images = [part for part in response.parts or [] if part.inline_data]
    assert len(images) == 1
    assert Image.open(io.BytesIO(images[0].inline_data.data)).size == expected
    assert response.text
    assert response.model_version == model
    usage = response.usage_metadata
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count + (
        usage.thoughts_token_count or 0)
    assert (images[0].thought_signature is not None) == (model != FLASH25)


def test_sdk_edit_with_an_input_image(live_server: RunningServer) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (900, 1600), (10, 120, 200)).save(buffer, "JPEG")
    client = client_for(live_server)
    response = client.models.generate_content(
        model=PRO, contents=["make it night", types.Part.from_bytes(data=buffer.getvalue(), mime_type="image/jpeg")])
    (image,) = [part.as_image() for part in response.parts or [] if part.inline_data]
    assert image is not None
    assert Image.open(io.BytesIO(image.image_bytes)).size == (768, 1376)  # 9:16 inferred from 900x1600


@pytest.mark.parametrize(("model", "config", "code", "status", "fragment"), [
    (FLASH25, types.GenerateContentConfig(image_config=types.ImageConfig(aspect_ratio="8:1")), 400,
     "INVALID_ARGUMENT", "aspect_ratio must be one of"),
    (PRO, types.GenerateContentConfig(image_config=types.ImageConfig(image_size="8K")), 400, "INVALID_ARGUMENT",
     "image_size must be one of"),
    (PRO, types.GenerateContentConfig(candidate_count=2), 400, "INVALID_ARGUMENT",
     "Multiple candidates is not enabled"),
    ("gemini-9-image", None, 404, "NOT_FOUND", "is not found for API version v1beta"),
])
def test_sdk_raises_client_error_with_googles_code_and_status(
    live_server: RunningServer, model: str, config: types.GenerateContentConfig | None, code: int, status: str,
    fragment: str,
) -> None:
    client = client_for(live_server)  # keep a reference: SDK 3.x closes its transport when the Client is collected
    with pytest.raises(errors.ClientError) as raised:
        client.models.generate_content(model=model, contents="x", config=config)
    assert raised.value.code == code and raised.value.status == status
    assert fragment in (raised.value.message or "")


def test_sdk_wrong_key_is_client_error_400() -> None:
    from mock_server.settings import Settings
    from mock_server.testing import serve_in_thread

    with serve_in_thread(Settings(port=0, api_keys=("good",))) as server:
        good, bad = client_for(server, key="good"), client_for(server, key="bad")
        assert good.models.generate_content(model=FLASH25, contents="x").parts
        with pytest.raises(errors.ClientError) as raised:
            bad.models.generate_content(model=FLASH25, contents="x")
    assert raised.value.code == 400 and raised.value.status == "INVALID_ARGUMENT"
    assert raised.value.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"


def test_sdk_lists_gets_and_counts(live_server: RunningServer) -> None:
    client = client_for(live_server)
    listed = {model.name for model in client.models.list(config={"page_size": 2})}
    assert "models/gemini-3.1-flash-image-preview" in listed and len(listed) == 8
    model = client.models.get(model=FLASH31)
    assert model.display_name == "Nano Banana 2" and model.output_token_limit == 65536
    counted = client.models.count_tokens(model=PRO, contents="four words right here")
    assert counted.total_tokens and counted.total_tokens > 0
