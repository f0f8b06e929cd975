"""Answers remembered for identical requests (web/answers.py): replayed with a fresh responseId and
journaled like any request, and never when the answer could differ (rules, scenarios, latency, keys,
replay and defect layers); image answers too, kept without copying their data, within the budget."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mock_server import app as app_module
from mock_server.settings import Settings
from mock_server.web.answers import AnswerCache, remember_answer
from mock_server.web.http import request_key
from tests.support.fake import InProcess, text_request

MODEL = "gemini-2.5-flash-image"
ADMIN = {"x-goog-api-key": "k"}


def count_calls(monkeypatch: pytest.MonkeyPatch, action: str) -> list[str]:
    """The paths of the requests that reach ``action``'s handler (a replay does not)."""
    calls: list[str] = []
    original = app_module.MODEL_ACTIONS[action]

    async def counting(request: Any, profile: Any) -> Any:
        calls.append(request.url.path)
        return await original(request, profile)

    monkeypatch.setitem(app_module.MODEL_ACTIONS, action, counting)
    return calls


@pytest.fixture
def handled(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The generateContent handler's calls."""
    yield count_calls(monkeypatch, "generateContent")


def text_body(prompt: str = "a caption") -> dict[str, Any]:
    body = text_request(prompt)
    body["generationConfig"] = {"responseModalities": ["TEXT"]}
    return body


def test_a_repeat_is_replayed_with_its_own_response_id_and_journaled(handled: list[str]) -> None:
    fake = InProcess()
    first, second, third = (fake.generate(MODEL, text_body()) for _ in range(3))
    assert len(handled) == 1  # the second and third never reached the handler
    ids = [answer.json()["responseId"] for answer in (first, second, third)]
    assert len(set(ids)) == 3
    assert second.content == first.content.replace(ids[0].encode(), ids[1].encode())
    assert second.headers["content-type"] == first.headers["content-type"]
    entries = fake.request("GET", "/_mock/requests", headers=ADMIN).json()["requests"]
    assert [(entry["status"], entry["model"], entry["prompt"]) for entry in entries] == [(200, MODEL, "a caption")] * 3
    assert len({entry["id"] for entry in entries}) == 3


def test_refusals_counts_and_model_lists_are_replayed_too(handled: list[str]) -> None:
    fake = InProcess()
    bad = text_request("x", aspectRatio="7:3")
    refusals = [fake.generate(MODEL, bad) for _ in range(2)]
    assert [answer.status_code for answer in refusals] == [400, 400] and refusals[0].content == refusals[1].content
    assert len(handled) == 1
    counts = [fake.request("POST", f"/v1beta/models/{MODEL}:countTokens", json={"contents": [{"parts": [
        {"text": "count"}]}]}, headers=ADMIN) for _ in range(2)]
    assert counts[0].content == counts[1].content and counts[0].json()["totalTokens"] > 0
    listed = [fake.request("GET", "/v1beta/models", headers=ADMIN) for _ in range(2)]
    assert listed[0].content == listed[1].content and listed[0].json()["models"]


def test_a_rule_added_later_is_obeyed_and_replays_resume_without_rules(handled: list[str]) -> None:
    fake = InProcess()
    assert fake.generate(MODEL, text_body()).status_code == 200
    rule = {"match": {"prompt": "caption"}, "scenario": "overloaded"}
    assert fake.request("POST", "/_mock/scenarios/rules", json=rule).status_code == 200
    assert fake.generate(MODEL, text_body()).status_code == 503
    assert fake.request("DELETE", "/_mock/scenarios/rules").status_code == 200
    before = len(handled)
    assert fake.generate(MODEL, text_body()).status_code == 200
    assert fake.generate(MODEL, text_body()).status_code == 200
    assert len(handled) - before <= 1


def test_headers_keys_and_scenarios_are_part_of_the_request(handled: list[str]) -> None:
    fake = InProcess(Settings(api_keys=("right-key-123",)))
    assert fake.generate(MODEL, text_body(), key="right-key-123").status_code == 200
    assert fake.generate(MODEL, text_body(), key="wrong-key-456").status_code == 400
    limited = fake.generate(MODEL, text_body(), key="right-key-123", headers={"x-mock-scenario": "rate_limited"})
    assert limited.status_code == 429
    assert fake.generate(MODEL, text_body(), key="right-key-123").status_code == 200


@pytest.mark.parametrize("settings", [Settings(latency="1"), Settings(defect="usage_mismatch"),
                                      Settings(answer_cache_bytes=0)], ids=["latency", "defect layer", "turned off"])
def test_nothing_is_replayed_where_answers_may_differ(handled: list[str], settings: Settings) -> None:
    fake = InProcess(settings)
    for _ in range(3):
        assert fake.generate(MODEL, text_body()).status_code == 200
    assert len(handled) == 3


class _BodyMessages:
    """The app, noting the size of each body message it sends."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.sizes: list[list[int]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        sizes: list[int] = []
        self.sizes.append(sizes)

        async def noting(message: Any) -> None:
            if message["type"] == "http.response.body":
                sizes.append(len(message["body"]))
            await send(message)

        await self.app(scope, receive, noting)


def test_an_image_answer_is_replayed_whole_in_two_messages(handled: list[str]) -> None:
    fake = InProcess(Settings(payload="realistic"))
    fake.app = messages = _BodyMessages(fake.app)  # type: ignore[assignment]
    answers = [fake.generate(MODEL, text_request("an image", imageSize="1K")) for _ in range(3)]
    assert len(handled) == 1
    ids = [answer.json()["responseId"] for answer in answers]
    assert len(set(ids)) == 3
    for answer, response_id in zip(answers[1:], ids[1:], strict=True):
        assert answer.content == answers[0].content.replace(ids[0].encode(), response_id.encode())
    assert len(answers[0].content) > 2_000_000  # realistic: the image's base64 is megabytes
    # First as built (JSON, base64, JSON), then everything up to the responseId in one message.
    assert len(messages.sizes[0]) == 3 and len(messages.sizes[2]) == 2 and messages.sizes[2][1] < 1024
    entries = fake.request("GET", "/_mock/requests", headers=ADMIN).json()["requests"]
    assert len(entries) == 3 and len({(entry["status"], entry["model"], entry["prompt"]) for entry in entries}) == 1


def test_an_answer_over_half_the_budget_and_streams_are_not_remembered(
        handled: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    fake = InProcess(Settings(payload="realistic", answer_cache_bytes=4 * 1024 * 1024))  # 2.2 MB > 2 MiB
    for _ in range(2):
        assert fake.generate(MODEL, text_request("an image", imageSize="1K")).status_code == 200
    assert len(handled) == 2
    streamed = count_calls(monkeypatch, "streamGenerateContent")
    streams = [fake.request("POST", f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse", json=text_body(),
                            headers=ADMIN) for _ in range(2)]
    assert len(streamed) == 2  # both streams reached the handler
    assert streams[0].content != streams[1].content  # each stream its own responseId, framed as a stream


def test_image_data_is_kept_by_reference_and_joined_once_at_the_first_replay() -> None:
    cache = AnswerCache(lambda: "new-id", lambda scope: True)
    scope: dict[str, Any] = {"method": "POST", "path": "/p", "headers": [], "query_string": b""}
    remember_answer(scope, "rid")
    image = b"A" * 100_000
    start = {"type": "http.response.start", "status": 200, "headers": []}
    cache.keep(request_key(scope, b"{}"), scope, start, [b'{"data": "', image, b'", "responseId": "rid"}'])
    kept = cache._answers[request_key(scope, b"{}")][0]
    assert any(piece is image for piece in kept.body)  # not copied when kept
    first = cache.get(request_key(scope, b"{}"), scope)
    assert first is not None and first.body_with(b"x") == [b'{"data": "' + image + b'", "responseId": "', b'x"}']
    assert cache.get(request_key(scope, b"{}"), scope) is first  # joined once, then kept joined


def test_the_cache_is_bounded_by_entries_and_bytes() -> None:
    cache = AnswerCache(lambda: "new-id", lambda scope: True, max_entries=3, max_bytes=4000)
    start = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    for number in range(6):
        scope: dict[str, Any] = {"method": "POST", "path": f"/p{number}", "headers": [], "query_string": b""}
        remember_answer(scope, "rid")
        cache.keep(request_key(scope, b"{}"), scope, start, [b'{"responseId": "rid"}' + b" " * 900])
    kept = [number for number in range(6) if cache.get(request_key(
        {"method": "POST", "path": f"/p{number}", "headers": [], "query_string": b""}, b"{}"), {}) is not None]
    assert kept == [4, 5]  # the newest: about 1.4 KB each, so two fit in 4000 bytes (three entries would)
    replayed = cache.get(request_key({"method": "POST", "path": "/p5", "headers": [], "query_string": b""}, b"{}"), {})
    assert replayed is not None and b"".join(replayed.body_with(b"fresh")) == b'{"responseId": "fresh"}' + b" " * 900
    unmarked: dict[str, Any] = {"method": "POST", "path": "/x", "headers": [], "query_string": b""}
    cache.keep(request_key(unmarked, b"{}"), unmarked, start, [b"{}"])  # the handler did not say it may be kept
    assert cache.get(request_key(unmarked, b"{}"), {}) is None
