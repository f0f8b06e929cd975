"""Thought parts: what includeThoughts adds on thinking models, and where signatures go (facts §5)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from mock_server.answer.signatures import content_digest, verify
from mock_server.settings import Settings
from schemas import load_profile_book, validator
from tests.support.fake import InProcess, text_request

PRO = "gemini-3-pro-image-preview"
FLASH = "gemini-3.1-flash-image-preview"


def thinking_request(include: bool | None = True, level: str | None = None, size: str = "1K") -> dict[str, Any]:
    body = text_request("a lighthouse at dawn", aspectRatio="1:1", imageSize=size)
    thinking: dict[str, Any] = {}
    if include is not None:
        thinking["includeThoughts"] = include
    if level:
        thinking["thinkingLevel"] = level
    body["generationConfig"]["thinkingConfig"] = thinking
    return body


def parts_of(fake: InProcess, model: str, body: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    response = fake.generate(model, body)
    assert response.status_code == 200, response.text
    document = response.json()
    assert not list(validator("generate_content_response").iter_errors(document))
    return document["candidates"][0]["content"]["parts"], document["usageMetadata"]


def image_bytes(part: dict[str, Any]) -> bytes:
    return base64.b64decode(part["inlineData"]["data"])


def test_pro_thoughts_come_first_unsigned_with_two_interim_images(fake: InProcess) -> None:
    parts, usage = parts_of(fake, PRO, thinking_request())
    flags = [bool(p.get("thought")) for p in parts]
    assert flags == sorted(flags, reverse=True), "thought parts precede the answer"
    thoughts = [p for p in parts if p.get("thought")]
    answer = [p for p in parts if not p.get("thought")]
    assert all("thoughtSignature" not in p for p in thoughts)
    thought_images = [p for p in thoughts if "inlineData" in p]
    assert len(thought_images) == 2 == load_profile_book().get(PRO).thought_images()  # type: ignore[union-attr]
    assert any("text" in p for p in thoughts)
    final = next(p for p in answer if "inlineData" in p)
    # "The last image within Thinking is also the final rendered image"; the earlier one is a draft.
    assert image_bytes(thought_images[-1]) == image_bytes(final)
    assert image_bytes(thought_images[0]) != image_bytes(final)
    assert usage["thoughtsTokenCount"] > 0
    assert usage["candidatesTokensDetails"] == [{"modality": "IMAGE", "tokenCount": 1120}], "thoughts not billed twice"


def test_signatures_on_final_image_and_first_answer_text_and_they_verify(fake: InProcess) -> None:
    parts, _ = parts_of(fake, PRO, thinking_request())
    answer = [p for p in parts if not p.get("thought")]
    texts = [p for p in answer if "text" in p]
    images = [p for p in answer if "inlineData" in p]
    assert texts and images and all("thoughtSignature" in p for p in texts[:1] + images)
    secret = Settings().signing_secret
    image = images[0]
    assert verify(secret, hashlib.sha256(image_bytes(image)).digest(), image["thoughtSignature"])
    assert verify(secret, content_digest(texts[0]["text"].encode()), texts[0]["thoughtSignature"])
    assert not verify("other secret", hashlib.sha256(image_bytes(image)).digest(), image["thoughtSignature"])


@pytest.mark.parametrize(("level", "expected"), [(None, 1), ("MINIMAL", 1), ("HIGH", 2)])
def test_flash_interim_images_follow_the_thinking_level(fake: InProcess, level: str | None, expected: int) -> None:
    parts, _ = parts_of(fake, FLASH, thinking_request(level=level, size="512"))
    assert sum(1 for p in parts if p.get("thought") and "inlineData" in p) == expected


@pytest.mark.parametrize("include", [False, None])
def test_without_include_thoughts_no_thought_parts_but_thinking_is_billed(
    fake: InProcess, include: bool | None,
) -> None:
    parts, usage = parts_of(fake, PRO, thinking_request(include))
    assert not any(p.get("thought") for p in parts)
    assert usage["thoughtsTokenCount"] > 0
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"] + \
        usage["thoughtsTokenCount"]


def test_thought_parts_always_setting() -> None:
    parts, _ = parts_of(InProcess(Settings(thought_parts="always")), PRO, thinking_request(None))
    assert any(p.get("thought") for p in parts)


def test_non_thinking_model_refuses_a_thinking_config(fake: InProcess) -> None:
    # Google's 2026 answer to thinkingConfig on 2.5 Flash Image (real-captures obs. 14).
    response = fake.generate("gemini-2.5-flash-image", thinking_request())
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Thinking is not enabled for this model"
    parts, usage = parts_of(fake, "gemini-2.5-flash-image", text_request())
    assert not any(p.get("thought") or "thoughtSignature" in p for p in parts)
    assert "thoughtsTokenCount" not in usage


def test_text_only_modality_has_thought_text_but_no_thought_images(fake: InProcess) -> None:
    body = thinking_request()
    body["generationConfig"]["responseModalities"] = ["TEXT"]
    parts, _ = parts_of(fake, PRO, body)
    assert [p.get("thought", False) for p in parts] == [True, False]
    assert not any("inlineData" in p for p in parts)
