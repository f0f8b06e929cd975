"""google-genai 3.x ``client.interactions`` against the fake on a loopback port (SDK default: /v1)."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Iterator

import httpx
import pytest
from google import genai
from google.genai import types
from PIL import Image

from mock_server.settings import Settings
from mock_server.testing import RunningServer, serve_in_thread

interactions_errors = pytest.importorskip("google.genai._interactions_errors")

PRO, FLASH25 = "gemini-3-pro-image-preview", "gemini-2.5-flash-image"


def client_for(server: RunningServer, api_version: str | None = None) -> genai.Client:
    options = types.HttpOptions(base_url=server.base_url, api_version=api_version) if api_version else \
        types.HttpOptions(base_url=server.base_url)
    return genai.Client(api_key="sdk-key", http_options=options)


def _image(interaction: object) -> Image.Image:
    image = interaction.output_image  # type: ignore[attr-defined]
    assert image is not None and image.data
    data = image.data if isinstance(image.data, bytes) else base64.b64decode(image.data)
    return Image.open(io.BytesIO(data))


@pytest.fixture(scope="module")
def slow_server() -> Iterator[RunningServer]:
    """Generation takes 2 s (fixed latency), so a background interaction can be cancelled in flight."""
    with serve_in_thread(Settings(port=0, latency="2000")) as server:
        yield server


@pytest.mark.parametrize("api_version", [None, "v1beta"])
def test_one_shot_image(live_server: RunningServer, api_version: str | None) -> None:
    client = client_for(live_server, api_version)
    interaction = client.interactions.create(
        model=PRO, input="a lighthouse in a storm",
        response_format={"type": "image", "aspect_ratio": "16:9", "image_size": "2K", "mime_type": "image/jpeg"},
    )
    assert interaction.status == "completed" and interaction.id and interaction.id.startswith("v1_")
    assert [step.type for step in interaction.steps] == ["thought", "model_output"]
    assert interaction.steps[0].signature
    image = _image(interaction)
    assert (image.size, image.format) == ((2752, 1536), "JPEG")
    usage = interaction.usage
    assert usage.total_tokens == usage.total_input_tokens + usage.total_output_tokens + usage.total_thought_tokens
    assert {m.modality: m.tokens for m in usage.output_tokens_by_modality} == {"image": 1120}
    assert interaction.model == PRO


def test_two_turn_edit_through_previous_interaction_id(live_server: RunningServer) -> None:
    client = client_for(live_server)
    first = client.interactions.create(model=PRO, input="a red kite over a field",
                                       response_format={"type": "image", "aspect_ratio": "9:16"})
    second = client.interactions.create(model=PRO, input="make the kite blue", previous_interaction_id=first.id)
    assert second.status == "completed" and second.previous_interaction_id == first.id
    # No ratio given: the edit keeps the previous image's ratio, and the previous image is billed as input.
    assert _image(second).size == _image(first).size
    assert "edited" in (second.output_text or "")
    assert {m.modality for m in second.usage.input_tokens_by_modality} == {"text", "image"}
    fetched = client.interactions.get(second.id)
    assert [step.type for step in fetched.steps] == ["user_input", "thought", "model_output"]


def test_streaming_events(live_server: RunningServer) -> None:
    client = client_for(live_server)
    events = list(client.interactions.create(model=PRO, input="a paper boat", stream=True,
                                             generation_config={"thinking_summaries": "auto"}))
    kinds = [event.event_type for event in events]
    assert kinds[:2] == ["interaction.created", "interaction.status_update"]
    assert kinds[-1] == "interaction.completed"
    deltas = [event.delta for event in events if event.event_type == "step.delta"]
    assert sum(1 for delta in deltas if delta.type == "image") == 1
    assert any(delta.type == "thought_signature" for delta in deltas)
    completed = events[-1].interaction
    assert completed.status == "completed" and completed.usage.total_tokens > 0
    # The streamed interaction was stored and can be continued.
    again = client.interactions.create(model=PRO, input="now at night", previous_interaction_id=completed.id)
    assert again.status == "completed"


def test_background_then_cancel(slow_server: RunningServer) -> None:
    client = client_for(slow_server)
    started = client.interactions.create(model=FLASH25, input="a slow painting", background=True)
    assert started.status == "in_progress" and not started.steps
    cancelled = client.interactions.cancel(started.id)
    assert cancelled.status == "cancelled"
    time.sleep(2.5)
    assert client.interactions.get(started.id).status == "cancelled"


def test_background_completes(slow_server: RunningServer) -> None:
    client = client_for(slow_server)
    started = client.interactions.create(model=FLASH25, input="a quick sketch", background=True)
    assert client.interactions.get(started.id).status == "in_progress"
    deadline = time.monotonic() + 10
    while (current := client.interactions.get(started.id)).status == "in_progress" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert current.status == "completed" and current.output_image is not None


def test_error_classes(live_server: RunningServer) -> None:
    client = client_for(live_server)
    with pytest.raises(interactions_errors.BadRequestError) as bad:
        client.interactions.create(model=FLASH25, input="x", response_format={"type": "image", "aspect_ratio": "7:3"})
    assert bad.value.status_code == 400 and "aspect_ratio" in str(bad.value)
    with pytest.raises(interactions_errors.NotFoundError):
        client.interactions.create(model="gemini-0-nonexistent-image", input="x")
    with pytest.raises(interactions_errors.NotFoundError):
        client.interactions.create(model=FLASH25, input="x", previous_interaction_id="v1_unknown")
    with pytest.raises(interactions_errors.NotFoundError):
        client.interactions.get("v1_unknown")


def test_store_false_has_no_id_and_cannot_be_continued(live_server: RunningServer) -> None:
    client = client_for(live_server)
    answer = client.interactions.create(model=FLASH25, input="a teapot", store=False)
    assert answer.status == "completed" and not answer.id  # the SDK reads the absent id as ""
    with pytest.raises(interactions_errors.BadRequestError):
        client.interactions.create(model=FLASH25, input="again", store=False, previous_interaction_id="v1_x")


def test_retried_503_twice_then_success(live_server: RunningServer) -> None:
    """The SDK retries 5xx on Interactions by default; the journal shows every attempt."""
    base = live_server.base_url
    rule = {"name": "flaky", "match": {"path": "*/interactions", "prompt": "flaky"},
            "sequence": ["overloaded", "overloaded"]}
    assert httpx.post(f"{base}/_mock/scenarios/rules", json=rule).status_code == 200
    httpx.delete(f"{base}/_mock/requests")
    client = client_for(live_server)  # held: a collected client closes its connection pool mid-retry
    try:
        interaction = client.interactions.create(model=FLASH25, input="a flaky lighthouse")
    finally:
        httpx.delete(f"{base}/_mock/scenarios/rules")
    assert interaction.status == "completed"
    attempts = [entry for entry in httpx.get(f"{base}/_mock/requests").json()["requests"]
                if entry["path"].endswith("/interactions")]
    assert [entry["status"] for entry in attempts] == [503, 503, 200]
    assert [entry["scenario"] for entry in attempts] == ["overloaded", "overloaded", None]
    assert all(entry["model"] == FLASH25 for entry in attempts)


def test_record_then_replay_interactions(tmp_path: object) -> None:
    """Interactions exchanges (unary and stream) are recorded through the recorder and replayed unchanged."""
    from pathlib import Path

    from mock_server.instrument.recording import create_recorder
    from mock_server.testing import serve_asgi_in_thread

    cassettes = str(Path(str(tmp_path)) / "cassettes")
    bodies = [{"model": FLASH25, "input": "a recorded kite"},
              {"model": FLASH25, "input": "a recorded stream", "stream": True}]
    with serve_in_thread(Settings(port=0)) as upstream, \
            serve_asgi_in_thread(create_recorder(upstream.base_url, cassettes)) as recorder:
        recorded = [httpx.post(f"{recorder}/v1/interactions", json=body, headers={"x-goog-api-key": "rec-key-123"},
                               timeout=30) for body in bodies]
    assert [response.status_code for response in recorded] == [200, 200]
    with serve_in_thread(Settings(port=0, replay_dir=cassettes, replay_miss="error")) as replay:
        replayed = [httpx.post(f"{replay.base_url}/v1/interactions", json=body,
                               headers={"x-goog-api-key": "rec-key-123"}, timeout=30) for body in bodies]
    assert [response.content for response in replayed] == [response.content for response in recorded]
