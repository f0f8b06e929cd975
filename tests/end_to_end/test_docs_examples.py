"""The API documents' own curl samples (fixtures/docs), sent with curl itself and with plain HTTP."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess

import httpx
import pytest
from PIL import Image

from mock_server.testing import RunningServer
from schemas import validator
from tests.support.paths import REPO

DOCS = REPO / "fixtures" / "docs"
PRO = "gemini-3-pro-image-preview"


def curl(server: RunningServer, model: str, body: str, *headers: str) -> tuple[int, dict[str, object]]:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    command = ["curl", "-sS", "-X", "POST", f"{server.base_url}/v1beta/models/{model}:generateContent",
               "-H", "Content-Type: application/json", "-w", "\n%{http_code}", "-d", "@-"]
    for header in headers:
        command += ["-H", header]
    done = subprocess.run(command, input=body.encode(), capture_output=True, check=True, timeout=60)
    text, _, code = done.stdout.decode().rpartition("\n")
    return int(code), json.loads(text)


def only_image(document: dict[str, object]) -> Image.Image:
    validator("generate_content_response").validate(document)
    parts = document["candidates"][0]["content"]["parts"]  # type: ignore[index]
    (data,) = [part["inlineData"]["data"] for part in parts if "inlineData" in part]
    return Image.open(io.BytesIO(base64.b64decode(data)))


def test_poster_4k_with_bearer_auth(live_server: RunningServer) -> None:
    code, document = curl(live_server, PRO, (DOCS / "tokaify_poster_4k.json").read_text(),
                          "Authorization: Bearer sk-docs-example")
    assert code == 200
    assert only_image(document).size == (5504, 3072)


def test_text_poem_with_max_output_tokens_100000(live_server: RunningServer) -> None:
    code, document = curl(live_server, PRO, (DOCS / "tokaify_text_poem.json").read_text(),
                          "x-goog-api-key: docs-key")
    assert code == 200, document
    validator("generate_content_response").validate(document)


def test_multimodal_input_with_bearer(live_server: RunningServer) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 60, 30)).save(buffer, "JPEG")
    body = (DOCS / "agcloud_multimodal.json").read_text().replace(
        "@JPEG_BASE64@", base64.b64encode(buffer.getvalue()).decode())
    code, document = curl(live_server, PRO, body, "Authorization: Bearer sk-xxxxxx")
    assert code == 200
    assert only_image(document).size == (1200, 896)  # 4:3 inferred from the 640x480 input


def test_image_config_and_half_k_with_plain_http(live_server: RunningServer) -> None:
    for model, name, expected in [(PRO, "agcloud_image_config.json", (1024, 1024)),
                                  ("gemini-3.1-flash-image-preview", "agcloud_half_k.json", (192, 1536))]:
        response = httpx.post(f"{live_server.base_url}/v1beta/models/{model}:generateContent",
                              content=(DOCS / name).read_bytes(),
                              headers={"content-type": "application/json", "x-goog-api-key": "k"}, timeout=60)
        assert response.status_code == 200
        assert only_image(response.json()).size == expected


def test_curl_without_a_key_gets_403(live_server: RunningServer) -> None:
    code, document = curl(live_server, PRO, (DOCS / "tokaify_poster_4k.json").read_text())
    assert code == 403 and document["error"]["status"] == "PERMISSION_DENIED"  # type: ignore[index]
