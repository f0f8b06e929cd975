"""Running a Vertex batch prediction job: JSONL in from (emulated) Cloud Storage, predictions out.

Timing is the Gemini Batch API's (``api/batch/runner.JobClock``): pending for one generation's time,
then one generation's time per line, scaled by ``--time-scale``, expiring after ``--batch-ttl-hours``.
Each input line ``{"request": GenerateContentRequest, ...}`` is answered by the shared pipeline in the
Vertex flavour (``answer_item``), as the publisher-model route would answer it. The predictions go to
``{outputUriPrefix}/prediction-model-{time}/predictions.jsonl``, one line per input line in input
order: the line's other keys as given, ``status`` ("" or the error as Vertex words it: the HTTP reason
and Google's error envelope), ``processed_time``, ``request`` and, on success, ``response``.
A job that cannot read its input fails (``JOB_STATE_FAILED`` with a google.rpc.Status); a cancelled
or expired job still writes the lines it finished, as Vertex exports completed rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from starlette.requests import Request

from mock_server.api.batch.operation import rpc_status, timestamp
from mock_server.api.batch.runner import JobClock, answer_item, item_image_size, tasks_of, update_job
from mock_server.api.vertex.batch_job import vertex_jobs
from mock_server.api.vertex.flavour import VERTEX
from mock_server.api.vertex.gcs import GcsUnavailable, read_object, write_object
from mock_server.runtime import Runtime
from mock_server.state.batch_store import JobStore
from mock_server.web.errors import ApiError
from schemas import ModelProfile

__all__ = ["run_prediction_job"]

log = logging.getLogger("gemini_mock")

_MAX_INPUT_BYTES = 64 * 1024 * 1024  # per input object: the fake holds a job's input in memory
_PREDICTIONS = "predictions.jsonl"


class _JobFailed(Exception):
    def __init__(self, error: ApiError) -> None:
        super().__init__(error.message)
        self.error = error


def _end(store: JobStore, job_id: str, state: str, **changes: Any) -> None:
    update_job(store, job_id, state=state, ended=time.time(), **changes)


def _lines(runtime: Runtime, uris: list[str]) -> list[Any]:
    """Every input line, parsed (a line that is not JSON is kept as its text, to fail on its own)."""
    items: list[Any] = []
    for uri in uris:
        try:
            data = read_object(runtime.settings, uri, _MAX_INPUT_BYTES)
        except GcsUnavailable as missing:
            log.warning("vertex batch input %s unreadable (%s)", uri, missing)
            raise _JobFailed(ApiError.named("vertex_batch_input_missing", uri=uri)) from missing
        for line in data.decode("utf-8", "replace").splitlines():
            if line.strip():
                try:
                    items.append(json.loads(line))
                except ValueError:
                    items.append(line)
    if not items:
        raise _JobFailed(ApiError.named("vertex_batch_input_empty", uri=", ".join(uris)))
    return items


def _status(error: ApiError) -> str:
    """A failed line's ``status``: the HTTP reason, then Google's error envelope."""
    return f"{HTTPStatus(error.code).phrase}: {json.dumps(error.to_dict())}"


async def _predict(request: Request, runtime: Runtime, profile: ModelProfile, item: Any) -> dict[str, Any]:
    """One output line (without the time): the item's other keys, ``status``, ``request``, ``response``."""
    line = {key: value for key, value in item.items() if key not in ("request", "response", "status")} \
        if isinstance(item, dict) else {}
    try:
        if not isinstance(item, dict):
            raise ApiError.named("malformed_json", detail="Unexpected token.")
        response = await answer_item(request, runtime, profile, item, VERTEX)
        line["status"] = ""
    except ApiError as error:
        line["status"], response = _status(error), None
    except Exception:  # a fault of the fake itself: that line fails, the job goes on
        log.exception("vertex batch: line failed")
        line["status"], response = _status(ApiError.named("internal")), None
    line["processed_time"] = datetime.now(UTC).isoformat(timespec="milliseconds")
    if isinstance(item, dict) and "request" in item:
        line["request"] = item["request"]
    if response is not None:
        line["response"] = response
    return line


def _export(runtime: Runtime, directory: str, lines: list[bytes]) -> None:
    write_object(runtime.settings, f"{directory}/{_PREDICTIONS}", b"".join(lines))


async def run_prediction_job(request: Request, runtime: Runtime, profile: ModelProfile, job_id: str) -> None:
    store, clock = vertex_jobs(runtime), JobClock(runtime)
    lines: list[bytes] = []
    directory = ""
    try:
        if not await clock.spend(profile, profile.default_image_size):
            _end(store, job_id, "BATCH_STATE_EXPIRED", error=rpc_status(ApiError.named("deadline_exceeded")))
            return
        started = time.time()
        stamp = timestamp(started)
        record = store.get(job_id)
        if record is None:
            return
        prefix = str(record["outputConfig"]["gcsDestination"]["outputUriPrefix"]).rstrip("/")
        directory = f"{prefix}/prediction-model-{stamp}"
        if update_job(store, job_id, state="BATCH_STATE_RUNNING", started=started, outputDirectory=directory) is None:
            return
        items = _lines(runtime, record["inputConfig"]["gcsSource"]["uris"])
        counts = {"succeeded": 0, "failed": 0, "incomplete": len(items)}
        for item in items:
            if not await clock.spend(profile, item_image_size(profile, item) if isinstance(item, dict) else
                                     profile.default_image_size):
                _export(runtime, directory, lines)
                _end(store, job_id, "BATCH_STATE_EXPIRED", counts=counts,
                     error=rpc_status(ApiError.named("deadline_exceeded")))
                return
            line = await _predict(request, runtime, profile, item)
            lines.append(json.dumps(line, ensure_ascii=False).encode() + b"\n")
            counts["failed" if line["status"] else "succeeded"] += 1
            counts["incomplete"] -= 1
            if update_job(store, job_id, counts=counts) is None:
                _export(runtime, directory, lines)
                return
        _export(runtime, directory, lines)
        _end(store, job_id, "BATCH_STATE_SUCCEEDED", counts=counts)
    except _JobFailed as failed:
        _end(store, job_id, "BATCH_STATE_FAILED", error=rpc_status(failed.error))
    except GcsUnavailable as unwritable:
        log.warning("vertex batch %s: predictions unwritable (%s)", job_id, unwritable)
        _end(store, job_id, "BATCH_STATE_FAILED",
             error=rpc_status(ApiError.named("vertex_batch_output_unwritable", uri=directory)))
    except asyncio.CancelledError:  # cancelled: the rows finished so far are still exported
        if directory and lines:
            with contextlib.suppress(GcsUnavailable):
                _export(runtime, directory, lines)
        return
    finally:
        tasks_of(runtime).pop(job_id, None)
