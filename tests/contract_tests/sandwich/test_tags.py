"""Where a sandwich request carries its tag: the prompt, an Interactions input, or the quotaUser query."""

from __future__ import annotations

from contract_tests.config import RunConfig
from contract_tests.generation.cases import Case
from contract_tests.sandwich.session import SandwichRun, tag_interaction
from contract_tests.sandwich.upstream import UpstreamFake, entry_mentions
from mock_server.testing import RunningServer
from tests.support.relay_under_test import UPSTREAM_KEY

TAG = "ct-0000-001"


def test_interactions_inputs_are_tagged_in_their_last_user_text() -> None:
    assert tag_interaction({"input": "a kite"}, TAG)["input"] == f"a kite ({TAG})"
    blocks = {"input": [{"type": "text", "text": "edit this"}, {"type": "image", "data": "AAAA"}]}
    assert tag_interaction(blocks, TAG)["input"][0]["text"] == f"edit this ({TAG})"
    vertex = {"input": [{"role": "user", "content": [{"type": "text", "text": "first"}]},
                        {"role": "model", "content": [{"type": "text", "text": "answer"}]},
                        {"role": "user", "content": "second"}]}
    tagged = tag_interaction(vertex, TAG)["input"]
    assert tagged[2]["content"] == f"second ({TAG})" and tagged[0]["content"][0]["text"] == "first"
    steps = {"input": [{"type": "user_input", "content": [{"type": "text", "text": "again"}]}]}
    assert tag_interaction(steps, TAG)["input"][0]["content"][0]["text"] == f"again ({TAG})"
    assert vertex["input"][2]["content"] == "second"  # the case's own document is left alone
    untaggable = {"model": "m"}
    assert tag_interaction(untaggable, TAG) is untaggable


def test_requests_without_a_prompt_are_tagged_in_the_query() -> None:
    run = SandwichRun(RunConfig(base_url="http://127.0.0.1:1"), UpstreamFake("http://127.0.0.1:2"))
    listing = Case(purpose="models", label="list", model="", method="GET", action="", query={"pageSize": "5"})
    tagged = run.tag(listing, 0, "")
    assert tagged.query["pageSize"] == "5" and tagged.query["quotaUser"].startswith("ct-")
    assert run.evidence[0].by == "query"
    malformed = Case(purpose="negative", label="bad json", model="m", raw_body=b'{"contents": ')
    assert run.tag(malformed, 1, "").query["quotaUser"] == run.evidence[1].tag
    create = Case(purpose="interactions", label="create", model="m", action="interactions", route="/interactions",
                  document={"model": "m", "input": "a kite"})
    assert run.tag(create, 2, "").document["input"].endswith(f"({run.evidence[2].tag})")
    assert run.evidence[2].by == "prompt"
    entry = {"query": {"quotaUser": run.evidence[0].tag}, "prompt": None, "body": None}
    assert entry_mentions(entry, run.evidence[0].tag) and not entry_mentions(entry, run.evidence[2].tag)


def test_the_key_check_is_not_taken_for_relay_traffic(upstream: RunningServer) -> None:
    # Its untagged GET /v1beta/models would otherwise pass for a listing the relay sent without its query.
    run = SandwichRun(RunConfig(base_url="http://127.0.0.1:1"), UpstreamFake(upstream.base_url, UPSTREAM_KEY))
    run.start()
    run.collect()
    assert run.untagged == [] and run.refused_upstream == 0
