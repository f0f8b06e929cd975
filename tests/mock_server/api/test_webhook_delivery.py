"""Webhook deliveries for real: the fake on uvicorn, a receiving HTTP server on another loopback port
that verifies each delivery the way the receivers' guides say (Standard Webhooks for registered
webhooks, a JWT against the JWKS for a job's own ``webhook_config``)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from google import genai
from google.genai import types
from standardwebhooks.webhooks import WebhookVerificationError

from mock_server.settings import Settings
from mock_server.testing import RunningServer, serve_in_thread
from schemas import validator
from tests.support.webhook_receiver import Receiver, receiver, verify_dynamic, verify_static

MODEL = "gemini-2.5-flash-image"
API_KEY = "delivery-key-0123456789abcdef"
ITEM = {"contents": [{"role": "user", "parts": [{"text": "a fox"}]}], "metadata": {"key": "fox"}}


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    settings = Settings(port=0, api_keys=(API_KEY,), time_scale=0.001, webhook_retries=2,
                        webhook_timeout_seconds=0.5)
    with serve_in_thread(settings) as running:
        yield running


@pytest.fixture
def hooks() -> Iterator[Receiver]:
    with receiver() as running:
        yield running


def sdk(server: RunningServer) -> genai.Client:
    return genai.Client(api_key=API_KEY, http_options=types.HttpOptions(base_url=server.base_url,
                                                                         api_version="v1beta"))


def records(server: RunningServer, message_id: str | None = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = httpx.get(server.base_url + "/_mock/webhooks/deliveries",
                                            headers={"x-goog-api-key": API_KEY}).json()["deliveries"]
    return [record for record in found if message_id in (None, record["message_id"])]


def settled(server: RunningServer, message_id: str, seconds: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = records(server, message_id)
        if found and found[0]["outcome"] != "pending":
            return found[0]
        time.sleep(0.02)
    raise AssertionError(f"delivery {message_id} still pending")


def test_batch_webhook_config_delivers_one_signed_event(server: RunningServer, hooks: Receiver) -> None:
    url = hooks.url("/batch")
    client = sdk(server)  # held: a Client closes its connection when collected
    job = client.batches.create(model=MODEL, src=[ITEM], config={
        "webhook_config": {"uris": [url], "user_metadata": {"tenant": "t-7", "run": 3}}})
    [delivery] = hooks.wait_for(1)
    claims = verify_dynamic(delivery, server.base_url + "/.well-known/jwks.json", audience=url)
    event = delivery.event()
    validator("webhooks/event").validate(event)
    assert event["type"] == "batch.succeeded" and event["data"]["id"] == job.name
    assert event["data"]["user_metadata"] == {"tenant": "t-7", "run": 3}
    assert claims["aud"] == url
    time.sleep(0.3)
    assert len(hooks.received) == 1  # one event, one destination, one attempt
    record = settled(server, delivery.headers["webhook-id"])
    assert (record["outcome"], record["signing"], record["event"]) == ("delivered", "jwt", "batch.succeeded")
    assert API_KEY not in json.dumps(records(server)) + delivery.body.decode() + json.dumps(delivery.headers)


def test_a_tampered_body_fails_verification(server: RunningServer, hooks: Receiver) -> None:
    url = hooks.url()
    client = sdk(server)
    client.batches.create(model=MODEL, src=[ITEM], config={"webhook_config": {"uris": [url]}})
    [delivery] = hooks.wait_for(1)
    forged = type(delivery)(delivery.path, delivery.body.replace(b"succeeded", b"failed"), delivery.headers)
    with pytest.raises(AssertionError):
        verify_dynamic(forged, server.base_url + "/.well-known/jwks.json", audience=url)
    with pytest.raises(jwt.InvalidAudienceError):
        verify_dynamic(delivery, server.base_url + "/.well-known/jwks.json", audience=url + "/other")


def test_registered_webhooks_get_only_their_events(server: RunningServer, hooks: Receiver) -> None:
    client = sdk(server)
    wanted = client.webhooks.create(subscribed_events=["batch.succeeded"], uri=hooks.url("/wanted"))
    other = client.webhooks.create(subscribed_events=["batch.failed"], uri=hooks.url("/other"))
    disabled = client.webhooks.create(subscribed_events=["batch.succeeded"], uri=hooks.url("/disabled"))
    client.webhooks.update(id=disabled.id or "", state="disabled")
    try:
        job = client.batches.create(model=MODEL, src=[ITEM])
        [delivery] = hooks.wait_for(1)
        time.sleep(0.3)
        assert [got.path for got in hooks.received] == ["/wanted"]
        event = verify_static(delivery, wanted.new_signing_secret or "")
        assert event["type"] == "batch.succeeded" and event["data"]["id"] == job.name
        assert "user_metadata" not in event["data"]
        with pytest.raises(WebhookVerificationError):
            verify_static(delivery, other.new_signing_secret or "")
        assert settled(server, delivery.headers["webhook-id"])["signing"] == "hmac"
    finally:
        for hook in (wanted, other, disabled):
            client.webhooks.delete(id=hook.id or "")


def test_rotation_signs_with_every_live_secret(server: RunningServer, hooks: Receiver) -> None:
    client = sdk(server)
    hook = client.webhooks.create(subscribed_events=["batch.failed"], uri=hooks.url())
    first = hook.new_signing_secret or ""
    second = client.webhooks.rotate_signing_secret(id=hook.id or "").secret or ""
    client.webhooks.ping(id=hook.id or "")
    [ping] = hooks.wait_for(1)
    assert verify_static(ping, first)["type"] == verify_static(ping, second)["type"] == "webhook.ping"
    third = client.webhooks.rotate_signing_secret(
        id=hook.id or "", revocation_behavior="revoke_previous_secrets_immediately").secret or ""
    client.webhooks.ping(id=hook.id or "")
    later = hooks.wait_for(2)[1]
    verify_static(later, third)
    for revoked in (first, second):
        with pytest.raises(WebhookVerificationError):
            verify_static(later, revoked)
    client.webhooks.delete(id=hook.id or "")


def test_failed_attempts_are_retried_with_the_same_id(server: RunningServer, hooks: Receiver) -> None:
    hooks.statuses = [500, 503]
    client = sdk(server)
    hook = client.webhooks.create(subscribed_events=["batch.failed"], uri=hooks.url())
    client.webhooks.ping(id=hook.id or "")
    attempts = hooks.wait_for(3)
    assert len({got.headers["webhook-id"] for got in attempts}) == 1
    record = settled(server, attempts[0].headers["webhook-id"])
    assert record["outcome"] == "delivered"
    assert [attempt.get("status") for attempt in record["attempts"]] == [500, 503, 204]
    client.webhooks.delete(id=hook.id or "")


def test_retries_are_bounded_and_a_slow_endpoint_times_out(server: RunningServer, hooks: Receiver) -> None:
    hooks.delay = 2.0  # longer than the fake's 0.5 s per attempt
    client = sdk(server)
    hook = client.webhooks.create(subscribed_events=["batch.failed"], uri=hooks.url())
    started = time.monotonic()
    client.webhooks.ping(id=hook.id or "")
    client.webhooks.get(id=hook.id or "")
    assert time.monotonic() - started < 1.0  # the answer never waits for the receiver
    attempts = hooks.wait_for(3)
    record = settled(server, attempts[0].headers["webhook-id"])
    assert record["outcome"] == "failed"
    assert [attempt.get("error") for attempt in record["attempts"]] == ["ReadTimeout"] * 3
    time.sleep(0.6)
    assert len(hooks.received) == 3  # 1 + --webhook-retries, no more
    client.webhooks.delete(id=hook.id or "")


def test_background_interaction_announces_completion(server: RunningServer, hooks: Receiver) -> None:
    url = hooks.url("/interaction")
    answer = httpx.post(server.base_url + "/v1beta/interactions", headers={"x-goog-api-key": API_KEY}, json={
        "model": MODEL, "input": "a lighthouse", "background": True,
        "webhook_config": {"uris": [url], "user_metadata": {"order": "o-1"}}})
    assert answer.status_code == 200, answer.text
    [delivery] = hooks.wait_for(1)
    verify_dynamic(delivery, server.base_url + "/.well-known/jwks.json", audience=url)
    event = delivery.event()
    assert event["type"] == "interaction.completed" and event["data"]["id"] == answer.json()["id"]
    assert event["data"]["user_metadata"] == {"order": "o-1"}


@pytest.mark.parametrize(("config", "text"), [
    ({"uris": ["http://example.com/hook"]}, "--webhooks loopback"),
    ({"uris": "http://127.0.0.1/hook"}, "webhook_config.uris"),
    ({"uris": ["not a uri"]}, "webhook_config.uris"),
    ({"user_metadata": "x"}, "webhook_config.user_metadata"),
    ({"user_metadata": {"big": "x" * 20000}}, "webhook_config.user_metadata"),
    ({"secret": "x"}, "webhook_config"),
])
def test_bad_webhook_config_is_refused_at_creation(server: RunningServer, config: dict[str, Any],
                                                   text: str) -> None:
    batch = {"batch": {"inputConfig": {"requests": {"requests": [{"request": {"contents": ITEM["contents"]}}]}},
                       "webhookConfig": config}}
    answer = httpx.post(f"{server.base_url}/v1beta/models/{MODEL}:batchGenerateContent",
                        headers={"x-goog-api-key": API_KEY}, json=batch)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["status"] == "INVALID_ARGUMENT" and text in answer.json()["error"]["message"]
    interaction = httpx.post(server.base_url + "/v1beta/interactions", headers={"x-goog-api-key": API_KEY}, json={
        "model": MODEL, "input": "a fox", "background": True, "webhook_config": config})
    assert interaction.status_code == 400 and interaction.json()["error"]["code"] == "invalid_request"


def test_a_cancelled_job_announces_nothing(hooks: Receiver) -> None:
    with serve_in_thread(Settings(port=0, latency="600000")) as slow:  # ten minutes per image
        client = sdk(slow)
        job = client.batches.create(model=MODEL, src=[ITEM], config={"webhook_config": {"uris": [hooks.url()]}})
        client.batches.cancel(name=job.name or "")
        assert client.batches.get(name=job.name or "").state == types.JobState.JOB_STATE_CANCELLED
        time.sleep(0.3)
        assert records(slow) == []
    assert hooks.received == []


def test_webhooks_off_calls_nobody(hooks: Receiver) -> None:
    with serve_in_thread(Settings(port=0, webhooks="off")) as quiet:
        client = sdk(quiet)
        client.batches.create(model=MODEL, src=[ITEM], config={"webhook_config": {"uris": [hooks.url()]}})
        deadline = time.monotonic() + 10
        while not records(quiet) or records(quiet)[0]["outcome"] == "pending":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        [record] = records(quiet)
        assert record["outcome"] == "skipped" and record["attempts"] == []
    assert hooks.received == []
