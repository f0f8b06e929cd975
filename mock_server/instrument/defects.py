"""Contract-suite self-test: an ASGI middleware that breaks exactly one rule of the contract.

``gemini-mock serve --defect NAME`` wraps the fake in ``apply_defect(app, NAME)``. Each defect rewrites
the fake's ``:generateContent`` responses the way a buggy relay would, so the contract suite can be
shown to catch it (tests/contract_tests/checks/test_contract_defects.py). Never enabled unless asked for.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.instrument.interactions_defects import (
    INTERACTIONS_DEFECTS,
    INTERACTIONS_REWRITES,
    is_interactions_path,
    widened,
    without_previous_interaction,
)
from mock_server.web.errors import ApiError, error_body
from schemas import load_profile_book
from schemas.wire.casing import camel_to_snake, map_keys

__all__ = ["DEFECTS", "apply_defect"]

DEFECTS: dict[str, str] = {
    "wrong_dimensions": "final images are 25% wider than the profile's width x height",
    "mime_lies": "inlineData.mimeType names another image type than the bytes are",
    "usage_mismatch": "usageMetadata.totalTokenCount is not prompt + candidates + thoughts",
    "missing_model_version": "responses carry no modelVersion",
    "wrong_model_version": "modelVersion names a different (cheaper) model than the one requested",
    "snake_case_response": "response keys are snake_case (inline_data, usage_metadata, ...)",
    "missing_thought_signature": "thinking models' image parts carry no thoughtSignature",
    "stop_without_image": "200 with finishReason STOP but no image (usage adjusted to match)",
    "error_without_envelope": 'errors come as {"detail": message} instead of the google.rpc.Status envelope',
    "double_encoded_error": "error bodies are a JSON string holding the JSON envelope",
    "server_error_on_bad_input": "400 answers become 500 INTERNAL",
    "batch_counts_as_numbers": "batch Operations carry batchStats counts as JSON numbers, not int64 strings",
    "batch_results_reordered": "a finished batch lists its results in reverse input order",
    "vertex_candidate_index": "Vertex answers keep the Gemini API's candidate index",
    "batch_results_file_reordered": "a batch's downloaded results file lists its lines in reverse input order",
}

DEFECTS.update(INTERACTIONS_DEFECTS)

Rewrite = Callable[[int, bytes], tuple[int, bytes]]


def _parts(document: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for candidate in document.get("candidates") or []:
        found += (candidate.get("content") or {}).get("parts") or []
    return found


def _on_success(change: Callable[[dict[str, Any]], None]) -> Rewrite:
    def rewrite(status: int, body: bytes) -> tuple[int, bytes]:
        if status != 200:
            return status, body
        document = json.loads(body)
        change(document)
        return status, json.dumps(document).encode()

    return rewrite


def _on_error(change: Callable[[int, bytes], tuple[int, bytes]], only: int | None = None) -> Rewrite:
    def rewrite(status: int, body: bytes) -> tuple[int, bytes]:
        if status < 400 or (only is not None and status != only):
            return status, body
        return change(status, body)

    return rewrite


def _widen(document: dict[str, Any]) -> None:
    for part in _parts(document):
        blob = part.get("inlineData")
        if blob and not part.get("thought"):
            blob["data"] = widened(blob["data"])


def _lie_about_mime(document: dict[str, Any]) -> None:
    for part in _parts(document):
        blob = part.get("inlineData")
        if blob:
            blob["mimeType"] = "image/jpeg" if blob["mimeType"] == "image/png" else "image/png"


def _break_total(document: dict[str, Any]) -> None:
    document["usageMetadata"]["totalTokenCount"] += 100


def _drop_model_version(document: dict[str, Any]) -> None:
    document.pop("modelVersion", None)


def _swap_model_version(document: dict[str, Any]) -> None:
    ids = load_profile_book().ids()
    current = document.get("modelVersion")
    document["modelVersion"] = next(model for model in ids if model != current)


def _snake_rewrite(status: int, body: bytes) -> tuple[int, bytes]:
    if status != 200:
        return status, body
    return status, json.dumps(map_keys(json.loads(body), camel_to_snake)).encode()


def _drop_signatures(document: dict[str, Any]) -> None:
    for part in _parts(document):
        if "inlineData" in part:
            part.pop("thoughtSignature", None)


def _drop_images(document: dict[str, Any]) -> None:
    # A coherent "no image" answer: usage no longer counts image tokens, so only the missing image is wrong.
    # The answer text goes too: a text-only answer is legitimate where the request allowed TEXT.
    for candidate in document.get("candidates") or []:
        content = candidate.get("content") or {}
        kept = [part for part in content.get("parts") or [] if part.get("thought")]
        if kept:
            content["parts"] = kept
        else:
            content.pop("parts", None)
        candidate["finishReason"] = "STOP"
    usage = document["usageMetadata"]
    details = usage.get("candidatesTokensDetails") or []
    image_tokens = sum(d.get("tokenCount", 0) for d in details if d.get("modality") == "IMAGE")
    usage["candidatesTokensDetails"] = [d for d in details if d.get("modality") != "IMAGE"]
    usage["candidatesTokenCount"] = usage.get("candidatesTokenCount", 0) - image_tokens
    usage["totalTokenCount"] = usage.get("totalTokenCount", 0) - image_tokens


def _unwrap(status: int, body: bytes) -> tuple[int, bytes]:
    message = json.loads(body)["error"]["message"]
    return status, json.dumps({"detail": message}).encode()


def _double_encode(status: int, body: bytes) -> tuple[int, bytes]:
    return status, json.dumps(body.decode()).encode()


def _internal(status: int, body: bytes) -> tuple[int, bytes]:
    error = ApiError.named("internal")
    return error.code, error_body(error)


def _numeric_counts(document: dict[str, Any]) -> None:
    stats = (document.get("metadata") or {}).get("batchStats") or {}
    for name, value in stats.items():
        stats[name] = int(value)


def _reverse_results(document: dict[str, Any]) -> None:
    for holder in ((document.get("metadata") or {}).get("output") or {}, document.get("response") or {}):
        inlined = holder.get("inlinedResponses") or {}
        inlined["inlinedResponses"] = list(reversed(inlined.get("inlinedResponses") or []))


def _reverse_lines(status: int, body: bytes) -> tuple[int, bytes]:
    if status != 200:
        return status, body
    return status, b"\n".join(reversed([line for line in body.splitlines() if line.strip()])) + b"\n"


def _download_path(path: str) -> bool:
    return path.endswith(":download")


def _candidate_index(document: dict[str, Any]) -> None:
    for index, candidate in enumerate(document.get("candidates") or []):
        candidate["index"] = index


def _batch_path(path: str) -> bool:
    return "/batches/" in path or path.endswith(":batchGenerateContent")


def _vertex_path(path: str) -> bool:
    return "/publishers/" in path and path.endswith(":generateContent")


# Which responses a defect rewrites (default: the Gemini API's :generateContent).
_PATHS: dict[str, Callable[[str], bool]] = {
    "batch_counts_as_numbers": _batch_path, "batch_results_reordered": _batch_path,
    "vertex_candidate_index": _vertex_path, "batch_results_file_reordered": _download_path,
}


_REWRITES: dict[str, Rewrite] = {
    "wrong_dimensions": _on_success(_widen),
    "mime_lies": _on_success(_lie_about_mime),
    "usage_mismatch": _on_success(_break_total),
    "missing_model_version": _on_success(_drop_model_version),
    "wrong_model_version": _on_success(_swap_model_version),
    "snake_case_response": _snake_rewrite,
    "missing_thought_signature": _on_success(_drop_signatures),
    "stop_without_image": _on_success(_drop_images),
    "error_without_envelope": _on_error(_unwrap),
    "double_encoded_error": _on_error(_double_encode),
    "server_error_on_bad_input": _on_error(_internal, only=400),
    "batch_counts_as_numbers": _on_success(_numeric_counts),
    "batch_results_reordered": _on_success(_reverse_results),
    "vertex_candidate_index": _on_success(_candidate_index),
    "batch_results_file_reordered": _reverse_lines,
}


def _is_generate_path(path: str) -> bool:
    return path.endswith(":generateContent")


def apply_defect(app: ASGIApp, name: str) -> ASGIApp:
    """``app`` with defect ``name`` injected into its ``:generateContent`` (or ``/interactions``) responses."""
    if name == "interactions_ignores_previous":
        return without_previous_interaction(app)
    applies: Callable[[str], bool]
    if name in INTERACTIONS_REWRITES:
        rewrite, applies = INTERACTIONS_REWRITES[name], is_interactions_path
    elif name in _REWRITES:
        rewrite, applies = _REWRITES[name], _PATHS.get(name, _is_generate_path)
    else:
        raise ValueError(f"unknown defect {name!r}; choose from {', '.join(DEFECTS)}")

    async def defective(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not applies(str(scope.get("path", ""))):
            await app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            status, body = rewrite(int(start["status"]), b"".join(chunks))
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, capture)

    return defective
