"""The request path kept cheap without changing an answer: the layers, the remembered outcomes, the bytes sent."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from mock_server.app import MODEL_ACTIONS, create_app
from mock_server.settings import Settings
from mock_server.web.errors import ApiError
from mock_server.web.http import PiecesResponse
from tests.support.fake import InProcess, text_request

BAD_RATIO = {"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"imageConfig": {"aspectRatio": "7:3"}}}


def test_every_answer_reaches_the_journal_with_its_real_status() -> None:
    fake = InProcess()
    fake.generate("gemini-2.5-flash-image", text_request("ok"), key="k")
    fake.generate("gemini-2.5-flash-image", BAD_RATIO, key="k")
    fake.request("POST", "/v1beta/nowhere", headers={"x-goog-api-key": "k"})  # the router's 404
    fake.request("PUT", "/v1beta/models/gemini-2.5-flash-image:generateContent")  # the router's 405
    fake.generate("gemini-2.5-flash-image", text_request("ok"), key=None)  # 403 without a key
    statuses = [entry["status"] for entry in fake.request("GET", "/_mock/requests").json()["requests"]]
    assert statuses == [200, 400, 404, 405, 403]


def test_the_router_errors_are_google_envelopes() -> None:
    fake = InProcess()
    missing = fake.request("POST", "/v1beta/nowhere")
    wrong_method = fake.request("PUT", "/v1beta/models/gemini-2.5-flash-image:generateContent")
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == 405


def test_a_refusal_remembered_is_answered_byte_for_byte_again() -> None:
    fake = InProcess()
    first, second = (fake.generate("gemini-2.5-flash-image", BAD_RATIO, key="k") for _ in range(2))
    assert first.status_code == second.status_code == 400
    assert first.content == second.content and first.headers == second.headers
    assert "aspect_ratio must be one of" in first.json()["error"]["message"]
    # A different body is judged on its own, not answered from the remembered refusal.
    assert fake.generate("gemini-2.5-flash-image", text_request("fine"), key="k").status_code == 200


def test_a_remembered_refusal_is_raised_as_a_fresh_exception() -> None:
    error = ApiError.named("not_found_path")
    body = error.encoded()
    copies = [error.again() for _ in range(3)]
    assert all(copy is not error and copy.encoded() is body for copy in copies)
    for copy in copies:  # each raised once: no traceback carried over from an earlier request
        with pytest.raises(ApiError) as caught:
            raise copy
        assert caught.value.__traceback__ is not None and caught.value.__traceback__.tb_next is None


def test_repeated_bodies_share_the_plan_but_never_the_response_id() -> None:
    fake = InProcess()
    answers = [fake.generate("gemini-2.5-flash-image", text_request("same"), key="k").json() for _ in range(3)]
    assert len({answer["responseId"] for answer in answers}) == 3
    for answer in answers:
        assert len(answer["responseId"]) == 23
        answer.pop("responseId")
    assert answers[0] == answers[1] == answers[2]


def test_a_crash_is_a_500_envelope_and_journaled(monkeypatch: pytest.MonkeyPatch) -> None:
    async def crash(_request: Any, _profile: Any) -> Any:
        raise RuntimeError("boom")

    fake = InProcess()
    monkeypatch.setitem(MODEL_ACTIONS, "countTokens", crash)
    monkeypatch.setattr(logging.getLogger("gemini_mock"), "disabled", True)
    response = fake.request("POST", "/v1beta/models/gemini-2.5-flash-image:countTokens",
                            headers={"x-goog-api-key": "k"})
    assert response.status_code == 500 and response.json()["error"]["status"] == "INTERNAL"
    assert "Traceback" not in response.text
    assert fake.request("GET", "/_mock/requests").json()["requests"][-1]["status"] == 500


def test_small_pieces_go_as_one_message_and_large_ones_uncopied() -> None:
    blob = b"A" * (256 * 1024)
    response = PiecesResponse([b'{"a": "', blob, b'", "b": "', b"id", b'"}'])
    assert len(response.pieces) == 3 and response.pieces[1] is blob
    assert response.content == b'{"a": "' + blob + b'", "b": "id"}'
    assert response.headers["content-length"] == str(len(response.content))
    messages: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    asyncio.run(PiecesResponse([b"{", b"}"], headers={"retry-after": "3"})({}, None, send))  # type: ignore[arg-type]
    start, body = messages
    assert (b"retry-after", b"3") in start["headers"] and (b"vary", b"Origin, X-Origin, Referer") in start["headers"]
    assert body == {"type": "http.response.body", "body": b"{}", "more_body": False}


def test_the_body_limit_still_holds_on_the_direct_read() -> None:
    fake = InProcess(Settings(max_body_bytes=100))
    body = json.dumps(text_request("x" * 200)).encode()
    response = fake.request("POST", "/v1beta/models/gemini-2.5-flash-image:generateContent", content=body,
                            headers={"x-goog-api-key": "k", "content-type": "application/json"})
    assert response.status_code == 400 and "payload size exceeds" in response.json()["error"]["message"]


def test_a_remembered_refusal_is_per_api_version() -> None:
    fake = InProcess()
    body = {"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"imageConfig": 5}}
    texts = {version: fake.generate("gemini-2.5-flash-image", body, key="k", version=version).text
             for version in ("v1beta", "v1", "v1beta")}
    assert "generativelanguage.v1beta.ImageConfig" in texts["v1beta"]
    assert "generativelanguage.v1.ImageConfig" in texts["v1"]


def test_headers_given_with_an_answer_replace_the_defaults() -> None:
    response = PiecesResponse([b"{}"], headers={"Content-Type": "text/event-stream", "retry-after": "1"})
    assert response.headers.getlist("content-type") == ["text/event-stream"]
    assert response.headers["vary"] == "Origin, X-Origin, Referer" and response.headers["retry-after"] == "1"


def test_a_declared_length_over_the_limit_is_refused_before_the_rest_is_read() -> None:
    """A small body is read without looking at its headers; one that keeps coming is refused on its
    declared Content-Length after the first piece, never buffered to the end."""
    app = create_app(Settings(max_body_bytes=1000))
    reads: list[int] = []

    async def receive() -> dict[str, object]:
        reads.append(1)
        if len(reads) > 1:
            raise AssertionError("read past the first piece of a body declared too large")
        return {"type": "http.request", "body": b'{"contents": [', "more_body": True}

    messages: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        messages.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/v1beta/models/gemini-2.5-flash-image:generateContent", "raw_path": b"", "query_string": b"",
             "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
             "headers": [(b"x-goog-api-key", b"k"), (b"content-length", b"1000000000")]}
    asyncio.run(app(scope, receive, send))
    assert messages[0]["status"] == 400 and b"payload size exceeds" in messages[1]["body"]  # type: ignore[operator]
    assert reads == [1]


def test_served_fake_says_it_is_googles_front_end() -> None:
    """Over a real socket the fake answers with ``Server: scaffolding on HTTPServer2`` as Google does
    (captures, obs. 30), not ``uvicorn``."""
    import httpx

    from mock_server.testing import serve_in_thread

    with serve_in_thread(Settings()) as server:
        answer = httpx.get(f"{server.base_url}/v1beta/models", headers={"x-goog-api-key": "k"})
    assert answer.status_code == 200
    assert answer.headers.get_list("server") == ["scaffolding on HTTPServer2"] and "date" in answer.headers
