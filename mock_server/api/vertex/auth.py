"""Vertex AI's versions and credentials, shared by its publisher-model and Interactions paths.

An ``Authorization: Bearer`` token is an OAuth access token the fake cannot verify, so any non-empty
one is accepted; an API key (``x-goog-api-key`` or ``?key=``, express mode) is checked like on the
Gemini API; none at all is Vertex's 401.
"""

from __future__ import annotations

from starlette.requests import Request

from mock_server.runtime import runtime_of
from mock_server.web.auth import authenticate
from mock_server.web.errors import ApiError
from schemas.wire.redaction import extract_api_key

__all__ = ["VERTEX_VERSIONS", "authenticate_vertex"]

VERTEX_VERSIONS = ("v1", "v1beta1")


def authenticate_vertex(request: Request) -> None:
    found = extract_api_key(request.headers, request.query_params)
    if found is None:
        raise ApiError.named("vertex_unauthenticated")
    if found[1] != "bearer":  # express mode: a real API key, checked as the Gemini API checks it
        authenticate(request.headers, request.query_params, runtime_of(request).settings.api_keys)
