"""A batch job record rendered as the long-running Operation Google returns (api-2026.md §3).

``name: batches/<id>``; ``metadata`` is the GenerateContentBatch with its ``@type``, ``state:
BATCH_STATE_*`` and ``batchStats`` whose int64 counts are JSON strings (zero counts omitted, proto3 JSON);
a finished job has ``done: true`` and its results both in ``response`` (with its own ``@type``) and in
``metadata.output``, which is where the SDKs read them. ``@type`` says ``v1main`` as in the saved
responses of Jan-Mar 2026.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from mock_server.state.batch_store import TERMINAL_STATES
from mock_server.web.errors import ApiError
from schemas import load_schema

__all__ = ["BATCH_TYPE", "OUTPUT_TYPE", "operation", "rpc_status", "timestamp"]

BATCH_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch"
OUTPUT_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput"
_STATS = (("requestCount", "requests"), ("successfulRequestCount", "succeeded"),
          ("failedRequestCount", "failed"), ("pendingRequestCount", "pending"))


@cache
def _codes() -> list[str]:
    """google.rpc.Code names in number order (the enum of error.schema.json)."""
    codes: list[str] = load_schema("error")["$defs"]["Status"]["properties"]["status"]["enum"]
    return codes


def rpc_status(error: ApiError) -> dict[str, Any]:
    """An error as the google.rpc.Status of one batch item: numeric code and message.

    No ``details``: the recorded item errors have none, and google-genai types them as strings
    (``JobError.details: list[str]``), so Google's typed detail objects would break its parsing.
    """
    return {"code": _codes().index(error.status), "message": error.message}


def timestamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _output(record: dict[str, Any]) -> dict[str, Any]:
    if record.get("responsesFile"):
        return {"responsesFile": record["responsesFile"]}
    return {"inlinedResponses": {"inlinedResponses": record["results"]}}


def operation(record: dict[str, Any]) -> dict[str, Any]:
    name = f"batches/{record['id']}"
    metadata: dict[str, Any] = {"@type": BATCH_TYPE, "model": record["model"]}
    if record.get("displayName"):
        metadata["displayName"] = record["displayName"]
    metadata["inputConfig"] = record["inputConfig"]
    done = record["state"] in TERMINAL_STATES
    if record["state"] == "BATCH_STATE_SUCCEEDED":
        metadata["output"] = _output(record)
    metadata["createTime"] = timestamp(record["created"])
    if record.get("ended"):
        metadata["endTime"] = timestamp(record["ended"])
    metadata["updateTime"] = timestamp(record["updated"])
    stats = {wire: str(record["counts"][field]) for wire, field in _STATS if record["counts"][field]}
    metadata["batchStats"] = stats
    metadata["state"] = record["state"]
    metadata["name"] = name
    if record.get("priority"):
        metadata["priority"] = str(record["priority"])
    document: dict[str, Any] = {"name": name, "metadata": metadata}
    if done:
        document["done"] = True
        if record["state"] == "BATCH_STATE_SUCCEEDED":
            document["response"] = {"@type": OUTPUT_TYPE, **_output(record)}
        elif record.get("error"):
            document["error"] = record["error"]
    return document
