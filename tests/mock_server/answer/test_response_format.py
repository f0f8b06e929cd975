"""/v1 parity, the two spellings of the image options, and enum values sent as numbers (issue 8b).

Texts are Google's, as a live probe recorded them (api-2026.md §2.1): strings in the enum-typed
``responseFormat.image`` fields, a flat ``responseFormat``, and ``delivery`` on generateContent.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from google import genai
from google.genai import types
from PIL import Image

from mock_server.testing import RunningServer
from schemas import load_json, load_profile_book
from tests.support.fake import API_KEY, InProcess, images_in, text_request

PRO = "gemini-3-pro-image-preview"
FLASH = "gemini-3.1-flash-image-preview"
VERSIONS = ("v1", "v1beta")
TABLES = load_json("proto_enums.json")["imageResponseFormat"]


def body_with(config: dict[str, Any]) -> dict[str, Any]:
    return text_request() | {"generationConfig": config}


def image_size(fake: InProcess, model: str, config: dict[str, Any], version: str) -> tuple[int, int]:
    response = fake.generate(model, body_with(config), version=version)
    assert response.status_code == 200, response.text
    (image,) = images_in(response.json())
    return image.size


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("ratio", "size"), [("16:9", "2K"), ("9:16", "1K"), ("1:1", "4K"), ("21:9", "1K")])
def test_both_spellings_give_the_same_image(fake: InProcess, version: str, ratio: str, size: str) -> None:
    ratio_name = next(name for name, value in TABLES["aspectRatio"].items() if value == ratio)
    size_name = next(name for name, value in TABLES["imageSize"].items() if value == size)
    expected = load_profile_book().profiles[PRO].dimensions(ratio, size)
    by_config = image_size(fake, PRO, {"imageConfig": {"aspectRatio": ratio, "imageSize": size}}, version)
    by_format = image_size(fake, PRO, {"responseFormat": {"image": {
        "aspectRatio": ratio_name, "imageSize": size_name, "mimeType": "IMAGE_JPEG"}}}, version)
    assert by_config == by_format == expected


def test_every_enum_name_maps_to_a_value_some_model_accepts() -> None:
    book = load_profile_book()
    ratios = {ratio for profile in book.profiles.values() for ratio in profile.aspect_ratios}
    sizes = {size for profile in book.profiles.values() for size in profile.image_sizes}
    assert set(TABLES["aspectRatio"].values()) <= ratios
    assert set(TABLES["imageSize"].values()) <= sizes | {"512"}


@pytest.mark.parametrize("version", VERSIONS)
def test_strings_in_the_enum_fields_get_googles_text(fake: InProcess, version: str) -> None:
    # imageSize before aspectRatio in the document: Google still reports the aspect ratio first.
    strings = {"responseFormat": {"image": {"imageSize": "1K", "aspectRatio": "9:16"}}}
    response = fake.generate(FLASH, body_with(strings), version=version)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    prefix = f"type.googleapis.com/google.ai.generativelanguage.{version}.ImageResponseFormat"
    assert error["message"] == (
        f"Invalid value at 'generation_config.response_format.image.aspect_ratio' ({prefix}.AspectRatio), \"9:16\"\n"
        f"Invalid value at 'generation_config.response_format.image.image_size' ({prefix}.ImageSize), \"1K\""
    )
    violations = error["details"][0]["fieldViolations"]
    assert [v["field"] for v in violations] == ["generation_config.response_format.image.aspect_ratio",
                                                "generation_config.response_format.image.image_size"]


@pytest.mark.parametrize("version", VERSIONS)
def test_a_flat_response_format_is_an_unknown_name(fake: InProcess, version: str) -> None:
    config = {"responseFormat": {"aspectRatio": "16:9", "imageSize": "1K"}, "__probe__": 1}
    response = fake.generate(FLASH, body_with(config), version=version)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "Invalid JSON payload received. Unknown name \"aspectRatio\" at 'generation_config.response_format': "
        "Cannot find field.\n"
        "Invalid JSON payload received. Unknown name \"imageSize\" at 'generation_config.response_format': "
        "Cannot find field.\n"
        "Invalid JSON payload received. Unknown name \"__probe__\" at 'generation_config': Cannot find field."
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_delivery_is_refused_by_generate_content_but_counted(fake: InProcess, version: str) -> None:
    config = {"responseFormat": {"image": {"aspectRatio": "ASPECT_RATIO_ONE_BY_ONE", "delivery": "INLINE"}}}
    response = fake.generate(FLASH, body_with(config), version=version)
    assert response.status_code == 400
    assert "delivery" in response.json()["error"]["message"]
    streamed = fake.request("POST", f"/{version}/models/{FLASH}:streamGenerateContent?alt=sse",
                            json=body_with(config), headers={"x-goog-api-key": API_KEY})
    assert streamed.status_code == 400
    counted = fake.request("POST", f"/{version}/models/{FLASH}:countTokens",
                           json={"generateContentRequest": {"model": f"models/{FLASH}"} | body_with(config)},
                           headers={"x-goog-api-key": API_KEY})
    assert counted.status_code == 200, counted.text


@pytest.mark.parametrize("version", VERSIONS)
def test_unknown_values_in_image_config_keep_the_semantic_text(fake: InProcess, version: str) -> None:
    response = fake.generate(PRO, body_with({"imageConfig": {"aspectRatio": "ASPECT_RATIO_ONE_BY_ONE"}}),
                             version=version)
    assert response.status_code == 400
    assert "aspect_ratio must be one of" in response.json()["error"]["message"]


def test_enum_numbers_are_accepted_everywhere(fake: InProcess) -> None:
    # What the legacy google-generativeai SDK sends (proto3 JSON allows enum numbers).
    config = {"responseModalities": [1, 2], "thinkingConfig": {"thinkingLevel": 3},
              "responseFormat": {"image": {"aspectRatio": 9, "imageSize": 3, "mimeType": 1}}}
    body = body_with(config) | {"safetySettings": [{"category": 7, "threshold": 4}],
                                "toolConfig": {"functionCallingConfig": {"mode": 1}}}
    response = fake.generate(FLASH, body)
    assert response.status_code == 200, response.text
    parts = response.json()["candidates"][0]["content"]["parts"]
    assert [("text" in part, "inlineData" in part) for part in parts] == [(True, False), (False, True)]
    (image,) = images_in(response.json())
    assert image.size == load_profile_book().profiles[FLASH].dimensions("16:9", "2K")
    only_image = fake.generate(FLASH, body_with({"responseModalities": [2]}))
    assert [("inlineData" in part) for part in only_image.json()["candidates"][0]["content"]["parts"]] == [True]


def test_an_unknown_enum_number_is_an_invalid_value(fake: InProcess) -> None:
    response = fake.generate(FLASH, body_with({"responseModalities": [2, 99]}))
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert message.startswith("Invalid value at 'generation_config.response_modalities[1]' (type.googleapis.com/")
    assert message.endswith("), 99")


@pytest.mark.parametrize("api_version", ["v1", "v1beta", None])
def test_sdk_sends_image_config_on_every_version(live_server: RunningServer, api_version: str | None) -> None:
    """google-genai 3.x defaults to /v1 and sends imageConfig: the fake answers at the requested size."""
    options = types.HttpOptions(base_url=live_server.base_url, api_version=api_version) if api_version else \
        types.HttpOptions(base_url=live_server.base_url)
    client = genai.Client(api_key="sdk-key", http_options=options)
    response = client.models.generate_content(
        model=FLASH, contents="a lighthouse at dawn",
        config=types.GenerateContentConfig(response_modalities=["IMAGE"],
                                           image_config=types.ImageConfig(aspect_ratio="4:3", image_size="1K")),
    )
    data = next(part.inline_data.data for part in response.parts or [] if part.inline_data and part.inline_data.data)
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == load_profile_book().profiles[FLASH].dimensions("4:3", "1K")


def test_schema_enums_and_the_number_tables_agree() -> None:
    """The request schema lists each enum for validation; proto_enums.json numbers the same names."""
    numbers = load_json("proto_enums.json")["numbers"]
    schema = load_json("generate_content_request.schema.json")["$defs"]["ImageResponseFormat"]["properties"]
    for field, spec in schema.items():
        enum = spec["x-proto-type"].split("v1beta.", 1)[1]
        assert spec["enum"] == list(numbers[enum]), field
    for field, table in TABLES.items():
        assert set(table) < set(schema[field]["enum"]), field  # every name but *_UNSPECIFIED maps


def test_every_request_enum_has_numbers() -> None:
    """Every enum a request can carry is numbered, so a number is accepted in any enum field."""
    numbers = load_json("proto_enums.json")["numbers"]

    def enums(node: Any) -> list[tuple[str, list[str]]]:
        if isinstance(node, dict):
            own = [(node["x-proto-type"], node["enum"])] if "enum" in node and "x-proto-type" in node else []
            return own + [found for value in node.values() for found in enums(value)]
        if isinstance(node, list):
            return [found for value in node for found in enums(value)]
        return []

    found = enums(load_json("generate_content_request.schema.json")) + enums(load_json("common.schema.json"))
    assert found
    for proto_type, names in found:
        table = numbers[proto_type.split("v1beta.", 1)[1]]
        assert set(names) <= set(table), proto_type


def test_sdk_streaming_chat_on_v1_keeps_every_turn(live_server: RunningServer) -> None:
    """A 3 Pro stream ends with the closing ``{"text": ""}`` event: the SDK's chat still keeps the
    turn, and the next edit (its signatures replayed) is accepted."""
    client = genai.Client(api_key="sdk-key", http_options=types.HttpOptions(base_url=live_server.base_url,
                                                                             api_version="v1"))
    chat = client.chats.create(model=PRO)
    for turn in ("a red fox", "make it blue"):
        chunks = list(chat.send_message_stream(turn))
        assert chunks[-1].candidates and chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
        assert any(part.inline_data for chunk in chunks for part in (chunk.candidates[0].content.parts or []))
    # Per turn: the user content and the three chunks (text, image, closing event).
    assert len(chat.get_history(curated=True)) == len(chat.get_history()) == 2 * (1 + 3)


@pytest.mark.parametrize("model", load_profile_book().ids())
def test_every_ratio_and_size_of_every_model_through_the_enum_spelling(fake: InProcess, model: str) -> None:
    """On /v1, each ratio and size a model accepts, spelled as enum names, gives the profile's pixels."""
    profile = load_profile_book().profiles[model]
    ratio_names = {value: name for name, value in TABLES["aspectRatio"].items()}
    size_names = {value: name for name, value in TABLES["imageSize"].items()}
    asked = [(ratio, profile.default_image_size) for ratio in profile.aspect_ratios]
    asked += [("1:1", size) for size in profile.image_sizes if size in size_names]
    for ratio, size in asked:
        image = {"aspectRatio": ratio_names[ratio], "imageSize": size_names[size]}
        assert image_size(fake, model, {"responseModalities": ["IMAGE"], "responseFormat": {"image": image}},
                          "v1") == profile.dimensions(ratio, size), (ratio, size)
