"""The Batch API's file input (api-2026.md §3): the inline job's three requests as a JSONL file, one
``{"key", "request"}`` per line, uploaded through the Files API's resumable protocol, a job created with
``input_config.file_name``, followed to its end, and its ``responsesFile`` downloaded from
``/download/{version}/files/{id}:download?alt=media``. Judged by ``checks/batch_file.py``.

On by the inline job's rule (loopback on, remote off, ``--batch``/``--no-batch``) and billed like it.
Not sent in sandwich mode: the upload URL the Files API answers names the upstream itself, so a relay
must rewrite it, which is a Files API concern of its own (listed as planned but not sent).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from contract_tests.config import RunConfig
from contract_tests.execution.batch import batch_case, clean_up, follow_job
from contract_tests.execution.target import Target
from contract_tests.generation.cases import Case

__all__ = ["FILE_REQUESTS", "file_batch_case", "jsonl_of", "run_file_batch"]

FILE_REQUESTS = 5  # upload start, upload and finalize, download, delete, gone (besides create and polls)
JSONL = "application/jsonl"


def jsonl_of(inline: Case) -> bytes:
    """The inline job's requests as the JSONL file Google documents: ``{"key": ..., "request": {...}}``."""
    requests: list[dict[str, Any]] = inline.document["batch"]["inputConfig"]["requests"]["requests"]
    lines = [json.dumps({"key": item["metadata"]["key"], "request": item["request"]}, ensure_ascii=False)
             for item in requests]
    return ("\n".join(lines) + "\n").encode()


def file_batch_case(inline: Case, file_name: str) -> Case:
    """The create request naming the uploaded file, spelled as Google's REST sample spells it."""
    document = {"batch": {"display_name": "gemini-contract batch from a file",
                          "input_config": {"file_name": file_name}}}
    return replace(inline, label=f"batch create from {file_name}", document=document,
                   expect=replace(inline.expect, batch_input="file"))


def _step(inline: Case, step: str, label: str, **changes: Any) -> Case:
    return replace(inline, **{"label": label, "action": "", "document": None, "route": "/files", "prefix": "/upload",
                              "expect": replace(inline.expect, batch_step=step, batch_input="file"), **changes})


def run_file_batch(target: Target, config: RunConfig) -> None:
    inline = batch_case(config, target.pricing)
    data = jsonl_of(inline)
    started = target.send(_step(inline, "upload", "batch file upload start",
                                document={"file": {"displayName": "gemini-contract batch input"}},
                                headers={"x-goog-upload-protocol": "resumable", "x-goog-upload-command": "start",
                                         "x-goog-upload-header-content-length": str(len(data)),
                                         "x-goog-upload-header-content-type": JSONL}))
    url = started.headers.get("x-goog-upload-url") if started.status == 200 else None
    if not url:
        return
    query = dict(parse_qsl(urlsplit(url).query))  # the upload session travels in the query (upload_id)
    uploaded = target.send(_step(inline, "uploaded", "batch file upload", raw_body=data, query=query,
                                 headers={"x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": "0",
                                          "content-type": JSONL}))
    file = uploaded.json.get("file") if uploaded.status == 200 and isinstance(uploaded.json, dict) else None
    name = file.get("name") if isinstance(file, dict) else None
    if not isinstance(name, str) or not name.startswith("files/"):
        return
    create = file_batch_case(inline, name)
    followed = follow_job(target, config, create)
    if followed is None:
        return
    job, final = followed
    output = final.json.get("response") if isinstance(final.json, dict) else None
    results = output.get("responsesFile") if isinstance(output, dict) else None
    if isinstance(results, str) and results.startswith("files/"):
        target.send(replace(create, label="batch results file", action="", document=None, method="GET",
                            route=f"/{results}:download", prefix="/download", query={"alt": "media"},
                            expect=replace(create.expect, batch_step="results", batch_name=job)))
    clean_up(target, create, job)
