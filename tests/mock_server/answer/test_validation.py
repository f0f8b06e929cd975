"""Bad input gets Google's 4xx envelope and message; casing and encodings are read as Google reads them."""

from __future__ import annotations

import base64

import pytest

from schemas import validator
from tests.support.fake import InProcess, error_of, png_bytes, text_request

PRO = "gemini-3-pro-image-preview"
FLASH31 = "gemini-3.1-flash-image-preview"
FLASH25 = "gemini-2.5-flash-image"


def image_part(data: bytes, mime: str = "image/png") -> dict[str, object]:
    return {"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode()}}


def assert_error(response, code: int, status: str, message: str | None = None, contains: str | None = None):
    assert response.status_code == code, response.text
    error = error_of(response)
    validator("error").validate(response.json())
    assert error["status"] == status
    if message is not None:
        assert error["message"] == message
    if contains is not None:
        assert contains in error["message"]
    return error


def test_aspect_ratio_not_supported_by_model_lists_that_models_ratios(fake: InProcess) -> None:
    response = fake.generate(FLASH31, text_request(aspectRatio="7:3"))
    assert_error(response, 400, "INVALID_ARGUMENT", message=(
        "* GenerateContentRequest.generation_config.image_config.aspect_ratio: aspect_ratio must be one of "
        "'1:1', '1:4', '1:8', '2:3', '3:2', '3:4', '4:1', '4:3', '4:5', '5:4', '8:1', '9:16', '16:9', "
        "or '21:9'.\n"))  # verbatim from a real 3.1 Flash error (facts §7)
    # 8:1 is a 3.1 Flash ratio only.
    assert_error(fake.generate(PRO, text_request(aspectRatio="8:1")), 400, "INVALID_ARGUMENT",
                 contains="'1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9', or '21:9'")


@pytest.mark.parametrize(("model", "size"), [(PRO, "512"), (PRO, "1k"), (FLASH25, "2K"), (FLASH31, "8K"),
                                             (FLASH31, "512px")])
def test_image_size_not_supported_by_model(fake: InProcess, model: str, size: str) -> None:
    assert_error(fake.generate(model, text_request(imageSize=size)), 400, "INVALID_ARGUMENT",
                 contains="generation_config.image_config.image_size")


def test_seed_document_half_k_tier_is_accepted_as_512(fake: InProcess) -> None:
    response = fake.generate(FLASH31, text_request(imageSize="0.5K", aspectRatio="1:1"))
    assert response.status_code == 200


def test_unknown_field_is_rejected_with_its_path_and_bad_request_details(fake: InProcess) -> None:
    body = text_request(aspectRatio="1:1")
    body["generationConfig"]["imageConfig"]["outputMimeType"] = "image/png"
    error = assert_error(fake.generate(PRO, body), 400, "INVALID_ARGUMENT", message=(
        "Invalid JSON payload received. Unknown name \"outputMimeType\" at 'generation_config.image_config': "
        "Cannot find field."))
    assert error["details"] == [{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [
        {"field": "generation_config.image_config", "description": error["message"]}]}]


def test_several_unknown_fields_are_joined_and_top_level_has_no_field(fake: InProcess) -> None:
    body = text_request() | {"bogus": 1, "contentz": []}
    error = assert_error(fake.generate(PRO, body), 400, "INVALID_ARGUMENT")
    assert error["message"].split("\n") == [
        'Invalid JSON payload received. Unknown name "bogus": Cannot find field.',
        'Invalid JSON payload received. Unknown name "contentz": Cannot find field.']
    assert all("field" not in violation for violation in error["details"][0]["fieldViolations"])


def test_bad_enum_value(fake: InProcess) -> None:
    body = text_request() | {"generationConfig": {"responseModalities": ["PICTURE"]}}
    assert_error(fake.generate(PRO, body), 400, "INVALID_ARGUMENT", message=(
        "Invalid value at 'generation_config.response_modalities[0]' "
        "(type.googleapis.com/google.ai.generativelanguage.v1beta.Modality), \"PICTURE\""))


def test_wrong_scalar_type(fake: InProcess) -> None:
    body = text_request() | {"generationConfig": {"temperature": "warm"}}
    assert_error(fake.generate(PRO, body), 400, "INVALID_ARGUMENT",
                 message="Invalid value at 'generation_config.temperature' (TYPE_FLOAT), \"warm\"")


@pytest.mark.parametrize("body", [b"{", b'{"contents": [}', b"\xff\xfe", b'{"contents": [{"parts": [{"text": "x"}]}]'])
def test_malformed_json(fake: InProcess, body: bytes) -> None:
    assert_error(fake.generate(PRO, body), 400, "INVALID_ARGUMENT", contains="Invalid JSON payload received.")


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"42", b"null"])
def test_json_that_is_not_an_object(fake: InProcess, body: bytes) -> None:
    assert_error(fake.generate(PRO, body), 400, "INVALID_ARGUMENT",
                 message='Invalid JSON payload received. Unknown name "": Root element must be a message.')


