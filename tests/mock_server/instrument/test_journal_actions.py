"""The journal's ``action`` for every route the fake serves, not only ``models/{model}:{action}``: what
google-genai's ``client.interactions``, ``files``, ``batches`` and ``models`` send is named as Google's
RPC methods are (``interactions.create``, ``files.get``, ``batches.cancel`` ...)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from google.genai import errors

from mock_server.app import create_app
from mock_server.testing.pytest_plugin import GeminiMock
from mock_server.web.http import action_of

PRO = "gemini-3-pro-image-preview"
FLASH = "gemini-2.5-flash-image"


def actions(gemini_mock: GeminiMock) -> list[tuple[str, str | None]]:
    return [(call.method, call.action) for call in gemini_mock.calls]


def test_interactions_are_named_create_get_cancel_delete(gemini_mock: GeminiMock) -> None:
    client = gemini_mock.client
    interaction = client.interactions.create(model=PRO, input="a lighthouse")
    assert client.interactions.get(id=interaction.id).id == interaction.id
    try:
        client.interactions.cancel(id=interaction.id)  # already completed: the fake may refuse, still journaled
    except Exception as exc:  # the Interactions client raises its own error types
        assert "409" in str(exc) or "400" in str(exc) or "FAILED_PRECONDITION" in str(exc), exc
    client.interactions.delete(id=interaction.id)
    assert actions(gemini_mock) == [("POST", "interactions.create"), ("GET", "interactions.get"),
                                    ("POST", "interactions.cancel"), ("DELETE", "interactions.delete")]
    created = gemini_mock.assert_called(action="interactions.create", times=1)[0]
    assert created.status == 200 and created.path.endswith("/interactions")
    assert gemini_mock.assert_called(action="interactions.delete", method="DELETE", times=1)[0].status == 200


def test_files_are_named_as_google_names_their_methods(gemini_mock: GeminiMock, tmp_path: Path) -> None:
    client = gemini_mock.client
    source = tmp_path / "note.txt"
    source.write_text("a small file")
    uploaded = client.files.upload(file=str(source), config={"mime_type": "text/plain"})
    assert client.files.get(name=uploaded.name).name == uploaded.name
    assert uploaded.name in [listed.name for listed in client.files.list()]
    with pytest.raises(errors.APIError):
        client.files.download(file=uploaded.name)  # an uploaded file cannot be downloaded (only generated ones)
    client.files.delete(name=uploaded.name)
    names = [action for _, action in actions(gemini_mock)]
    # the resumable upload is two requests to the same path: start, then upload+finalize
    assert names == ["media.upload", "media.upload", "files.get", "files.list", "files.download", "files.delete"]
    assert gemini_mock.assert_called(action="files.download", times=1)[0].status == 400


def test_batches_and_models_are_named_too(gemini_mock: GeminiMock) -> None:
    client = gemini_mock.client
    job = client.batches.create(model=FLASH, src=[{"contents": [{"role": "user", "parts": [{"text": "a harbour"}]}]}])
    assert client.batches.get(name=job.name).name == job.name
    assert job.name in [listed.name for listed in client.batches.list()]
    try:
        client.batches.cancel(name=job.name)
    except errors.APIError as exc:  # it may have finished already: not cancellable, still journaled
        assert exc.code == 400
    client.batches.delete(name=job.name)
    client.models.get(model=FLASH)
    list(client.models.list())
    names = [action for _, action in actions(gemini_mock)]
    assert names == ["batchGenerateContent", "batches.get", "batches.list", "batches.cancel", "batches.delete",
                     "models.get", "models.list"]
    assert gemini_mock.assert_called(action="models.get", model=FLASH, times=1)
    with pytest.raises(AssertionError, match=r"action=batches\.cancel"):  # a failure lists each call's action
        gemini_mock.assert_called(action="batches.cancel", status=201)


@pytest.mark.parametrize(("method", "path", "expected"), [
    ("POST", "/v1beta/models/gemini-x:generateContent", "generateContent"),
    ("POST", "/v1/projects/p/locations/l/publishers/google/models/m:streamGenerateContent", "streamGenerateContent"),
    ("GET", "/v1beta/models/gemini-x:generateContent", "generateContent"),  # as before: the path names it (405)
    ("GET", "/download/v1beta/files/f1:download", "files.download"),
    ("GET", "/v1beta/files/f1:download", "files.download"),
    ("POST", "/v1beta/batches/b1:cancel", "batches.cancel"),
    ("POST", "/v1/interactions/v1_abc/cancel", "interactions.cancel"),
    ("GET", "/v1beta1/publishers/google/models", "models.list"),
    ("GET", "/v1beta1/publishers/google/models/gemini-x", "models.get"),
    ("GET", "/v1beta1/projects/p/locations/l/publishers/google/models/gemini-x", "models.get"),
    ("GET", "/v1beta1/projects/p/locations/l/models", "models.list"),
    ("POST", "/v1beta1/projects/p/locations/l/interactions:create", "interactions.create"),
    ("POST", "/v1beta1/projects/p/locations/l/interactions:createStream", "interactions.createStream"),
    ("POST", "/v1beta1/projects/p/locations/l/interactionsHttp", "interactionsHttp.create"),
    ("GET", "/v1beta1/interactions/v1_abc:poll", "interactions.getPoll"),
    ("GET", "/v1beta1/interactions/v1_abc:stream", "interactions.getStream"),
    ("POST", "/v1beta1/interactions/v1_abc:cancel", "interactions.cancel"),
    ("GET", "/v1beta1/interactions/v1_abc", "interactions.get"),
    ("POST", "/v1beta1/projects/p/locations/l/batchPredictionJobs", "batchPredictionJobs.create"),
    ("POST", "/v1/projects/p/locations/l/batchPredictionJobs/123:cancel", "batchPredictionJobs.cancel"),
    ("DELETE", "/v1beta1/projects/p/locations/l/batchPredictionJobs/123", "batchPredictionJobs.delete"),
    ("PUT", "/v1/interactions", None),  # 405: no action of Google's
    ("GET", "/v1beta/batches/b1:cancel", None),
    ("GET", "/v1beta/nothing", None),
    ("GET", "/_mock/requests", None),
    ("PATCH", "/v1beta/webhooks/w1", "webhooks.update"),
    ("POST", "/v1beta/webhooks/w1:rotateSigningSecret", "webhooks.rotateSigningSecret"),
    ("GET", "/_mock/webhooks/deliveries", None),
])
def test_action_depends_on_method_and_path(method: str, path: str, expected: str | None) -> None:
    assert action_of(method, path) == expected


def _sample_path(template: str) -> str:
    path = template.replace("{version}", "v1beta").replace("{target:path}", "m1").replace("{target}", "t1")
    return re.sub(r"\{[a-z_]+\}", "x1", path)


def test_every_route_the_fake_serves_has_an_action() -> None:
    """A new route without a name fails here (the 405 catch-alls of the Interactions API excepted)."""
    unnamed: list[str] = []
    for route in create_app().routes:
        path: Any = getattr(route, "path", "")
        endpoint = getattr(route, "endpoint", None)
        if path.startswith("/_mock/") or getattr(endpoint, "__name__", "") == "_method_not_allowed":
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):  # type: ignore[attr-defined]
            sample = _sample_path(path)
            if method == "POST" and "{target" in path:  # POST on an item is always one of its actions
                kind = next((part for part in ("/batches/", "/batchPredictionJobs/", "/webhooks/") if part in path), "")
                sample += {"/batches/": ":cancel", "/batchPredictionJobs/": ":cancel", "/webhooks/": ":ping"}.get(
                    kind, ":generateContent")
            if action_of(method, sample) is None:
                unnamed.append(f"{method} {sample}")
    assert not unnamed, unnamed
