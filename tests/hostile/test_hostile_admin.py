"""Issue 12, items 9 and 10: the admin surface under hostile rules, strangers and cross-site pages."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from mock_server.settings import Settings
from tests.support.fake import InProcess, error_of, text_request

MODEL = "gemini-2.5-flash-image"
RULES = "/_mock/scenarios/rules"
JSON = {"content-type": "application/json"}
KEY = "AIzaSyAdminCanary0123456789abcdefghijk"

MALFORMED_RULES: list[Any] = [
    {"scenario": "overloaded", "times": []},
    {"scenario": "overloaded", "probability": None},
    {"scenario": "overloaded", "probability": "often"},
    {"scenario": "overloaded", "params": [1, 2]},
    {"sequence": 5},
    {"sequence": [["overloaded"]]},
    {"scenario": {"name": "overloaded"}},
    {"scenario": "overloaded", "match": {"header": "x-test"}},
    {"scenario": "overloaded", "match": {"header": {"x-test": ["a"]}}},
    {"scenario": "overloaded", "match": {"prompt": 5}},
    {"scenario": "overloaded", "times": -1},
    {"scenario": "overloaded", "name": {"a": 1}},
    "overloaded",
    None,
]

# Accepted by the old parser, then every matching API request answered 500 (or stalled).
ACCEPTED_THEN_BROKEN: list[Any] = [
    {"scenario": "rate_limited", "params": {"error": "no_such_error"}},
    {"scenario": "rate_limited", "params": {"details": ["{no_such_placeholder}"]}},
    {"scenario": "slow", "params": {"delayMs": "soon"}},
    {"scenario": "stream_cut", "params": {"afterChunks": "two"}},
    {"scenario": "slow", "params": {"delayMs": 1e12}},
    {"scenario": "overloaded", "params": {"kind": "nonsense"}},
]


def _status_code(response: Any) -> int:
    return int(response.status_code)


@pytest.mark.parametrize("rule", MALFORMED_RULES, ids=lambda rule: json.dumps(rule)[:40])
def test_malformed_rules_are_refused_with_a_400(rule: Any) -> None:
    fake = InProcess()
    for method, document in (("POST", rule), ("PUT", {"rules": [rule]})):
        response = fake.request(method, RULES, content=json.dumps(document).encode(), headers=JSON)
        assert response.status_code == 400, (method, response.text[:300])
        assert error_of(response)["status"] == "INVALID_ARGUMENT"
    assert fake.request("GET", RULES).json()["rules"] == []


@pytest.mark.parametrize("rule", ACCEPTED_THEN_BROKEN, ids=lambda rule: json.dumps(rule)[:50])
def test_rules_that_would_break_api_requests_are_refused(rule: Any) -> None:
    fake = InProcess()
    response = fake.request("POST", RULES, content=json.dumps(rule).encode(), headers=JSON)
    assert response.status_code == 400, response.text[:300]
    assert fake.generate(MODEL, text_request("fine"), key="k").status_code == 200


@pytest.mark.parametrize("body", [b"\xff\xfe", b"[" * 5000, b'{"rules": ' + b"[" * 3000 + b"]" * 3000 + b"}",
                                  b'{"rules": [], "x": "\\ud800"}'])
def test_undecodable_rule_documents_are_400s(body: bytes) -> None:
    response = InProcess().request("PUT", RULES, content=body, headers=JSON)
    assert response.status_code == 400, response.text[:300]


def test_a_catastrophic_pattern_cannot_stall_the_server() -> None:
    fake = InProcess()
    rule = {"scenario": "overloaded", "match": {"prompt": "^(a+)+$"}}
    installed = fake.request("POST", RULES, content=json.dumps(rule).encode(), headers=JSON)
    if installed.status_code == 400:  # refused outright: nothing can stall
        return
    started = time.monotonic()
    response = fake.generate(MODEL, text_request("a" * 28 + "!"), key="k")
    took = time.monotonic() - started
    assert response.status_code == 200
    assert took < 2.0, f"one matching prompt held the server for {took:.1f} s"


def test_ordinary_patterns_still_work() -> None:
    fake = InProcess()
    rule = {"scenario": "overloaded", "match": {"prompt": "(?i)\\bcat(s)?\\b", "model": "gemini-*"}}
    assert fake.request("POST", RULES, content=json.dumps(rule).encode(), headers=JSON).status_code == 200
    assert fake.generate(MODEL, text_request("two Cats"), key="k").status_code == 503
    assert fake.generate(MODEL, text_request("a dog"), key="k").status_code == 200


ADMIN_CALLS = [("GET", "/_mock/requests", None), ("DELETE", "/_mock/requests", None),
               ("GET", "/_mock/scenarios", None), ("GET", RULES, None),
               ("PUT", RULES, b'{"rules": []}'), ("POST", RULES, b'{"scenario": "overloaded"}'),
               ("DELETE", RULES, None)]


@pytest.mark.parametrize("keys", [{"api_keys": (KEY,)}, {"admin_keys": (KEY,)}], ids=["api", "admin"])
def test_with_a_key_configured_the_admin_surface_requires_it(keys: dict[str, Any]) -> None:
    fake = InProcess(Settings(**keys))
    for method, path, body in ADMIN_CALLS:
        headers = JSON if body else {}
        refused = fake.request(method, path, content=body, headers=headers)
        assert 400 <= refused.status_code < 500, (method, path, refused.status_code)
        assert error_of(refused)["status"] in ("PERMISSION_DENIED", "UNAUTHENTICATED", "INVALID_ARGUMENT")
        wrong = fake.request(method, path, content=body, headers=headers | {"x-goog-api-key": "wrong-key-123"})
        assert 400 <= wrong.status_code < 500, (method, path, wrong.status_code)
    for style in ({"x-goog-api-key": KEY}, {"authorization": f"Bearer {KEY}"}):
        assert fake.request("GET", "/_mock/requests", headers=style).status_code == 200
    assert fake.request("GET", f"/_mock/requests?key={KEY}").status_code == 200
    assert KEY not in fake.request("GET", "/_mock/requests", headers={"x-goog-api-key": KEY}).text


def test_an_admin_key_is_separate_from_api_keys() -> None:
    fake = InProcess(Settings(api_keys=("api-key-1234",), admin_keys=("admin-key-1234",)))
    assert fake.request("GET", "/_mock/requests", headers={"x-goog-api-key": "api-key-1234"}).status_code != 200
    assert fake.request("GET", "/_mock/requests", headers={"x-goog-api-key": "admin-key-1234"}).status_code == 200
    assert fake.generate(MODEL, text_request("x"), key="admin-key-1234").status_code != 200


def test_without_keys_the_admin_surface_stays_open_for_local_tooling() -> None:
    fake = InProcess()
    assert fake.request("GET", "/_mock/requests").status_code == 200
    assert fake.request("PUT", RULES, content=b'{"rules": []}', headers=JSON).status_code == 200


@pytest.mark.parametrize("keyed", [False, True], ids=["open", "keyed"])
def test_requests_a_page_can_send_cross_site_without_preflight_are_refused(keyed: bool) -> None:
    fake = InProcess(Settings(api_keys=(KEY,) if keyed else ()))
    auth = {"x-goog-api-key": KEY} if keyed else {}
    rule = b'{"scenario": "overloaded"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        headers = auth | ({"content-type": content_type} if content_type else {})
        response = fake.request("POST", RULES, content=rule, headers=headers)
        assert 400 <= response.status_code < 500, (content_type, response.status_code)
    foreign = fake.request("POST", RULES, content=rule, headers=auth | JSON | {"origin": "https://evil.example"})
    assert foreign.status_code == 403, foreign.text
    cross = fake.request("DELETE", "/_mock/requests", headers=auth | {"sec-fetch-site": "cross-site"})
    assert cross.status_code == 403
    assert fake.request("GET", RULES, headers=auth).json()["rules"] == []
    same = fake.request("POST", RULES, content=rule, headers=auth | JSON | {"origin": "http://fake"})
    assert same.status_code == 200, same.text


def test_binding_beyond_loopback_warns_that_the_admin_surface_is_exposed(capsys: pytest.CaptureFixture[str]) -> None:
    from mock_server.cli import exposure_warning

    assert exposure_warning(Settings(host="127.0.0.1")) is None
    assert exposure_warning(Settings(host="::1")) is None
    assert exposure_warning(Settings(host="localhost")) is None
    warning = exposure_warning(Settings(host="0.0.0.0"))
    assert warning is not None and "/_mock/" in warning
    keyed = exposure_warning(Settings(host="0.0.0.0", api_keys=(KEY,)))
    assert keyed is not None and KEY not in keyed
