"""The Batch API's file input (api-2026.md §3), step by step: the JSONL upload through the Files API, the
finished job's ``responsesFile``, and the results file's lines. Sent by ``execution/batch_file.py``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from contract_tests.checks.base import CheckContext, Failure, Skip, check, pointer
from contract_tests.checks.batch import item_failures
from contract_tests.generation.cases import Exchange

__all__ = ["batch_results_file"]

_FILE_NAME = re.compile(r"^files/[a-z0-9-]+$")


def _lines(body: bytes) -> tuple[list[Any], list[int]]:
    """The results file's JSON lines, and the numbers of those that are not JSON objects."""
    parsed: list[Any] = []
    broken: list[int] = []
    for number, line in enumerate(body.decode("utf-8", "replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            parsed.append(json.loads(line))
        except ValueError:
            parsed.append(None)
        if not isinstance(parsed[-1], dict):
            broken.append(number)
    return parsed, broken


def _upload_failures(exchange: Exchange) -> Iterator[Failure]:
    step = exchange.case.expect.batch_step
    if exchange.status != 200:
        yield Failure(f"the Files API refused the {'upload start' if step == 'upload' else 'upload'}", "", 200,
                      exchange.status)
    elif step == "upload" and not exchange.headers.get("x-goog-upload-url"):
        yield Failure("the upload start answered no X-Goog-Upload-URL", "", "an upload URL", None)
    elif step == "uploaded":
        file = exchange.json.get("file") if isinstance(exchange.json, dict) else None
        name = file.get("name") if isinstance(file, dict) else None
        if not isinstance(name, str) or not _FILE_NAME.match(name):
            yield Failure("the finished upload names no file", pointer("file", "name"), "files/<id>", name)


def _final_failures(exchange: Exchange) -> Iterator[Failure]:
    operation: Any = exchange.json
    if exchange.status != 200 or not isinstance(operation, dict) or not operation.get("done"):
        raise Skip("job not done (batch_lifecycle reports it)")
    if (operation.get("metadata") or {}).get("state") != "BATCH_STATE_SUCCEEDED":
        raise Skip("job did not succeed (batch_lifecycle reports it)")
    response: dict[str, Any] = operation["response"] if isinstance(operation.get("response"), dict) else {}
    name = response.get("responsesFile")
    if not isinstance(name, str) or not _FILE_NAME.match(name):
        yield Failure("a job from a file holds no responsesFile", pointer("response", "responsesFile"), "files/<id>",
                      name)
    if "inlinedResponses" in response:
        yield Failure("a job from a file answers inline results", pointer("response", "inlinedResponses"),
                      "absent", "present")


@check("batch_results_file", "critical", ("batch",))
def batch_results_file(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """A batch from a JSONL file works end to end: the Files API opens a resumable upload
    (``X-Goog-Upload-URL``) and names the finished file ``files/<id>``; the job created with
    ``input_config.file_name`` finishes with ``response.responsesFile`` (``files/<id>``, no inline
    results); and that file, downloaded from ``/download/{version}/files/{id}:download?alt=media``, holds
    one JSON line per request, in input order with the ``key`` as sent, each valid request's
    GenerateContentResponse with a decodable image of exactly the profile's width x height, and the
    request the model must refuse as ``error``: a google.rpc.Status with ``code`` 3 and a message."""
    expect = exchange.case.expect
    if expect.batch_input != "file":
        raise Skip("an inline job")
    if expect.batch_step in ("upload", "uploaded"):
        yield from _upload_failures(exchange)
        return
    if expect.batch_step == "final":
        yield from _final_failures(exchange)
        return
    if expect.batch_step != "results":
        raise Skip("another batch step")
    if exchange.status != 200:
        yield Failure("the results file could not be downloaded", "", 200, exchange.status)
        return
    lines, broken = _lines(exchange.body)
    if broken:
        yield Failure("results file lines are not JSON objects", "", "one JSON object per line", broken[:5])
        return
    keys = [line.get("key") for line in lines]
    wanted = [item.key for item in expect.batch_items]
    if keys != wanted:
        yield Failure("results file lines are incomplete or out of order", "/key", wanted, keys)
        return
    for number, (item, line) in enumerate(zip(expect.batch_items, lines, strict=True), start=1):
        yield from item_failures(item, line, exchange.case.model, (f"line{number}",))
