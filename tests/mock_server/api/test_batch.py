"""The Batch API against the fake for real (uvicorn on loopback: jobs run in the server's event loop):
google-genai ``client.batches`` end to end, and the Operation shape over raw HTTP."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from google import genai
from google.genai import types
from PIL import Image

from mock_server.settings import Settings
from mock_server.testing import RunningServer, serve_in_thread
from schemas import load_profile_book, validator
from tests.support.batch_jobs import wait

BOOK = load_profile_book()
MODEL = next(p for p in BOOK.profiles.values() if len(p.image_sizes) > 1)
SIZES = MODEL.image_sizes[:2]
KEY = {"x-goog-api-key": "batch-key"}


@pytest.fixture(scope="module")
def quick_server() -> Iterator[RunningServer]:
    """Realistic latency scaled down 1000x: a small job takes well under a second."""
    with serve_in_thread(Settings(port=0, latency="realistic", time_scale=0.001)) as server:
        yield server


@pytest.fixture(scope="module")
def slow_server() -> Iterator[RunningServer]:
    """Ten minutes per generation: a job stays pending long enough to be cancelled."""
    with serve_in_thread(Settings(port=0, latency="600000", batch_max_concurrent=3)) as server:
        yield server


def sdk(server: RunningServer) -> genai.Client:
    return genai.Client(api_key="batch-key", http_options=types.HttpOptions(base_url=server.base_url,
                                                                             api_version="v1beta"))


def image_size(part: types.Part) -> tuple[int, int]:
    assert part.inline_data is not None and part.inline_data.data is not None
    with Image.open(io.BytesIO(part.inline_data.data)) as image:
        return image.size


def final_image(response: types.GenerateContentResponse) -> types.Part:
    parts = response.candidates[0].content.parts  # type: ignore[index, union-attr]
    return next(part for part in parts or [] if part.inline_data and not part.thought)


def inline_requests() -> list[dict[str, Any]]:
    return [
        {"contents": [{"role": "user", "parts": [{"text": "a lighthouse"}]}], "metadata": {"key": "first"},
         "config": {"image_config": {"aspect_ratio": "16:9", "image_size": SIZES[0]}}},
        {"contents": [{"role": "user", "parts": [{"text": "a storm [mock:rate_limited]"}]}],
         "metadata": {"key": "refused"}},
        {"contents": [{"role": "user", "parts": [{"text": "a harbour"}]}], "metadata": {"key": "last"},
         "config": {"image_config": {"aspect_ratio": "3:4", "image_size": SIZES[1]}}},
    ]


def test_inline_batch_succeeds_with_images_in_order(quick_server: RunningServer) -> None:
    client = sdk(quick_server)
    job = client.batches.create(model=MODEL.model_id, src=inline_requests(), config={"display_name": "inline"})
    assert job.state == types.JobState.JOB_STATE_PENDING and job.display_name == "inline"
    started = time.monotonic()
    job = wait(client, job)
    assert time.monotonic() - started < 10
    assert job.state == types.JobState.JOB_STATE_SUCCEEDED
    results = job.dest.inlined_responses  # type: ignore[union-attr]
    assert [result.metadata for result in results] == [{"key": "first"}, {"key": "refused"}, {"key": "last"}]
    assert image_size(final_image(results[0].response)) == MODEL.dimensions("16:9", SIZES[0])
    assert image_size(final_image(results[2].response)) == MODEL.dimensions("3:4", SIZES[1])
    assert results[1].response is None and results[1].error.code == 8  # RESOURCE_EXHAUSTED, as google.rpc.Code
    assert "quota" in results[1].error.message


def test_jsonl_file_batch_gives_a_responses_file(quick_server: RunningServer, tmp_path: Path) -> None:
    client = sdk(quick_server)
    lines = [{"key": f"k{n}", "request": {"contents": [{"parts": [{"text": f"scene {n}"}]}],
                                          "generation_config": {"imageConfig": {"aspectRatio": ratio,
                                                                                "imageSize": SIZES[-1]}}}}
             for n, ratio in enumerate(("1:1", "9:16", "21:9"))]
    source = tmp_path / "requests.jsonl"
    source.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    uploaded = client.files.upload(file=str(source), config={"mime_type": "application/jsonl"})
    job = wait(client, client.batches.create(model=MODEL.model_id, src=uploaded.name or ""))
    assert job.state == types.JobState.JOB_STATE_SUCCEEDED
    name = job.dest.file_name  # type: ignore[union-attr]
    assert name and name.startswith("files/")
    data = client.files.download(file=name)
    answers = [json.loads(line) for line in data.decode().splitlines()]
    assert [answer["key"] for answer in answers] == ["k0", "k1", "k2"]
    for answer, ratio in zip(answers, ("1:1", "9:16", "21:9"), strict=True):
        # As the SDK reads a response: fields it does not model yet (usageMetadata.serviceTier) are dropped.
        response = types.GenerateContentResponse._from_response(response=answer["response"], kwargs={})
        assert image_size(final_image(response)) == MODEL.dimensions(ratio, SIZES[-1])
    raw = httpx.get(f"{quick_server.base_url}/download/v1beta/{name}:download", params={"alt": "media"},
                    headers=KEY)
    assert raw.status_code == 200 and raw.content == data
    assert client.files.get(name=name).source == types.FileSource.GENERATED


def test_list_cancel_delete(slow_server: RunningServer) -> None:
    client = sdk(slow_server)
    jobs = [client.batches.create(model=MODEL.model_id, src=inline_requests()[:1]) for _ in range(2)]
    listed = [job.name for job in client.batches.list(config={"page_size": 1})]
    assert set(listed) >= {job.name for job in jobs}
    client.batches.cancel(name=jobs[0].name or "")
    cancelled = client.batches.get(name=jobs[0].name or "")
    assert cancelled.state == types.JobState.JOB_STATE_CANCELLED and cancelled.done
    assert client.batches.get(name=jobs[1].name or "").state == types.JobState.JOB_STATE_PENDING
    client.batches.delete(name=jobs[1].name or "")
    missing = httpx.get(f"{slow_server.base_url}/v1beta/{jobs[1].name}", headers=KEY)
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"
    again = httpx.post(f"{slow_server.base_url}/v1beta/{jobs[0].name}:cancel", headers=KEY)
    assert again.status_code == 400 and again.json()["error"]["status"] == "FAILED_PRECONDITION"
    client.batches.delete(name=jobs[0].name or "")


def test_concurrent_job_limit(slow_server: RunningServer) -> None:
    client = sdk(slow_server)
    url = f"{slow_server.base_url}/v1beta/models/{MODEL.model_id}:batchGenerateContent"
    body = {"batch": {"inputConfig": {"requests": {"requests": [{"request": {"contents": [{"parts": [
        {"text": "x"}]}]}}]}}}}
    created = []
    while True:
        answer = httpx.post(url, json=body, headers=KEY)
        if answer.status_code != 200:
            break
        created.append(answer.json()["name"])
    assert answer.status_code == 429 and answer.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert 0 < len(created) <= 3
    for name in created:
        client.batches.delete(name=name)


def test_raw_operation_shape(quick_server: RunningServer) -> None:
    url = f"{quick_server.base_url}/v1beta/models/{MODEL.model_id}:batchGenerateContent"
    body = {"batch": {"display_name": "raw", "input_config": {"requests": {"requests": [
        {"request": {"contents": [{"parts": [{"text": "one"}]}]}, "metadata": {"key": "request-1"}},
        {"request": {"contents": [{"parts": [{"text": "two"}]}],
                     "generationConfig": {"imageConfig": {"aspectRatio": "7:3"}}}, "metadata": {"key": "request-2"}},
    ]}}}}
    created = httpx.post(url, json=body, headers=KEY)
    assert created.status_code == 200, created.text
    operation = created.json()
    assert list(validator("batch_operation").iter_errors(operation)) == []
    metadata = operation["metadata"]
    assert operation["name"].startswith("batches/") and "done" not in operation
    assert metadata["@type"].endswith(".GenerateContentBatch") and metadata["state"] == "BATCH_STATE_PENDING"
    assert metadata["batchStats"] == {"requestCount": "2", "pendingRequestCount": "2"}
    assert metadata["model"] == f"models/{MODEL.model_id}" and metadata["displayName"] == "raw"
    deadline = time.monotonic() + 20
    while not operation.get("done"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
        operation = httpx.get(f"{quick_server.base_url}/v1beta/{operation['name']}", headers=KEY).json()
    assert list(validator("batch_operation").iter_errors(operation)) == []
    metadata = operation["metadata"]
    assert metadata["state"] == "BATCH_STATE_SUCCEEDED" and "endTime" in metadata
    assert metadata["batchStats"] == {"requestCount": "2", "successfulRequestCount": "1", "failedRequestCount": "1"}
    assert operation["response"]["@type"].endswith(".GenerateContentBatchOutput")
    assert operation["response"]["inlinedResponses"] == metadata["output"]["inlinedResponses"]
    items = metadata["output"]["inlinedResponses"]["inlinedResponses"]
    assert [item["metadata"]["key"] for item in items] == ["request-1", "request-2"]
    assert "candidates" in items[0]["response"]
    assert items[1]["error"]["code"] == 3 and "aspect_ratio" in items[1]["error"]["message"]
    listing = httpx.get(f"{quick_server.base_url}/v1beta/batches", params={"pageSize": 1}, headers=KEY).json()
    assert list(validator("list_batches").iter_errors(listing)) == []
    assert len(listing["operations"]) == 1 and listing["nextPageToken"]


def test_expiry() -> None:
    # One hour per generation, scaled to 36 ms; jobs expire after half an hour of simulated time.
    settings = Settings(port=0, latency="3600000", time_scale=0.00001, batch_ttl_hours=0.5)
    with serve_in_thread(settings) as server:
        client = sdk(server)
        job = wait(client, client.batches.create(model=MODEL.model_id, src=inline_requests()[:1]))
        assert job.state == types.JobState.JOB_STATE_EXPIRED


@pytest.mark.parametrize(("input_config", "status"), [
    ({"fileName": "files/nope", "requests": {"requests": [{"request": {}}]}}, 400),
    ({"requests": {"requests": []}}, 400),
    ({}, 400),
    ({"fileName": "files/doesnotexist"}, 403),
    ({"requests": {"requests": [{"request": {}, "unknownField": 1}]}}, 400),
])
def test_bad_batches_are_refused(quick_server: RunningServer, input_config: dict[str, Any], status: int) -> None:
    url = f"{quick_server.base_url}/v1beta/models/{MODEL.model_id}:batchGenerateContent"
    answer = httpx.post(url, json={"batch": {"inputConfig": input_config}}, headers=KEY)
    assert answer.status_code == status
    assert set(answer.json()) == {"error"}


def test_batch_paths_need_a_key_and_known_ids(quick_server: RunningServer) -> None:
    assert httpx.get(f"{quick_server.base_url}/v1beta/batches").status_code == 403
    assert httpx.get(f"{quick_server.base_url}/v1beta/batches/nope", headers=KEY).status_code == 404
    assert httpx.post(f"{quick_server.base_url}/v1beta/batches/nope:explode", headers=KEY).status_code == 404
    unknown = httpx.post(f"{quick_server.base_url}/v1beta/models/no-such-model:batchGenerateContent", json={},
                         headers=KEY)
    assert unknown.status_code == 404


def test_serve_options_reach_the_settings() -> None:
    from mock_server.cli import build_parser, settings_from_args

    args = build_parser().parse_args(["serve", "--batch-ttl-hours", "0.5", "--batch-max-concurrent", "2",
                                      "--vertex-thought-summaries", "on_request"])
    settings = settings_from_args(args)
    assert (settings.batch_ttl_hours, settings.batch_max_concurrent, settings.vertex_thought_summaries) == (
        0.5, 2, "on_request")


@pytest.mark.parametrize("body", [
    b"", b"[]", b"{", b'{"batch": null}', b'{"batch": []}', b'{"batch": {"inputConfig": null}}',
    b'{"batch": {"inputConfig": {"requests": {"requests": [1, 2]}}}}',
    b'{"batch": {"inputConfig": {"requests": {"requests": [{"request": "x"}]}}}}',
    b'{"batch": {"inputConfig": {"requests": {"requests": [{"request": {}}]}}, "priority": "abc"}}',
    b'{"batch": {"inputConfig": {"fileName": 5}}}', b'{"batch": {"inputConfig": {"fileName": "files/../../etc"}}}',
])
def test_hostile_batch_bodies_get_google_shaped_4xx(quick_server: RunningServer, body: bytes) -> None:
    url = f"{quick_server.base_url}/v1beta/models/{MODEL.model_id}:batchGenerateContent"
    answer = httpx.post(url, content=body, headers=KEY | {"content-type": "application/json"})
    assert 400 <= answer.status_code < 500
    assert set(answer.json()) == {"error"}


def test_jobs_are_seen_by_every_replica_sharing_the_state(tmp_path: Path) -> None:
    state = f"sqlite:///{tmp_path / 'state.db'}"
    with serve_in_thread(Settings(port=0, state=state)) as first, \
            serve_in_thread(Settings(port=0, state=state)) as second:
        creator, reader = sdk(first), sdk(second)  # kept referenced: a collected client closes its pool
        job = creator.batches.create(model=MODEL.model_id, src=inline_requests()[:1])
        done = wait(reader, job)  # polled on the other replica while the first one runs it
        assert done.state == types.JobState.JOB_STATE_SUCCEEDED
        result = done.dest.inlined_responses[0]  # type: ignore[union-attr, index]
        assert image_size(final_image(result.response)) == MODEL.dimensions("16:9", SIZES[0])  # type: ignore[arg-type]
        assert job.name in [listed.name for listed in reader.batches.list()]
        reader.batches.delete(name=job.name or "")
        assert httpx.get(f"{first.base_url}/v1beta/{job.name}", headers=KEY).status_code == 404
