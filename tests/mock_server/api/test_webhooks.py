"""The Webhooks API against the fake: google-genai ``client.webhooks`` on real uvicorn, and the
refusals over plain HTTP (Google-shaped 4xx, texts from the error catalogue)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from google import genai
from google.genai import types

from mock_server.api.webhooks.delivery import destination_refusal
from mock_server.cli import build_parser, settings_from_args
from mock_server.settings import Settings
from mock_server.testing import RunningServer, serve_in_thread
from schemas import error_catalogue, validator
from schemas.webhooks import subscribable_events
from tests.support.fake import InProcess

errors = pytest.importorskip("google.genai._interactions_errors")
KEY = {"x-goog-api-key": "hook-key"}
LOCAL = "http://127.0.0.1:9/hook"  # never called here: these tests never trigger an event


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with serve_in_thread(Settings(port=0)) as running:
        yield running


def sdk(server: RunningServer) -> genai.Client:
    return genai.Client(api_key="hook-key", http_options=types.HttpOptions(base_url=server.base_url,
                                                                            api_version="v1beta"))


def test_lifecycle_through_the_sdk(server: RunningServer) -> None:
    client = sdk(server)
    created = client.webhooks.create(name="nightly", subscribed_events=["batch.succeeded", "batch.failed"],
                                     uri=LOCAL)
    assert created.id and created.state == "enabled" and created.name == "nightly"
    assert created.new_signing_secret and created.new_signing_secret.startswith("whsec_")
    assert created.signing_secrets and created.signing_secrets[0].truncated_secret
    assert created.new_signing_secret not in str(created.signing_secrets)

    fetched = client.webhooks.get(id=created.id)
    assert fetched.new_signing_secret is None  # shown once, at creation
    assert fetched.subscribed_events == ["batch.succeeded", "batch.failed"]
    assert created.id in [hook.id for hook in client.webhooks.list().webhooks or []]

    updated = client.webhooks.update(id=created.id, state="disabled", subscribed_events=["batch.expired"])
    assert (updated.state, updated.subscribed_events, updated.name) == ("disabled", ["batch.expired"], "nightly")
    renamed = client.webhooks.update(id=created.id, name="other", uri=LOCAL + "2", update_mask="name")
    assert renamed.name == "other" and renamed.uri == LOCAL  # only the masked field changes

    rotated = client.webhooks.rotate_signing_secret(id=created.id)
    assert rotated.secret and rotated.secret != created.new_signing_secret
    kept = client.webhooks.get(id=created.id).signing_secrets or []
    assert len(kept) == 2 and kept[1].expire_time is not None  # the old one lives 24 h more
    client.webhooks.rotate_signing_secret(id=created.id, revocation_behavior="revoke_previous_secrets_immediately")
    assert len(client.webhooks.get(id=created.id).signing_secrets or []) == 1

    client.webhooks.ping(id=created.id)
    client.webhooks.delete(id=created.id)
    with pytest.raises(errors.NotFoundError):
        client.webhooks.get(id=created.id)


def test_list_pages(server: RunningServer) -> None:
    client = sdk(server)
    ids = {client.webhooks.create(subscribed_events=["interaction.completed"], uri=LOCAL).id for _ in range(3)}
    seen: set[str | None] = set()
    page = client.webhooks.list(page_size=2)
    while True:
        assert len(page.webhooks or []) <= 2
        seen |= {hook.id for hook in page.webhooks or []}
        if not page.next_page_token:
            break
        page = client.webhooks.list(page_size=2, page_token=page.next_page_token)
    assert ids <= seen


def test_resources_match_their_schemas() -> None:
    fake = InProcess()
    created = fake.request("POST", "/v1beta/webhooks", headers=KEY,
                           json={"uri": LOCAL, "subscribed_events": list(subscribable_events())}).json()
    validator("webhooks/webhook").validate(created)
    assert "new_signing_secret" in created
    listed = fake.request("GET", "/v1beta/webhooks", headers=KEY).json()
    validator("webhooks/list_webhooks").validate(listed)
    assert "new_signing_secret" not in listed["webhooks"][0]


def test_chosen_id_and_conflict() -> None:
    fake = InProcess()
    body = {"uri": LOCAL, "subscribed_events": ["batch.failed"]}
    assert fake.request("POST", "/v1beta/webhooks?webhook_id=my-hook", headers=KEY, json=body).json()["id"] == "my-hook"
    again = fake.request("POST", "/v1beta/webhooks?webhook_id=my-hook", headers=KEY, json=body)
    assert again.status_code == 409 and again.json()["error"]["status"] == "ALREADY_EXISTS"


REFUSED = [
    ({"uri": LOCAL}, "subscribed_events"),
    ({"subscribed_events": ["batch.failed"]}, "uri"),
    ({"uri": LOCAL, "subscribed_events": ["batch.cancelled"]}, "subscribed_events.0"),
    ({"uri": LOCAL, "subscribed_events": []}, "subscribed_events"),
    ({"uri": "ftp://127.0.0.1/x", "subscribed_events": ["batch.failed"]}, "uri"),
    ({"uri": "/relative", "subscribed_events": ["batch.failed"]}, "uri"),
]


@pytest.mark.parametrize(("body", "field"), REFUSED)
def test_bad_bodies_are_400_naming_the_field(body: dict[str, object], field: str) -> None:
    answer = InProcess().request("POST", "/v1beta/webhooks", headers=KEY, json=body)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and f"CreateWebhookRequest.webhook.{field}:" in error["message"]


def test_unknown_field_and_non_object() -> None:
    fake = InProcess()
    unknown = fake.request("POST", "/v1beta/webhooks", headers=KEY,
                           json={"uri": LOCAL, "subscribed_events": ["batch.failed"], "secret": "x"})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["message"] == error_catalogue()["errors"]["unknown_field"]["message"].format(
        name="secret", at="")
    assert fake.request("POST", "/v1beta/webhooks", headers=KEY, json=[1]).status_code == 400
    assert fake.request("POST", "/v1beta/webhooks", headers=KEY, content=b"{not json").status_code == 400


@pytest.mark.parametrize("uri", ["http://example.com/hook", "http://10.0.0.1/hook", "http://169.254.169.254/",
                                 "http://127.0.0.1.nip.io/hook"])
def test_loopback_mode_refuses_other_hosts(uri: str) -> None:
    answer = InProcess().request("POST", "/v1beta/webhooks", headers=KEY,
                                 json={"uri": uri, "subscribed_events": ["batch.failed"]})
    assert answer.status_code == 400
    assert "--webhooks loopback" in answer.json()["error"]["message"]


def test_any_mode_accepts_other_hosts() -> None:
    answer = InProcess(Settings(webhooks="any")).request(
        "POST", "/v1beta/webhooks", headers=KEY, json={"uri": "https://example.com/hook",
                                                       "subscribed_events": ["batch.failed"]})
    assert answer.status_code == 200


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("GET", "/v1beta/webhooks/nope", None, 404),
    ("PATCH", "/v1beta/webhooks/nope", {"name": "x"}, 404),
    ("DELETE", "/v1beta/webhooks/nope", None, 404),
    ("POST", "/v1beta/webhooks/nope:ping", {}, 404),
    ("POST", "/v1beta/webhooks/nope:explode", {}, 404),
    ("GET", "/v1beta/webhooks?page_token=garbage", None, 400),
])
def test_unknown_targets(method: str, path: str, body: object, status: int) -> None:
    answer = InProcess().request(method, path, headers=KEY, json=body)
    assert answer.status_code == status and set(answer.json()["error"]) == {"code", "message", "status"}


def test_update_and_rotate_refusals() -> None:
    fake = InProcess()
    hook = fake.request("POST", "/v1beta/webhooks", headers=KEY,
                        json={"uri": LOCAL, "subscribed_events": ["batch.failed"]}).json()["id"]
    cases = [
        ("PATCH", f"/v1beta/webhooks/{hook}", {"state": "disabled_due_to_failed_deliveries"}),
        ("PATCH", f"/v1beta/webhooks/{hook}?update_mask=secret", {}),
        ("PATCH", f"/v1beta/webhooks/{hook}?update_mask=uri", {}),
        ("PATCH", f"/v1beta/webhooks/{hook}", {"uri": "http://example.com/"}),
        ("POST", f"/v1beta/webhooks/{hook}:rotateSigningSecret", {"revocation_behavior": "never"}),
        ("POST", f"/v1beta/webhooks/{hook}:rotateSigningSecret", {"other": 1}),
    ]
    for method, path, body in cases:
        answer = fake.request(method, path, headers=KEY, json=body)
        assert answer.status_code == 400, (path, body, answer.text)
        assert answer.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert fake.request("GET", f"/v1beta/webhooks/{hook}", headers=KEY).json()["uri"] == LOCAL


def test_the_api_needs_a_key() -> None:
    answer = InProcess(Settings(api_keys=("right",))).request("GET", "/v1beta/webhooks", headers={
        "x-goog-api-key": "wrong"})
    assert answer.status_code == 400 and answer.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert InProcess().request("GET", "/v1beta/webhooks").status_code == 403


@pytest.mark.parametrize(("uri", "mode", "allowed"), [
    ("http://127.0.0.1:9/x", "loopback", True),
    ("http://127.8.9.10/x", "loopback", True),
    ("http://[::1]:9/x", "loopback", True),
    ("https://LOCALHOST/x", "loopback", True),
    ("http://api.localhost/x", "loopback", True),
    ("http://127.0.0.1@example.com/x", "loopback", False),  # userinfo: the host is example.com
    ("http://localhost.example.com/x", "loopback", False),
    ("http://[::ffff:10.0.0.1]/x", "loopback", False),
    ("http://0.0.0.0/x", "loopback", False),
    ("https://example.com/x", "any", True),
    ("file:///etc/passwd", "any", False),
    ("http://127.0.0.1/x", "off", False),
])
def test_destination_rule(uri: str, mode: str, allowed: bool) -> None:
    assert (destination_refusal(uri, mode) is None) == allowed


def test_cli_options_map_onto_settings() -> None:
    args = build_parser().parse_args(["serve", "--webhooks", "off", "--webhook-timeout", "1.5",
                                      "--webhook-retries", "0"])
    settings = settings_from_args(args)
    assert (settings.webhooks, settings.webhook_timeout_seconds, settings.webhook_retries) == ("off", 1.5, 0)
    assert settings_from_args(build_parser().parse_args(["serve"])).webhooks == "loopback"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--webhooks", "everywhere"])


def test_webhooks_live_in_the_shared_state_store(tmp_path: Path) -> None:
    """Two apps on one SQLite state (as two --workers): a webhook made by one is seen and deleted by the other."""
    settings = Settings(state=f"sqlite:///{tmp_path}/state.db")
    one, two = InProcess(settings), InProcess(settings)
    hook = one.request("POST", "/v1beta/webhooks", headers=KEY,
                       json={"uri": LOCAL, "subscribed_events": ["batch.failed"]}).json()["id"]
    assert two.request("GET", f"/v1beta/webhooks/{hook}", headers=KEY).json()["uri"] == LOCAL
    assert two.request("DELETE", f"/v1beta/webhooks/{hook}", headers=KEY).status_code == 200
    assert one.request("GET", f"/v1beta/webhooks/{hook}", headers=KEY).status_code == 404
