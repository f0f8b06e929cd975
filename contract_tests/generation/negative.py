"""Invalid requests, each breaking exactly one rule of the schema, a profile, or auth.

Each kind names the ``error_catalogue`` entry a conforming endpoint answers with, so the expected
code, status and message come from ``schemas/`` rather than from this module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st

from contract_tests.config import AuthStyle
from contract_tests.generation.cases import Case, Expectation
from contract_tests.generation.strategies import base_document
from schemas import ModelProfile, load_profile_book

__all__ = ["NEGATIVE_KINDS", "invalid_cases", "negative_case", "negative_model"]

UNKNOWN_MODEL = "gemini-contract-suite-no-such-model"


def _minimal(profile: ModelProfile, **overrides: Any) -> dict[str, Any]:
    ratio = overrides.pop("aspect_ratio", profile.aspect_ratios[0])
    size = overrides.pop("image_size", None)
    return base_document("A red apple on a table", [], "standard", ratio, size, None)


def _foreign_ratio(profile: ModelProfile) -> str:
    """A ratio another model accepts but this one does not (tests real profile knowledge), else a made-up one."""
    book = load_profile_book()
    for other in book.profiles.values():
        for ratio in other.aspect_ratios:
            if ratio not in profile.aspect_ratios:
                return ratio
    return "7:3"


def _bad_size(profile: ModelProfile) -> str:
    # Google documents that lowercase sizes ("1k") are rejected (facts §2).
    lettered = [size for size in profile.image_sizes if size.upper() != size.lower()]
    return (lettered[0] if lettered else profile.image_sizes[0] + "k").lower()


def _bad_ratio_doc(profile: ModelProfile) -> dict[str, Any]:
    return _minimal(profile, aspect_ratio=_foreign_ratio(profile))


def _bad_size_doc(profile: ModelProfile) -> dict[str, Any]:
    return _minimal(profile, image_size=_bad_size(profile))


def _unknown_field_doc(profile: ModelProfile) -> dict[str, Any]:
    # outputMimeType is the field users really send and Google really rejects (facts §3d).
    document = _minimal(profile)
    document["generationConfig"]["imageConfig"]["outputMimeType"] = "image/png"
    return document


# The same rule one level at a time: a relay that strips unknown names at any depth is caught.
UNKNOWN_NAME = "contractSuiteUnknownField"


def _unknown_top_doc(profile: ModelProfile) -> dict[str, Any]:
    return {**_minimal(profile), UNKNOWN_NAME: True}


def _unknown_generation_config_doc(profile: ModelProfile) -> dict[str, Any]:
    document = _minimal(profile)
    document["generationConfig"][UNKNOWN_NAME] = True
    return document


def _unknown_part_doc(profile: ModelProfile) -> dict[str, Any]:
    document = _minimal(profile)
    document["contents"][0]["parts"][0][UNKNOWN_NAME] = True
    return document


def _candidate_count_doc(profile: ModelProfile) -> dict[str, Any]:
    document = _minimal(profile)
    document["generationConfig"]["candidateCount"] = 2
    return document


# kind -> (catalogue entry, body builder, case changes)
NEGATIVE_KINDS: dict[str, tuple[str, Callable[[ModelProfile], dict[str, Any]] | None, dict[str, Any]]] = {
    "bad_aspect_ratio": ("aspect_ratio", _bad_ratio_doc, {}),
    "bad_image_size": ("image_size", _bad_size_doc, {}),
    "unknown_field": ("unknown_field", _unknown_field_doc, {}),
    "unknown_field_top_level": ("unknown_field", _unknown_top_doc, {}),
    "unknown_field_in_generationConfig": ("unknown_field", _unknown_generation_config_doc, {}),
    "unknown_field_in_a_part": ("unknown_field", _unknown_part_doc, {}),
    "malformed_json": ("malformed_json", None, {"raw_body": b'{"contents": [{"parts": [{"text": "x"'}),
    "candidate_count": ("candidate_count", _candidate_count_doc, {}),
    "unknown_model": ("model_not_found", _minimal, {"model": UNKNOWN_MODEL}),
    "missing_key": ("api_key_missing", _minimal, {"auth": None}),
    "wrong_key": ("api_key_invalid", _minimal, {"wrong_key": True}),
}


def negative_model(models: Sequence[str]) -> str:
    """The model negatives target: prefer one with several sizes, so every kind applies."""
    book = load_profile_book()
    known = [m for m in models if book.get(m) is not None]
    multi = [m for m in known if len(book.get(m).image_sizes) > 1]  # type: ignore[union-attr]
    return (multi or known)[0]


def applicable(kind: str, profile: ModelProfile) -> bool:
    # A single-size model may ignore imageSize rather than reject it (facts §11.4): not a fair negative.
    return not (kind == "bad_image_size" and len(profile.image_sizes) < 2)


def negative_case(kind: str, model: str, auth: AuthStyle = "header") -> Case:
    profile = load_profile_book().get(model)
    assert profile is not None
    error, build, changes = NEGATIVE_KINDS[kind]
    fields: dict[str, Any] = {"model": model, "auth": auth, **changes}
    return Case(
        purpose="negative", label=kind.replace("_", " "), document=build(profile) if build else None,
        expect=Expectation(error=error, image_size=profile.default_image_size), **fields,
    )


@st.composite
def invalid_cases(draw: st.DrawFn, models: Sequence[str], auth: AuthStyle = "header") -> Case:
    """One broken request: a kind applicable to a drawn model."""
    book = load_profile_book()
    model = draw(st.sampled_from([m for m in models if book.get(m) is not None]))
    profile = book.get(model)
    assert profile is not None
    kind = draw(st.sampled_from([kind for kind in NEGATIVE_KINDS if applicable(kind, profile)]))
    return negative_case(kind, model, auth)
