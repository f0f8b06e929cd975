"""Vertex models.get / models.list (mock_server/api/vertex/models.py): google-genai with vertexai=True on
uvicorn in project and express modes, the PublisherModel built from the catalogue, --as-of, the 404."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from google.genai import errors

from mock_server.settings import Settings
from mock_server.testing import RunningServer, serve_in_thread
from schemas import load_json, load_profile_book
from tests.support.fake import InProcess, error_of
from tests.support.vertex import express_client, project_client

BOOK = load_profile_book()
TEMPLATE = load_json("vertex_publisher_model.json")["resource"]
BEARER = {"authorization": "Bearer ya29.token"}
# A day when some catalogue ids were not yet launched and others were still served.
EARLY_DAY = "2026-01-01"


def expected_resource(model_id: str) -> dict[str, Any]:
    """What the catalogue says the PublisherModel is, read independently of the module under test."""
    vertex = BOOK.profiles[BOOK.aliases.get(model_id, model_id)].data["vertex"]
    text = json.dumps(TEMPLATE).replace("{model}", model_id)
    for key, value in vertex.items():
        text = text.replace("{" + key + "}", value)
    return dict(json.loads(text))


def served_ids(as_of: str | None) -> list[str]:
    day = None if as_of is None else date.fromisoformat(as_of)
    return [model_id for model_id in [*BOOK.ids(), *BOOK.aliases] if BOOK.served(model_id, day) is not None]


@pytest.mark.parametrize("make_client", [project_client, express_client], ids=["project", "express"])
def test_sdk_gets_each_catalogue_model(live_server: RunningServer, make_client: Any) -> None:
    client = make_client(live_server)
    for model_id in BOOK.ids():
        model = client.models.get(model=model_id)
        assert model.name == f"publishers/google/models/{model_id}"
        assert model.version == "default"


@pytest.mark.parametrize("make_client", [project_client, express_client], ids=["project", "express"])
def test_sdk_lists_base_models_in_catalogue_order(live_server: RunningServer, make_client: Any) -> None:
    client = make_client(live_server)
    names = [model.name for model in client.models.list(config={"query_base": True, "page_size": 3})]
    assert names == [f"publishers/google/models/{model_id}" for model_id in served_ids(None)]


def test_sdk_lists_no_tuned_models_for_a_project(live_server: RunningServer) -> None:
    client = project_client(live_server)
    assert list(client.models.list(config={"query_base": False})) == []


def test_sdk_unknown_model_is_vertex_not_found(live_server: RunningServer) -> None:
    client = project_client(live_server)  # kept referenced: a collected client closes its connection pool
    with pytest.raises(errors.ClientError) as raised:
        client.models.get(model="gemini-0-image")
    assert raised.value.code == 404
    assert raised.value.message is not None and "Publisher Model `publishers/google/models/gemini-0-image`" in (
        raised.value.message)


def test_as_of_limits_the_list_and_the_get() -> None:
    missing = [model_id for model_id in BOOK.ids() if model_id not in served_ids(EARLY_DAY)]
    assert missing and served_ids(EARLY_DAY), "the chosen day must split the catalogue"
    with serve_in_thread(Settings(port=0, as_of=EARLY_DAY)) as server:
        client = express_client(server)
        assert [model.name for model in client.models.list()] == [
            f"publishers/google/models/{model_id}" for model_id in served_ids(EARLY_DAY)]
        with pytest.raises(errors.ClientError) as raised:
            client.models.get(model=missing[0])
        assert raised.value.code == 404


def test_the_resource_is_the_catalogues(fake: InProcess) -> None:
    for model_id in served_ids(None):
        response = fake.request("GET", f"/v1beta1/publishers/google/models/{model_id}", headers=BEARER)
        assert response.status_code == 200
        assert response.json() == expected_resource(model_id)
        assert list(response.json()) == list(TEMPLATE)  # Google's field order


def test_preview_and_ga_stages_differ(fake: InProcess) -> None:
    stages = {fake.request("GET", f"/v1/publishers/google/models/{model_id}", headers=BEARER).json()["launchStage"]
              for model_id in BOOK.ids()}
    assert stages == {"GA", "PUBLIC_PREVIEW"}


def test_project_scoped_get_and_its_404_name_the_project(fake: InProcess) -> None:
    base = "/v1beta1/projects/proj-1/locations/us-central1/publishers"
    model_id = BOOK.ids()[0]
    assert fake.request("GET", f"{base}/google/models/{model_id}", headers=BEARER).json() == expected_resource(model_id)
    refused = fake.request("GET", f"{base}/acme/models/{model_id}", headers=BEARER)
    assert refused.status_code == 404
    assert f"`projects/proj-1/locations/us-central1/publishers/acme/models/{model_id}`" in error_of(refused)["message"]


def test_paging_walks_the_whole_list(fake: InProcess) -> None:
    names: list[str] = []
    token = ""
    for _ in range(20):
        page = fake.request("GET", f"/v1beta1/publishers/google/models?pageSize=2&pageToken={token}",
                            headers=BEARER).json()
        names += [entry["name"] for entry in page["publisherModels"]]
        token = page.get("nextPageToken", "")
        if not token:
            break
    assert names == [f"publishers/google/models/{model_id}" for model_id in served_ids(None)]


@pytest.mark.parametrize("path", ["/v1beta1/publishers/google/models", "/v1beta1/projects/p/locations/l/models",
                                  f"/v1beta1/publishers/google/models/{BOOK.ids()[0]}"])
def test_credentials_and_versions_are_checked(fake: InProcess, path: str) -> None:
    assert fake.request("GET", path).status_code == 401
    assert fake.request("GET", path.replace("v1beta1", "v1beta"), headers=BEARER).status_code == 404
    assert fake.request("GET", path, headers={"x-goog-api-key": "any-key"}).status_code == 200  # express mode


def test_bad_page_size_is_400(fake: InProcess) -> None:
    response = fake.request("GET", "/v1beta1/publishers/google/models?pageSize=many", headers=BEARER)
    assert response.status_code == 400
    assert error_of(response)["status"] == "INVALID_ARGUMENT"


def test_other_publishers_list_nothing(fake: InProcess) -> None:
    response = fake.request("GET", "/v1beta1/publishers/anthropic/models", headers=BEARER)
    assert response.status_code == 200 and response.json() == {}


def test_express_key_is_checked() -> None:
    fake = InProcess(Settings(api_keys=("good-key",)))
    path = "/v1beta1/publishers/google/models"
    assert fake.request("GET", path, headers={"x-goog-api-key": "good-key"}).status_code == 200
    wrong = fake.request("GET", path, headers={"x-goog-api-key": "bad"})
    assert wrong.status_code == 400 and "API key not valid" in error_of(wrong)["message"]