@pytest.mark.parametrize("body", [b"", b"{}", b'{"contents": []}'])
def test_missing_contents(fake: InProcess, body: bytes) -> None:
    assert_error(fake.generate(PRO, body), 400, "INVALID_ARGUMENT",
                 message="* GenerateContentRequest.contents: contents is not specified\n")


def test_candidate_count_above_one(fake: InProcess) -> None:
    body = text_request() | {"generationConfig": {"candidateCount": 2}}
    assert_error(fake.generate(PRO, body), 400, "INVALID_ARGUMENT",
                 message="Multiple candidates is not enabled for this model")


def test_too_many_input_images(fake: InProcess) -> None:
    parts = [{"text": "combine"}] + [image_part(png_bytes()) for _ in range(4)]
    assert_error(fake.generate(FLASH25, {"contents": [{"parts": parts}]}), 400, "INVALID_ARGUMENT",
                 contains="maximum for gemini-2.5-flash-image is 3")
    assert fake.generate(PRO, {"contents": [{"parts": parts}]}).status_code == 200


def test_unsupported_input_mime_type(fake: InProcess) -> None:
    body = {"contents": [{"parts": [{"text": "x"}, image_part(png_bytes(), "image/gif")]}]}
    assert_error(fake.generate(PRO, body), 400, "INVALID_ARGUMENT", message="Unsupported MIME type: image/gif")
    heic_on_25 = {"contents": [{"parts": [{"text": "x"}, image_part(png_bytes(), "image/heic")]}]}
    assert_error(fake.generate(FLASH25, heic_on_25), 400, "INVALID_ARGUMENT",
                 message="Unsupported MIME type: image/heic")


def test_declared_mime_type_that_lies_about_the_bytes(fake: InProcess) -> None:
    body = {"contents": [{"parts": [{"text": "x"}, image_part(png_bytes(fmt="JPEG"), "image/png")]}]}
    assert_error(fake.generate(FLASH31, body), 400, "INVALID_ARGUMENT",
                 message="Unhandled generated data mime type: image/jpeg")


@pytest.mark.parametrize("data", [b"not an image at all", png_bytes()[:40]])
def test_undecodable_input_image(fake: InProcess, data: bytes) -> None:
    body = {"contents": [{"parts": [{"text": "x"}, image_part(data)]}]}
    assert_error(fake.generate(PRO, body), 400, "INVALID_ARGUMENT", message=(
        "Unable to process input image. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting"))


def test_invalid_base64(fake: InProcess) -> None:
    body = {"contents": [{"parts": [{"text": "x"}, {"inlineData": {"mimeType": "image/png", "data": "!!!"}}]}]}
    assert_error(fake.generate(PRO, body), 400, "INVALID_ARGUMENT",
                 contains="Invalid value at 'contents[0].parts[1].inline_data.data' (TYPE_BYTES)")


def test_oversized_body_is_refused_without_reading_it() -> None:
    from mock_server.settings import Settings

    small = InProcess(Settings(max_body_bytes=1000))
    assert_error(small.generate(PRO, text_request("x" * 2000)), 400, "INVALID_ARGUMENT",
                 message="Request payload size exceeds the limit: 1000 bytes.")


