"""countTokens' breakdown (contentTokens, systemInstructionsTokens) always adds up to totalTokens."""

from __future__ import annotations

import base64
from typing import Any

import httpx
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


def test_remembered_counts_and_refusals_stay_per_model_and_version() -> None:
    """countTokens remembers its answer per body, model and API version: a refusal quotes its own
    version's type URL, and the same body counted for another model is counted for that model."""
    fake = InProcess()
    bad = {"generateContentRequest": {"model": "models/gemini-2.5-flash-image",
                                      "contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"imageConfig": 5}}}

    def count(version: str, body: object, model: str = "gemini-2.5-flash-image") -> httpx.Response:
        return fake.request("POST", f"/{version}/models/{model}:countTokens", json=body,
                            headers={"x-goog-api-key": "k"})

    texts = [count(version, bad).json()["error"]["message"] for version in ("v1beta", "v1", "v1beta")]
    assert "v1beta.ImageConfig" in texts[0] and "v1.ImageConfig" in texts[1] and texts[2] == texts[0]
    good = {"contents": [{"parts": [{"text": "count these words please"}]}]}
    first, again = count("v1beta", good), count("v1beta", good)
    assert first.status_code == 200 and first.content == again.content
    unknown = count("v1beta", good, model="gemini-0-nothing")
    assert unknown.status_code == 404  # the model is resolved before anything is remembered
