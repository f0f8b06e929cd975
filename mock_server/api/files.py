"""The Files API (facts §10): resumable uploads, get / list / delete, and ``fileData.fileUri`` input.

Upload, as google-genai and Google's curl samples do it:
1. ``POST /upload/{version}/files`` with ``X-Goog-Upload-Protocol: resumable``,
   ``X-Goog-Upload-Command: start``, ``X-Goog-Upload-Header-Content-Length/-Type`` and a JSON body
   ``{"file": {...}}`` answers ``200`` with an empty body and ``x-goog-upload-url``.
2. ``POST <upload url>`` with ``X-Goog-Upload-Command: upload`` (``active``) ... then
   ``upload, finalize`` (``final``, body ``{"file": File}``); ``X-Goog-Upload-Offset`` must equal the
   bytes received so far. ``query`` reports ``x-goog-upload-size-received``; ``cancel`` drops it.
   The upload URL is its own credential (the curl sample sends no key), so no API key is needed.
Errors in step 2 carry ``x-goog-upload-status: final`` so the SDK stops instead of retrying.

Files are ``ACTIVE`` at once (images need no processing). Their ``uri`` points at this server;
``fileData.fileUri`` is resolved by the file id, so Google-style URIs and bare ``files/<id>`` work
too. Unknown, deleted and expired files answer Google's 403 ``You do not have permission to access
the File <id> or it may not exist.`` Uploaded files cannot be downloaded (``:download`` answers 400,
as the SDK documents: "Files created by upload can't be downloaded"); files the server made (a batch's
responses file, ``source: GENERATED``) download from ``/{version}/files/{id}:download?alt=media`` and
``/download/{version}/files/{id}:download?alt=media``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.answer.validation import parse_json_body, read_validated
from mock_server.runtime import Runtime, runtime_of
from mock_server.state import state_of
from mock_server.state.file_store import FileStore, new_id
from mock_server.web.errors import ApiError
from mock_server.web.http import check_version, json_response, page_of, read_body, require_key

__all__ = ["install", "resolver", "routes", "store_generated", "store_of"]

_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")
_URI_ID = re.compile(r"(?:^|/)files/([a-z0-9-]+)(?:[?#].*)?$")
_CHUNK_GRANULARITY = 8 * 1024 * 1024
_PAGE_DEFAULT, _PAGE_MAX = 10, 100
_SESSION_SECONDS = 7 * 24 * 3600  # how long an unfinished upload URL stays usable


def store_of(runtime: Runtime) -> FileStore:
    store: FileStore = runtime.extensions["files"]
    return store


def install(runtime: Runtime) -> None:
    """Attach the store and the ``fileData`` resolver that generateContent uses."""
    # --files-dir wins; otherwise files live where the shared state does (memory when unshared).
    backend = None if runtime.settings.files_dir else state_of(runtime).files_backend()
    store = FileStore(runtime.settings, backend=backend)
    runtime.extensions["files"] = store
    runtime.extensions["file_resolver"] = resolver(store)


def resolver(store: FileStore) -> Any:
    def resolve(uri: str) -> tuple[str, bytes]:
        match = _URI_ID.search(uri)
        file_id = match.group(1) if match else uri
        meta = store.get(f"file-{file_id}") if match else None
        if meta is None:
            raise ApiError.named("file_not_found", file=file_id)
        return str(meta["mimeType"]), store.read(f"file-{file_id}")

    return resolve


def _timestamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _resource(meta: dict[str, Any]) -> dict[str, Any]:
    """The File resource as Google renders it (file.schema.json)."""
    resource: dict[str, Any] = {"name": f"files/{meta['id']}"}
    if meta.get("displayName"):
        resource["displayName"] = meta["displayName"]
    resource |= {
        "mimeType": meta["mimeType"], "sizeBytes": str(meta["size"]),
        "createTime": _timestamp(meta["created"]), "updateTime": _timestamp(meta["created"]),
        "expirationTime": _timestamp(meta["expires"]),
        "sha256Hash": base64.b64encode(meta["sha256"].encode()).decode(),  # base64 of the hex digest
        "uri": meta["uri"], "state": "ACTIVE", "source": meta.get("source", "UPLOADED"),
    }
    if meta.get("downloadUri"):
        resource["downloadUri"] = meta["downloadUri"]
    return resource


def _upload_error(name: str, /, **values: Any) -> ApiError:
    error = ApiError.named(name, **values)
    error.headers["x-goog-upload-status"] = "final"
    return error


def _commands(request: Request) -> set[str]:
    raw = request.headers.get("x-goog-upload-command", "")
    return {part.strip().lower() for part in raw.split(",") if part.strip()}


async def _start(request: Request, version: str) -> Response:
    require_key(request)
    store = store_of(runtime_of(request))
    protocol = request.headers.get("x-goog-upload-protocol", "").lower()
    if protocol != "resumable" or _commands(request) != {"start"}:
        raise ApiError.named("upload_protocol", detail="start a resumable upload with X-Goog-Upload-Protocol: "
                             "resumable and X-Goog-Upload-Command: start.")
    document = read_validated(parse_json_body(await read_body(request)), "create_file_request")
    file = document.get("file", {})
    file_id = str(file.get("name", "")).removeprefix("files/") or new_id()
    if not _NAME.match(file_id):
        raise ApiError.named("file_name_invalid", name=file_id)
    if store.get(f"file-{file_id}") is not None:
        raise ApiError.named("file_already_exists", name=f"files/{file_id}")
    declared_text = request.headers.get("x-goog-upload-header-content-length") or str(file.get("sizeBytes", ""))
    declared = int(declared_text) if declared_text.isdigit() else None
    if declared is not None and declared > store.available():
        raise ApiError.named("files_quota", needed=declared, available=store.available(), limit=store.max_bytes)
    upload_id = new_id(32)
    base = str(request.base_url).rstrip("/")
    now = store.now()
    store.put(f"upload-{upload_id}", {
        "id": file_id, "upload": upload_id, "declared": declared, "displayName": file.get("displayName"),
        "mimeType": request.headers.get("x-goog-upload-header-content-type") or file.get("mimeType")
        or "application/octet-stream",
        "uri": f"{base}/{version}/files/{file_id}", "created": now, "expires": now + _SESSION_SECONDS,
    })
    url = f"{base}/upload/{version}/files?upload_id={upload_id}&upload_protocol=resumable"
    return Response(b"", headers={
        "x-goog-upload-url": url, "x-goog-upload-control-url": url, "x-goog-upload-status": "active",
        "x-goog-upload-chunk-granularity": str(_CHUNK_GRANULARITY), "content-type": "text/plain; charset=utf-8",
    })


async def _transfer(request: Request, upload_id: str) -> Response:
    store = store_of(runtime_of(request))
    key = f"upload-{upload_id}"
    session = store.get(key)
    if session is None:
        raise _upload_error("upload_not_found")
    commands = _commands(request)
    received = store.size(key)
    if commands == {"query"}:
        return Response(b"", headers={"x-goog-upload-status": "active", "x-goog-upload-size-received": str(received)})
    if commands == {"cancel"}:
        store.delete(key)
        return Response(b"", headers={"x-goog-upload-status": "cancelled"})
    if not commands or not commands <= {"upload", "finalize"}:
        raise _upload_error("upload_protocol", detail=f"unknown X-Goog-Upload-Command {sorted(commands)}.")
    if "upload" in commands:
        offset_text = request.headers.get("x-goog-upload-offset", "")
        if not offset_text.isdigit() or int(offset_text) != received:
            raise _upload_error("upload_offset", offset=offset_text or "(missing)", received=received)
        data = await read_body(request)
        declared = session.get("declared")
        if declared is not None and received + len(data) > declared:
            raise _upload_error("upload_size", declared=declared, received=received + len(data))
        if len(data) > store.available():
            raise _upload_error("files_quota", needed=len(data), available=store.available(), limit=store.max_bytes)
        store.append(key, data)
        received += len(data)
    if "finalize" not in commands:
        return Response(b"", headers={"x-goog-upload-status": "active", "x-goog-upload-size-received": str(received)})
    declared = session.get("declared")
    if declared is not None and received != declared:
        raise _upload_error("upload_size", declared=declared, received=received)
    if store.get(f"file-{session['id']}") is not None:
        raise _upload_error("file_already_exists", name=f"files/{session['id']}")
    now = store.now()
    meta = {**session, "size": received, "sha256": hashlib.sha256(store.read(key)).hexdigest(),
            "created": now, "expires": now + store.ttl}
    store.put(key, meta)
    store.rename(key, f"file-{session['id']}")
    response = json_response({"file": _resource(meta)})
    response.headers["x-goog-upload-status"] = "final"
    return response


async def upload(request: Request) -> Response:
    version = check_version(request)
    upload_id = request.query_params.get("upload_id")
    if upload_id:
        return await _transfer(request, upload_id)
    return await _start(request, version)


async def list_files(request: Request) -> Response:
    check_version(request)
    require_key(request)
    store = store_of(runtime_of(request))
    files = sorted(store.entries("file-"), key=lambda meta: (-float(meta["created"]), meta["id"]))
    return json_response(page_of(request, files, "files", _PAGE_DEFAULT, _PAGE_MAX, _resource))


async def file_action(request: Request) -> Response:
    check_version(request)
    require_key(request)
    store = store_of(runtime_of(request))
    file_id, _, action = str(request.path_params["target"]).partition(":")
    meta = store.get(f"file-{file_id}")
    if meta is None or action not in ("", "download") or (action and request.method != "GET"):
        raise ApiError.named("file_not_found", file=file_id)
    if action == "download":
        if meta.get("source") != "GENERATED":
            raise ApiError.named("file_not_downloadable")
        return Response(store.read(f"file-{file_id}"), media_type=str(meta["mimeType"]))
    if request.method == "DELETE":
        store.delete(f"file-{file_id}")
        return json_response({})
    return json_response(_resource(meta))


def routes() -> list[Route]:
    return [
        Route("/upload/{version}/files", upload, methods=["POST"]),
        Route("/{version}/files", list_files, methods=["GET"]),
        Route("/{version}/files/{target}", file_action, methods=["GET", "DELETE"]),
        Route("/download/{version}/files/{target}", file_action, methods=["GET"]),
    ]


def store_generated(store: FileStore, data: bytes, mime_type: str, display_name: str, base_url: str,
                    version: str) -> str:
    """Keep server-made bytes (a batch's responses file) as a downloadable File; returns ``files/<id>``."""
    file_id = new_id()
    now = store.now()
    base = base_url.rstrip("/")
    store.put(f"file-{file_id}", {
        "id": file_id, "displayName": display_name, "mimeType": mime_type, "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(), "created": now, "expires": now + store.ttl,
        "uri": f"{base}/{version}/files/{file_id}", "source": "GENERATED",
        "downloadUri": f"{base}/download/{version}/files/{file_id}:download?alt=media",
    })
    store.append(f"file-{file_id}", data)
    return f"files/{file_id}"
