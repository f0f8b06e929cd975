"""Record against the fake as upstream, then replay with the upstream stopped: identical answers."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest
from google import genai
from google.genai import types

from mock_server.instrument.cassettes import CassetteStore, SecretLeak, canonical_request
from mock_server.instrument.recording import create_recorder
from mock_server.settings import Settings
from mock_server.testing import serve_asgi_in_thread, serve_in_thread
from tests.support.fake import text_request

CANARY = "CANARY-cassette-5b1e20"
PRO = "gemini-3-pro-image-preview"


def _exchange(base_url: str, path: str, body: dict | None = None, **headers: str) -> httpx.Response:
    all_headers = {"x-goog-api-key": CANARY, **headers}
    if body is None:
        return httpx.get(base_url + path, headers=all_headers, timeout=30)
    return httpx.post(base_url + path, json=body, headers=all_headers, timeout=30)


def test_record_then_replay_with_upstream_stopped(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    body = text_request(f"a lighthouse, key {CANARY}", imageSize="1K")
    requests = [
        ("/v1beta/models/gemini-3-pro-image-preview:generateContent", body, {}),
        ("/v1beta/models/gemini-3.1-flash-image-preview:streamGenerateContent?alt=sse",
         text_request("a boat", imageSize="512"), {}),
        ("/v1beta/models/gemini-3-pro-image-preview:generateContent", text_request("blocked"),
         {"X-Mock-Scenario": "image_safety"}),
        ("/v1beta/models/gemini-3-pro-image-preview:generateContent", text_request("busy"),
         {"X-Mock-Scenario": "overloaded"}),
        ("/v1beta/models", None, {}),
    ]
    recorded = []
    with serve_in_thread(Settings(port=0)) as upstream, \
            serve_asgi_in_thread(create_recorder(upstream.base_url, str(cassettes))) as recorder:
        for path, request_body, headers in requests:
            recorded.append(_exchange(recorder, path, request_body, **headers))
        sdk = genai.Client(api_key=CANARY, http_options=types.HttpOptions(base_url=recorder, api_version="v1beta"))
        sdk_answer = sdk.models.generate_content(model=PRO, contents="via the sdk")
        state = httpx.get(f"{recorder}/_mock/recorder").json()
        assert state["refused"] == [] and len(state["written"]) == len(requests) + 1

    # Small, diffable cassettes; images as content-addressed files; no key anywhere.
    blobs = list((cassettes / "blobs").iterdir())
    assert blobs and all(len(b.stem) == 64 for b in blobs)
    for file in cassettes.rglob("*"):
        if file.is_file():
            assert CANARY.encode() not in file.read_bytes(), file
    first = json.loads(next(cassettes.glob("generateContent-*.json")).read_text())
    assert first["request"]["path"].startswith("/v1beta/models/")
    assert max(len(f.read_bytes()) for f in cassettes.glob("*.json")) < 20_000

    # Replay: the upstream is gone; answers are byte-identical, whatever the casing or key spelling.
    with serve_in_thread(Settings(port=0, replay_dir=str(cassettes), replay_miss="error")) as replay:
        for (path, request_body, headers), original in zip(requests, recorded, strict=True):
            again = _exchange(replay.base_url, path, request_body, **headers)
            assert again.status_code == original.status_code
            if original.status_code == 200 or "error" in original.text:
                assert again.content == original.content.replace(CANARY.encode(), b"[REDACTED]")
            assert again.headers["content-type"] == original.headers["content-type"]
        snake = {"contents": [{"role": "user", "parts": [{"text": f"a lighthouse, key {CANARY}"}]}],
                 "generation_config": {"image_config": {"image_size": "1K"}}}
        query_key = httpx.post(f"{replay.base_url}{requests[0][0]}?key={CANARY}", json=snake, timeout=30)
        assert query_key.content == recorded[0].content.replace(CANARY.encode(), b"[REDACTED]")
        sdk = genai.Client(api_key="other-sdk-key", http_options=types.HttpOptions(base_url=replay.base_url,
                                                                       api_version="v1beta"))
        replayed = sdk.models.generate_content(model=PRO, contents="via the sdk")
        assert replayed.candidates == sdk_answer.candidates
        assert replayed.response_id == sdk_answer.response_id
        assert any(part.inline_data for part in replayed.candidates[0].content.parts)
        miss = _exchange(replay.base_url, requests[0][0], text_request("never recorded"))
        assert miss.status_code == 404 and miss.json()["error"]["status"] == "NOT_FOUND"
        journal = httpx.get(f"{replay.base_url}/_mock/requests").text
        assert CANARY not in journal


def test_canonical_form_ignores_key_casing_and_base64_flavour() -> None:
    png = base64.b64encode(b"\x89PNG" + bytes(range(256)) * 2)
    camel = {"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": png.decode()}}]}]}
    snake = {"contents": [{"parts": [{"inline_data": {"mime_type": "image/png",
                                                      "data": base64.urlsafe_b64encode(base64.b64decode(png))
                                                      .decode().rstrip("=")}}]}]}
    a = canonical_request("POST", "/v1beta/models/m:generateContent", "", {"x-goog-api-key": "one"},
                          json.dumps(camel).encode())
    b = canonical_request("post", "/v1beta/models/m:generateContent", "key=two", {}, json.dumps(snake).encode())
    assert a == b


def test_a_cassette_still_holding_the_key_is_refused(tmp_path: Path) -> None:
    store = CassetteStore(tmp_path)
    image = b"\x89PNG" + CANARY.encode() * 40  # the key inside an image survives text redaction
    body = json.dumps({"candidates": [{"content": {"parts": [{"inlineData": {
        "mimeType": "image/png", "data": base64.b64encode(image).decode()}}]}}]}).encode()
    canonical = canonical_request("POST", "/v1beta/models/m:generateContent", "", {}, b"{}")
    with pytest.raises(SecretLeak):
        store.write(canonical, 200, [("content-type", "application/json")], body, [CANARY])
    assert list(tmp_path.iterdir()) == []
    # The same body without the key inside the image is written, with the text key redacted.
    clean = body.replace(base64.b64encode(image), base64.b64encode(b"\x89PNG" + bytes(300)))
    path = store.write(canonical, 200, [], clean + CANARY.encode(), [CANARY])
    assert CANARY not in path.read_text()
