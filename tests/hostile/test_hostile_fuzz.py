"""Issue 12: Hypothesis over the request schemas with hostile mutations; no 5xx, no later request broken.

Valid requests come from the contract suite's strategies (built from ``schemas/``); each example then
mutates one spot: a hostile string (lone surrogates, NUL, 100k characters), absurd nesting, huge or
non-finite numbers, wrong types, unknown or hostile field names, or raw byte damage. One app serves
every example, so anything that poisons state shows up in the health check after it. Bounded in count
and time (deadline-free, derandomised) so it runs in seconds.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_tests.generation.strategies import valid_cases
from tests.support.fake import InProcess, text_request

MODELS = ("gemini-2.5-flash-image", "gemini-3.1-flash-image-preview", "gemini-3-pro-image-preview")
HOSTILE_STRINGS = ["a \ud800 fox", "\udfff", "\x00", "x" * 100_000, "\u202e\u0000\ufeff", "\\ud800", "%E2%9C%93",
                   "{", "[mock:nonexistent]", "AIza" + "A" * 35]
ENDPOINTS = ("generateContent", "streamGenerateContent?alt=sse", "countTokens")


def _nested(depth: int) -> Any:
    value: Any = 1
    for index in range(depth):
        value = {"a": value} if index % 2 else [value]
    return value


def hostile_values() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(HOSTILE_STRINGS),
        st.integers(min_value=20, max_value=3000).map(_nested),
        st.sampled_from([10**400, -(10**400), 1e308, -1e308, 0.5, -1, 2**63, "NaN", "Infinity", "1e999"]),
        st.sampled_from([None, True, [], {}, [[[]]], {"": {}}, ["\ud800"]]),
        st.text(max_size=40),
    )


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replace(document: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy: Any = dict(document) if isinstance(document, dict) else list(document)
    copy[head] = _replace(document[head], rest, new)
    return copy


@st.composite
def hostile_bodies(draw: st.DrawFn) -> bytes:
    case = draw(valid_cases(MODELS))
    document = case.document
    how = draw(st.sampled_from(["value", "key", "bytes", "raw-nesting"]))
    paths = _paths(document)
    path = draw(st.sampled_from(paths))
    if how == "value":
        document = _replace(document, path, draw(hostile_values()))
    elif how == "key":
        parents = [p for p in paths if isinstance(_get(document, p), dict)]
        parent = draw(st.sampled_from(parents))
        name = draw(st.sampled_from([*HOSTILE_STRINGS[:6], "__proto__", "contents", "inline_data"]))
        target = dict(_get(document, parent))
        target[name] = draw(hostile_values())
        document = _replace(document, parent, target)
    text = json.dumps(document, ensure_ascii=draw(st.booleans()))
    body = text.encode("utf-8", "surrogatepass")
    if how == "bytes":
        cut = draw(st.integers(min_value=0, max_value=len(body)))
        junk = draw(st.sampled_from([b"\xed\xa0\x80", b"\xff", b"\x00", b"\\", b'"', b"}", b""]))
        body = body[:cut] + junk + body[cut + draw(st.integers(0, 3)):]
    elif how == "raw-nesting":
        depth = draw(st.integers(min_value=90, max_value=20_000))
        body = body[:-1] + b',"labels":' + b"[" * depth + b"]" * depth + b"}"
    return body


def _get(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


FAKE = InProcess()


def _healthy() -> None:
    answer = FAKE.generate("gemini-2.5-flash-image", text_request("health"), key="k")
    assert answer.status_code == 200, answer.text[:300]
    journal = FAKE.request("GET", "/_mock/requests?limit=5")
    assert journal.status_code == 200, journal.text[:300]
    json.loads(journal.content.decode("utf-8"))


@settings(max_examples=120, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(body=hostile_bodies(), model=st.sampled_from(MODELS), endpoint=st.sampled_from(ENDPOINTS))
def test_hostile_requests_never_cost_a_5xx_or_a_later_request(body: bytes, model: str, endpoint: str) -> None:
    response = FAKE.request("POST", f"/v1beta/models/{model}:{endpoint}", content=body,
                            headers={"x-goog-api-key": "k", "content-type": "application/json"})
    assert response.status_code < 500, (
        response.status_code, body[:200], response.text[:300])
    if response.status_code >= 400:
        error = response.json()["error"]  # a Google envelope, valid UTF-8 JSON
        assert error["code"] == response.status_code
    _healthy()


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rule=st.recursive(hostile_values(), lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["name", "match", "sequence", "scenario", "times", "probability", "params",
                                     "repeat", "prompt", "header", "model", "path", "delayMs", "error"]),
                    inner, max_size=4)), max_leaves=8))
def test_hostile_rule_documents_never_cost_a_5xx(rule: Any) -> None:
    text = json.dumps({"rules": [rule]}).encode("utf-8", "surrogatepass")
    response = FAKE.request("PUT", "/_mock/scenarios/rules", content=text, headers={"content-type": "application/json"})
    assert response.status_code < 500, response.text[:300]
    _healthy()
    FAKE.request("DELETE", "/_mock/scenarios/rules")
