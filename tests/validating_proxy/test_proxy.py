"""The validating proxy in front of a conforming and a deliberately broken upstream."""

from __future__ import annotations

import logging

import httpx
import pytest
from google import genai
from google.genai import types

from mock_server.settings import Settings
from mock_server.testing import serve_asgi_in_thread, serve_in_thread
from tests.support.fake import text_request
from validating_proxy.proxy import create_proxy

CANARY = "CANARY-proxy-90d1c4"
GENERATE = "/v1beta/models/gemini-3.1-flash-image-preview:generateContent"


def _post(base_url: str, path: str, body: object) -> httpx.Response:
    return httpx.post(base_url + path, json=body, headers={"x-goog-api-key": CANARY}, timeout=30)


def test_conforming_upstream_passes_untouched() -> None:
    with serve_in_thread(Settings(port=0)) as upstream, serve_asgi_in_thread(create_proxy(upstream.base_url)) as proxy:
        body = text_request("a quiet harbour", imageSize="512", aspectRatio="4:3")
        direct = _post(upstream.base_url, GENERATE, body)
        relayed = _post(proxy, GENERATE, body)
        assert relayed.headers["x-mock-violations"] == "0"
        assert "responseId" in relayed.json()  # each answer gets a fresh responseId, the rest is equal
        assert {k: v for k, v in relayed.json().items() if k != "responseId"} == \
            {k: v for k, v in direct.json().items() if k != "responseId"}
        sdk = genai.Client(api_key=CANARY, http_options=types.HttpOptions(base_url=proxy, api_version="v1beta"))
        chunks = list(sdk.models.generate_content_stream(model="gemini-3.1-flash-image-preview", contents="a boat"))
        assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
        assert sdk.models.list().page  # GET models through the proxy
        reports = httpx.get(f"{proxy}/_mock/violations").json()["reports"]
        assert reports and all(report["violations"] == [] for report in reports), reports


@pytest.mark.parametrize(("defect", "expected"), [
    ("snake_case_response", "generate_content_response"),
    ("wrong_dimensions", "image_dimensions"),
    ("error_without_envelope", "response: error"),
])
def test_broken_upstream_is_reported_and_bodies_are_untouched(
        defect: str, expected: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="gemini_mock.proxy")
    with serve_in_thread(Settings(port=0, defect=defect)) as upstream, \
            serve_asgi_in_thread(create_proxy(upstream.base_url)) as proxy:
        body = text_request(f"a lighthouse {CANARY}", imageSize="512")
        if defect == "error_without_envelope":
            body = text_request("x", aspectRatio="7:3")
        relayed = _post(proxy, GENERATE, body)
        direct = _post(upstream.base_url, GENERATE, body)
        assert relayed.status_code == direct.status_code
        if defect != "snake_case_response":  # bodies carry a fresh responseId per answer
            assert len(relayed.content) == len(direct.content)
        violations = relayed.headers.get_list("x-mock-violation")
        assert int(relayed.headers["x-mock-violations"]) >= 1
        assert any(expected in text for text in violations), violations
        report = httpx.get(f"{proxy}/_mock/violations").json()
    assert CANARY not in str(report) and CANARY not in caplog.text and CANARY not in str(relayed.headers)
    assert any(expected in record.getMessage() for record in caplog.records)


def test_request_violations_and_binary_bodies_pass_through() -> None:
    with serve_in_thread(Settings(port=0)) as upstream, serve_asgi_in_thread(create_proxy(upstream.base_url)) as proxy:
        bad = {"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"imageConfig": {"outputMimeType": "png"}}}
        relayed = _post(proxy, GENERATE, bad)
        assert relayed.status_code == 400
        assert any("outputMimeType" in text for text in relayed.headers.get_list("x-mock-violation"))
        garbage = bytes(range(256)) * 4
        answer = httpx.post(proxy + GENERATE, content=garbage, headers={"x-goog-api-key": CANARY}, timeout=30)
        direct = httpx.post(upstream.base_url + GENERATE, content=garbage, headers={"x-goog-api-key": CANARY})
        assert answer.status_code == direct.status_code == 400 and answer.content == direct.content


def test_unreachable_upstream_is_a_502_envelope() -> None:
    with serve_asgi_in_thread(create_proxy("http://127.0.0.1:9")) as proxy:
        response = _post(proxy, GENERATE, text_request("x"))
    assert response.status_code == 502 and response.json()["error"]["status"] == "UNAVAILABLE"
