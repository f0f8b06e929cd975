"""The requests a run sends, grouped by purpose; cheapest and most targeted first, exploration last."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from contract_tests.checks.base import camel_view
from contract_tests.config import AUTH_STYLES, AuthStyle, RunConfig
from contract_tests.execution.budget import BudgetExhausted, Pricing
from contract_tests.execution.target import TargetUnreachable
from contract_tests.generation.cases import B64Style, Case, Casing, Exchange, Expectation, InputImage
from contract_tests.generation.images import make_image, mime_of_bytes, writable_mime_types
from contract_tests.generation.negative import NEGATIVE_KINDS, applicable, invalid_cases, negative_case, negative_model
from contract_tests.generation.strategies import base_document, valid_cases
from schemas import ModelProfile, load_profile_book

__all__ = [
    "allowed_sizes",
    "auth_cases",
    "baseline_cases",
    "casing_cases",
    "cheapest_size",
    "exploration_strategies",
    "explore",
    "models_cases",
    "multi_turn_case",
    "negative_cases",
    "parity_cases",
    "stream_case",
    "thinking_model",
]

EDIT_PROMPT = "Now make the background blue."


def _profile(model: str) -> ModelProfile:
    profile = load_profile_book().get(model)
    if profile is None:
        raise KeyError(model)
    return profile


def allowed_sizes(config: RunConfig, profile: ModelProfile) -> list[str]:
    """The model's sizes this run may request (``--image-size`` narrows them)."""
    return [s for s in profile.image_sizes if not config.image_sizes or s in config.image_sizes] or [
        profile.default_image_size
    ]


def cheapest_size(config: RunConfig, pricing: Pricing, model: str) -> str:
    return min(allowed_sizes(config, _profile(model)), key=lambda size: pricing.per_image(model, size))


def _simple_case(config: RunConfig, pricing: Pricing, model: str, purpose: Any, *, casing: Casing = "camel",
                 auth: AuthStyle | None = None, with_image: bool = False, label: str = "",
                 modalities: tuple[str, ...] = ()) -> Case:
    """A valid request at the model's cheapest size with an explicit non-square ratio."""
    profile = _profile(model)
    size = cheapest_size(config, pricing, model)
    ratio = profile.aspect_ratios[1 % len(profile.aspect_ratios)]
    images: list[tuple[InputImage, bytes]] = []
    mimes = writable_mime_types(profile.input_mime_types)
    if with_image and mimes:
        images.append((InputImage(48, 32, mimes[0]), make_image(48, 32, mimes[0], (200, 40, 40))))
    explicit_size = size if len(profile.image_sizes) > 1 else None
    b64: B64Style = "urlsafe_unpadded" if casing != "camel" else "standard"
    document = base_document("A lighthouse at dusk, watercolour", images, b64, ratio, explicit_size,
                             modalities or None)
    expect = Expectation(aspect_ratio=ratio, image_size=size, size_explicit=explicit_size is not None,
                         input_images=tuple(image for image, _ in images), modalities=modalities)
    return Case(purpose=purpose, label=label or f"{purpose} {model}", model=model, document=document,
                casing=casing, auth=auth or config.auth, expect=expect)


def baseline_cases(config: RunConfig, pricing: Pricing) -> list[Case]:
    """One canonical request per model: camelCase, explicit ratio and size, the configured auth style."""
    return [_simple_case(config, pricing, model, "generate", label=f"baseline {model}") for model in config.models]


def casing_cases(config: RunConfig, pricing: Pricing) -> list[Case]:
    """snake_case and mixed spellings; the snake one asks for IMAGE only, so settings_effective can tell
    whether its ``response_modalities`` (and ratio) took effect."""
    model = config.models[0]
    return [_simple_case(config, pricing, model, "casing", casing=casing, with_image=True,
                         label=f"{casing} spelling, URL-safe base64",
                         modalities=("IMAGE",) if casing == "snake" else ()) for casing in ("snake", "mixed")]


def auth_cases(config: RunConfig, pricing: Pricing) -> list[Case]:
    model = config.models[0]
    return [_simple_case(config, pricing, model, "auth", auth=style, label=f"auth via {style}")
            for style in AUTH_STYLES]


