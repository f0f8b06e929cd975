"""Files API: the resumable upload protocol, get/list/delete, limits, and fileData in prompts."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from google import genai
from google.genai import errors, types

from mock_server.settings import Settings
from mock_server.testing import RunningServer
from schemas import validator
from tests.support.fake import API_KEY, InProcess, error_of, images_in, png_bytes

KEY = {"x-goog-api-key": API_KEY}
MODEL = "gemini-2.5-flash-image"


def start(fake: InProcess, size: int | None, mime: str = "image/png", body: Any = None,
          headers: dict[str, str] | None = None) -> httpx.Response:
    sent = {**KEY, "X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start",
            "X-Goog-Upload-Header-Content-Type": mime, **(headers or {})}
    if size is not None:
        sent["X-Goog-Upload-Header-Content-Length"] = str(size)
    return fake.request("POST", "/upload/v1beta/files", json=body if body is not None else
                        {"file": {"display_name": "test image"}}, headers=sent)


def send(fake: InProcess, url: str, data: bytes, offset: int, command: str) -> httpx.Response:
    path = url.split("//", 1)[1].split("/", 1)[1]  # relative to the in-process app
    return fake.request("POST", "/" + path, content=data,
                        headers={"X-Goog-Upload-Command": command, "X-Goog-Upload-Offset": str(offset)})


def upload(fake: InProcess, data: bytes, mime: str = "image/png") -> dict[str, Any]:
    url = start(fake, len(data), mime).headers["x-goog-upload-url"]
    final = send(fake, url, data, 0, "upload, finalize")
    assert final.status_code == 200 and final.headers["x-goog-upload-status"] == "final", final.text
    file: dict[str, Any] = final.json()["file"]
    return file


def file_prompt(file: dict[str, Any], text: str = "make it blue") -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [
        {"file_data": {"mime_type": file["mimeType"], "file_uri": file["uri"]}}, {"text": text}]}]}


def test_chunked_resumable_upload(fake: InProcess) -> None:
    data = png_bytes(120, 80)
    started = start(fake, len(data))
    assert started.status_code == 200 and started.headers["x-goog-upload-status"] == "active"
    url = started.headers["x-goog-upload-url"]
    first = send(fake, url, data[:100], 0, "upload")
    assert first.headers["x-goog-upload-status"] == "active" and first.content == b""
    wrong = send(fake, url, data[100:], 50, "upload")
    assert wrong.status_code == 400 and wrong.headers["x-goog-upload-status"] == "final"
    assert "offset" in error_of(wrong)["message"]
    assert send(fake, url, b"", 0, "query").headers["x-goog-upload-size-received"] == "100"
    assert send(fake, url, data[100:200], 100, "upload").status_code == 200
    final = send(fake, url, data[200:], 200, "upload, finalize")
    file = final.json()["file"]
    assert not list(validator("file").iter_errors(file))
    assert (file["displayName"], file["mimeType"], file["sizeBytes"], file["state"], file["source"]) == \
        ("test image", "image/png", str(len(data)), "ACTIVE", "UPLOADED")
    assert base64.b64decode(file["sha256Hash"]).decode() == hashlib.sha256(data).hexdigest()
    assert send(fake, url, b"", 0, "query").status_code == 404, "a finalized session is gone"


def test_get_list_delete_and_use_in_a_prompt(fake: InProcess) -> None:
    file = upload(fake, png_bytes(90, 60))
    file_id = file["name"].removeprefix("files/")
    assert fake.request("GET", f"/v1beta/{file['name']}", headers=KEY).json() == file
    listed = fake.request("GET", "/v1beta/files", headers=KEY).json()
    assert not list(validator("list_files").iter_errors(listed)) and listed["files"] == [file]
    response = fake.generate(MODEL, file_prompt(file))
    assert response.status_code == 200, response.text
    assert images_in(response.json())[0].size == (1248, 832), "3:2 inferred from the 90x60 upload"
    assert fake.request("DELETE", f"/v1beta/{file['name']}", headers=KEY).json() == {}
    gone = error_of(fake.generate(MODEL, file_prompt(file)))
    assert (gone["code"], gone["status"]) == (403, "PERMISSION_DENIED")
    assert gone["message"] == f"You do not have permission to access the File {file_id} or it may not exist."
    assert fake.request("GET", f"/v1beta/{file['name']}", headers=KEY).status_code == 403
    assert fake.request("GET", "/v1beta/files", headers=KEY).json() == {}


def test_unknown_file_uri_in_a_prompt(fake: InProcess) -> None:
    fake_file = {"mimeType": "image/png", "uri": "https://generativelanguage.googleapis.com/v1beta/files/nosuch1"}
    assert "File nosuch1 " in error_of(fake.generate(MODEL, file_prompt(fake_file)))["message"]


def test_uploaded_non_image_is_refused_as_input(fake: InProcess) -> None:
    file = upload(fake, b"just some text", mime="text/plain")
    assert error_of(fake.generate(MODEL, file_prompt(file)))["message"] == "Unsupported MIME type: text/plain"


def test_list_pagination(fake: InProcess) -> None:
    names = {upload(fake, png_bytes(10 + i, 10))["name"] for i in range(3)}
    seen: set[str] = set()
    token = ""
    for _ in range(3):
        page = fake.request("GET", f"/v1beta/files?pageSize=2&pageToken={token}", headers=KEY).json()
        seen |= {file["name"] for file in page["files"]}
        token = page.get("nextPageToken", "")
        if not token:
            break
    assert seen == names and not token
    assert fake.request("GET", "/v1beta/files?pageToken=%%%", headers=KEY).status_code == 400
    # Paging reads like ListModels: a non-integer pageSize is Google's INVALID_ARGUMENT, not ignored.
    bad_size = fake.request("GET", "/v1beta/files?pageSize=many", headers=KEY)
    assert bad_size.status_code == 400 and error_of(bad_size)["status"] == "INVALID_ARGUMENT"


def test_protocol_errors(fake: InProcess) -> None:
    assert start(fake, 10, headers={"X-Goog-Upload-Protocol": "multipart"}).status_code == 400
    unknown_field = error_of(start(fake, 10, body={"file": {"colour": "red"}}))
    assert unknown_field["message"] == \
        'Invalid JSON payload received. Unknown name "colour" at \'file\': Cannot find field.'
    assert start(fake, 10, body={"file": {"name": "files/Bad_Name"}}).status_code == 400
    named = upload_named(fake, "my-image")
    assert named["name"] == "files/my-image"
    duplicate = start(fake, 10, body={"file": {"name": "files/my-image"}})
    assert (duplicate.status_code, error_of(duplicate)["status"]) == (409, "ALREADY_EXISTS")
    no_key = fake.request("POST", "/upload/v1beta/files", json={}, headers={"X-Goog-Upload-Protocol": "resumable",
                                                                              "X-Goog-Upload-Command": "start"})
    assert no_key.status_code == 403
    missing = fake.request("POST", "/upload/v1beta/files?upload_id=nope", content=b"x",
                           headers={"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "0"})
    assert missing.status_code == 404 and missing.headers["x-goog-upload-status"] == "final"
    url = start(fake, 10).headers["x-goog-upload-url"]
    short = send(fake, url, b"12345", 0, "upload, finalize")
    assert short.status_code == 400 and "10 bytes were declared" in error_of(short)["message"]
    download = fake.request("GET", f"/v1beta/{named['name']}:download?alt=media", headers=KEY)
    assert download.status_code == 400 and "uploaded files can not be downloaded" in error_of(download)["message"]


def upload_named(fake: InProcess, name: str) -> dict[str, Any]:
    data = png_bytes()
    url = start(fake, len(data), body={"file": {"name": name}}).headers["x-goog-upload-url"]
    file: dict[str, Any] = send(fake, url, data, 0, "upload, finalize").json()["file"]
    return file


def test_byte_limit_covers_uploads_in_progress() -> None:
    fake = InProcess(Settings(files_max_bytes=1000))
    too_big = start(fake, 2000)
    assert (too_big.status_code, error_of(too_big)["status"]) == (429, "RESOURCE_EXHAUSTED")
    url = start(fake, None).headers["x-goog-upload-url"]  # length not declared: checked per chunk
    assert send(fake, url, b"x" * 900, 0, "upload").status_code == 200
    assert send(fake, url, b"x" * 200, 900, "upload").status_code == 429
    assert send(fake, url, b"", 0, "cancel").headers["x-goog-upload-status"] == "cancelled"
    assert start(fake, 1000).status_code == 200, "cancelling freed the bytes"


def test_expired_files_are_gone() -> None:
    fake = InProcess(Settings(files_ttl_seconds=0))
    file = upload(fake, png_bytes())
    assert fake.request("GET", f"/v1beta/{file['name']}", headers=KEY).status_code == 403


def test_directory_store_is_shared_between_workers(tmp_path: Path) -> None:
    settings = Settings(files_dir=str(tmp_path))
    one, two = InProcess(settings), InProcess(settings)  # two processes' apps, one directory
    file = upload(one, png_bytes(64, 64))
    assert two.generate(MODEL, file_prompt(file)).status_code == 200
    assert two.request("DELETE", f"/v1beta/{file['name']}", headers=KEY).status_code == 200
    assert one.generate(MODEL, file_prompt(file)).status_code == 403
    assert list(tmp_path.iterdir()) == []


def test_sdk_upload_then_prompt(live_server: RunningServer) -> None:
    client = genai.Client(api_key=API_KEY, http_options=types.HttpOptions(base_url=live_server.base_url,
                                                                          api_version="v1beta"))
    uploaded = client.files.upload(file=io.BytesIO(png_bytes(64, 64)),
                                   config=types.UploadFileConfig(mime_type="image/png", display_name="red"))
    assert uploaded.state == types.FileState.ACTIVE and uploaded.size_bytes == len(png_bytes(64, 64))
    assert client.files.get(name=uploaded.name).uri == uploaded.uri  # type: ignore[arg-type]
    assert uploaded.name in [f.name for f in client.files.list()]
    response = client.models.generate_content(model="gemini-3-pro-image-preview", contents=[
        types.Part.from_uri(file_uri=uploaded.uri, mime_type="image/png"), "make it blue"])  # type: ignore[arg-type]
    assert "edited" in (response.text or "")
    client.files.delete(name=uploaded.name)  # type: ignore[arg-type]
    with pytest.raises(errors.ClientError) as raised:
        client.files.get(name=uploaded.name)  # type: ignore[arg-type]
    assert raised.value.code == 403
