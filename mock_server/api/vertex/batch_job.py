"""A Vertex batch prediction job: where its record lives and how it reads as a BatchPredictionJob.

Records sit in the Gemini Batch API's job store classes (``state/batch_store.py``), in their own
collection (kind ``vertex_batch``, runtime extension ``vertex_batches``) so that neither API lists the
other's jobs; in memory, or in the shared state store (``--state``) where every worker and replica
sees them. A record keeps its state in the Batch API's words (``BATCH_STATE_*``, so the store's
bounds know which jobs are finished) and is rendered with Vertex's ``JOB_STATE_*`` names, the
mapping google-genai's ``t_job_state`` applies the other way.

The resource, in the proto's field order: ``name`` (``projects/{p}/locations/{l}/batchPredictionJobs/{id}``,
the id an int64 in decimal as google-genai expects), ``displayName``, ``model``, ``inputConfig``,
``outputConfig``, ``outputInfo.gcsOutputDirectory`` (once running), ``state``, ``error``,
``completionStats`` (int64 counts as strings, zero counts omitted), ``createTime``, ``startTime``,
``endTime``, ``updateTime``, ``labels``.
"""

from __future__ import annotations

import secrets
from typing import Any

from mock_server.api.batch.operation import timestamp
from mock_server.api.batch.runner import job_store
from mock_server.runtime import Runtime
from mock_server.state.batch_store import JobStore, SharedBatchStore

__all__ = ["job_name", "job_state", "new_job_id", "render_job", "vertex_jobs"]

_STATS = (("successfulCount", "succeeded"), ("failedCount", "failed"), ("incompleteCount", "incomplete"))


class _SharedVertexJobs(SharedBatchStore):
    KIND = "vertex_batch"


def vertex_jobs(runtime: Runtime) -> JobStore:
    """This app's Vertex job store: the shared state store's when there is one, else this process's."""
    return job_store(runtime, "vertex_batches", _SharedVertexJobs)


def new_job_id() -> str:
    """A positive int64 in decimal, 19 digits like Vertex's."""
    return str(10**18 + secrets.randbelow(9 * 10**18))


def job_name(record: dict[str, Any]) -> str:
    return f"projects/{record['project']}/locations/{record['location']}/batchPredictionJobs/{record['id']}"


def job_state(record: dict[str, Any]) -> str:
    """The record's state in Vertex's words (``BATCH_STATE_RUNNING`` -> ``JOB_STATE_RUNNING``)."""
    return "JOB_STATE_" + str(record["state"]).removeprefix("BATCH_STATE_")


def render_job(record: dict[str, Any]) -> dict[str, Any]:
    job: dict[str, Any] = {"name": job_name(record), "displayName": record["displayName"], "model": record["model"],
                           "inputConfig": record["inputConfig"], "outputConfig": record["outputConfig"]}
    if record.get("outputDirectory"):
        job["outputInfo"] = {"gcsOutputDirectory": record["outputDirectory"]}
    job["state"] = job_state(record)
    if record.get("error"):
        job["error"] = record["error"]
    stats = {wire: str(record["counts"][field]) for wire, field in _STATS if record["counts"].get(field)}
    if record.get("started") is not None:
        job["completionStats"] = stats
    job["createTime"] = timestamp(record["created"])
    for wire, field in (("startTime", "started"), ("endTime", "ended")):
        if record.get(field) is not None:
            job[wire] = timestamp(record[field])
    job["updateTime"] = timestamp(record["updated"])
    if record.get("labels"):
        job["labels"] = record["labels"]
    return job
