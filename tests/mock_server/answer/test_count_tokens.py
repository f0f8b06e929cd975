"""countTokens' breakdown (contentTokens, systemInstructionsTokens) always adds up to totalTokens."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.support.fake import API_KEY, InProcess, png_bytes

MODEL = "gemini-3-pro-image-preview"


def count(fake: InProcess, body: dict[str, Any], version: str = "v1beta") -> dict[str, Any]:
    response = fake.request("POST", f"/{version}/models/{MODEL}:countTokens", json=body,
                            headers={"x-goog-api-key": API_KEY})
    assert response.status_code == 200, response.text
    assert response.text.endswith("}\n")
    document: dict[str, Any] = response.json()
    return document


def breakdown(document: dict[str, Any]) -> int:
    system = sum(document["systemInstructionsTokens"].get("partTokens", []))
    return system + sum(sum(c["partTokens"]) + c.get("roleTokens", 0) for c in document["contentTokens"])


@pytest.mark.parametrize("version", ["v1", "v1beta"])
def test_breakdown_with_a_system_instruction_and_an_image(fake: InProcess, version: str) -> None:
    image = {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png_bytes()).decode()}}
    inner = {"contents": [{"role": "user", "parts": [{"text": "The quick brown fox jumps over the lazy dog."},
                                                     image]},
                          {"role": "model", "parts": [{"text": "ok"}]}],
             "systemInstruction": {"parts": [{"text": "be brief please"}]}}
    document = count(fake, {"generateContentRequest": {"model": f"models/{MODEL}"} | inner}, version)
    assert list(document) == ["totalTokens", "systemInstructionsTokens", "contentTokens", "promptTokensDetails"]
    assert breakdown(document) == document["totalTokens"]
    assert [len(c["partTokens"]) for c in document["contentTokens"]] == [2, 1]
    assert document["systemInstructionsTokens"]["partTokens"][0] > 0
    image_tokens = next(d["tokenCount"] for d in document["promptTokensDetails"] if d["modality"] == "IMAGE")
    assert document["contentTokens"][0]["partTokens"][1] == image_tokens
    # The total is what generateContent bills for the same request.
    answer = fake.generate(MODEL, inner, version=version).json()
    assert answer["usageMetadata"]["promptTokenCount"] == document["totalTokens"]


def test_without_a_system_instruction_it_is_empty(fake: InProcess) -> None:
    document = count(fake, {"contents": [{"parts": [{"text": "hi"}]}]})
    assert document["systemInstructionsTokens"] == {}
    assert document["contentTokens"] == [{"partTokens": [1]}]