def stream_case(config: RunConfig, pricing: Pricing) -> Case:
    case = _simple_case(config, pricing, config.models[0], "stream", label="stream (alt=sse)")
    return replace(case, action="streamGenerateContent", query={"alt": "sse"})


def models_cases(config: RunConfig) -> list[Case]:
    listing = Case(purpose="models", label="list models", model="", method="GET", action="", auth=config.auth,
                   query={"pageSize": "1000"})
    gets = [Case(purpose="models", label=f"get {model}", model=model, method="GET", action="", auth=config.auth)
            for model in config.models]
    return [listing, *gets]


def negative_cases(config: RunConfig) -> list[Case]:
    """Every kind of invalid request once, against the model where each kind applies."""
    model = negative_model(config.models)
    profile = _profile(model)
    kinds = [kind for kind in NEGATIVE_KINDS if applicable(kind, profile)]
    if not config.probe_wrong_key:
        kinds.remove("wrong_key")
    return [negative_case(kind, model, config.auth) for kind in kinds]


def thinking_model(config: RunConfig) -> str | None:
    return next((m for m in config.models if _profile(m).thinking), None)


def _replayable(part: dict[str, Any]) -> dict[str, Any]:
    # Replay as received, but with mimeType taken from the bytes: a lying mimeType is image_payload's
    # finding, and must not also make the signature check fail.
    blob = part.get("inlineData")
    if isinstance(blob, dict) and isinstance(blob.get("data"), str):
        try:
            actual = mime_of_bytes(base64.b64decode(blob["data"]))
        except ValueError:
            actual = None
        if actual:
            part = {**part, "inlineData": {**blob, "mimeType": actual}}
    return part


def multi_turn_case(first: Exchange) -> Case | None:
    """The follow-up edit of a conversation whose first answer carried images, signatures replayed."""
    document = first.json
    if first.status != 200 or not isinstance(document, dict):
        return None
    candidates = camel_view(document).get("candidates") or []
    parts = ((candidates[0] if candidates else {}).get("content") or {}).get("parts") or []
    if not any("inlineData" in part for part in parts if isinstance(part, dict)):
        return None
    history = [_replayable(part) for part in parts if isinstance(part, dict)]
    previous = first.case.document
    contents = [*previous["contents"], {"role": "model", "parts": history},
                {"role": "user", "parts": [{"text": EDIT_PROMPT}]}]
    document_2 = {**previous, "contents": contents}
    return Case(purpose="multi_turn", label=f"multi-turn edit {first.case.model}", model=first.case.model,
                document=document_2, auth=first.case.auth, expect=first.case.expect)


def explore(strategy: st.SearchStrategy[Case], max_examples: int, seed: int | None,
            send: Callable[[Case], object]) -> None:
    """Send up to ``max_examples`` drawn cases. No shrinking: every shrink step would be a paid request."""
    if max_examples <= 0:
        return
    stopped: list[Exception] = []

    @settings(max_examples=max_examples, database=None, deadline=None, derandomize=seed is None,
              phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))
    @given(strategy)
    def body(case: Case) -> None:
        if stopped:
            return
        try:
            send(case)
        except (BudgetExhausted, TargetUnreachable) as error:
            stopped.append(error)

    runner = hypothesis_seed(seed)(body) if seed is not None else body
    runner()
    if stopped:
        raise stopped[0]


def exploration_strategies(config: RunConfig) -> tuple[st.SearchStrategy[Case], st.SearchStrategy[Case]]:
    """(valid, invalid) strategies for this run's models, auth styles and sizes."""
    valid = valid_cases(config.models, config.required_auth_styles, config.image_sizes or None)
    return valid, invalid_cases(config.models, config.auth)


def parity_cases(config: RunConfig, pricing: Pricing) -> list[Case]:
    """The same core requests on each parity version (/v1: google-genai 3.x's default): list models,
    one baseline per model, one stream."""
    cases: list[Case] = []
    for version in config.parity_versions:
        core = [models_cases(config)[0], *baseline_cases(config, pricing), stream_case(config, pricing)]
        cases += [replace(case, api_version=version, label=f"{case.label} on /{version}") for case in core]
    return cases