def test_unknown_and_retired_models(fake: InProcess) -> None:
    for model in ("gemini-9-ultra-image", "gemini-2.5-flash-image-preview"):
        assert_error(fake.generate(model, text_request()), 404, "NOT_FOUND", message=(
            f"models/{model} is not found for API version v1beta, or is not supported for generateContent. "
            "Call ListModels to see the list of available models and their supported methods."))
    assert "API version v1," in error_of(fake.generate("nope", text_request(), version="v1"))["message"]


def test_invalid_role_and_empty_parts(fake: InProcess) -> None:
    body = {"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}
    assert_error(fake.generate(PRO, body), 400, "INVALID_ARGUMENT", message="Please use a valid role: user, model.")
    assert_error(fake.generate(PRO, {"contents": [{"role": "user", "parts": []}]}), 400, "INVALID_ARGUMENT",
                 contains="contents.parts must not be empty")


def test_response_mime_type_with_image_output(fake: InProcess) -> None:
    body = text_request() | {"generationConfig": {"responseMimeType": "application/json"}}
    assert_error(fake.generate(PRO, body), 400, "INVALID_ARGUMENT",
                 message="Parameter response_mime_type is not supported for generating image response.")


def test_unsupported_modality_and_thinking_level(fake: InProcess) -> None:
    audio = text_request() | {"generationConfig": {"responseModalities": ["AUDIO"]}}
    assert_error(fake.generate(PRO, audio), 400, "INVALID_ARGUMENT",
                 message="Model does not support the requested response modalities: audio")
    level = text_request() | {"generationConfig": {"thinkingConfig": {"thinkingLevel": "HIGH"}}}
    assert fake.generate(FLASH31, level).status_code == 200
    assert_error(fake.generate(FLASH25, level), 400, "INVALID_ARGUMENT",
                 message="Thinking is not enabled for this model")


def test_mixed_casing_at_any_depth_is_accepted(fake: InProcess) -> None:
    # What google-genai 3.4 put on the wire (facts §3a): inlineData + mime_type, include_thoughts, URL-safe base64.
    data = base64.urlsafe_b64encode(png_bytes(fmt="JPEG")).decode()
    body = {"contents": [{"parts": [{"text": "Edit this"}, {"inlineData": {"data": data, "mime_type": "image/jpeg"}}],
                          "role": "user"}],
            "systemInstruction": {"parts": [{"text": "be nice"}], "role": "user"},
            "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}],
            "tools": [{"googleSearch": {}}],
            "generation_config": {"temperature": 1.0, "candidate_count": 1, "seed": 5,
                                  "responseModalities": ["Text", "Image"],
                                  "thinkingConfig": {"include_thoughts": True},
                                  "image_config": {"aspect_ratio": "16:9", "imageSize": "2K"}},
            "labels": {"team_name": "x"}, "serviceTier": "standard", "store": False}
    response = fake.generate(PRO, body)
    assert response.status_code == 200, response.text


def test_nulls_mean_absent(fake: InProcess) -> None:
    body = text_request() | {"generationConfig": {"imageConfig": None, "seed": None}, "tools": None}
    assert fake.generate(PRO, body).status_code == 200


def test_no_bad_input_produces_a_server_error(fake: InProcess) -> None:
    nasty = [b"\x00" * 10, b'{"contents": "x"}', b'{"contents": [1]}', b'{"contents": [{"parts": "x"}]}',
             b'{"contents": [{"parts": [{"inlineData": {}}]}]}',
             b'{"contents": [{"parts": [{"fileData": {}}]}]}',
             b'{"generationConfig": []}', b'{"contents": [{"parts": [{"text": 5}]}]}',
             b'{"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"candidateCount": "many"}}',
             b'{"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"imageConfig": {"aspectRatio": 3}}}',
             b'{"contents": [{"parts": [{"fileData": {"fileUri": "files/nope"}}]}]}',
             b"9" * 5000, b"[" * 100_000, b'{"a": ' * 50_000]
    for body in nasty:
        response = fake.generate(PRO, body)
        assert 400 <= response.status_code < 500, (body, response.status_code, response.text)
        error_of(response)
