"""The model catalogue: ListModels/GetModel as recorded, lifecycle under --as-of, per-model rules."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from mock_server.cli import build_parser, settings_from_args
from mock_server.settings import Settings
from schemas import load_profile_book
from tests.support.fake import InProcess, error_of, images_in, text_request
from tests.support.real_captures import CAPTURES, capture_names, load_capture

HEADERS = {"x-goog-api-key": "k"}
BOOK = load_profile_book()


def recorded_entries() -> list[dict[str, Any]]:
    """The image models of Google's ListModels page of 2026-08-05, in Google's order."""
    name = "llm-gemini__models_list_2026-08"
    if name not in capture_names():
        pytest.skip(f"real captures not present at {CAPTURES}")
    capture = load_capture(name)
    return [entry for entry in capture["response"]["models"]
            if BOOK.get(entry["name"]) is not None]


@pytest.mark.parametrize("version", ["v1", "v1beta"])
def test_list_and_get_models_equal_the_recorded_entries(fake: InProcess, version: str) -> None:
    recorded = recorded_entries()
    assert len(recorded) == 7  # every captured image id is in the catalogue
    listed = fake.request("GET", f"/{version}/models", headers=HEADERS).json()["models"]
    assert [entry for entry in listed if entry["name"] != "models/gemini-nano-banana-2.1"] == recorded
    for entry in recorded:
        got = fake.request("GET", f"/{version}/{entry['name']}", headers=HEADERS)
        assert got.status_code == 200 and got.json() == entry


def test_every_catalogue_id_is_served_by_default(fake: InProcess) -> None:
    for model_id in BOOK.ids():
        response = fake.generate(model_id, text_request("served?"))
        assert response.status_code == 200, (model_id, response.text)
        assert response.json()["modelVersion"] == BOOK.profiles[model_id].model_version


def listed_ids(app: InProcess) -> list[str]:
    models = app.request("GET", "/v1beta/models", headers=HEADERS).json()["models"]
    return [entry["name"].removeprefix("models/") for entry in models]


@pytest.mark.parametrize(("model", "served_until", "gone_from"), [
    ("gemini-3-pro-image-preview", "2026-06-24", "2026-06-25"),  # shut down 2026-06-25 (docs)
    ("gemini-3.1-flash-image-preview", "2026-06-24", "2026-06-25"),
])
def test_as_of_on_both_sides_of_a_shutdown(model: str, served_until: str, gone_from: str) -> None:
    before, after = InProcess(Settings(as_of=served_until)), InProcess(Settings(as_of=gone_from))
    assert before.generate(model, text_request()).status_code == 200
    assert model in listed_ids(before)
    assert before.request("GET", f"/v1beta/models/{model}", headers=HEADERS).status_code == 200
    response = after.generate(model, text_request(), version="v1")
    assert response.status_code == 404
    assert error_of(response)["message"] == (
        f"models/{model} is not found for API version v1, or is not supported for generateContent. "
        "Call ListModels to see the list of available models and their supported methods.")
    assert model not in listed_ids(after)
    assert after.request("GET", f"/v1beta/models/{model}", headers=HEADERS).status_code == 404
    replacement = BOOK.profiles[model].lifecycle.replacement
    assert replacement and after.generate(replacement, text_request()).status_code == 200


def test_as_of_before_a_launch_and_the_disputed_dates() -> None:
    early = InProcess(Settings(as_of="2026-10-05"))
    assert early.generate("gemini-nano-banana-2.1", text_request()).status_code == 404
    assert "gemini-nano-banana-2.1" not in listed_ids(early)
    assert "gemini-nano-banana-2.1" in listed_ids(InProcess(Settings(as_of="2026-10-06")))
    today = InProcess(Settings(as_of="2026-11-30"))
    # Deprecated without a shutdown date (3.1 Flash) or disputed (2.5): served unless asked otherwise.
    assert {"gemini-3.1-flash-image", "gemini-2.5-flash-image"} <= set(listed_ids(today))
    strict = InProcess(Settings(as_of="2026-11-30", announced_shutdowns="apply"))
    assert strict.generate("gemini-3.1-flash-image", text_request()).status_code == 404
    assert strict.generate("gemini-2.5-flash-image", text_request()).status_code == 404
    assert listed_ids(strict) == ["gemini-3-pro-image", "nano-banana-pro-preview", "gemini-3.1-flash-lite-image",
                                  "gemini-nano-banana-2.1"]


def test_cli_reads_and_rejects_as_of_dates(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["serve", "--as-of", "2026-06-25", "--announced-shutdowns", "apply"])
    settings = settings_from_args(args)
    assert (settings.as_of, settings.announced_shutdowns) == ("2026-06-25", "apply")
    assert Settings.from_json(settings.to_json()).as_of == "2026-06-25"  # reaches worker processes
    with pytest.raises(SystemExit) as raised:
        build_parser().parse_args(["serve", "--as-of", "June 2026"])
    assert raised.value.code == 2 and "YYYY-MM-DD" in capsys.readouterr().err


def test_profile_book_api_reads_the_catalogue() -> None:
    nb = BOOK.get("models/gemini-nano-banana-2.1")
    assert nb is not None
    assert nb.output_tokens_per_image("4K") == 3780 and nb.default_thinking_level == "MEDIUM"
    assert nb.price_per_image_usd("4K") == 0.1134 and nb.price_per_image_usd("4K", batch=True) == 0.0567
    assert nb.output_mime_types == ["image/jpeg"] and "512" not in nb.image_sizes
    lite = BOOK.profiles["gemini-3.1-flash-lite-image"]
    assert lite.image_sizes == ["1K"] and "1:4" not in lite.aspect_ratios
    assert lite.thinking_levels == ["MINIMAL", "HIGH"]
    flash = BOOK.profiles["gemini-3.1-flash-image"]
    assert flash.lifecycle.deprecation == date(2026, 10, 6) and flash.lifecycle.shutdown is None
    assert flash.lifecycle.served_on(date(2027, 1, 1))
    assert BOOK.profiles["gemini-2.5-flash-image"].output_mime_types == ["image/png"]
    pro = BOOK.profiles["gemini-3-pro-image"]
    assert pro.default_dimensions("1K") == (1408, 768) == pro.expected_dimensions(None, "1K")
    assert BOOK.profiles["gemini-3.1-flash-image"].expected_dimensions(None, "2K") == (2048, 2048)
    assert BOOK.served("gemini-3-pro-image-preview", date(2026, 7, 1)) is None
    assert BOOK.served_ids(date(2025, 10, 1)) == []


@pytest.mark.parametrize(("model", "generation", "fragment"), [
    ("gemini-3.1-flash-lite-image", {"imageConfig": {"aspectRatio": "1:4"}}, "aspect"),
    ("gemini-3.1-flash-lite-image", {"imageConfig": {"imageSize": "2K"}}, "image_size"),
    ("gemini-3.1-flash-lite-image", {"thinkingConfig": {"thinkingLevel": "LOW"}}, "hinking"),
    ("gemini-nano-banana-2.1", {"imageConfig": {"imageSize": "512"}}, "image_size"),
])
def test_catalogue_limits_are_400(fake: InProcess, model: str, generation: dict[str, Any], fragment: str) -> None:
    response = fake.generate(model, {"contents": [{"parts": [{"text": "x"}]}], "generationConfig": generation})
    assert response.status_code == 400, response.text
    assert fragment in error_of(response)["message"]


def test_nano_banana_accepts_medium_and_the_extended_ratios(fake: InProcess) -> None:
    body = {"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {
        "thinkingConfig": {"thinkingLevel": "MEDIUM"}, "imageConfig": {"aspectRatio": "8:1", "imageSize": "2K"}}}
    response = fake.generate("gemini-nano-banana-2.1", body)
    assert response.status_code == 200, response.text
    (image,) = images_in(response.json())
    assert image.size == (6144, 768) and image.format == "JPEG"


def test_pro_without_image_config_answers_1408x768(fake: InProcess) -> None:
    for model in ("gemini-3-pro-image", "gemini-3-pro-image-preview", "nano-banana-pro-preview"):
        (image,) = images_in(fake.generate(model, {"contents": [{"parts": [{"text": "otter"}]}],
                                                   "generationConfig": {"imageConfig": {}}}).json())
        assert image.size == (1408, 768) and image.format == "JPEG"
    (square,) = images_in(fake.generate("gemini-3.1-flash-image", text_request("otter")).json())
    assert square.size == (1024, 1024)


def test_serve_as_of_in_worker_processes() -> None:
    """``gemini-mock serve --as-of`` as users run it: the date reaches every uvicorn worker."""
    from tests.mock_server.cli.test_cli import running

    with running("--workers", "2", "--as-of", "2026-06-25") as base_url:
        for _ in range(4):  # the kernel spreads fresh connections over both workers
            listed = httpx.get(f"{base_url}/v1/models", params={"key": "k"}, timeout=30).json()["models"]
            assert "models/gemini-3-pro-image-preview" not in {entry["name"] for entry in listed}
            gone = httpx.post(f"{base_url}/v1beta/models/gemini-3.1-flash-image-preview:generateContent",
                              params={"key": "k"}, json=text_request(), timeout=30)
            assert gone.status_code == 404
        served = httpx.post(f"{base_url}/v1beta/models/gemini-3-pro-image:generateContent", params={"key": "k"},
                            json=text_request(), timeout=30)
        assert served.status_code == 200


def test_service_tier_appears_from_its_date_on() -> None:
    """obs. 19: absent from 2025 captures, present from about July 2026 (catalogue serviceTierSince)."""
    for as_of, expected in (("2026-06-30", None), ("2026-07-01", "standard"), (None, "standard")):
        app = InProcess(Settings(as_of=as_of))
        usage = app.generate("gemini-3-pro-image", text_request("tier")).json()["usageMetadata"]
        assert usage.get("serviceTier") == expected
        blocked = app.generate("gemini-3-pro-image", text_request("tier"), headers={"X-Mock-Scenario": "image_safety"})
        assert blocked.json()["usageMetadata"].get("serviceTier") == expected


def test_as_of_applies_to_vertex_paths_too() -> None:
    path = "/v1beta1/projects/p/locations/global/publishers/google/models/{}:generateContent"
    app = InProcess(Settings(as_of="2026-06-25"))
    headers = {"x-goog-api-key": "k"}
    gone = app.request("POST", path.format("gemini-3-pro-image-preview"), json=text_request(), headers=headers)
    assert gone.status_code == 404
    served = app.request("POST", path.format("gemini-3-pro-image"), json=text_request(), headers=headers)
    assert served.status_code == 200


def test_as_of_applies_to_the_interactions_api_too() -> None:
    body = {"model": "gemini-3-pro-image-preview", "input": "a lighthouse", "response_format": {"type": "text"}}
    before, after = InProcess(Settings(as_of="2026-06-24")), InProcess(Settings(as_of="2026-06-25"))
    assert before.request("POST", "/v1beta/interactions", json=body, headers=HEADERS).status_code == 200
    gone = after.request("POST", "/v1beta/interactions", json=body, headers=HEADERS)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "not_found"
