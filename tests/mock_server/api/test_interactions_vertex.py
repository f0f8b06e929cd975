"""The Interactions API on Vertex AI's paths: google-genai with vertexai=True (project and express mode),
the Vertex request shape over raw HTTP, Vertex's errors, and the journal's names for these routes."""

from __future__ import annotations

import base64
import io
from typing import Any

import google.oauth2.credentials
import pytest
from google import genai
from google.genai import types
from PIL import Image

from mock_server.settings import Settings
from mock_server.testing import RunningServer
from schemas import load_profile_book
from tests.support.fake import InProcess, error_of

interactions_errors = pytest.importorskip("google.genai._interactions_errors")

BOOK = load_profile_book()
PRO = "gemini-3-pro-image-preview"
PROJECT_PATH = "/v1beta1/projects/proj-1/locations/global/interactions"
BEARER = {"authorization": "Bearer ya29.fake-access-token"}
NO_RETRIES = types.HttpRetryOptions(attempts=1)  # Interactions retry 5xx/429 by default: fail fast instead


def project_client(server: RunningServer) -> genai.Client:
    credentials = google.oauth2.credentials.Credentials(token="ya29.fake-access-token")  # type: ignore[no-untyped-call]
    return genai.Client(vertexai=True, project="proj-1", location="global", credentials=credentials,
                        http_options=types.HttpOptions(base_url=server.base_url, retry_options=NO_RETRIES))


def express_client(server: RunningServer) -> genai.Client:
    return genai.Client(vertexai=True, api_key="express-key",
                        http_options=types.HttpOptions(base_url=server.base_url, retry_options=NO_RETRIES))


def decoded(data: str | bytes) -> Image.Image:
    return Image.open(io.BytesIO(data if isinstance(data, bytes) else base64.b64decode(data)))


def image_of(steps: list[dict[str, Any]]) -> Image.Image:
    blocks = [block for step in steps if step["type"] == "model_output" for block in step["content"]
              if block["type"] == "image"]
    assert len(blocks) == 1
    return decoded(blocks[0]["data"])


def test_sdk_project_mode_creates_gets_and_deletes(live_server: RunningServer) -> None:
    client = project_client(live_server)  # kept referenced: a collected client closes its connection pool
    interaction = client.interactions.create(
        model=PRO, input="a lighthouse in a storm",
        response_format=[{"type": "image", "aspect_ratio": "16:9", "image_size": "2K"}])
    assert interaction.status == "completed" and interaction.id
    image = interaction.output_image
    assert image is not None and image.data
    assert decoded(image.data).size == BOOK.profiles[PRO].dimensions("16:9", "2K")
    again = client.interactions.get(id=interaction.id)
    assert [step.type for step in again.steps] == ["user_input", "thought", "model_output"]
    client.interactions.delete(id=interaction.id)
    with pytest.raises(interactions_errors.NotFoundError):
        client.interactions.get(id=interaction.id)


def test_sdk_project_mode_streams(live_server: RunningServer) -> None:
    client = project_client(live_server)
    events = list(client.interactions.create(model=PRO, input="a paper boat", stream=True,
                                             response_format={"type": "image", "aspect_ratio": "1:1"}))
    kinds = [event.event_type for event in events]
    assert kinds[0] == "interaction.created" and kinds[-1] == "interaction.completed"
    images = [event.delta.data for event in events
              if event.event_type == "step.delta" and getattr(event.delta, "type", None) == "image"]
    assert len(images) == 1
    assert decoded(images[0]).size == BOOK.profiles[PRO].dimensions("1:1", "1K")


def test_sdk_express_mode_uses_the_api_key(live_server: RunningServer) -> None:
    client = express_client(live_server)
    interaction = client.interactions.create(model=PRO, input="a quiet harbour",
                                             response_format={"type": "image", "aspect_ratio": "4:3"})
    image = interaction.output_image
    assert image is not None and decoded(image.data).size == BOOK.profiles[PRO].dimensions("4:3", "1K")
    assert client.interactions.get(id=interaction.id).status == "completed"


def test_sdk_unknown_model_is_vertex_not_found(live_server: RunningServer) -> None:
    client = project_client(live_server)
    with pytest.raises(interactions_errors.NotFoundError) as caught:
        client.interactions.create(model="gemini-0-nonexistent-image", input="x")
    assert "Publisher Model `projects/proj-1/locations/global/publishers/google/models/gemini-0-nonexistent-image`" \
        in str(caught.value)


