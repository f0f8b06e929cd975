"""Synthetic groundingMetadata for the googleSearch tool: plausible, schema-valid, clearly marked."""

from __future__ import annotations

from typing import Any

from mock_server.answer.grounding import SYNTHETIC_MARKER
from schemas import validator
from tests.support.fake import InProcess, text_request


def search_request(tool: dict[str, Any] | None = None) -> dict[str, Any]:
    body = text_request("Paris weather forecast poster for tomorrow", aspectRatio="16:9")
    body["tools"] = [{"google_search": tool if tool is not None else {}}]  # snake_case, as Google's samples
    return body


def candidate(fake: InProcess, model: str, body: dict[str, Any]) -> dict[str, Any]:
    response = fake.generate(model, body)
    assert response.status_code == 200, response.text
    assert not list(validator("generate_content_response").iter_errors(response.json()))
    found: dict[str, Any] = response.json()["candidates"][0]
    return found


def test_google_search_on_pro_adds_marked_grounding(fake: InProcess) -> None:
    metadata = candidate(fake, "gemini-3-pro-image-preview", search_request())["groundingMetadata"]
    assert metadata[SYNTHETIC_MARKER] is True
    assert metadata["webSearchQueries"][0].startswith("Paris weather forecast")
    assert len(metadata["groundingChunks"]) == 3  # "top 3 web sources" for images
    assert all(chunk["web"]["uri"].split("/")[2].endswith(".invalid") for chunk in metadata["groundingChunks"])
    assert "synthetic" in metadata["searchEntryPoint"]["renderedContent"]
    assert "imageSearchQueries" not in metadata


def test_image_search_type_adds_image_queries(fake: InProcess) -> None:
    body = search_request({"searchTypes": {"webSearch": {}, "imageSearch": {}}})
    metadata = candidate(fake, "gemini-3.1-flash-image-preview", body)["groundingMetadata"]
    assert metadata["imageSearchQueries"]


def test_no_grounding_without_the_tool_or_on_a_model_without_search(fake: InProcess) -> None:
    assert "groundingMetadata" not in candidate(fake, "gemini-3-pro-image-preview", text_request("a cat"))
    assert "groundingMetadata" not in candidate(fake, "gemini-2.5-flash-image", search_request())
