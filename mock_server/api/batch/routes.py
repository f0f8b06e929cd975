"""Batch API routes: create (``models/{m}:batchGenerateContent``), get, list, cancel, delete.

Create takes inline requests (``batch.inputConfig.requests.requests[{request, metadata}]``, at most
``Settings.batch_inline_max_bytes``, Google: 20 MB) or a JSONL file uploaded through the Files API
(``batch.inputConfig.fileName``; one ``{"key", "request"}`` per line), answers the job as a
``BATCH_STATE_PENDING`` Operation and starts it in the background (``runner.py``). Inline input gives
inline results; file input gives a responses file, downloadable like any generated file. At most
``Settings.batch_max_concurrent`` jobs (Google: 100) may be pending or running; more is a 429.
Jobs live in ``runner.batch_store``: this process's, or the shared state store's (``--state``), where
every worker and replica sees them; a job runs in the process that created it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.answer.validation import parse_json_body, read_validated
from mock_server.api.batch.operation import operation
from mock_server.api.batch.runner import batch_store, run_job, tasks_of
from mock_server.api.files import store_of
from mock_server.api.webhooks.events import read_webhook_config
from mock_server.runtime import runtime_of
from mock_server.state.batch_store import TERMINAL_STATES, StoreFull
from mock_server.state.file_store import new_id
from mock_server.web.errors import ApiError
from mock_server.web.http import check_version, json_response, page_of, read_body, require_key
from schemas import ModelProfile

__all__ = ["create_batch", "routes"]

_PAGE_DEFAULT, _PAGE_MAX = 50, 1000


def _input_config(batch: dict[str, Any], request: Request) -> dict[str, Any]:
    config: dict[str, Any] = batch["inputConfig"]
    if ("fileName" in config) == ("requests" in config):
        raise ApiError.named("batch_input_invalid", detail="exactly one of file_name and requests must be set.")
    if "requests" in config:
        if not config["requests"].get("requests"):
            raise ApiError.named("batch_input_invalid", detail="requests.requests must not be empty.")
        return config
    file_id = str(config["fileName"]).removeprefix("files/")
    if store_of(runtime_of(request)).get(f"file-{file_id}") is None:
        raise ApiError.named("file_not_found", file=file_id)
    return {"fileName": f"files/{file_id}"}


def _request_count(request: Request, input_config: dict[str, Any]) -> int:
    if "requests" in input_config:
        return len(input_config["requests"]["requests"])
    data = store_of(runtime_of(request)).read(f"file-{input_config['fileName'].removeprefix('files/')}")
    return sum(1 for line in data.splitlines() if line.strip())


async def create_batch(request: Request, profile: ModelProfile) -> Response:
    runtime = runtime_of(request)
    settings = runtime.settings
    body = await read_body(request)
    if len(body) > settings.batch_inline_max_bytes:
        raise ApiError.named("batch_too_large", limit=settings.batch_inline_max_bytes)
    batch = read_validated(parse_json_body(body), "batch_create_request")["batch"]
    input_config = _input_config(batch, request)
    webhook_config = read_webhook_config(runtime, batch.get("webhookConfig"), "BatchGenerateContentRequest.batch")
    store = batch_store(runtime)
    running = sum(1 for record in store.list() if record["state"] not in TERMINAL_STATES)
    if running >= settings.batch_max_concurrent:
        raise ApiError.named("batch_too_many_jobs", limit=settings.batch_max_concurrent)
    now = time.time()
    count = _request_count(request, input_config)
    record = {
        "id": new_id(), "model": f"models/{profile.model_id}", "displayName": batch.get("displayName", ""),
        "inputConfig": input_config, "priority": int(batch.get("priority", 0) or 0), "version": check_version(request),
        "state": "BATCH_STATE_PENDING", "created": now, "updated": now, "ended": None,
        "counts": {"requests": count, "succeeded": 0, "failed": 0, "pending": count}, "results": [],
        "responsesFile": None, "error": None, "webhookConfig": webhook_config,
    }
    try:
        store.put(record["id"], record)
    except StoreFull as full:
        raise ApiError.named("batch_too_many_jobs", limit=store.max_jobs) from full
    task = asyncio.create_task(run_job(request, runtime, profile, record["id"], str(request.base_url)))
    tasks_of(runtime)[record["id"]] = task
    return json_response(operation(record))


def _job(request: Request, job_id: str) -> dict[str, Any]:
    record = batch_store(runtime_of(request)).get(job_id)
    if record is None:
        raise ApiError.named("batch_not_found")
    return record


def _stop(request: Request, job_id: str) -> None:
    task = tasks_of(runtime_of(request)).pop(job_id, None)
    if task is not None:
        task.cancel()


async def list_batches(request: Request) -> Response:
    check_version(request)
    require_key(request)
    records = sorted(batch_store(runtime_of(request)).list(), key=lambda record: -float(record["created"]))
    return json_response(page_of(request, records, "operations", _PAGE_DEFAULT, _PAGE_MAX, operation))


async def batch_action(request: Request) -> Response:
    check_version(request)
    require_key(request)
    job_id, _, action = str(request.path_params["target"]).partition(":")
    if action not in ("", "cancel") or (action == "cancel") != (request.method == "POST"):
        raise ApiError.named("not_found_path")
    record = _job(request, job_id)
    store = batch_store(runtime_of(request))
    if request.method == "DELETE":
        _stop(request, job_id)
        store.delete(job_id)
        return json_response({})
    if action == "cancel":
        if record["state"] in TERMINAL_STATES:
            raise ApiError.named("batch_not_cancellable", name=f"batches/{job_id}", state=record["state"])
        now = time.time()
        record.update(state="BATCH_STATE_CANCELLED", updated=now, ended=now)
        store.put(job_id, record)
        _stop(request, job_id)
        return json_response({})
    return json_response(operation(record))


def routes() -> list[Route]:
    return [
        Route("/{version}/batches", list_batches, methods=["GET"]),
        Route("/{version}/batches/{target}", batch_action, methods=["GET", "POST", "DELETE"]),
    ]
