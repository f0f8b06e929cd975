"""Every route on every surface (Gemini, Vertex, Interactions, Batch, Files, Webhooks, the admin API):
those that take a body fed hostile bodies, every GET and DELETE hostile query parameters, all of them
hostile path ids. Always a Google-shaped 4xx, never a 5xx, and the next ordinary request still works.

``test_hostile_fuzz.py`` mutates valid generateContent requests; this one walks the app's own route
table, so a surface added later is covered without being listed here (a route whose parameters this
file cannot fill fails the completeness test below).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Route

from tests.hostile.test_hostile_fuzz import HOSTILE_STRINGS, _nested
from tests.support.fake import API_KEY, InProcess, text_request

FAKE = InProcess()
HEADERS = {"x-goog-api-key": API_KEY, "authorization": "Bearer ya29.fake-access-token",
           "content-type": "application/json"}
BODY_METHODS = {"POST", "PUT", "PATCH"}
# Field names the surfaces read, so that hostile values land where a handler looks.
FIELDS = ["contents", "generationConfig", "generation_config", "model", "input", "agent", "response_format",
          "responseFormat", "previous_interaction_id", "background", "stream", "batch", "inputConfig",
          "input_config", "requests", "displayName", "display_name", "outputConfig", "output_config", "file",
          "uri", "subscribed_events", "state", "rules", "name", "instances", "parameters", "tools",
          "systemInstruction", "safetySettings", "cachedContent", "labels", "update_mask", "webhook_config",
          "gcsSource", "inputUris", "gcsDestination", "outputUriPrefix", "instancesFormat", "predictionsFormat"]


def _value(name: str, path: str) -> str:
    """A plausible value for a path parameter (the hostile ones come from Hypothesis)."""
    vertex = "/projects/" in path or "/publishers/" in path or "/locations/" in path
    if name == "version":
        return "v1" if vertex else "v1beta"
    if name == "target" and "/models/" in path:
        return "gemini-2.5-flash-image:generateContent"
    return {"project": "proj-1", "location": "us-central1", "publisher": "google", "model": "gemini-2.5-flash-image",
            "interaction_id": "v1_abc", "target": "abc123"}[name]


def _body_routes() -> list[tuple[str, str]]:
    found = []
    for route in FAKE.app.routes:
        assert isinstance(route, Route)
        for method in sorted((route.methods or set()) & BODY_METHODS):
            found.append((method, route.path))
    return found


ROUTES = _body_routes()
# A webhook under the id the paths use, so that PATCH and :ping reach the body rather than a 404.
SEEDED = FAKE.request("POST", "/v1beta/webhooks?webhook_id=abc123", headers=HEADERS, json={
    "uri": "http://127.0.0.1:9/hook", "subscribed_events": ["batch.succeeded"]})


def _url(path: str, hostile_id: str | None) -> str:
    for name in list(route_params(path)):
        value = _value(name, path)
        if hostile_id is not None and name in {"target", "interaction_id"}:
            value = hostile_id if "/models/" not in path else value
        path = path.replace("{" + name + ":path}", value).replace("{" + name + "}", value)
    return path


def route_params(path: str) -> list[str]:
    return [part.split("}")[0].split(":")[0] for part in path.split("{")[1:]]


def test_every_body_route_can_be_filled() -> None:
    assert len(ROUTES) >= 20
    assert SEEDED.status_code == 200, SEEDED.text
    for _, path in ROUTES:
        assert "{" not in _url(path, None), path


def hostile_values() -> st.SearchStrategy[Any]:
    """The fuzz test's hostile values, nested no deeper than ``json.dumps`` can write inside an object
    (deeper nesting arrives as raw bytes below)."""
    return st.one_of(
        st.sampled_from(HOSTILE_STRINGS),
        st.integers(min_value=20, max_value=400).map(_nested),
        st.sampled_from([10**400, -(10**400), 1e308, 0.5, -1, 2**63, "NaN", "1e999", "2026-13-45T99:99:99Z"]),
        st.sampled_from([None, True, [], {}, [[[]]], {"": {}}, ["\ud800"], "gs://", "files/../x", "http://[::1"]),
        st.text(max_size=40),
    )


@st.composite
def hostile_documents(draw: st.DrawFn) -> bytes:
    shape = draw(st.sampled_from(["object", "value", "bytes"]))
    if shape == "bytes":
        return draw(st.sampled_from([b"", b"{", b"\xff\xfe", b"\xed\xa0\x80", b"null", b"[]", b'{"a":1}{',
                                     b"[" * 5000 + b"]" * 5000, b'"\\ud800"', b"1e99999"]))
    value: Any = draw(hostile_values())
    if shape == "object":
        value = draw(st.dictionaries(st.sampled_from(FIELDS), st.recursive(
            hostile_values(), lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.sampled_from(FIELDS), inner, max_size=3)),
            max_leaves=6), min_size=1, max_size=4))
    return json.dumps(value, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


def _healthy() -> None:
    answer = FAKE.generate("gemini-2.5-flash-image", text_request("health"))
    assert answer.status_code == 200, answer.text[:300]
    assert FAKE.request("GET", "/v1beta/models", headers=HEADERS).status_code == 200


def _google_shaped(response: Any, sent: Any) -> None:
    assert response.status_code < 500, (response.status_code, sent, response.text[:300])
    if response.status_code >= 400:
        error = response.json()["error"]
        assert isinstance(error["message"], str) and error["message"], response.text[:300]
        if isinstance(error["code"], str):  # the Interactions API's envelope: {"code": "invalid_request", ...}
            assert error["code"].isidentifier() and error["code"].islower(), response.text[:300]
        else:
            assert error["code"] == response.status_code and error["status"], response.text[:300]


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(body=hostile_documents(), hostile_id=st.one_of(st.none(), st.sampled_from(
    ["%ED%A0%80", "%FF", "%00", "%E2%80%AE", "%20", "..%2F..%2Fetc", "a:b:c", "-1", "x" * 3000])))
def test_hostile_bodies_on_every_route_get_a_google_4xx(method: str, path: str, body: bytes,
                                                        hostile_id: str | None) -> None:
    url = _url(path, hostile_id)
    try:
        response = FAKE.request(method, url, content=body, headers=HEADERS)
    finally:
        FAKE.request("DELETE", "/_mock/scenarios/rules")
    _google_shaped(response, (method, url[:120], body[:200]))
    _healthy()


QUERY_NAMES = ["pageSize", "page_size", "pageToken", "page_token", "alt", "key", "filter", "view", "$alt",
               "readMask", "update_mask", "include_input", "last_event_id", "starting_after", "stream", "quotaUser"]
READ_ROUTES = [(method, route.path) for route in FAKE.app.routes if isinstance(route, Route)
               for method in sorted((route.methods or set()) & {"GET", "DELETE"})]


@pytest.mark.parametrize(("method", "path"), READ_ROUTES, ids=[f"{m} {p}" for m, p in READ_ROUTES])
@settings(max_examples=8, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(query=st.dictionaries(st.sampled_from(QUERY_NAMES), st.sampled_from(
    ["-1", "0", "99999999999999999999", "abc", "%ED%A0%80", "eyJvIjogLTF9", "eyJvIjogImEifQ==", "x" * 3000,
     "sse", "media", "true", "null"]), max_size=3),
    hostile_id=st.one_of(st.none(), st.sampled_from(["%ED%A0%80", "%FF", "..%2F..%2Fetc", "a:b:c", "x" * 3000])))
def test_hostile_queries_and_ids_on_every_read_route_get_a_google_4xx(
        method: str, path: str, query: dict[str, str], hostile_id: str | None) -> None:
    response = FAKE.request(method, _url(path, hostile_id), params=query, headers=HEADERS)
    _google_shaped(response, (method, path, query))
    _healthy()
