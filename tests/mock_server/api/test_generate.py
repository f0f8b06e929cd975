"""Successful generateContent and countTokens responses, shaped and billed as the facts describe."""

from __future__ import annotations

import base64
import json

import pytest

from schemas import validator
from tests.support.fake import InProcess, png_bytes, text_request
from tests.support.paths import REPO

PRO, FLASH31, FLASH25 = "gemini-3-pro-image-preview", "gemini-3.1-flash-image-preview", "gemini-2.5-flash-image"


def generate(fake: InProcess, model: str, body: dict[str, object]) -> dict[str, object]:
    response = fake.generate(model, body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    document = response.json()
    validator("generate_content_response").validate(document)
    return document


def test_shape_of_a_pro_image_response(fake: InProcess) -> None:
    body = text_request("poster") | {"generationConfig": {"responseModalities": ["IMAGE"]}}
    document = generate(fake, PRO, body)
    assert list(document) == ["candidates", "usageMetadata", "modelVersion", "responseId"]
    (candidate,) = document["candidates"]
    assert candidate["finishReason"] == "STOP" and candidate["index"] == 0
    assert candidate["content"]["role"] == "model"
    (part,) = candidate["content"]["parts"]
    assert part["inlineData"]["mimeType"] == "image/jpeg"  # 3 Pro on the Gemini API answers JPEG (obs. 21)
    assert base64.b64decode(part["inlineData"]["data"], validate=True)[:4] == b"\xff\xd8\xff\xe0"
    assert base64.b64decode(part["thoughtSignature"], validate=True)
    assert document["modelVersion"] == PRO
    assert len(document["responseId"]) >= 20


def test_response_ids_differ_between_identical_requests(fake: InProcess) -> None:
    ids = {generate(fake, FLASH25, text_request("same"))["responseId"] for _ in range(3)}
    assert len(ids) == 3


def test_flash_25_text_then_image_and_no_signatures(fake: InProcess) -> None:
    document = generate(fake, FLASH25, text_request("a cat"))
    parts = document["candidates"][0]["content"]["parts"]
    assert "text" in parts[0] and "inlineData" in parts[1]
    assert not any("thoughtSignature" in part for part in parts)
    usage = document["usageMetadata"]
    assert usage["candidatesTokensDetails"] == [{"modality": "IMAGE", "tokenCount": 1290}]  # facts §2a
    assert "thoughtsTokenCount" not in usage


def test_thinking_models_sign_final_image_and_first_text(fake: InProcess) -> None:
    for model in (PRO, FLASH31):
        parts = generate(fake, model, text_request("a cat"))["candidates"][0]["content"]["parts"]
        assert all("thoughtSignature" in part for part in parts)


@pytest.mark.parametrize(("model", "size", "image_tokens"), [
    (PRO, "1K", 1120), (PRO, "2K", 1120), (PRO, "4K", 2000),
    (FLASH31, "512", 747), (FLASH31, "1K", 1120), (FLASH31, "2K", 1680), (FLASH31, "4K", 2520),
    (FLASH25, "1K", 1290),
])
def test_usage_adds_up_and_bills_the_documented_image_tokens(
    fake: InProcess, model: str, size: str, image_tokens: int
) -> None:
    body = text_request("tokens please", imageSize=size)
    body["generationConfig"]["responseModalities"] = ["IMAGE"]
    usage = generate(fake, model, body)["usageMetadata"]
    assert usage["candidatesTokensDetails"] == [{"modality": "IMAGE", "tokenCount": image_tokens}]
    total = usage["promptTokenCount"] + usage["candidatesTokenCount"] + usage.get("thoughtsTokenCount", 0)
    assert usage["totalTokenCount"] == total
    # As recorded (obs. 15-17): 2.5 bills exactly the image; 3 Pro adds ~100 tokens beyond the IMAGE
    # detail and reports thoughts apart; 3.1 Flash folds its thinking into candidatesTokenCount.
    extra = usage["candidatesTokenCount"] - image_tokens
    assert (extra == 0) == (model == FLASH25)
    assert ("thoughtsTokenCount" in usage) == (model == PRO)
    assert usage["serviceTier"] == "standard"


def test_input_images_are_billed_per_profile(fake: InProcess) -> None:
    parts = [{"text": "combine"}] + [{"inlineData": {"mimeType": "image/png",
                                                     "data": base64.b64encode(png_bytes()).decode()}}] * 2
    usage = generate(fake, PRO, {"contents": [{"parts": parts}]})["usageMetadata"]
    assert {"modality": "IMAGE", "tokenCount": 2 * 560} in usage["promptTokensDetails"]  # facts §2d
    flash = generate(fake, FLASH31, {"contents": [{"parts": parts}]})["usageMetadata"]
    assert {"modality": "IMAGE", "tokenCount": 2 * 1120} in flash["promptTokensDetails"]


def test_text_only_modality_returns_no_image(fake: InProcess) -> None:
    body = text_request("describe") | {"generationConfig": {"responseModalities": ["TEXT"]}}
    parts = generate(fake, FLASH25, body)["candidates"][0]["content"]["parts"]
    assert [list(part) for part in parts] == [["text"]]


def test_seed_document_text_request_with_huge_max_output_tokens(fake: InProcess) -> None:
    body = json.loads((REPO / "fixtures" / "docs" /
                       "tokaify_text_poem.json").read_text())
    assert body["generationConfig"]["maxOutputTokens"] == 100000
    generate(fake, PRO, body)


def test_count_tokens_agrees_with_generate(fake: InProcess) -> None:
    body = {"contents": [{"parts": [{"text": "count these words please"},
                                    {"inlineData": {"mimeType": "image/png",
                                                    "data": base64.b64encode(png_bytes()).decode()}}]}]}
    counted = fake.request("POST", f"/v1beta/models/{PRO}:countTokens", json=body,
                           headers={"x-goog-api-key": "k"})
    validator("count_tokens_response").validate(counted.json())
    usage = generate(fake, PRO, body)["usageMetadata"]
    assert counted.json()["totalTokens"] == usage["promptTokenCount"]
    wrapped = fake.request("POST", f"/v1beta/models/{PRO}:countTokens", headers={"x-goog-api-key": "k"},
                           json={"generateContentRequest": {"model": f"models/{PRO}", **body}})
    assert wrapped.json()["totalTokens"] == counted.json()["totalTokens"]
