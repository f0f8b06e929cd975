"""The front (web/front.py): gates, the observer and the guard around each exchange, and the exception
handlers' layer that asks the front's exchange whether an answer has started."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from mock_server.web.errors import ApiError, error_response
from mock_server.web.front import ExceptionLayer, Front


def _scope(path: str = "/v1beta/x") -> dict[str, Any]:
    return {"type": "http", "method": "POST", "path": path, "headers": [], "query_string": b""}


def _exchange(app: Any, body: bytes = b'{"a": 1}', path: str = "/v1beta/x") -> list[Message]:
    sent: list[Message] = []
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(_scope(path), receive, send))
    return sent


class _Observed:
    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes, int]] = []

    async def __call__(self, scope: Scope, body: bytes, status: int, started: float) -> None:
        self.calls.append((str(scope["path"]), body, status))


async def _echo(scope: Scope, receive: Receive, send: Send) -> None:
    body = (await receive())["body"]
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": body[:1], "more_body": True})
    await send({"type": "http.response.body", "body": body[1:], "more_body": False})


def test_the_observer_sees_the_body_read_and_the_status_once_before_the_last_byte() -> None:
    seen: list[int] = []
    observed = _Observed()

    async def observer(scope: Scope, body: bytes, status: int, started: float) -> None:
        seen.append(len(sent))
        await observed(scope, body, status, started)

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b"hello", "more_body": False}

    asyncio.run(Front(_echo, observer=observer)(_scope(), receive, send))
    assert observed.calls == [("/v1beta/x", b"hello", 201)]
    assert seen == [2]  # after the start and the first piece, before the last one
    assert b"".join(m.get("body", b"") for m in sent) == b"hello"


def test_a_gate_refuses_before_the_app_and_unobserved() -> None:
    observed = _Observed()
    refusal = ApiError(403, "PERMISSION_DENIED", "no")
    front = Front(_echo, observer=observed, gates={"/_mock/": lambda scope: refusal})
    start, body = _exchange(front, path="/_mock/requests")
    assert start["status"] == 403 and json.loads(body["body"])["error"]["message"] == "no"
    assert observed.calls == []
    assert _exchange(front, path="/v1beta/x")[0]["status"] == 201  # other paths pass the gate


def test_a_crash_before_the_answer_is_googles_500_and_observed_as_such(caplog: pytest.LogCaptureFixture) -> None:
    observed = _Observed()

    async def crash(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        raise RuntimeError("boom with secret text")

    with caplog.at_level(logging.ERROR, logger="gemini_mock"):
        start, body = _exchange(Front(crash, observer=observed))
    assert start["status"] == 500 and json.loads(body["body"])["error"]["status"] == "INTERNAL"
    assert "boom" not in body["body"].decode()
    assert observed.calls == [("/v1beta/x", b'{"a": 1}', 500)]


def test_a_crash_after_the_answer_started_sends_nothing_more() -> None:
    observed = _Observed()

    async def half(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("late")

    sent = _exchange(Front(half, observer=observed))
    assert [m["type"] for m in sent] == ["http.response.start"]
    assert observed.calls == [("/v1beta/x", b'{"a": 1}', 200)]  # a small body is read ahead: recorded unread


def test_an_observer_that_fails_never_breaks_the_answer(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(scope: Scope, body: bytes, status: int, started: float) -> None:
        raise ValueError("text quoting the request")

    with caplog.at_level(logging.ERROR, logger="gemini_mock"):
        sent = _exchange(Front(_echo, observer=broken))
    assert sent[0]["status"] == 201 and b"".join(m.get("body", b"") for m in sent) == b'{"a": 1}'
    assert "ValueError" in caplog.text and "quoting" not in caplog.text


def test_the_exception_layer_answers_a_handled_error_unless_the_answer_started() -> None:
    async def on_api_error(_request: Any, exc: Exception) -> Any:
        assert isinstance(exc, ApiError)
        return error_response(exc)

    async def refuse(scope: Scope, receive: Receive, send: Send) -> None:
        raise ApiError(429, "RESOURCE_EXHAUSTED", "slow down")

    async def refuse_late(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise ApiError(429, "RESOURCE_EXHAUSTED", "slow down")

    observed = _Observed()
    start, body = _exchange(Front(ExceptionLayer(refuse, {ApiError: on_api_error}), observer=observed))
    assert start["status"] == 429 and json.loads(body["body"])["error"]["message"] == "slow down"
    assert observed.calls[-1][2] == 429  # the front saw the handled answer's status
    late = _exchange(Front(ExceptionLayer(refuse_late, {ApiError: on_api_error}), observer=observed))
    assert [m["type"] for m in late] == ["http.response.start"]  # no second start: the front's guard took it
