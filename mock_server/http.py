"""Reading requests and writing responses the way Google's front end does."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import Response

from mock_server.auth import authenticate
from mock_server.errors import JSON_CONTENT_TYPE, ApiError
from mock_server.runtime import runtime_of

__all__ = ["API_VERSIONS", "check_version", "json_bytes_response", "read_body", "require_key"]

API_VERSIONS = ("v1beta", "v1", "v1alpha")


def check_version(request: Request) -> str:
    version = str(request.path_params.get("version", ""))
    if version not in API_VERSIONS:
        raise ApiError.named("not_found_path")
    return version


def require_key(request: Request) -> str:
    return authenticate(request.headers, request.query_params, runtime_of(request).settings.api_keys)


async def read_body(request: Request) -> bytes:
    """The whole body, refusing (without buffering it) anything over the size limit."""
    limit = runtime_of(request).settings.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError.named("payload_too_large", limit=limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError.named("payload_too_large", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def json_bytes_response(pieces: Iterable[bytes], status_code: int = 200) -> Response:
    return Response(b"".join(pieces), status_code=status_code, media_type=JSON_CONTENT_TYPE,
                    headers={"vary": "Origin, X-Origin, Referer"})
