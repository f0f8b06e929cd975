"""Batch on Vertex AI (``batchPredictionJobs``) against the fake for real (uvicorn on loopback): google-genai
``client.batches`` with ``vertexai=True`` end to end over the emulated Cloud Storage (``--gcs-dir``), the
predictions file decoded, the resource shape over raw HTTP, and hostile input (never outside the folder)."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import google.oauth2.credentials
import httpx
import pytest
from google import genai
from google.genai import errors, types
from PIL import Image

from mock_server.settings import Settings
from mock_server.testing import RunningServer, serve_in_thread
from schemas import load_profile_book, validator
from tests.support.batch_jobs import wait

BOOK = load_profile_book()
MODEL = next(p for p in BOOK.profiles.values() if len(p.image_sizes) > 1)
SIZES = MODEL.image_sizes[:2]
BEARER = {"authorization": "Bearer ya29.fake-access-token"}
JOBS = "/v1beta1/projects/proj-1/locations/us-central1/batchPredictionJobs"


@pytest.fixture(scope="module")
def gcs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gcs")


@pytest.fixture(scope="module")
def quick_server(gcs: Path) -> Iterator[RunningServer]:
    """Realistic latency scaled down 1000x: a small job takes well under a second."""
    with serve_in_thread(Settings(port=0, latency="realistic", time_scale=0.001, gcs_dir=str(gcs))) as server:
        yield server


@pytest.fixture(scope="module")
def slow_server(gcs: Path) -> Iterator[RunningServer]:
    """Ten minutes per generation: a job stays pending long enough to be cancelled."""
    with serve_in_thread(Settings(port=0, latency="600000", gcs_dir=str(gcs))) as server:
        yield server


def vertex(server: RunningServer) -> genai.Client:
    credentials = google.oauth2.credentials.Credentials(token="ya29.fake-access-token")  # type: ignore[no-untyped-call]
    return genai.Client(vertexai=True, project="proj-1", location="us-central1", credentials=credentials,
                        http_options=types.HttpOptions(base_url=server.base_url))


def request_line(text: str, ratio: str, size: str, **extra: Any) -> dict[str, Any]:
    return {**extra, "request": {"contents": [{"role": "user", "parts": [{"text": text}]}],
                                 "generationConfig": {"imageConfig": {"aspectRatio": ratio, "imageSize": size}}}}


def put_object(gcs: Path, uri: str, lines: list[Any]) -> str:
    path = gcs / uri.removeprefix("gs://")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return uri


def predictions(gcs: Path, job: types.BatchJob) -> list[dict[str, Any]]:
    directory = job.output_info.gcs_output_directory  # type: ignore[union-attr]
    assert directory
    text = (gcs / directory.removeprefix("gs://") / "predictions.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def image_of(response: dict[str, Any]) -> tuple[str, tuple[int, int]]:
    parts = response["candidates"][0]["content"]["parts"]
    image = next(part["inlineData"] for part in parts if "inlineData" in part and not part.get("thought"))
    with Image.open(io.BytesIO(base64.b64decode(image["data"]))) as decoded:
        assert decoded.format and image["mimeType"] == f"image/{decoded.format.lower()}"
        return decoded.format, decoded.size


def test_sdk_batch_from_gcs_writes_predictions_with_real_images(quick_server: RunningServer, gcs: Path) -> None:
    source = put_object(gcs, "gs://in-bucket/jobs/requests.jsonl", [
        request_line("a lighthouse", "16:9", SIZES[0], key="first"),
        request_line("a storm", "7:3", SIZES[0], key="refused"),
        request_line("a harbour", "3:4", SIZES[1]),
    ])
    client = vertex(quick_server)
    job = client.batches.create(model=MODEL.model_id, src=source,
                                config={"dest": "gs://out-bucket/results", "display_name": "vertex-batch"})
    assert job.state == types.JobState.JOB_STATE_PENDING and job.display_name == "vertex-batch"
    assert job.name and job.name.startswith("projects/proj-1/locations/us-central1/batchPredictionJobs/")
    assert job.model == f"publishers/google/models/{MODEL.model_id}"
    assert job.src.gcs_uri == [source] and job.dest.gcs_uri == "gs://out-bucket/results"  # type: ignore[union-attr]
    job = wait(client, job)
    assert job.state == types.JobState.JOB_STATE_SUCCEEDED and job.end_time and job.start_time
    assert job.completion_stats.successful_count == 2 and job.completion_stats.failed_count == 1  # type: ignore[union-attr]
    assert job.output_info.gcs_output_directory.startswith(  # type: ignore[union-attr]
        "gs://out-bucket/results/prediction-model-")
    lines = predictions(gcs, job)
    assert [line.get("key") for line in lines] == ["first", "refused", None]
    assert [line["request"]["contents"][0]["parts"][0]["text"] for line in lines] == [
        "a lighthouse", "a storm", "a harbour"]
    assert lines[0]["status"] == "" and lines[2]["status"] == ""
    assert image_of(lines[0]["response"])[1] == MODEL.dimensions("16:9", SIZES[0])
    assert image_of(lines[2]["response"])[1] == MODEL.dimensions("3:4", SIZES[1])
    response = lines[0]["response"]  # the Vertex flavour: createTime, trafficType, no candidate index
    assert response["createTime"] and response["usageMetadata"]["trafficType"] == "ON_DEMAND"
    assert "index" not in response["candidates"][0]
    assert lines[1]["status"].startswith("Bad Request: ") and "response" not in lines[1]
    envelope = json.loads(lines[1]["status"].removeprefix("Bad Request: "))
    assert envelope["error"]["status"] == "INVALID_ARGUMENT" and "aspect_ratio" in envelope["error"]["message"]
    assert all(line["processed_time"].endswith("+00:00") for line in lines)


def test_raw_resource_list_and_paging(quick_server: RunningServer, gcs: Path) -> None:
    source = put_object(gcs, "gs://in-bucket/raw/one.jsonl", [request_line("one", "1:1", SIZES[0])])
    body = {"displayName": "raw", "model": f"publishers/google/models/{MODEL.model_id}",
            "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": [source]}},
            "outputConfig": {"predictionsFormat": "jsonl", "gcsDestination": {"outputUriPrefix": "gs://out-bucket/raw/"}},
            "labels": {"team": "images"}}
    created = [httpx.post(f"{quick_server.base_url}{JOBS}", json=body, headers=BEARER) for _ in range(2)]
    assert [answer.status_code for answer in created] == [200, 200]
    job = created[0].json()
    assert list(validator("vertex_batch_prediction_job").iter_errors(job)) == []
    assert list(job)[:5] == ["name", "displayName", "model", "inputConfig", "outputConfig"]
    assert job["state"] == "JOB_STATE_PENDING" and job["labels"] == {"team": "images"}
    client = vertex(quick_server)
    done = wait(client, client.batches.get(name=job["name"].rpartition("/")[2]))  # the id alone, as the SDK allows
    raw = httpx.get(f"{quick_server.base_url}/v1/{done.name}", headers=BEARER).json()  # v1 as well as v1beta1
    assert list(validator("vertex_batch_prediction_job").iter_errors(raw)) == []
    assert raw["completionStats"] == {"successfulCount": "1"} and raw["state"] == "JOB_STATE_SUCCEEDED"
    assert raw["outputInfo"]["gcsOutputDirectory"].startswith("gs://out-bucket/raw/prediction-model-")
    page = httpx.get(f"{quick_server.base_url}{JOBS}", params={"pageSize": 1}, headers=BEARER).json()
    list_schema = {"$ref": "vertex_batch_prediction_job.schema.json#/$defs/List"}
    assert list(validator("vertex_batch_prediction_job").evolve(schema=list_schema).iter_errors(page)) == []
    assert len(page["batchPredictionJobs"]) == 1 and page["nextPageToken"]
    assert page["batchPredictionJobs"][0]["name"] == created[1].json()["name"]  # newest first
    listed = [listed.name for listed in client.batches.list(config={"page_size": 1})]
    assert {answer.json()["name"] for answer in created} <= set(listed)
    elsewhere = httpx.get(f"{quick_server.base_url}/v1beta1/projects/other/locations/us-central1/batchPredictionJobs",
                          headers=BEARER)
    assert elsewhere.status_code == 200 and elsewhere.json() == {}  # jobs belong to their project and location
    assert httpx.get(f"{quick_server.base_url}/v1beta/batches", headers={"x-goog-api-key": "k"}).json().get(
        "operations", []) == []  # and never show up among the Gemini API's batches


def test_cancel_and_delete(slow_server: RunningServer, gcs: Path) -> None:
    source = put_object(gcs, "gs://in-bucket/slow/requests.jsonl", [request_line("slow", "1:1", SIZES[0])])
    client = vertex(slow_server)
    jobs = [client.batches.create(model=MODEL.model_id, src=source) for _ in range(2)]
    assert all(job.display_name and job.display_name.startswith("genai_batch_job_") for job in jobs)
    with pytest.raises(errors.ClientError) as refused:  # Vertex deletes only jobs that have ended
        client.batches.delete(name=jobs[0].name or "")
    assert refused.value.code == 400 and refused.value.status == "FAILED_PRECONDITION"
    client.batches.cancel(name=jobs[0].name or "")
    cancelled = client.batches.get(name=jobs[0].name or "")
    assert cancelled.state == types.JobState.JOB_STATE_CANCELLED and cancelled.done and cancelled.end_time
    assert client.batches.get(name=jobs[1].name or "").state == types.JobState.JOB_STATE_PENDING
    again = httpx.post(f"{slow_server.base_url}/v1beta1/{jobs[0].name}:cancel", headers=BEARER)
    assert again.status_code == 400 and again.json()["error"]["status"] == "FAILED_PRECONDITION"
    deleted = client.batches.delete(name=jobs[0].name or "")
    assert deleted.done and deleted.error is None
    with pytest.raises(errors.ClientError) as missing:
        client.batches.get(name=jobs[0].name or "")
    assert missing.value.code == 404 and missing.value.status == "NOT_FOUND"
    client.batches.cancel(name=jobs[1].name or "")
    raw = httpx.delete(f"{slow_server.base_url}/v1beta1/{jobs[1].name}", headers=BEARER).json()
    assert raw["done"] is True and raw["response"] == {"@type": "type.googleapis.com/google.protobuf.Empty"}
    assert raw["metadata"]["@type"].endswith("v1beta1.DeleteOperationMetadata")


@pytest.mark.parametrize("setup", ["no-gcs-dir", "missing-object", "empty-object", "symlink-out"])
def test_unreadable_input_fails_the_job(setup: str, tmp_path: Path) -> None:
    root = tmp_path / "gcs"
    root.mkdir()
    outside = tmp_path / "secret.jsonl"
    outside.write_text(json.dumps(request_line("leaked", "1:1", SIZES[0])) + "\n")
    if setup == "empty-object":
        put_object(root, "gs://bkt/in.jsonl", ["", "  "])
    elif setup == "symlink-out":
        (root / "bkt").mkdir()
        (root / "bkt" / "in.jsonl").symlink_to(outside)
    settings = Settings(port=0, time_scale=0.001, gcs_dir=None if setup == "no-gcs-dir" else str(root))
    with serve_in_thread(settings) as server:
        client = vertex(server)
        job = wait(client, client.batches.create(model=MODEL.model_id, src="gs://bkt/in.jsonl"))
    assert job.state == types.JobState.JOB_STATE_FAILED
    assert job.error and job.error.code == 3 and "gs://bkt/in.jsonl" in (job.error.message or "")
    assert not list(root.rglob("predictions.jsonl"))


VALID = {"displayName": "x", "model": f"publishers/google/models/{MODEL.model_id}",
         "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": ["gs://bkt/in.jsonl"]}},
         "outputConfig": {"predictionsFormat": "jsonl", "gcsDestination": {"outputUriPrefix": "gs://bkt/out"}}}


def _with(path: str, value: Any) -> dict[str, Any]:
    body = json.loads(json.dumps(VALID))
    *parents, last = path.split(".")
    node = body
    for part in parents:
        node = node[part]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return body


@pytest.mark.parametrize(("body", "status", "text"), [
    (_with("displayName", None), 400, "1.Field: batch_prediction_job.display_name; Message: Required field is not"),
    (_with("inputConfig.gcsSource", None), 400, "input_config.gcs_source; Message: Required field is not set."),
    (_with("inputConfig.gcsSource.uris", ["gs://bkt/../../etc/passwd"]), 400, "not a valid Cloud Storage URI"),
    (_with("inputConfig.gcsSource.uris", ["gs://../etc/passwd"]), 400, "not a valid Cloud Storage URI"),
    (_with("inputConfig.gcsSource.uris", ["gs://bkt/a/./b.jsonl"]), 400, "not a valid Cloud Storage URI"),
    (_with("inputConfig.gcsSource.uris", ["gs://bkt//etc/passwd"]), 400, "not a valid Cloud Storage URI"),
    (_with("inputConfig.gcsSource.uris", ["gs://bkt/a\\..\\..\\b"]), 400, "not a valid Cloud Storage URI"),
    (_with("inputConfig.gcsSource.uris", ["gs://bkt/a\u0000b"]), 400, "not a valid Cloud Storage URI"),
    (_with("inputConfig.gcsSource.uris", ["gs://UPPER/in.jsonl"]), 400, "not a valid Cloud Storage URI"),
    (_with("inputConfig.gcsSource.uris", ["/etc/passwd"]), 400, "not a valid Cloud Storage URI"),
    (_with("inputConfig.gcsSource.uris", "gs://bkt/in.jsonl"), 400, "Invalid value"),
    (_with("outputConfig.gcsDestination.outputUriPrefix", "gs://bkt/../.."), 400, "not a valid Cloud Storage URI"),
    (_with("inputConfig.instancesFormat", "csv"), 400, "Unsupported instances_format"),
    (_with("inputConfig", {"instancesFormat": "bigquery", "bigquerySource": {"inputUri": "bq://p.d.t"}}), 400,
     "bigquery_source is not emulated"),
    (_with("outputConfig", {"predictionsFormat": "bigquery", "bigqueryDestination": {"outputUri": "bq://p.d"}}), 400,
     "bigquery_destination is not emulated"),
    (_with("model", "publishers/google/models/no-such-model"), 404,
     "Publisher Model `projects/proj-1/locations/us-central1/publishers/google/models/no-such-model` was not found"),
    (_with("model", "publishers/acme/models/" + MODEL.model_id), 404, "Publisher Model"),
    (_with("unknownField", 1), 400, "Unknown name"),
    ([], 400, "Root element must be a message"),
])
def test_bad_create_bodies_get_google_shaped_4xx(quick_server: RunningServer, body: Any, status: int,
                                                 text: str) -> None:
    answer = httpx.post(f"{quick_server.base_url}{JOBS}", json=body, headers=BEARER)
    assert answer.status_code == status, answer.text
    assert set(answer.json()) == {"error"} and text in answer.json()["error"]["message"]


@pytest.mark.parametrize("body", [b"", b"{", b'{"displayName": 5}', b"\xff\xfe", b'{"labels": {"a": 1}}'])
def test_hostile_bytes_get_google_shaped_4xx(quick_server: RunningServer, body: bytes) -> None:
    answer = httpx.post(f"{quick_server.base_url}{JOBS}", content=body,
                        headers=BEARER | {"content-type": "application/json"})
    assert 400 <= answer.status_code < 500 and set(answer.json()) == {"error"}


def test_bad_lines_fail_alone_and_nothing_escapes_the_folder(quick_server: RunningServer, gcs: Path) -> None:
    source = put_object(gcs, "gs://in-bucket/bad/lines.jsonl", [
        "{not json", "[1, 2]", {"no_request": True}, {"request": "text"},
        request_line("fine", "1:1", SIZES[0], id=7),
    ])
    client = vertex(quick_server)
    job = wait(client, client.batches.create(model=MODEL.model_id, src=source,
                                             config={"dest": "gs://out-bucket/bad"}))
    assert job.state == types.JobState.JOB_STATE_SUCCEEDED
    assert (job.completion_stats.successful_count, job.completion_stats.failed_count) == (1, 4)  # type: ignore[union-attr]
    lines = predictions(gcs, job)
    assert [bool(line["status"]) for line in lines] == [True, True, True, True, False]
    assert all(line["status"].startswith("Bad Request: ") for line in lines[:4])
    assert lines[4]["id"] == 7 and image_of(lines[4]["response"])[1] == MODEL.dimensions("1:1", SIZES[0])
    assert not (gcs.parent / "etc").exists()


def test_paths_need_credentials_and_known_ids(quick_server: RunningServer) -> None:
    base = quick_server.base_url
    assert httpx.get(f"{base}{JOBS}").status_code == 401
    assert httpx.post(f"{base}{JOBS}", json=VALID).status_code == 401
    unknown = httpx.get(f"{base}{JOBS}/123", headers=BEARER)
    assert unknown.status_code == 404 and "batchPredictionJobs/123 does not exist" in unknown.json()["error"]["message"]
    assert httpx.post(f"{base}{JOBS}/123:explode", headers=BEARER).status_code == 404
    assert httpx.get(f"{base}/v1beta/projects/p/locations/l/batchPredictionJobs", headers=BEARER).status_code == 404
    assert httpx.get(f"{base}{JOBS}", params={"pageToken": "garbage"}, headers=BEARER).status_code == 400
    express = genai.Client(vertexai=True, api_key="express-key", http_options=types.HttpOptions(base_url=base))
    with pytest.raises(errors.ClientError) as no_project:  # batch on Vertex needs a project
        express.batches.get(name="123")
    assert no_project.value.code == 404 and no_project.value.status == "NOT_FOUND"


def test_gcs_dir_option_reaches_the_settings() -> None:
    from mock_server.cli import build_parser, settings_from_args

    assert settings_from_args(build_parser().parse_args(["serve", "--gcs-dir", "/tmp/gcs"])).gcs_dir == "/tmp/gcs"
    assert settings_from_args(build_parser().parse_args(["serve"])).gcs_dir is None


@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_jobs_are_seen_by_every_replica_sharing_the_state(store: str, tmp_path: Path,
                                                          request: pytest.FixtureRequest) -> None:
    source = put_object(tmp_path, "gs://bkt/in.jsonl", [request_line("shared", "1:1", SIZES[0])])
    state = f"sqlite:///{tmp_path / 'state.db'}" if store == "sqlite" else request.getfixturevalue("redis_url")
    settings = Settings(port=0, state=state, gcs_dir=str(tmp_path))
    with serve_in_thread(settings) as first, serve_in_thread(settings) as second:
        creator, reader = vertex(first), vertex(second)  # kept referenced: a collected client closes its pool
        job = creator.batches.create(model=MODEL.model_id, src=source)
        done = wait(reader, job)  # polled on the other replica while the first one runs it
        assert done.state == types.JobState.JOB_STATE_SUCCEEDED
        assert image_of(predictions(tmp_path, done)[0]["response"])[1] == MODEL.dimensions("1:1", SIZES[0])
        assert job.name in [listed.name for listed in reader.batches.list()]
        reader.batches.delete(name=job.name or "")
        assert httpx.get(f"{first.base_url}/v1beta1/{job.name}", headers=BEARER).status_code == 404


@pytest.mark.parametrize("uri", ["gs://bkt/../../secret.jsonl", "gs://../secret.jsonl", "gs://bkt/link/secret.jsonl",
                                 "gs://bkt/../../gcs"])
def test_the_folder_holds_even_without_the_uri_check(uri: str, tmp_path: Path) -> None:
    """Defence in depth: the mapping itself refuses any path that resolves outside --gcs-dir."""
    from mock_server.api.vertex.gcs import GcsUnavailable, read_object, write_object

    root = tmp_path / "gcs"
    (root / "bkt").mkdir(parents=True)
    (tmp_path / "secret.jsonl").write_text("secret")
    (root / "bkt" / "link").symlink_to(tmp_path)
    settings = Settings(gcs_dir=str(root))
    with pytest.raises(GcsUnavailable):
        read_object(settings, uri, 1024)
    with pytest.raises(GcsUnavailable):
        write_object(settings, uri, b"overwritten")
    assert (tmp_path / "secret.jsonl").read_text() == "secret"


def test_expiry_and_the_concurrent_job_limit(tmp_path: Path) -> None:
    source = put_object(tmp_path, "gs://bkt/in.jsonl", [request_line("early", "1:1", SIZES[0]),
                                                          request_line("late", "1:1", SIZES[0])])
    # One hour per generation (pending, then each line), scaled to 36 ms; jobs expire after 2.5 simulated hours:
    # the first line is answered, the second is not, and what was finished is still exported.
    expiring = Settings(port=0, latency="3600000", time_scale=0.00001, batch_ttl_hours=2.5, gcs_dir=str(tmp_path))
    with serve_in_thread(expiring) as server:
        client = vertex(server)
        job = wait(client, client.batches.create(model=MODEL.model_id, src=source))
        assert job.state == types.JobState.JOB_STATE_EXPIRED and job.error and job.error.code == 4
        stats = job.completion_stats
        assert stats and (stats.successful_count, stats.incomplete_count) == (1, 1)
        assert [line["request"]["contents"][0]["parts"][0]["text"] for line in predictions(tmp_path, job)] == [
            "early"]
    with serve_in_thread(Settings(port=0, latency="600000", batch_max_concurrent=1, gcs_dir=str(tmp_path))) as server:
        client = vertex(server)
        first = client.batches.create(model=MODEL.model_id, src=source)
        with pytest.raises(errors.ClientError) as refused:
            client.batches.create(model=MODEL.model_id, src=source)
        assert refused.value.code == 429 and refused.value.status == "RESOURCE_EXHAUSTED"
        client.batches.cancel(name=first.name or "")
        assert client.batches.create(model=MODEL.model_id, src=source).state == types.JobState.JOB_STATE_PENDING
