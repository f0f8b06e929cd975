"""Running a batch job in the background: every item answered exactly as generateContent would answer it.

Each item goes through the shared pipeline (validation, reply planning, scenarios, images, usage);
a refused item becomes a ``google.rpc.Status`` in that item's result, the others still succeed.
Duration is simulated with the latency settings: the job waits in ``BATCH_STATE_PENDING`` for one
generation's time (its place in the queue), then each item takes one generation's time, all scaled by
``--time-scale``. A job whose simulated age passes ``Settings.batch_ttl_hours`` (Google: 48 h) expires.
Cancelling cancels the task; the record already says ``BATCH_STATE_CANCELLED``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from starlette.requests import Request

from mock_server.answer.flavour import GEMINI, Flavour
from mock_server.answer.reply import encode_reply
from mock_server.api.batch.operation import rpc_status
from mock_server.api.files import store_generated, store_of
from mock_server.api.generate import plan_document, rendered_for
from mock_server.api.webhooks.events import notify_batch
from mock_server.instrument.latency import plan_delay
from mock_server.instrument.scenarios import ScenarioFault, apply_scenario
from mock_server.runtime import Runtime
from mock_server.state import state_of
from mock_server.state.batch_store import TERMINAL_STATES, BatchStore, JobStore, SharedBatchStore
from mock_server.web.errors import ApiError
from schemas import ModelProfile
from schemas.wire.casing import camel_to_snake

__all__ = ["JobClock", "answer_item", "batch_store", "item_image_size", "job_store", "run_job", "tasks_of",
           "update_job"]

log = logging.getLogger("gemini_mock")


def batch_store(runtime: Runtime) -> JobStore:
    """This app's job store: the shared state store's when there is one, else this process's."""
    return job_store(runtime, "batches", SharedBatchStore)


def job_store(runtime: Runtime, extension: str, shared: type[SharedBatchStore]) -> JobStore:
    """The job store kept as ``runtime.extensions[extension]``: a ``shared`` collection of the shared
    state store when there is one, else this process's (another surface's jobs use their own)."""
    store: JobStore | None = runtime.extensions.get(extension)
    if store is None:
        state, limit = state_of(runtime), runtime.settings.batch_max_jobs
        chosen = shared(state, limit) if state.shared else BatchStore(limit)
        store = runtime.extensions.setdefault(extension, chosen)
    return store


def tasks_of(runtime: Runtime) -> dict[str, asyncio.Task[None]]:
    tasks: dict[str, asyncio.Task[None]] = runtime.extensions.setdefault("batch_tasks", {})
    return tasks


class JobClock:
    """Simulated time spent by a job, against its time to live; sleeps the scaled equivalent."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.spent_ms = 0.0
        self.ttl_ms = runtime.settings.batch_ttl_hours * 3600 * 1000

    async def spend(self, profile: ModelProfile, image_size: str) -> bool:
        """Wait one generation's time; False when the job expires first."""
        delay = plan_delay(self.runtime, profile, image_size).total
        scale = self.runtime.settings.time_scale
        wanted_ms = delay / scale * 1000 if scale > 0 else 0.0
        expires = self.spent_ms + wanted_ms > self.ttl_ms
        spend_ms = self.ttl_ms - self.spent_ms if expires else wanted_ms
        if spend_ms > 0:
            await asyncio.sleep(spend_ms / 1000 * scale)
        self.spent_ms += spend_ms
        return not expires


def _items(runtime: Runtime, record: dict[str, Any]) -> list[dict[str, Any]]:
    """The job's items as ``{"key"?, "metadata"?, "request"}``, inline or read from the JSONL file."""
    if "requests" in record["inputConfig"]:
        return [dict(item) for item in record["inputConfig"]["requests"]["requests"]]
    file_id = record["inputConfig"]["fileName"].removeprefix("files/")
    text = store_of(runtime).read(f"file-{file_id}").decode("utf-8", "replace")
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            item = {"key": f"line-{number}", "invalid": "Unexpected token."}
        items.append(item if isinstance(item, dict) else {"key": f"line-{number}", "invalid": "not a JSON object"})
    return items


