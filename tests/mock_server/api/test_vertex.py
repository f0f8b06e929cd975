"""Vertex AI paths: google-genai with vertexai=True against the fake, the Vertex flavour on the wire,
and the Vertex-only request fields (accepted there, unknown names on the Gemini API route)."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from google import genai
from google.genai import errors, types
from PIL import Image

from mock_server.settings import Settings
from mock_server.testing import RunningServer
from schemas import load_profile_book
from schemas.wire.sse import parse_sse
from tests.support.fake import InProcess, error_of, text_request
from tests.support.real_captures import CAPTURES, capture_names, load_capture
from tests.support.vertex import express_client, project_client

BOOK = load_profile_book()
THINKING = next(p for p in BOOK.profiles.values() if p.thinking and "2K" in p.image_sizes)
PLAIN = next((p for p in BOOK.profiles.values() if not p.thinking), next(iter(BOOK.profiles.values())))
PROJECT_PATH = "/v1beta1/projects/proj-1/locations/us-central1/publishers/google/models"
EXPRESS_PATH = "/v1beta1/publishers/google/models"


def vertex_post(fake: InProcess, model: str, body: Any, action: str = "generateContent", path: str = PROJECT_PATH,
                **kwargs: Any) -> Any:
    headers = kwargs.pop("headers", {"authorization": "Bearer ya29.token"})
    return fake.request("POST", f"{path}/{model}:{action}", json=body, headers=headers, **kwargs)


def image_size_of(data: bytes) -> tuple[str | None, tuple[int, int]]:
    with Image.open(io.BytesIO(data)) as image:
        return image.format, image.size


def test_sdk_project_mode_generates_with_the_vertex_flavour(live_server: RunningServer) -> None:
    config = types.GenerateContentConfig(image_config=types.ImageConfig(
        aspect_ratio="16:9", image_size="2K", output_mime_type="image/jpeg", output_compression_quality=70,
        person_generation="ALLOW_ADULT"))
    client = project_client(live_server)  # kept referenced: a collected client closes its connection pool
    response = client.models.generate_content(
        model=THINKING.model_id, contents="a harbour at dusk", config=config)
    parts = response.candidates[0].content.parts
    images = [part for part in parts if part.inline_data and not part.thought]
    assert len(images) == 1
    assert images[0].inline_data.mime_type == "image/jpeg"
    assert image_size_of(images[0].inline_data.data) == ("JPEG", THINKING.dimensions("16:9", "2K"))
    assert parts[0].thought and parts[0].text  # Vertex shows a thought summary first (README obs. 12)
    assert response.create_time is not None
    usage = response.usage_metadata
    assert usage.traffic_type == types.TrafficType.ON_DEMAND
    details = {d.modality.value: d.token_count for d in usage.candidates_tokens_details}
    assert set(details) == {"TEXT", "IMAGE"}
    assert details["IMAGE"] == THINKING.output_tokens_per_image("2K")
    assert usage.candidates_token_count == sum(details.values())
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count + (
        usage.thoughts_token_count or 0)


def test_sdk_express_mode_streams(live_server: RunningServer) -> None:
    config = types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"],
                                         image_config=types.ImageConfig(aspect_ratio="3:4"))
    client = express_client(live_server)
    chunks = list(client.models.generate_content_stream(
        model=PLAIN.model_id, contents="a fox in snow", config=config))
    assert len(chunks) >= 2
    assert len({chunk.response_id for chunk in chunks}) == 1
    assert len({chunk.create_time for chunk in chunks}) == 1
    for chunk in chunks[:-1]:  # non-final chunks carry no token counts (README obs. 8)
        assert chunk.usage_metadata.traffic_type == types.TrafficType.ON_DEMAND
        assert chunk.usage_metadata.prompt_token_count is None
    final = chunks[-1].usage_metadata
    assert final.total_token_count and final.candidates_token_count
    images = [part.inline_data for chunk in chunks for part in chunk.candidates[0].content.parts or []
              if part.inline_data]
    assert len(images) == 1
    assert image_size_of(images[0].data)[1] == PLAIN.dimensions("3:4", PLAIN.default_image_size)


@pytest.mark.parametrize("mode", ["project", "express"])
def test_sdk_both_modes_generate_and_stream_exact_sizes(live_server: RunningServer, mode: str) -> None:
    client = project_client(live_server) if mode == "project" else express_client(live_server)
    config = types.GenerateContentConfig(image_config=types.ImageConfig(aspect_ratio="9:16", image_size="2K",
                                                                        output_mime_type="image/png"))
    wanted = ("PNG", THINKING.dimensions("9:16", "2K"))
    response = client.models.generate_content(model=THINKING.model_id, contents="a tower", config=config)
    parts = response.candidates[0].content.parts
    assert [image_size_of(p.inline_data.data) for p in parts if p.inline_data and not p.thought] == [wanted]
    chunks = list(client.models.generate_content_stream(model=THINKING.model_id, contents="a tower", config=config))
    streamed = [p.inline_data.data for chunk in chunks for p in chunk.candidates[0].content.parts or []
                if p.inline_data and not p.thought]
    assert [image_size_of(data) for data in streamed] == [wanted]
    assert all(chunk.create_time is not None for chunk in chunks)


@pytest.mark.parametrize("mode", ["project", "express"])
def test_sdk_counts_tokens_as_the_gemini_api_does(live_server: RunningServer, mode: str) -> None:
    client = project_client(live_server) if mode == "project" else express_client(live_server)
    counted = client.models.count_tokens(model=PLAIN.model_id, contents="count these words, please")
    gemini = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=live_server.base_url,
                                                                        api_version="v1beta"))
    assert counted.total_tokens == gemini.models.count_tokens(
        model=PLAIN.model_id, contents="count these words, please").total_tokens


def test_raw_vertex_answer_has_the_recorded_shape(fake: InProcess) -> None:
    response = vertex_post(fake, PLAIN.model_id, text_request("a red kite"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body)[-3:] == ["modelVersion", "createTime", "responseId"]
    candidate = body["candidates"][0]
    assert "index" not in candidate
    assert list(candidate["content"]) == ["role", "parts"]
    usage = body["usageMetadata"]
    assert list(usage)[:4] == ["promptTokenCount", "candidatesTokenCount", "totalTokenCount", "trafficType"]
    assert [d["modality"] for d in usage["candidatesTokensDetails"]] == ["TEXT", "IMAGE"]
    assert usage["candidatesTokenCount"] == sum(d["tokenCount"] for d in usage["candidatesTokensDetails"])


def test_raw_vertex_stream_chunks(fake: InProcess) -> None:
    response = vertex_post(fake, THINKING.model_id, text_request("a kite"), action="streamGenerateContent",
                           params={"alt": "sse"})
    events = parse_sse(response.content)
    assert len(events) >= 3
    assert events[0]["candidates"][0]["content"]["parts"][0]["thought"] is True
    assert all(event["usageMetadata"] == {"trafficType": "ON_DEMAND"} for event in events[:-1])
    assert "candidatesTokensDetails" in events[-1]["usageMetadata"]
    assert len({event["createTime"] for event in events}) == 1


def test_vertex_thought_summaries_can_follow_include_thoughts() -> None:
    fake = InProcess(Settings(vertex_thought_summaries="on_request"))
    parts = vertex_post(fake, THINKING.model_id, text_request()).json()["candidates"][0]["content"]["parts"]
    assert not any(part.get("thought") for part in parts)


def test_response_format_array_with_enum_names_and_output_uri(fake: InProcess) -> None:
    body = text_request("a map")
    body["generationConfig"] = {"responseFormat": [{"image": {
        "aspectRatio": "ASPECT_RATIO_NINE_BY_SIXTEEN", "imageSize": "IMAGE_SIZE_TWO_K", "mimeType": "IMAGE_JPEG",
        "delivery": "URI"}}], "imageConfig": {"aspectRatio": "1:1"}}
    body["outputConfig"] = {"outputUriPrefix": "gs://my-bucket/renders"}
    response = vertex_post(fake, THINKING.model_id, body, path=EXPRESS_PATH, headers={"x-goog-api-key": "k"})
    assert response.status_code == 200, response.text
    parts = response.json()["candidates"][0]["content"]["parts"]
    files = [part["fileData"] for part in parts if "fileData" in part and not part.get("thought")]
    assert len(files) == 1 and not any("inlineData" in part for part in parts)
    assert files[0]["mimeType"] == "image/jpeg"
    assert files[0]["fileUri"].startswith("gs://my-bucket/renders/") and files[0]["fileUri"].endswith(".jpg")


def test_response_format_png_and_ratio_are_honoured(fake: InProcess) -> None:
    body = text_request("a map")
    body["generation_config"] = {"response_format": [{"image": {"aspect_ratio": "ASPECT_RATIO_FOUR_BY_THREE",
                                                                "mime_type": "IMAGE_PNG"}}]}
    response = vertex_post(fake, PLAIN.model_id, body)
    part = next(p for p in response.json()["candidates"][0]["content"]["parts"] if "inlineData" in p)
    assert part["inlineData"]["mimeType"] == "image/png"
    assert image_size_of(base64.b64decode(part["inlineData"]["data"])) == (
        "PNG", PLAIN.dimensions("4:3", PLAIN.default_image_size))


def test_compression_quality_is_honoured(fake: InProcess) -> None:
    sizes = []
    for quality in (95, 5):
        body = text_request("a detailed forest")
        body["generationConfig"] = {"imageConfig": {"imageOutputOptions": {"mimeType": "image/jpeg",
                                                                           "compressionQuality": quality}}}
        part = next(p for p in vertex_post(fake, PLAIN.model_id, body).json()["candidates"][0]["content"]["parts"]
                    if "inlineData" in p)
        sizes.append(len(base64.b64decode(part["inlineData"]["data"])))
    assert sizes[1] < sizes[0]


@pytest.mark.parametrize(("generation", "top", "named"), [
    ({"imageConfig": {"personGeneration": "ALLOW_ALL"}}, {}, 'Unknown name "personGeneration"'),
    ({"imageConfig": {"prominentPeople": "BLOCK_PROMINENT_PEOPLE"}}, {}, 'Unknown name "prominentPeople"'),
    ({"imageConfig": {"imageOutputOptions": {"mimeType": "image/jpeg"}}}, {}, 'Unknown name "imageOutputOptions"'),
    ({}, {"outputConfig": {"outputUriPrefix": "gs://bucket/p/"}}, 'Unknown name "outputConfig"'),
    ({"responseFormat": [{"image": {"aspectRatio": "ASPECT_RATIO_ONE_BY_ONE"}}]}, {}, "response_format"),
])
def test_vertex_only_fields_are_rejected_on_the_gemini_route(fake: InProcess, generation: dict[str, Any],
                                                              top: dict[str, Any], named: str) -> None:
    body = text_request() | top
    if generation:
        body["generationConfig"] = generation
    gemini = fake.generate(PLAIN.model_id, body)
    assert gemini.status_code == 400
    status = error_of(gemini)
    # The message names the field (the spelling of the path differs between the proto and schema layers).
    assert status["status"] == "INVALID_ARGUMENT" and named in status["message"].replace("responseFormat",
                                                                                         "response_format")
    assert vertex_post(fake, PLAIN.model_id, body).status_code == 200


@pytest.mark.parametrize(("body_change", "fragment"), [
    ({"generationConfig": {"imageConfig": {"personGeneration": "ALLOW_EVERYONE"}}},
     "generation_config.image_config.person_generation"),
    ({"generationConfig": {"imageConfig": {"imageOutputOptions": {"mimeType": "image/gif"}}}}, "mime_type"),
    ({"generationConfig": {"responseFormat": [{"image": {"delivery": "URI"}}]}}, "output_uri_prefix"),
    ({"outputConfig": {"outputUriPrefix": "s3://bucket/"}}, "outputUriPrefix"),
    ({"generationConfig": {"responseFormat": [{"image": {"aspectRatio": "16:9"}}]}}, "aspect_ratio"),
])
def test_bad_vertex_fields_are_google_shaped_400s(fake: InProcess, body_change: dict[str, Any],
                                                  fragment: str) -> None:
    response = vertex_post(fake, PLAIN.model_id, text_request() | body_change)
    assert response.status_code == 400
    assert fragment in error_of(response)["message"]


def test_vertex_credentials_and_model_errors() -> None:
    fake = InProcess(Settings(api_keys=("good-key",)))
    missing = vertex_post(fake, PLAIN.model_id, text_request(), headers={})
    assert missing.status_code == 401 and error_of(missing)["status"] == "UNAUTHENTICATED"
    wrong = vertex_post(fake, PLAIN.model_id, text_request(), path=EXPRESS_PATH, headers={"x-goog-api-key": "bad"})
    assert wrong.status_code == 400 and "API key not valid" in error_of(wrong)["message"]
    assert vertex_post(fake, PLAIN.model_id, text_request(), path=EXPRESS_PATH,
                       headers={"x-goog-api-key": "good-key"}).status_code == 200
    assert vertex_post(fake, PLAIN.model_id, text_request()).status_code == 200  # any OAuth token
    unknown = vertex_post(fake, "gemini-9-image", text_request())
    assert unknown.status_code == 404
    assert error_of(unknown)["message"].startswith(
        "Publisher Model `projects/proj-1/locations/us-central1/publishers/google/models/gemini-9-image`")
    assert vertex_post(fake, PLAIN.model_id, text_request(), path="/v1beta/publishers/google/models").status_code \
        == 404
    assert vertex_post(fake, PLAIN.model_id, text_request(), path="/v1/publishers/acme/models").status_code == 404


def test_vertex_scenarios_and_validation_are_shared(fake: InProcess) -> None:
    blocked = vertex_post(fake, PLAIN.model_id, text_request("[mock:image_safety] a cat")).json()
    assert blocked["candidates"][0]["finishReason"] == "IMAGE_SAFETY"
    assert "createTime" in blocked and "index" not in blocked["candidates"][0]
    bad_ratio = vertex_post(fake, PLAIN.model_id, text_request(aspectRatio="7:3"))
    assert bad_ratio.status_code == 400 and "aspect_ratio" in error_of(bad_ratio)["message"]


def test_sdk_errors_surface_as_client_errors(live_server: RunningServer) -> None:
    client = express_client(live_server)
    with pytest.raises(errors.ClientError) as raised:
        client.models.generate_content(model="no-such-image-model", contents="x")
    assert raised.value.code == 404
    json.dumps(raised.value.details)  # a JSON envelope, not a traceback


@pytest.mark.parametrize("body", [
    b"", b"[]", b"null", b"{", b'{"contents": [{"parts": [{"text": "x"}]}], "generationConfig": []}',
    b'{"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"imageConfig": {"imageOutputOptions": "jpeg"}}}',
    b'{"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"responseFormat": [1, "a", null]}}',
    b'{"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"responseFormat": {"image": {}}}}',
    b'{"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"responseFormat": [{"image": '
    b'{"compressionQuality": 1e99}}]}}',
    b'{"contents": [{"parts": [{"text": "x"}]}], "outputConfig": "gs://bucket/"}',
    b'{"model": 5, "instances": [], "contents": []}',
])
@pytest.mark.parametrize("action", ["generateContent", "countTokens", "streamGenerateContent"])
def test_hostile_vertex_bodies_get_google_shaped_4xx(fake: InProcess, body: bytes, action: str) -> None:
    response = fake.request("POST", f"{EXPRESS_PATH}/{PLAIN.model_id}:{action}", content=body,
                            headers={"x-goog-api-key": "k", "content-type": "application/json"})
    assert 400 <= response.status_code < 500
    error_of(response)


VERTEX_STREAM = "js-genai__stream_image_output_vertex_2025-07"  # byte-faithful (level A)


@pytest.mark.skipif(VERTEX_STREAM not in capture_names(), reason=f"real captures not present at {CAPTURES}")
def test_stream_key_order_matches_the_byte_faithful_vertex_capture(fake: InProcess) -> None:
    recorded = load_capture(VERTEX_STREAM)["response"]["_sse_chunks"]
    body = {"contents": [{"role": "user", "parts": [{"text": "the Eiffel tower with fireworks"}]}],
            "generationConfig": {"responseModalities": ["IMAGE", "TEXT"]}}
    response = vertex_post(fake, PLAIN.model_id, body, action="streamGenerateContent", params={"alt": "sse"})
    events = parse_sse(response.content)
    assert [list(event) for event in events] == [list(chunk) for chunk in recorded[:len(events)]]
    for event in events:
        assert list(event["candidates"][0]["content"]) == ["role", "parts"]
        assert "index" not in event["candidates"][0]
    recorded_usage, usage = list(recorded[-1]["usageMetadata"]), list(events[-1]["usageMetadata"])
    assert [key for key in usage if key in recorded_usage] == [key for key in recorded_usage if key in usage]
    # Middle chunks carry trafficType only (the recorded first chunk adds billablePromptUsage, not emitted).
    assert recorded[1]["usageMetadata"] == events[0]["usageMetadata"] == {"trafficType": "ON_DEMAND"}
