"""The validating proxy judges a non-streamed answer that arrives chunked, without Content-Length.

Google's front end sends large generateContent bodies with ``Transfer-Encoding: chunked`` (obs. 30):
the proxy relays such an answer as it arrives, but it is still one JSON document, to be judged whole.
"""

from __future__ import annotations

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.app import create_app
from mock_server.settings import Settings
from mock_server.testing import serve_asgi_in_thread
from tests.support.fake import text_request
from validating_proxy.proxy import create_proxy

GENERATE = "/v1beta/models/gemini-3.1-flash-image-preview:generateContent"


def chunked(app: ASGIApp) -> ASGIApp:
    """``app`` with every response re-sent without Content-Length, in 4 KiB pieces."""
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        start: Message = {}
        body: list[bytes] = []

        async def collect(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            else:
                body.append(message.get("body", b""))

        await app(scope, receive, collect)
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        await send(start | {"headers": headers})
        data = b"".join(body)
        for offset in range(0, len(data), 4096):
            await send({"type": "http.response.body", "body": data[offset:offset + 4096], "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    return wrapped


@pytest.mark.parametrize(("defect", "expected"), [(None, None), ("wrong_dimensions", "image_dimensions"),
                                                  ("snake_case_response", "generate_content_response")])
def test_chunked_generate_content_is_judged(defect: str | None, expected: str | None) -> None:
    upstream_app = chunked(create_app(Settings(port=0, defect=defect)))
    with serve_asgi_in_thread(upstream_app) as upstream, serve_asgi_in_thread(create_proxy(upstream)) as proxy:
        httpx.delete(f"{proxy}/_mock/violations")
        response = httpx.post(proxy + GENERATE, json=text_request("a harbour", imageSize="512"),
                              headers={"x-goog-api-key": "chunked-key"}, timeout=30)
        assert response.status_code == 200
        assert "content-length" not in response.headers
        (report,) = httpx.get(f"{proxy}/_mock/violations").json()["reports"]
    assert report["streamed"]  # relayed as it arrived …
    if expected is None:  # … and still judged as one document
        assert report["violations"] == []
    else:
        assert any(expected in text for text in report["violations"]), report