def test_raw_vertex_body_snake_case_list_and_role_turns() -> None:
    """The body of Vertex's REST samples: snake_case, ``response_format`` a list, ``{"role", "content"}`` turns."""
    fake = InProcess()
    body = {"model": PRO, "store": True,
            "input": [{"role": "user", "content": [{"type": "text", "text": "a red kite"}]}],
            "response_format": [{"type": "image", "aspect_ratio": "3:2", "image_size": "2K"}],
            "generation_config": {"thinking_level": "high"}}
    response = fake.request("POST", PROJECT_PATH, json=body, headers=BEARER)
    assert response.status_code == 200, response.text
    created = response.json()
    assert image_of(created["steps"]).size == BOOK.profiles[PRO].dimensions("3:2", "2K")
    stored = fake.request("GET", f"{PROJECT_PATH}/{created['id']}", headers=BEARER).json()
    assert stored["steps"][0] == {"type": "user_input", "content": [{"type": "text", "text": "a red kite"}]}
    # Role turns are Vertex's spelling only: the Gemini API's own path refuses them.
    gemini = fake.request("POST", "/v1beta/interactions", json=body, headers={"x-goog-api-key": "k"})
    assert gemini.status_code == 400 and gemini.json()["error"]["code"] == "invalid_request"


def test_raw_errors_use_googles_envelope() -> None:
    fake = InProcess(Settings(api_keys=("good-key",)))
    unknown = fake.request("POST", PROJECT_PATH, json={"model": "gemini-0-nope", "input": "x"}, headers=BEARER)
    assert unknown.status_code == 404
    error = error_of(unknown)
    assert (error["code"], error["status"]) == (404, "NOT_FOUND")
    assert error["message"].startswith("Publisher Model `projects/proj-1/locations/global/publishers/google/models/")
    missing = fake.request("GET", f"{PROJECT_PATH}/v1_missing", headers=BEARER)
    assert (missing.status_code, error_of(missing)["status"]) == (404, "NOT_FOUND")
    anonymous = fake.request("POST", PROJECT_PATH, json={"model": PRO, "input": "x"})
    assert (anonymous.status_code, error_of(anonymous)["status"]) == (401, "UNAUTHENTICATED")
    wrong_key = fake.request("POST", "/v1beta1/interactions", json={"model": PRO, "input": "x"},
                             headers={"x-goog-api-key": "bad-key"})
    assert wrong_key.status_code in (400, 401, 403) and "status" in error_of(wrong_key)
    right_key = fake.request("POST", "/v1beta1/locations/global/interactions", json={"model": PRO, "input": "x"},
                             headers={"x-goog-api-key": "good-key"})
    assert right_key.status_code == 200, right_key.text
    bad_version = fake.request("POST", "/v2/projects/p/locations/global/interactions",
                               json={"model": PRO, "input": "x"}, headers=BEARER)
    assert bad_version.status_code == 404


def test_journal_names_vertex_interactions_like_the_gemini_ones() -> None:
    fake = InProcess()
    created = fake.request("POST", PROJECT_PATH, json={"model": PRO, "input": "x"}, headers=BEARER).json()
    fake.request("POST", f"{PROJECT_PATH}/{created['id']}/cancel", headers=BEARER)
    fake.request("GET", f"/v1beta1/interactions/{created['id']}", headers={"x-goog-api-key": "k"})
    fake.request("DELETE", f"{PROJECT_PATH}/{created['id']}", headers=BEARER)
    entries = fake.request("GET", "/_mock/requests").json()["requests"]
    assert [entry["action"] for entry in entries] == [
        "interactions.create", "interactions.cancel", "interactions.get", "interactions.delete"]


def test_gcs_uri_delivers_images_by_uri() -> None:
    fake = InProcess()
    body = {"model": PRO, "input": "a red kite",
            "response_format": [{"type": "image", "delivery": "uri", "gcs_uri": "gs://my-bucket/out"}]}
    created = fake.request("POST", PROJECT_PATH, json=body, headers=BEARER).json()
    blocks = [block for step in created["steps"] if step["type"] == "model_output" for block in step["content"]
              if block["type"] == "image"]
    assert len(blocks) == 1 and "data" not in blocks[0]
    assert blocks[0]["uri"].startswith("gs://my-bucket/out/") and blocks[0]["uri"].endswith(".jpg")
    # The same images named the same way when streamed; a continuation works (the image is not read back).
    streamed = fake.request("POST", PROJECT_PATH, json=body | {"stream": True}, headers=BEARER).text
    assert f'"uri":"{blocks[0]["uri"]}"' in streamed
    again = fake.request("POST", PROJECT_PATH, headers=BEARER,
                         json={"model": PRO, "input": "now blue", "previous_interaction_id": created["id"]})
    assert again.status_code == 200, again.text
    # Only on Vertex: the Gemini API path refuses gcs_uri, and Vertex refuses it incomplete or misspelt.
    gemini = fake.request("POST", "/v1beta/interactions", json=body, headers={"x-goog-api-key": "k"})
    assert gemini.status_code == 400
    for entry, words in (({"type": "image", "delivery": "uri"}, "requires response_format.gcs_uri"),
                         ({"type": "image", "delivery": "inline", "gcs_uri": "gs://b/x"}, "only used with"),
                         ({"type": "image", "gcs_uri": "https://example.com/x"}, "must be a Cloud Storage URI")):
        refused = fake.request("POST", PROJECT_PATH, json=body | {"response_format": [entry]}, headers=BEARER)
        assert refused.status_code == 400 and words in error_of(refused)["message"], refused.text
