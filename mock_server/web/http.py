"""Reading requests and writing responses the way Google's front end does."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mock_server.settings import settings_of
from mock_server.web.auth import authenticate
from mock_server.web.errors import ApiError, raw_json_headers

__all__ = [
    "API_VERSIONS", "COALESCE_BELOW", "REQUEST_KEY", "PiecesResponse", "action_of", "check_version", "coalesced",
    "json_bytes_response", "json_response", "model_and_action", "next_page_token", "page_of", "page_request",
    "pretty_json", "read_body", "request_key", "require_key", "send_pieces",
]

API_VERSIONS = ("v1beta", "v1", "v1alpha")


REQUEST_KEY = "gemini_mock.request"  # scope key: the request's identity, set by the front (web/front.py)


def request_key(scope: Scope, body: bytes) -> tuple[Any, ...]:
    """What identifies a request's bytes: method, path, query, headers and body. The front computes it once
    for a body it reads ahead and leaves it in the scope under ``REQUEST_KEY`` for whoever keys by it
    (remembered answers, the journal's summaries)."""
    return scope["method"], scope["path"], scope.get("query_string", b""), tuple(scope["headers"]), body


def model_and_action(path: str) -> tuple[str | None, str | None]:
    """(model, action) from ``/{version}/models/{model}:{action}``; None where the path has none."""
    _, marker, rest = path.partition("/models/")
    if not marker:
        return None, None
    model, _, action = rest.partition(":")
    return model.removeprefix("models/") or None, action or None


_ID = r"[^/:]+"
# The Gemini API's /{version}/interactions and Vertex AI's, under a project and location or a location.
_INTERACTIONS = rf"/[^/]+(?:/projects/{_ID})?(?:/locations/{_ID})?/interactions"
# Vertex AI's publisher models, under a project and location or not.
_PUBLISHERS = rf"/[^/]+(?:/projects/{_ID}/locations/{_ID})?/publishers/{_ID}/models"
_PREDICTION_JOBS = rf"/[^/]+/projects/{_ID}/locations/{_ID}/batchPredictionJobs"  # batch on Vertex AI
# Google's RPC method names (``resource.method``, as its REST reference titles them: ``files.get``,
# ``batches.cancel``, ``interactions.create`` ...); the segment after ``/upload`` or ``/download`` and
# the version is any one segment, so that the name depends on the method and path alone.
_ROUTE_ACTIONS: dict[str, list[tuple[re.Pattern[str], str]]] = {}
for _method, _pattern, _name in (
    ("GET", r"/[^/]+/models", "models.list"),
    ("GET", rf"/[^/]+/models/(?:models/)?{_ID}", "models.get"),
    ("POST", r"/upload/[^/]+/files", "media.upload"),
    ("GET", r"/[^/]+/files", "files.list"),
    ("GET", rf"(?:/download)?/[^/]+/files/{_ID}", "files.get"),
    ("DELETE", rf"/[^/]+/files/{_ID}", "files.delete"),
    ("GET", rf"(?:/download)?/[^/]+/files/{_ID}:download", "files.download"),
    ("GET", r"/[^/]+/batches", "batches.list"),
    ("GET", rf"/[^/]+/batches/{_ID}", "batches.get"),
    ("DELETE", rf"/[^/]+/batches/{_ID}", "batches.delete"),
    ("POST", rf"/[^/]+/batches/{_ID}:cancel", "batches.cancel"),
    # Vertex AI's models.get/list (Model Garden publisher models; a project's own models) and the
    # methods of its discovery document (before the generic get, which would take "{id}:poll").
    ("GET", rf"{_PUBLISHERS}", "models.list"),
    ("GET", rf"{_PUBLISHERS}/{_ID}", "models.get"),
    ("GET", rf"/[^/]+/projects/{_ID}/locations/{_ID}/models", "models.list"),
    ("POST", rf"{_INTERACTIONS}:create", "interactions.create"),
    ("POST", rf"{_INTERACTIONS}:createStream", "interactions.createStream"),
    ("POST", rf"{_INTERACTIONS}Http", "interactionsHttp.create"),
    ("GET", rf"{_INTERACTIONS}/{_ID}:poll", "interactions.getPoll"),
    ("GET", rf"{_INTERACTIONS}/{_ID}:stream", "interactions.getStream"),
    ("POST", rf"{_INTERACTIONS}/{_ID}:cancel", "interactions.cancel"),
    ("POST", rf"{_INTERACTIONS}", "interactions.create"),
    ("GET", rf"{_INTERACTIONS}/[^/]+", "interactions.get"),
    ("DELETE", rf"{_INTERACTIONS}/[^/]+", "interactions.delete"),
    ("POST", rf"{_INTERACTIONS}/[^/]+/cancel", "interactions.cancel"),
    ("POST", r"/(?!_mock/)[^/]+/webhooks", "webhooks.create"),
    ("GET", r"/(?!_mock/)[^/]+/webhooks", "webhooks.list"),
    ("GET", rf"/(?!_mock/)[^/]+/webhooks/{_ID}", "webhooks.get"),
    ("PATCH", rf"/(?!_mock/)[^/]+/webhooks/{_ID}", "webhooks.update"),
    ("DELETE", rf"/(?!_mock/)[^/]+/webhooks/{_ID}", "webhooks.delete"),
    ("POST", rf"/(?!_mock/)[^/]+/webhooks/{_ID}:ping", "webhooks.ping"),
    ("POST", rf"/(?!_mock/)[^/]+/webhooks/{_ID}:rotateSigningSecret", "webhooks.rotateSigningSecret"),
    ("GET", r"/\.well-known/jwks\.json", "webhooks.jwks"),
    ("POST", _PREDICTION_JOBS, "batchPredictionJobs.create"),
    ("GET", _PREDICTION_JOBS, "batchPredictionJobs.list"),
    ("GET", rf"{_PREDICTION_JOBS}/{_ID}", "batchPredictionJobs.get"),
    ("DELETE", rf"{_PREDICTION_JOBS}/{_ID}", "batchPredictionJobs.delete"),
    ("POST", rf"{_PREDICTION_JOBS}/{_ID}:cancel", "batchPredictionJobs.cancel"),
):
    _ROUTE_ACTIONS.setdefault(_method, []).append((re.compile(_pattern), _name))


def action_of(method: str, path: str) -> str | None:
    """The action a request asks for, named from its method and path alone (docs/journal.md): the
    ``{action}`` of ``models/{model}:{action}`` (``generateContent``, also on Vertex's publisher paths),
    else Google's RPC method name of the route (``models.list``, ``files.get``, ``media.upload``,
    ``batches.cancel``, ``interactions.create`` ...); None for a path the fake does not serve."""
    for pattern, name in _ROUTE_ACTIONS.get(method, ()):
        if pattern.fullmatch(path):
            return name
    return model_and_action(path)[1]


def check_version(request: Request) -> str:
    version = str(request.path_params.get("version", ""))
    if version not in API_VERSIONS:
        raise ApiError.named("not_found_path")
    return version


def require_key(request: Request) -> str:
    # Most requests carry no query string: don't build (and parse) an empty one.
    query: Mapping[str, str] = request.query_params if request.scope.get("query_string") else {}
    return authenticate(request.headers, query, settings_of(request).api_keys)


async def read_body(request: Request) -> bytes:
    """The whole body, refusing (without buffering it) anything over the size limit."""
    body: bytes | None = request.__dict__.get("_body")  # read before (Starlette keeps it there too);
    if body is not None:  # hasattr() would raise and catch an AttributeError on every first read
        return body
    limit = settings_of(request).max_body_bytes
    chunks: list[bytes] = []
    size = 0
    # Straight from receive, not through Request.stream(): one await per message, no generator.
    while True:
        message = await request.receive()
        if message["type"] != "http.request":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise ApiError.named("payload_too_large", limit=limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
        if len(chunks) == 1:  # more to come: a declared length over the limit is refused before it is read
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise ApiError.named("payload_too_large", limit=limit)
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    request._body = body  # what Request.body() and Request.stream() return from now on
    return body


COALESCE_BELOW = 64 * 1024


def coalesced(pieces: list[bytes]) -> list[bytes]:
    """Small neighbouring pieces joined: copying a few KB is cheaper than another ASGI message and
    another write to the socket; large pieces (image base64) go as they are, never copied."""
    if sum(map(len, pieces)) < COALESCE_BELOW:
        return [b"".join(pieces)]
    out: list[bytes] = []
    small: list[bytes] = []
    for piece in pieces:
        if len(piece) >= COALESCE_BELOW:
            if small:
                out.append(b"".join(small))
                small = []
            out.append(piece)
        elif piece:
            small.append(piece)
    if small:
        out.append(b"".join(small))
    return out


class PiecesResponse(Response):
    """A response whose body is sent as the pieces it was built from: megabytes of image base64
    go to the socket without first being copied into one joined buffer."""

    def __init__(self, pieces: Iterable[bytes], status_code: int = 200, headers: dict[str, str] | None = None) -> None:
        self.pieces = coalesced(list(pieces))
        self.status_code = status_code
        self.background = None
        self.body = b""
        self.raw_headers = raw_json_headers(sum(map(len, self.pieces)), headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_pieces(send, self.status_code, self.raw_headers, self.pieces)

    @property
    def content(self) -> bytes:
        """The whole body (for code that inspects a response in-process)."""
        return b"".join(self.pieces)


async def send_pieces(send: Send, status: int, headers: list[tuple[bytes, bytes]], pieces: list[bytes]) -> None:
    """An answer whose body goes out as ``pieces``, one ASGI message each."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    last = len(pieces) - 1
    for index, piece in enumerate(pieces):
        await send({"type": "http.response.body", "body": piece, "more_body": index < last})
    if not pieces:
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def json_bytes_response(pieces: Iterable[bytes], status_code: int = 200,
                        headers: dict[str, str] | None = None) -> Response:
    """A pretty-printed JSON body, ended by a newline as every Google JSON body is (obs. 1)."""
    return PiecesResponse([*pieces, b"\n"], status_code=status_code, headers=headers)


def pretty_json(document: Any) -> bytes:
    """A JSON document pretty-printed with two-space indentation, as Google's front end prints it
    (the pure-Python encoder: worth remembering for an answer given again)."""
    return json.dumps(document, indent=2, ensure_ascii=False).encode()


def json_response(document: Any) -> Response:
    """A small JSON document, pretty-printed as Google's front end does."""
    return json_bytes_response([pretty_json(document)])


def page_request(request: Request, default_size: int, max_size: int) -> tuple[int, int]:
    """(offset, size) from ``pageToken`` and ``pageSize`` (either spelling); 400 for bad values."""
    raw_size = request.query_params.get("pageSize") or request.query_params.get("page_size") or ""
    try:
        size = int(raw_size) if raw_size else default_size
    except ValueError as exc:
        raise ApiError.named("invalid_value", path="page_size", type="TYPE_INT32", value=f'"{raw_size}"') from exc
    size = default_size if size <= 0 else min(size, max_size)
    token = request.query_params.get("pageToken") or request.query_params.get("page_token") or ""
    if not token:
        return 0, size
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["o"]
    except Exception as exc:  # any undecodable token is the caller's mistake
        raise ApiError.named("invalid_page_token") from exc
    if not isinstance(offset, int) or offset < 0:
        raise ApiError.named("invalid_page_token")
    return offset, size


def page_of(request: Request, items: Sequence[Any], key: str, default_size: int, max_size: int,
            render: Callable[[Any], Any] = lambda item: item) -> dict[str, Any]:
    """The requested page of ``items`` under ``key`` (absent when empty, as proto3 JSON omits it) and the
    ``nextPageToken`` of the rest; only the page's items are rendered."""
    start, size = page_request(request, default_size, max_size)
    return page_body(items, start, size, key, render)


def page_body(items: Sequence[Any], start: int, size: int, key: str,
              render: Callable[[Any], Any] = lambda item: item,
              token_key: str = "nextPageToken") -> dict[str, Any]:
    """``items[start:start + size]`` rendered under ``key`` (absent when empty) and the token of the rest
    under ``token_key`` (snake_case on the Webhooks API)."""
    page: dict[str, Any] = {}
    if items[start:start + size]:
        page[key] = [render(item) for item in items[start:start + size]]
    if start + size < len(items):
        page[token_key] = next_page_token(start + size)
    return page


def next_page_token(offset: int) -> str:
    """The opaque token ``page_request`` reads back as ``offset``."""
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()
