"""A small Gemini relay (Starlette) that forwards to the fake, with one deliberate defect at a time.

It behaves like the relays users evaluate: it checks its own client key, injects its upstream key,
and passes answers back. Each mode in ``DEFECTS`` breaks one rule;
tests/contract_tests/sandwich/test_sandwich.py shows each caught by the right contract check.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
from collections.abc import Callable
from typing import Any

import httpx
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from schemas import error_catalogue
from schemas.wire.casing import snake_to_camel

__all__ = ["CLIENT_KEY", "DEFECTS", "UPSTREAM_KEY", "create_relay"]

CLIENT_KEY = "relay-client-key-0001"
UPSTREAM_KEY = "upstream-fake-key-0002"

DEFECTS = {
    "faithful": "forwards and answers unchanged",
    "retry_then_pass": "retries an upstream 429/503 twice, then passes the upstream's answer on (allowed)",
    "retry_for_long": "retries an upstream 429/503 for seconds, ignoring Retry-After, before answering",
    "drop_unknown_fields": "drops every field it does not know, at any level, instead of forwarding it",
    "drop_snake_config": "loses a snake_case generation_config (reads only the camelCase name)",
    "downgrade_edit_4k": "rewrites imageSize 4K to 1K on requests that carry an input image",
    "status_503_to_500": "turns an upstream 503 into its own 500 INTERNAL",
    "strip_retry_after": "drops the Retry-After header",
    "strip_signatures": "removes thoughtSignature from every part of the answer",
    "rewrite_usage": "folds thoughtsTokenCount into candidatesTokenCount and drops the token details",
    "reencode_images": "decodes and re-encodes every image (same pixels, other bytes)",
    "cache_by_model": "answers a second generateContent for the same model from a cache, whatever the prompt",
    "stale_answers": "forwards every request but answers a 200 with the first 200 it got for that model",
    "leak_upstream_url": "names the upstream URL in an x-upstream response header",
    "accept_any_key": "accepts any client key",
    "forward_client_key": "sends the client's key upstream instead of its own",
    "foreign_envelope": "answers errors with its own {\"detail\": ...} body",
    "drop_get_query": "forwards GET requests without their query string (pageSize, quotaUser ...)",
    "get_on_v1": "forwards GET requests on /v1beta to /v1 (the same answers, another API version)",
    "interactions_drop_format": "drops response_format from Interactions creates (it knows the 2025 shape only)",
    "text_plain_bodies": "forwards JSON bodies as Content-Type text/plain",
}

# What the relay knows of Google's request (camelCase); drop_unknown_fields strips everything else.
_KNOWN = {
    "": {"contents", "generationConfig", "systemInstruction", "tools", "toolConfig", "safetySettings",
         "cachedContent", "labels"},
    "generationConfig": {"responseModalities", "imageConfig", "thinkingConfig", "temperature", "topP", "topK",
                         "candidateCount", "maxOutputTokens", "stopSequences", "seed", "responseMimeType"},
    "imageConfig": {"aspectRatio", "imageSize"},
    "part": {"text", "inlineData", "fileData", "thought", "thoughtSignature", "functionCall", "functionResponse"},
}
_HOP_BY_HOP = {"content-length", "content-encoding", "transfer-encoding", "connection", "date", "server"}


def _known(keys: dict[str, Any], level: str) -> dict[str, Any]:
    return {k: v for k, v in keys.items() if snake_to_camel(k) in _KNOWN[level]}


def _drop_unknown(body: dict[str, Any]) -> dict[str, Any]:
    body = _known(body, "")
    for name in ("generationConfig", "generation_config"):
        if isinstance(body.get(name), dict):
            config = _known(body[name], "generationConfig")
            for image_name in ("imageConfig", "image_config"):
                if isinstance(config.get(image_name), dict):
                    config[image_name] = _known(config[image_name], "imageConfig")
            body[name] = config
    for content in body.get("contents") or []:
        if isinstance(content, dict):
            content["parts"] = [_known(p, "part") if isinstance(p, dict) else p for p in content.get("parts") or []]
    return body


def _has_image(body: dict[str, Any]) -> bool:
    text = json.dumps(body.get("contents"))
    return '"inlineData"' in text or '"inline_data"' in text


def _downgrade(body: dict[str, Any]) -> dict[str, Any]:
    if _has_image(body):
        for name in ("generationConfig", "generation_config"):
            for image_name in ("imageConfig", "image_config"):
                config = (body.get(name) or {}).get(image_name)
                if isinstance(config, dict):
                    for size_name in ("imageSize", "image_size"):
                        if config.get(size_name) == "4K":
                            config[size_name] = "1K"
    return body


def _request_change(defect: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    if defect == "drop_unknown_fields":
        return _drop_unknown
    if defect == "drop_snake_config":
        return lambda body: {k: v for k, v in body.items() if k != "generation_config"}
    if defect == "downgrade_edit_4k":
        return _downgrade
    return lambda body: body


def _walk_parts(document: Any, change: Callable[[dict[str, Any]], None]) -> None:
    for candidate in (document or {}).get("candidates") or [] if isinstance(document, dict) else []:
        for part in (candidate.get("content") or {}).get("parts") or []:
            change(part)


def _strip_signature(part: dict[str, Any]) -> None:
    part.pop("thoughtSignature", None)


def _reencode(part: dict[str, Any]) -> None:
    blob = part.get("inlineData")
    if isinstance(blob, dict) and isinstance(blob.get("data"), str):
        with Image.open(io.BytesIO(base64.b64decode(blob["data"]))) as image:
            buffer = io.BytesIO()
            image.save(buffer, format=image.format or "PNG", compress_level=9)
        blob["data"] = base64.b64encode(buffer.getvalue()).decode()


def _rewrite_usage(document: Any) -> None:
    usage = document.get("usageMetadata") if isinstance(document, dict) else None
    if isinstance(usage, dict):
        usage["candidatesTokenCount"] = usage.get("candidatesTokenCount", 0) + usage.pop("thoughtsTokenCount", 0)
        usage.pop("candidatesTokensDetails", None)
        usage.pop("promptTokensDetails", None)


def _change_answer(defect: str, document: Any) -> Any:
    if defect == "strip_signatures":
        _walk_parts(document, _strip_signature)
    elif defect == "reencode_images":
        _walk_parts(document, _reencode)
    elif defect == "rewrite_usage":
        _rewrite_usage(document)
    return document


def _change_body(defect: str, body: bytes, content_type: str) -> bytes:
    if defect not in ("strip_signatures", "reencode_images", "rewrite_usage"):
        return body
    if content_type.startswith("text/event-stream"):
        lines = []
        for line in body.decode().split("\r\n" if "\r\n" in body.decode() else "\n"):
            if line.startswith("data: "):
                line = "data: " + json.dumps(_change_answer(defect, json.loads(line[6:])))
            lines.append(line)
        return ("\r\n" if b"\r\n" in body else "\n").join(lines).encode()
    try:
        return json.dumps(_change_answer(defect, json.loads(body))).encode()
    except ValueError:
        return body


def _error(name: str) -> JSONResponse:
    entry = error_catalogue()["errors"][name]
    return JSONResponse({"error": {"code": entry["code"], "message": entry["message"], "status": entry["status"]}},
                        status_code=int(entry["code"]))


def _client_key(request: Request) -> str | None:
    key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
    if key:
        return key
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def create_relay(upstream: str, defect: str = "faithful", *, upstream_key: str = UPSTREAM_KEY,
                 client_key: str = CLIENT_KEY) -> Starlette:
    if defect not in DEFECTS:
        raise ValueError(f"unknown defect {defect!r}; known: {', '.join(DEFECTS)}")
    change_request = _request_change(defect)
    cache: dict[str, tuple[int, bytes, dict[str, str]]] = {}

    async def forward(request: Request) -> Response:
        key = _client_key(request)
        if key is None:
            return _error("api_key_missing")
        if key != client_key and defect != "accept_any_key":
            return _error("api_key_invalid")
        path = request.url.path
        cache_key = path if ":generateContent" in path else ""
        if defect == "cache_by_model" and cache_key in cache:
            status, body, headers = cache[cache_key]
            return Response(body, status, headers)
        raw = await request.body()
        if raw and "/models/" in path and defect in ("drop_unknown_fields", "drop_snake_config", "downgrade_edit_4k"):
            with contextlib.suppress(ValueError):  # malformed JSON is forwarded as it came
                raw = json.dumps(change_request(json.loads(raw))).encode()
        if raw and path.endswith("/interactions") and defect == "interactions_drop_format":
            with contextlib.suppress(ValueError, AttributeError):
                raw = json.dumps({k: v for k, v in json.loads(raw).items() if k != "response_format"}).encode()
        query = httpx.QueryParams([(n, v) for n, v in request.query_params.multi_items() if n != "key"])
        if request.method == "GET" and defect == "drop_get_query":
            query = httpx.QueryParams()
        if request.method == "GET" and defect == "get_on_v1" and path.startswith("/v1beta/"):
            path = "/v1/" + path.removeprefix("/v1beta/")
        headers = {"x-goog-api-key": key if defect == "forward_client_key" else upstream_key}
        # The Files API's resumable upload protocol travels in headers; a Gemini relay passes them on.
        headers |= {name: value for name, value in request.headers.items() if name.startswith("x-goog-upload-")}
        if raw:
            sent_type = request.headers.get("content-type", "application/json")
            headers["content-type"] = "text/plain" if defect == "text_plain_bodies" else sent_type
        attempts = {"retry_then_pass": 3, "retry_for_long": 6}.get(defect, 1)
        async with httpx.AsyncClient(timeout=60) as client:
            for attempt in range(attempts):
                answer = await client.request(request.method, upstream + path, params=query, headers=headers,
                                              content=raw)
                if answer.status_code not in (429, 503) or attempt == attempts - 1:
                    break
                if defect == "retry_for_long":
                    await asyncio.sleep(0.5)
        status, body = answer.status_code, answer.content
        out = {name: value for name, value in answer.headers.items() if name.lower() not in _HOP_BY_HOP}
        content_type = answer.headers.get("content-type", "")
        body = _change_body(defect, body, content_type)
        if defect == "status_503_to_500" and status == 503:
            return _error("internal")
        if defect == "strip_retry_after":
            out.pop("retry-after", None)
        if defect == "leak_upstream_url":
            out["x-upstream"] = upstream + path
        if defect == "foreign_envelope" and status >= 400:
            return JSONResponse({"detail": f"upstream error {status}"}, status_code=status)
        if defect in ("cache_by_model", "stale_answers") and cache_key and status == 200:
            if defect == "stale_answers" and cache_key in cache:
                return Response(cache[cache_key][1], status, out)
            cache[cache_key] = (status, body, out)
        return Response(body, status, out)

    return Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST", "DELETE"])])