async def answer_item(request: Request, runtime: Runtime, profile: ModelProfile, item: dict[str, Any],
                      flavour: Flavour = GEMINI) -> dict[str, Any]:
    """One item's GenerateContentResponse (dressed as ``flavour``'s surface sends it), or raises ApiError
    as generateContent would answer it."""
    if "invalid" in item or not isinstance(item.get("request"), dict):
        raise ApiError.named("malformed_json", detail=str(item.get("invalid", "Missing \"request\".")))
    document = {key: value for key, value in item["request"].items() if key != "model"}
    image_request, reply = plan_document(runtime, profile, document, flavour)
    try:
        reply = await apply_scenario(request, image_request, reply)
    except ScenarioFault as fault:  # a broken connection inside Google's batch runner is an internal error
        raise ApiError.named("internal") from fault
    rendered = await rendered_for(runtime, reply)
    answer: dict[str, Any] = json.loads(b"".join(encode_reply(reply, rendered, runtime.settings.signing_secret)))
    return answer


def item_image_size(profile: ModelProfile, item: dict[str, Any]) -> str:
    """The item's image size, read leniently (only to time it; the pipeline does the real reading)."""
    found: Any = item.get("request")
    for name in ("generationConfig", "imageConfig", "imageSize"):
        found = found.get(name, found.get(camel_to_snake(name))) if isinstance(found, dict) else None
    size = profile.canonical_image_size(str(found)) if found is not None else None
    return size or profile.default_image_size


def update_job(store: JobStore, job_id: str, **changes: Any) -> dict[str, Any] | None:
    """Apply ``changes`` unless the job was cancelled or deleted meanwhile; the updated record or None."""
    record = store.get(job_id)
    if record is None or record["state"] in TERMINAL_STATES:
        return None
    record.update(changes, updated=time.time())
    store.put(job_id, record)
    return record


def _finish(runtime: Runtime, job_id: str, state: str, **changes: Any) -> None:
    """End the job (unless cancelled or deleted meanwhile) and announce it to its webhooks."""
    record = update_job(batch_store(runtime), job_id, state=state, ended=time.time(), **changes)
    if record is not None:
        notify_batch(runtime, record)


async def run_job(request: Request, runtime: Runtime, profile: ModelProfile, job_id: str, base_url: str) -> None:
    store = batch_store(runtime)
    clock = JobClock(runtime)
    try:
        if not await clock.spend(profile, profile.default_image_size):
            _finish(runtime, job_id, "BATCH_STATE_EXPIRED", error=rpc_status(ApiError.named("deadline_exceeded")))
            return
        record = update_job(store, job_id, state="BATCH_STATE_RUNNING")
        if record is None:
            return
        items = _items(runtime, record)
        counts = {"requests": len(items), "succeeded": 0, "failed": 0, "pending": len(items)}
        results: list[dict[str, Any]] = []
        lines: list[bytes] = []
        for item in items:
            if not await clock.spend(profile, item_image_size(profile, item)):
                _finish(runtime, job_id, "BATCH_STATE_EXPIRED", counts=counts,
                        error=rpc_status(ApiError.named("deadline_exceeded")))
                return
            result: dict[str, Any] = {"metadata": item["metadata"]} if "metadata" in item else {}
            try:
                result["response"] = await answer_item(request, runtime, profile, item)
                counts["succeeded"] += 1
            except ApiError as error:
                result["error"] = rpc_status(error)
                counts["failed"] += 1
            except Exception:  # a fault of the fake itself: that item fails, the job goes on
                log.exception("batch %s: item failed", job_id)
                result["error"] = rpc_status(ApiError.named("internal"))
                counts["failed"] += 1
            counts["pending"] -= 1
            results.append(result)
            if "key" in item:
                lines.append(json.dumps({"key": item["key"], **{k: v for k, v in result.items() if k != "metadata"}},
                                        ensure_ascii=False).encode())
            if update_job(store, job_id, counts=counts) is None:
                return
        if "fileName" in record["inputConfig"]:
            name = store_generated(store_of(runtime), b"\n".join(lines) + b"\n", "application/jsonl",
                                   f"batch-{job_id}-responses", base_url, record["version"])
            _finish(runtime, job_id, "BATCH_STATE_SUCCEEDED", counts=counts, responsesFile=name)
        else:
            _finish(runtime, job_id, "BATCH_STATE_SUCCEEDED", counts=counts, results=results)
    except asyncio.CancelledError:
        return
    finally:
        tasks_of(runtime).pop(job_id, None)
