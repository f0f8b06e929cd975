"""The HTTP seam: in-process and loopback transports, reproducers, redaction, unreachable targets."""

from __future__ import annotations

import httpx
import pytest

from contract_tests.config import RunConfig
from contract_tests.execution.target import Target, TargetUnreachable, curl_reproducer
from contract_tests.generation.cases import Case, Expectation
from contract_tests.reporting.redact import redact, redact_document
from mock_server.app import create_app
from mock_server.settings import Settings
from mock_server.testing import free_port, serve_in_thread

KEY = "canary-target-0xC0FFEE"
MODEL = "gemini-2.5-flash-image"


def case(auth: str = "header") -> Case:
    document = {"contents": [{"parts": [{"text": "a cat"}]}]}
    return Case(purpose="generate", label="t", model=MODEL, document=document, auth=auth,  # type: ignore[arg-type]
                expect=Expectation(image_size="1K"))


@pytest.mark.parametrize("auth", ["header", "query", "bearer"])
def test_in_process_and_loopback_give_the_same_answer(auth: str) -> None:
    config = RunConfig(base_url="http://127.0.0.1:1", api_key=KEY)
    with Target(config, httpx.ASGITransport(app=create_app(Settings(api_keys=(KEY,))))) as target:
        in_process = target.send(case(auth))
    with serve_in_thread(Settings(api_keys=(KEY,))) as server, \
            Target(RunConfig(base_url=server.base_url, api_key=KEY)) as target:
        loopback = target.send(case(auth))
    assert in_process.status == loopback.status == 200
    assert KEY not in in_process.url + str(in_process.request_headers)
    assert in_process.cost_usd > 0


def test_unreachable_target_raises() -> None:
    config = RunConfig(base_url=f"http://127.0.0.1:{free_port()}", api_key=KEY, timeout_s=5)
    with Target(config) as target, pytest.raises(TargetUnreachable):
        target.send(case())


def test_reproducer_reads_the_key_from_the_environment() -> None:
    for auth, fragment in (("header", 'x-goog-api-key: $GEMINI_API_KEY"'), ("query", "?key=$GEMINI_API_KEY"),
                           ("bearer", 'Authorization: Bearer $GEMINI_API_KEY"')):
        command = curl_reproducer(case(auth), "http://h", "v1beta", (KEY,))
        assert fragment in command and command.startswith("curl ")
        assert "/v1beta/models/gemini-2.5-flash-image:generateContent" in command


def test_reproducer_elides_huge_strings() -> None:
    big = Case(purpose="generate", label="t", model=MODEL, document={"contents": [{"parts": [{"text": "x" * 9000}]}]})
    assert "<9000 characters elided>" in curl_reproducer(big, "http://h", "v1beta", ())


def test_redaction_keeps_documents_valid_and_placeholders_runnable() -> None:
    text = f'-H "x-goog-api-key: {KEY}" https://h/x?key={KEY}&a=1 Authorization: Bearer {KEY}'
    assert KEY not in redact(text)
    assert KEY not in redact(f"leaked somewhere: {KEY}", (KEY,))
    assert redact('-H "x-goog-api-key: $GEMINI_API_KEY"') == '-H "x-goog-api-key: $GEMINI_API_KEY"'
    assert redact_document({"a": [f"key={KEY}"], "n": 1}, (KEY,)) == {"a": ["key=[REDACTED]"], "n": 1}
