"""Generated requests are valid per schemas/ and profiles; invalid ones break exactly one rule."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from contract_tests.generation.cases import Case, with_casing
from contract_tests.generation.negative import NEGATIVE_KINDS, invalid_cases, negative_case
from schemas import load_profile_book, validator
from schemas.wire.casing import map_keys, snake_to_camel

MODELS = tuple(load_profile_book().ids())
FAST = settings(max_examples=25, derandomize=True, deadline=None, database=None)


def camel(value: Any) -> Any:
    return map_keys(value, snake_to_camel)


@FAST
@given(st.data())
def test_valid_cases_conform_to_the_schema_and_the_profile(data: st.DataObject) -> None:
    from contract_tests.generation.strategies import valid_cases

    case: Case = data.draw(valid_cases(MODELS, ("header", "query")))
    wire = json.loads(case.body() or b"{}")
    document = camel(wire)
    assert not list(validator("generate_content_request").iter_errors(document))
    profile = load_profile_book().get(case.model)
    assert profile is not None
    config = document.get("generationConfig", {})
    image_config = config.get("imageConfig", {})
    assert image_config.get("aspectRatio", profile.aspect_ratios[0]) in profile.aspect_ratios
    assert image_config.get("imageSize", profile.default_image_size) in profile.image_sizes
    images = [p["inlineData"] for p in document["contents"][0]["parts"] if "inlineData" in p]
    assert len(images) <= profile.max_input_images
    for blob in images:
        assert blob["mimeType"] in profile.input_mime_types
        padded = blob["data"] + "=" * (-len(blob["data"]) % 4)
        assert base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
    if case.casing == "snake":
        assert "generation_config" in wire or "generationConfig" not in document
    assert case.auth in ("header", "query")


def test_casing_respells_every_level() -> None:
    document = {"generationConfig": {"imageConfig": {"aspectRatio": "1:1"}}}
    assert with_casing(document, "snake") == {"generation_config": {"image_config": {"aspect_ratio": "1:1"}}}
    assert with_casing(document, "mixed") == {"generationConfig": {"image_config": {"aspectRatio": "1:1"}}}


def test_each_negative_kind_breaks_exactly_its_rule() -> None:
    model = "gemini-3-pro-image-preview"
    profile = load_profile_book().get(model)
    assert profile is not None
    schema = validator("generate_content_request")
    for kind in NEGATIVE_KINDS:
        case = negative_case(kind, model)
        body = case.body()
        assert body is not None
        if kind == "malformed_json":
            try:
                json.loads(body)
            except ValueError:
                continue
            raise AssertionError("malformed_json parsed")
        errors = list(schema.iter_errors(json.loads(body)))
        assert bool(errors) == kind.startswith("unknown_field"), kind
        image_config = json.loads(body).get("generationConfig", {}).get("imageConfig", {})
        assert (image_config.get("aspectRatio") not in profile.aspect_ratios) == (kind == "bad_aspect_ratio")
        assert ("imageSize" in image_config and image_config["imageSize"] not in profile.image_sizes) == (
            kind == "bad_image_size")
    assert negative_case("missing_key", model).auth is None
    assert negative_case("wrong_key", model).wrong_key


@FAST
@given(st.data())
def test_invalid_cases_name_a_catalogue_error(data: st.DataObject) -> None:
    from schemas import error_catalogue

    case = data.draw(invalid_cases(MODELS))
    assert case.expect.error in error_catalogue()["errors"]
    profile = load_profile_book().get(case.model)
    if profile is not None and len(profile.image_sizes) < 2:
        assert case.label != "bad image size"
