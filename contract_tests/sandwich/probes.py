"""The fixed probes of sandwich mode: sent whatever ``--max-examples`` says.

Scenario markers (``[mock:NAME]`` in the prompt: relays may strip custom headers), an explicit 2K
request, a 4K edit with an inferred ratio, a snake_case ``generation_config`` with a non-default ratio
and size, and two different prompts for the same model (an answer cached across prompts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from contract_tests.config import RunConfig
from contract_tests.generation.cases import Case, Expectation, InputImage, b64encode
from contract_tests.generation.images import make_image, writable_mime_types
from contract_tests.generation.strategies import base_document
from schemas import ModelProfile, load_profile_book

__all__ = ["SCENARIO_PROBES", "Probe", "sandwich_probes"]

# Failure scenarios of the fake a relay must pass on unchanged; stream_cut only exists on streams.
SCENARIO_PROBES = ("rate_limited", "overloaded", "internal", "deadline_exceeded", "prompt_blocked",
                   "image_safety", "no_image", "stream_cut")
_NON_DEFAULT_RATIO = "16:9"
# USD per image for (model, size): probes use each model's cheapest size where the size is not the point.
Price = Callable[[str, str], float]


@dataclass(frozen=True)
class Probe:
    """One fixed request and what it is for (``scenario:NAME``, ``size:4K edit``, ``cache:a`` ...)."""

    kind: str
    case: Case


def _profile(model: str) -> ModelProfile:
    profile = load_profile_book().get(model)
    assert profile is not None, model
    return profile


def _sized_model(config: RunConfig, *sizes: str) -> str | None:
    return next((m for m in config.models if all(size in _profile(m).image_sizes for size in sizes)), None)


def _case(kind: str, model: str, document: dict[str, Any], expect: Expectation, config: RunConfig, *,
          purpose: Any = "settings", casing: Any = "camel") -> Probe:
    return Probe(kind, Case(purpose=purpose, label=f"relay probe: {kind}", model=model, document=document,
                            casing=casing, auth=config.auth, expect=expect))


def _scenario_probes(config: RunConfig, price: Price) -> list[Probe]:
    model = config.models[0]
    profile = _profile(model)
    size = min(profile.image_sizes, key=lambda s: price(model, s))
    probes = []
    for name in SCENARIO_PROBES:
        document = base_document(f"[mock:{name}] a red kite over the sea", [], "standard", "1:1", None, None)
        case = Case(purpose="relay", label=f"relay probe: scenario {name}", model=model, document=document,
                    auth=config.auth, expect=Expectation(aspect_ratio="1:1", image_size=size))
        if name == "stream_cut":
            case = replace(case, action="streamGenerateContent", query={"alt": "sse"})
        probes.append(Probe(f"scenario:{name}", case))
    return probes


def _size_probes(config: RunConfig) -> list[Probe]:
    probes = []
    model = _sized_model(config, "2K")
    if model:
        document = base_document("A harbour at noon, oil painting", [], "standard", _NON_DEFAULT_RATIO, "2K", None)
        probes.append(_case("size:2K", model, document,
                            Expectation(aspect_ratio=_NON_DEFAULT_RATIO, image_size="2K", size_explicit=True), config))
    model = _sized_model(config, "4K")
    mimes = writable_mime_types(_profile(model).input_mime_types) if model else []
    if model and mimes:
        image = InputImage(60, 40, mimes[0])
        data = make_image(image.width, image.height, image.mime_type, (30, 90, 160))
        document = base_document("Make the sky orange", [], "standard", None, "4K", None)
        document["contents"][0]["parts"].append({"inlineData": {"mimeType": image.mime_type,
                                                                "data": b64encode(data, "standard")}})
        probes.append(_case("size:4K edit", model, document,
                            Expectation(image_size="4K", size_explicit=True, input_images=(image,)), config))
    return probes


def _snake_probe(config: RunConfig) -> list[Probe]:
    model = _sized_model(config, "2K") or config.models[0]
    profile = _profile(model)
    ratio = _NON_DEFAULT_RATIO if _NON_DEFAULT_RATIO in profile.aspect_ratios else profile.aspect_ratios[-1]
    size = "2K" if "2K" in profile.image_sizes else None
    document = base_document("A windmill in a tulip field", [], "standard", ratio, size, ["IMAGE"])
    expect = Expectation(aspect_ratio=ratio, image_size=size or profile.default_image_size,
                         size_explicit=size is not None, modalities=("IMAGE",))
    return [_case("snake_case generation_config", model, document, expect, config, purpose="casing", casing="snake")]


def _cache_probes(config: RunConfig, price: Price) -> list[Probe]:
    model = config.models[0]
    profile = _profile(model)
    size = min(profile.image_sizes, key=lambda s: price(model, s))
    explicit = size if len(profile.image_sizes) > 1 else None
    probes = []
    for kind, prompt in (("cache:a", "A blue bicycle against a yellow wall"),
                         ("cache:b", "A snowy mountain cabin at night")):
        document = base_document(prompt, [], "standard", "1:1", explicit, None)
        probes.append(_case(kind, model, document,
                            Expectation(aspect_ratio="1:1", image_size=size, size_explicit=explicit is not None),
                            config, purpose="generate"))
    return probes


def sandwich_probes(config: RunConfig, price: Price) -> list[Probe]:
    """Every fixed probe for this run's models, cheapest first."""
    return [*_scenario_probes(config, price), *_cache_probes(config, price), *_snake_probe(config),
            *_size_probes(config)]
