"""The contract checks on real Google traffic: no false positive, and mutated captures are caught."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from contract_tests.checks import CHECKS, CheckContext, Skip
from contract_tests.config import RunConfig
from contract_tests.generation.cases import Exchange
from tests.support.real_captures import (
    CAPTURES,
    Capture,
    exchange_of,
    gemini_api_image_captures,
    restored_response,
    stand_in_image,
)

CAPTURED = gemini_api_image_captures()
pytestmark = pytest.mark.skipif(not CAPTURED, reason=f"real captures not present at {CAPTURES}")


def judge(exchange: Exchange) -> dict[str, list[str]]:
    """Failures per check id for every check that applies to the exchange."""
    context = CheckContext(RunConfig(base_url="https://generativelanguage.googleapis.com",
                                     models=(exchange.case.model,)))
    failures: dict[str, list[str]] = {}
    for check in CHECKS.values():
        try:
            found = check.run(exchange, context)
        except Skip:
            continue
        if found:
            failures[check.id] = [f"{f.message} at {f.pointer}: expected {f.expected}, got {f.actual}" for f in found]
    return failures


def by_name(fragment: str) -> Capture:
    return next(capture for capture in CAPTURED if fragment in capture.name)


def test_the_selection_covers_every_recorded_image_model() -> None:
    models = {capture.model for capture in CAPTURED}
    assert {"gemini-2.5-flash-image", "gemini-3-pro-image", "gemini-3-pro-image-preview",
            "gemini-3.1-flash-image-preview"} <= models
    assert any(capture.streamed for capture in CAPTURED) and len(CAPTURED) >= 15


@pytest.mark.parametrize("capture", CAPTURED, ids=[capture.name for capture in CAPTURED])
def test_no_check_fails_on_real_google_traffic(capture: Capture) -> None:
    assert judge(exchange_of(capture)) == {}


def _parts(document: dict[str, Any]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = document["candidates"][0]["content"]["parts"]
    return parts


def _image_part(document: dict[str, Any]) -> dict[str, Any]:
    return next(part for part in _parts(document) if "inlineData" in part)


def _png_labelled_jpeg(document: dict[str, Any]) -> None:
    _image_part(document)["inlineData"]["mimeType"] = "image/png"


def _square_image(document: dict[str, Any]) -> None:
    _image_part(document)["inlineData"]["data"] = stand_in_image("JPEG", 1024, 1024)


def _png_from_a_jpeg_only_model(document: dict[str, Any]) -> None:
    _image_part(document)["inlineData"] = {"mimeType": "image/png", "data": stand_in_image("PNG", 1024, 1024)}


def _total_off_by_one(document: dict[str, Any]) -> None:
    document["usageMetadata"]["totalTokenCount"] += 1


def _wrong_image_tokens(document: dict[str, Any]) -> None:
    document["usageMetadata"]["candidatesTokensDetails"] = [{"modality": "IMAGE", "tokenCount": 1290}]


def _unsigned_image(document: dict[str, Any]) -> None:
    del _image_part(document)["thoughtSignature"]


def _cheaper_model(document: dict[str, Any]) -> None:
    document["modelVersion"] = "gemini-2.5-flash-image"


def _silent_empty_answer(document: dict[str, Any]) -> None:
    document["candidates"][0]["content"]["parts"] = [{"text": ""}]


MUTATIONS: list[tuple[str, str, Callable[[dict[str, Any]], None], str]] = [
    ("local_fallback_google__g3-pro-img.json", "g3-pro-img", _png_labelled_jpeg, "image_payload"),
    ("local_fallback_google__g3-pro-img", "g3-pro-img", _square_image, "image_dimensions"),
    ("local_fallback_google__g3-pro-img", "g3-pro-img", _total_off_by_one, "usage_arithmetic"),
    ("local_fallback_google__g3-pro-img", "g3-pro-img", _wrong_image_tokens, "usage_arithmetic"),
    ("local_fallback_google__g3-pro-img", "g3-pro-img", _unsigned_image, "thought_signatures"),
    ("local_fallback_google__g3-pro-img", "g3-pro-img", _cheaper_model, "model_identity"),
    ("local_fallback_google__g3-pro-img", "g3-pro-img", _silent_empty_answer, "image_present_or_explained"),
    ("gemini31flash_image_only_jpeg_1k", "", _png_from_a_jpeg_only_model, "image_payload"),
    ("image_or_text_output__g2.5-flash-img-preview__2", "", _total_off_by_one, "usage_arithmetic"),
]


@pytest.mark.parametrize(("fragment", "suffix", "mutate", "caught_by"), MUTATIONS,
                         ids=[f"{m[3]}-{m[2].__name__.strip('_')}" for m in MUTATIONS])
def test_mutated_captures_are_caught(fragment: str, suffix: str, mutate: Callable[[dict[str, Any]], None],
                                     caught_by: str) -> None:
    capture = next(c for c in CAPTURED if fragment.removesuffix(".json") in c.name and c.name.endswith(suffix))
    document = copy.deepcopy(restored_response(capture))
    mutate(document)
    failures = judge(exchange_of(capture, document))
    assert caught_by in failures, json.dumps(failures, indent=1)


def test_a_text_only_answer_is_fine_only_where_text_was_allowed() -> None:
    capture = by_name("image_or_text_output__g2.5-flash-img-preview__1")
    assert judge(exchange_of(capture)) == {}
    image_only = Capture(capture.name, copy.deepcopy(capture.raw))
    image_only.raw["request"]["generationConfig"] = {"responseModalities": ["IMAGE"]}
    assert "image_present_or_explained" in judge(exchange_of(image_only))
