"""Batch API checks: the Operation shape, the job's lifecycle, and its results (api-2026.md §3).

Judged only in runs with batch checks on (``--batch``; the default for loopback targets). A job is
followed from creation to its end by ``execution/batch.py``; each exchange says which step it was.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

from PIL import Image

from contract_tests.checks.base import CheckContext, Failure, Skip, camel_view, check, pointer
from contract_tests.checks.images import final_images
from contract_tests.checks.schema import schema_failures
from contract_tests.generation.cases import BatchItem, Exchange, Purpose
from schemas import load_profile_book

__all__ = ["batch_lifecycle", "batch_operation_shape", "batch_results", "item_failures"]

_PURPOSE: tuple[Purpose, ...] = ("batch",)


def _operation(exchange: Exchange, steps: tuple[str, ...]) -> dict[str, Any]:
    if exchange.case.expect.batch_step not in steps:
        raise Skip("another batch step")
    if exchange.status != 200 or not isinstance(exchange.json, dict):
        raise Skip(f"HTTP {exchange.status}")
    operation: dict[str, Any] = exchange.json
    return operation


@check("batch_operation_shape", "major", _PURPOSE)
def batch_operation_shape(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """Creating a batch (``models/{m}:batchGenerateContent``) and polling it (``GET batches/{id}``) answer a
    long-running Operation as recorded: ``name: batches/<id>``, ``metadata`` with its ``@type``, the model,
    ``state: BATCH_STATE_*``, ``createTime``/``updateTime`` and ``batchStats`` whose int64 counts are JSON
    strings (batch_operation.schema.json); a just-created job is not yet done and counts every request;
    a done job carries its results in ``response`` and the same results in ``metadata.output`` (where the
    SDKs read them), never under another key."""
    operation = _operation(exchange, ("create", "poll", "final"))
    yield from schema_failures(operation, "batch_operation")
    metadata = operation.get("metadata") or {}
    if exchange.case.expect.batch_step == "create":
        if operation.get("done"):
            yield Failure("a just-created job is already done", pointer("done"), "absent or false", True)
        wanted = str(len(exchange.case.expect.batch_items))
        if (metadata.get("batchStats") or {}).get("requestCount") != wanted:
            yield Failure("batchStats.requestCount does not count the requests", pointer("metadata", "batchStats"),
                          wanted, metadata.get("batchStats"))
    if operation.get("done") and metadata.get("state") == "BATCH_STATE_SUCCEEDED":
        response = {k: v for k, v in (operation.get("response") or {}).items() if k != "@type"}
        if response != metadata.get("output"):
            yield Failure("response and metadata.output hold different results", pointer("metadata", "output"),
                          "the same results in both", sorted(metadata.get("output") or {}))


@check("batch_lifecycle", "major", _PURPOSE)
def batch_lifecycle(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """A small job reaches ``BATCH_STATE_SUCCEEDED`` with ``done: true`` within ``--batch-timeout``; it is
    among the operations ``GET batches`` lists; ``DELETE batches/{id}`` answers 200 and the job then reads
    404. Clients poll, list and clean up exactly this way."""
    step = exchange.case.expect.batch_step
    name = exchange.case.expect.batch_name
    if step == "final":
        state = ((exchange.json or {}).get("metadata") or {}).get("state") if isinstance(exchange.json, dict) \
            else None
        if exchange.status != 200 or state != "BATCH_STATE_SUCCEEDED":
            yield Failure("the job did not succeed in time", pointer("metadata", "state"), "BATCH_STATE_SUCCEEDED",
                          state or f"HTTP {exchange.status}")
    elif step == "list":
        if exchange.status != 200:
            yield Failure("GET batches was not answered 200", "", 200, exchange.status)
            return
        yield from schema_failures(exchange.json, "list_batches")
        listed = [op.get("name") for op in (exchange.json or {}).get("operations") or [] if isinstance(op, dict)]
        if name not in listed and not (exchange.json or {}).get("nextPageToken"):
            yield Failure("the job is not listed", pointer("operations"), name, listed[:5])
    elif step == "delete":
        if exchange.status != 200:
            yield Failure("DELETE batches/{id} was not answered 200", "", 200, exchange.status)
    elif step == "gone":
        if exchange.status != 404:
            yield Failure("a deleted job can still be read", "", 404, exchange.status)
    else:
        raise Skip("another batch step")


def _items(operation: dict[str, Any]) -> list[Any]:
    output = (operation.get("metadata") or {}).get("output") or {}
    items = (output.get("inlinedResponses") or {}).get("inlinedResponses")
    return items if isinstance(items, list) else []


def _image_size(blob: dict[str, Any]) -> tuple[int, int] | None:
    try:
        with Image.open(io.BytesIO(base64.b64decode(str(blob.get("data"))))) as image:
            return image.size
    except Exception:  # any undecodable payload is reported as "no size"
        return None


def item_failures(item: BatchItem, result: Any, model: str, where: tuple[str | int, ...]) -> Iterator[Failure]:
    """One result of a batch, inline or a line of the results file: a refused request holds a
    google.rpc.Status with code 3 and no response; a valid one an image of exactly the profile's size."""
    result = result if isinstance(result, dict) else {}
    if item.fails:
        error = result.get("error")
        if "response" in result or not isinstance(error, dict) or error.get("code") != 3 or not error.get("message"):
            yield Failure("a refused request is not a google.rpc.Status with code 3", pointer(*where),
                          {"error": {"code": 3, "message": "..."}}, sorted(result))
        return
    response = camel_view(result.get("response"))
    finals = [blob for _w, blob, thought in final_images(response) if not thought]
    if not finals:
        yield Failure("a valid request has no image", pointer(*where, "response"), ">= 1 image", 0)
        return
    profile = load_profile_book().get(model)
    if profile is not None:
        wanted = profile.dimensions(item.aspect_ratio, item.image_size)
        got = _image_size(finals[0])
        if got != wanted:
            yield Failure(f"image size for {item.aspect_ratio} at {item.image_size}", pointer(*where, "response"),
                          list(wanted), list(got) if got else None)


@check("batch_results", "critical", _PURPOSE, shows_images=True)
def batch_results(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """A finished job's results are complete and in input order (one per request, ``metadata.key`` as
    sent); each valid request holds a GenerateContentResponse whose final image has exactly the profile's
    width x height for its ratio and size; the request the model must refuse holds a google.rpc.Status
    (numeric ``code`` 3 INVALID_ARGUMENT and a message) and no response. Per-item errors are how a batch
    reports bad input: the other items still succeed."""
    operation = _operation(exchange, ("final",))
    if exchange.case.expect.batch_input == "file":
        raise Skip("results in a file (batch_results_file judges them)")
    if (operation.get("metadata") or {}).get("state") != "BATCH_STATE_SUCCEEDED":
        raise Skip("job did not succeed (batch_lifecycle reports it)")
    expected = exchange.case.expect.batch_items
    items = _items(operation)
    keys = [((item.get("metadata") or {}).get("key") if isinstance(item, dict) else None) for item in items]
    if keys != [item.key for item in expected]:
        yield Failure("results are incomplete or out of order", pointer("metadata", "output"),
                      [item.key for item in expected], keys)
        return
    for index, (item, result) in enumerate(zip(expected, items, strict=True)):
        yield from item_failures(item, result, exchange.case.model,
                                 ("metadata", "output", "inlinedResponses", "inlinedResponses", index))
