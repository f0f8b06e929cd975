"""Batch on Vertex AI: ``projects.locations.batchPredictionJobs`` create, get, list, cancel, delete.

The paths google-genai (``vertexai=True``) sends ``client.batches`` to (api-2026.md §4, [PY361]
``batches.py``): ``/{v1|v1beta1}/projects/{p}/locations/{l}/batchPredictionJobs`` (POST create,
GET list with ``pageSize``/``pageToken``) and ``…/batchPredictionJobs/{id}`` (GET, DELETE; POST
``:cancel``). Credentials as on Vertex's other paths (``auth.py``). A job reads JSONL from Cloud
Storage, which the fake emulates with ``--gcs-dir`` (``gcs.py``), and runs in the background
(``batch_runner.py``). BigQuery and Vertex dataset sources or destinations are refused with a 400.
Cancel answers ``{}`` and the job reads ``JOB_STATE_CANCELLED`` at once; delete answers the finished
long-running Operation Vertex returns, and refuses a job still pending or running (cancel it first).
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.answer.validation import parse_json_body, read_validated
from mock_server.api.batch.operation import timestamp
from mock_server.api.batch.runner import tasks_of
from mock_server.api.models import served_profile
from mock_server.api.vertex.auth import VERTEX_VERSIONS, authenticate_vertex
from mock_server.api.vertex.batch_job import job_name, job_state, new_job_id, render_job, vertex_jobs
from mock_server.api.vertex.batch_runner import run_prediction_job
from mock_server.api.vertex.gcs import check_uri
from mock_server.runtime import runtime_of
from mock_server.state.batch_store import TERMINAL_STATES, StoreFull
from mock_server.web.errors import ApiError
from mock_server.web.http import json_response, page_of, read_body
from schemas import ModelProfile

__all__ = ["routes"]

_PAGE_DEFAULT, _PAGE_MAX = 100, 1000
_MODEL = re.compile(r"(?:projects/[^/]+/locations/[^/]+/)?publishers/([^/]+)/models/([^/]+)")
_REQUIRED = (("displayName", "display_name"), ("model", "model"), ("inputConfig", "input_config"),
             ("outputConfig", "output_config"))
_UNSUPPORTED_SOURCES = (("bigquerySource", "input_config.bigquery_source"),
                        ("vertexMultimodalDatasetSource", "input_config.vertex_multimodal_dataset_source"))
_UNSUPPORTED_DESTINATIONS = (("bigqueryDestination", "output_config.bigquery_destination"),
                             ("vertexMultimodalDatasetDestination",
                              "output_config.vertex_multimodal_dataset_destination"))


def _scope(request: Request) -> tuple[str, str, str]:
    """(version, project, location) of a Vertex path, after its version and credentials are checked."""
    params = request.path_params
    if params["version"] not in VERTEX_VERSIONS:
        raise ApiError.named("not_found_path")
    authenticate_vertex(request)
    return str(params["version"]), str(params["project"]), str(params["location"])


def _require(document: dict[str, Any], fields: tuple[tuple[str, str], ...], prefix: str = "") -> None:
    missing = [wire for name, wire in fields if not document.get(name)]
    if missing:
        items = "".join(ApiError.named("vertex_required_field", index=index, field=prefix + field).message
                        for index, field in enumerate(missing, start=1))
        raise ApiError.named("vertex_required_fields", errors=items)


def _profile(request: Request, model: str, project: str, location: str) -> ModelProfile:
    found = _MODEL.fullmatch(model)
    profile = served_profile(found.group(2), runtime_of(request).settings) if found else None
    if found is None or profile is None or found.group(1) != "google":
        resource = model if model.startswith("projects/") else f"projects/{project}/locations/{location}/{model}"
        raise ApiError.named("vertex_model_not_found", resource=resource)
    return profile


def _input_config(config: dict[str, Any]) -> dict[str, Any]:
    for name, field in _UNSUPPORTED_SOURCES:
        if name in config or config.get("instancesFormat") == "bigquery":
            raise ApiError.named("vertex_batch_source_unsupported", field=field if name in config else
                                 "input_config.instances_format \"bigquery\"")
    _require(config, (("instancesFormat", "instances_format"), ("gcsSource", "gcs_source")), "input_config.")
    if config["instancesFormat"] != "jsonl":
        raise ApiError.named("vertex_batch_format_invalid", field="instances_format", value=config["instancesFormat"],
                             kind="source")
    _require(config["gcsSource"], (("uris", "uris"),), "input_config.gcs_source.")
    uris = [check_uri(uri, "input_config.gcs_source.uris") for uri in config["gcsSource"]["uris"]]
    return {"instancesFormat": "jsonl", "gcsSource": {"uris": uris}}


def _output_config(config: dict[str, Any]) -> dict[str, Any]:
    for name, field in _UNSUPPORTED_DESTINATIONS:
        if name in config or config.get("predictionsFormat") == "bigquery":
            raise ApiError.named("vertex_batch_source_unsupported", field=field if name in config else
                                 "output_config.predictions_format \"bigquery\"")
    _require(config, (("predictionsFormat", "predictions_format"), ("gcsDestination", "gcs_destination")),
             "output_config.")
    if config["predictionsFormat"] != "jsonl":
        raise ApiError.named("vertex_batch_format_invalid", field="predictions_format",
                             value=config["predictionsFormat"], kind="destination")
    _require(config["gcsDestination"], (("outputUriPrefix", "output_uri_prefix"),), "output_config.gcs_destination.")
    prefix = check_uri(config["gcsDestination"]["outputUriPrefix"], "output_config.gcs_destination.output_uri_prefix",
                       prefix=True)
    return {"predictionsFormat": "jsonl", "gcsDestination": {"outputUriPrefix": prefix}}


async def _create(request: Request, version: str, project: str, location: str) -> Response:
    runtime = runtime_of(request)
    job = read_validated(parse_json_body(await read_body(request)), "vertex_batch_prediction_job_request")
    _require(job, _REQUIRED)
    profile = _profile(request, str(job["model"]), project, location)
    input_config, output_config = _input_config(job["inputConfig"]), _output_config(job["outputConfig"])
    store = vertex_jobs(runtime)
    mine = [record for record in store.list() if record["state"] not in TERMINAL_STATES]
    if len(mine) >= runtime.settings.batch_max_concurrent:
        raise ApiError.named("batch_too_many_jobs", limit=runtime.settings.batch_max_concurrent)
    now = time.time()
    record = {
        "id": new_job_id(), "project": project, "location": location, "version": version,
        "displayName": job["displayName"], "model": f"publishers/google/models/{profile.model_id}",
        "inputConfig": input_config, "outputConfig": output_config, "labels": job.get("labels") or {},
        "state": "BATCH_STATE_PENDING", "created": now, "updated": now, "started": None, "ended": None,
        "counts": {"succeeded": 0, "failed": 0, "incomplete": 0}, "outputDirectory": None, "error": None,
    }
    try:
        store.put(record["id"], record)
    except StoreFull as full:
        raise ApiError.named("batch_too_many_jobs", limit=store.max_jobs) from full
    tasks_of(runtime)[record["id"]] = asyncio.create_task(run_prediction_job(request, runtime, profile, record["id"]))
    return json_response(render_job(record))


async def batch_prediction_jobs(request: Request) -> Response:
    version, project, location = _scope(request)
    if request.method == "POST":
        return await _create(request, version, project, location)
    records = [record for record in vertex_jobs(runtime_of(request)).list()
               if (record["project"], record["location"]) == (project, location)]
    records.sort(key=lambda record: -float(record["created"]))
    return json_response(page_of(request, records, "batchPredictionJobs", _PAGE_DEFAULT, _PAGE_MAX, render_job))


def _deleted(record: dict[str, Any], version: str) -> dict[str, Any]:
    """The long-running Operation a delete answers, already done."""
    now = timestamp(time.time())
    return {
        "name": f"projects/{record['project']}/locations/{record['location']}/operations/{new_job_id()}",
        "metadata": {"@type": f"type.googleapis.com/google.cloud.aiplatform.{version}.DeleteOperationMetadata",
                     "genericMetadata": {"createTime": now, "updateTime": now}},
        "done": True,
        "response": {"@type": "type.googleapis.com/google.protobuf.Empty"},
    }


async def batch_prediction_job(request: Request) -> Response:
    version, project, location = _scope(request)
    job_id, _, action = str(request.path_params["target"]).partition(":")
    if action not in ("", "cancel") or (action == "cancel") != (request.method == "POST"):
        raise ApiError.named("not_found_path")
    runtime = runtime_of(request)
    store = vertex_jobs(runtime)
    record = store.get(job_id)
    if record is None or (record["project"], record["location"]) != (project, location):
        name = f"projects/{project}/locations/{location}/batchPredictionJobs/{job_id}"
        raise ApiError.named("vertex_batch_not_found", name=name[:300])
    state = job_state(record)
    if request.method == "GET":
        return json_response(render_job(record))
    finished = record["state"] in TERMINAL_STATES
    if request.method == "DELETE":
        if not finished:
            raise ApiError.named("vertex_batch_not_deletable", name=job_name(record), state=state)
        store.delete(job_id)
        return json_response(_deleted(record, version))
    if finished:
        raise ApiError.named("vertex_batch_not_cancellable", name=job_name(record), state=state)
    now = time.time()
    record.update(state="BATCH_STATE_CANCELLED", updated=now, ended=now)
    store.put(job_id, record)
    task = tasks_of(runtime).pop(job_id, None)
    if task is not None:
        task.cancel()
    return json_response({})


def routes() -> list[Route]:
    base = "/{version}/projects/{project}/locations/{location}/batchPredictionJobs"
    return [
        Route(base, batch_prediction_jobs, methods=["GET", "POST"]),
        Route(base + "/{target}", batch_prediction_job, methods=["GET", "POST", "DELETE"]),
    ]
