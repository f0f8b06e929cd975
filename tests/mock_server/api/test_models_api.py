"""GET models (paginated) and GET models/{id}, shaped like the live ListModels dumps."""

from __future__ import annotations

from schemas import load_profile_book, validator
from tests.support.fake import InProcess, error_of

HEADERS = {"x-goog-api-key": "k"}


def test_list_models_validates_and_lists_every_profile_and_alias(fake: InProcess) -> None:
    response = fake.request("GET", "/v1beta/models", headers=HEADERS)
    validator("list_models").validate(response.json())
    names = {model["name"] for model in response.json()["models"]}
    assert names == {f"models/{model_id}" for model_id in load_profile_book().ids()}
    assert len(names) == 8
    assert "nextPageToken" not in response.json()


def test_pagination_walks_every_model_exactly_once(fake: InProcess) -> None:
    seen: list[str] = []
    token = ""
    for _ in range(10):
        page = fake.request("GET", f"/v1/models?pageSize=1&pageToken={token}", headers=HEADERS).json()
        seen += [model["name"] for model in page["models"]]
        token = page.get("nextPageToken", "")
        if not token:
            break
    assert len(seen) == len(set(seen)) == len(load_profile_book().ids())


def test_bad_page_token_is_400(fake: InProcess) -> None:
    response = fake.request("GET", "/v1beta/models?pageToken=garbage!", headers=HEADERS)
    assert response.status_code == 400 and error_of(response)["status"] == "INVALID_ARGUMENT"


def test_get_model_returns_the_live_fields(fake: InProcess) -> None:
    body = fake.request("GET", "/v1beta/models/gemini-3-pro-image-preview", headers=HEADERS).json()
    validator("model").validate(body)
    assert body["displayName"] == "Nano Banana Pro" and body["thinking"] is True
    assert body["inputTokenLimit"] == 131072 and body["outputTokenLimit"] == 32768
    assert "thinking" not in fake.request("GET", "/v1beta/models/models/gemini-2.5-flash-image",
                                          headers=HEADERS).json()


def test_get_unknown_model_is_404(fake: InProcess) -> None:
    response = fake.request("GET", "/v1beta/models/gemini-2.5-flash-image-preview", headers=HEADERS)
    assert response.status_code == 404 and error_of(response)["status"] == "NOT_FOUND"


def test_unknown_versions_and_paths_are_404_envelopes(fake: InProcess) -> None:
    for path in ("/v2/models", "/", "/v1beta/tunedModels/x"):
        response = fake.request("GET", path, headers=HEADERS)
        assert response.status_code == 404 and error_of(response)["status"] == "NOT_FOUND"

