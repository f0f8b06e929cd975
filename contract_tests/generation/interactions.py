"""The Interactions requests a run sends: one create, one stream, one continuation, invalid requests.

Cheap by construction: the first model that thinks (else the first model), its cheapest allowed size,
one image per valid request. Negative kinds name the HTTP status and Interactions ``error.code`` a
conforming endpoint answers with (``NEGATIVE``), so the check reads its expectation from here.
With ``--api-flavour vertex`` the same requests go to Vertex's Interactions paths
(``RunConfig.interactions_route``) with ``input`` written as Vertex's ``{"role", "content"}`` turns, and
errors are Google's standard envelope (``VERTEX_NEGATIVE``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from contract_tests.config import RunConfig
from contract_tests.generation.cases import Case, Exchange, Expectation
from contract_tests.generation.negative import UNKNOWN_MODEL
from schemas import ModelProfile, load_profile_book

__all__ = ["EDIT_PROMPT", "NEGATIVE", "VERTEX_NEGATIVE", "continuation_case", "create_case", "input_of",
           "interactions_model", "negative_cases", "stream_case"]

PROMPT = "A lighthouse at dusk, watercolour"
EDIT_PROMPT = "Now make the sky stormy."


def input_of(text: str, vertex: bool) -> Any:
    """``input`` as the surface's samples write it: a string, or on Vertex one ``{"role", "content"}`` turn."""
    return [{"role": "user", "content": [{"type": "text", "text": text}]}] if vertex else text


def _vertex_turns(document: Any) -> bool:
    return isinstance(document, dict) and isinstance(document.get("input"), list)


def interactions_model(config: RunConfig) -> str:
    """The model the Interactions cases use: the first that thinks (signatures, thought steps), else the first."""
    book = load_profile_book()
    return next((m for m in config.models if (p := book.get(m)) is not None and p.thinking), config.models[0])


def _profile(model: str) -> ModelProfile:
    profile = load_profile_book().get(model)
    if profile is None:
        raise KeyError(model)
    return profile


def create_case(config: RunConfig, cheapest: Callable[[str], str]) -> Case:
    """A valid create with an explicit non-square ratio and (where the model has several) an explicit size."""
    model = interactions_model(config)
    profile = _profile(model)
    size = cheapest(model)
    ratio = profile.aspect_ratios[1 % len(profile.aspect_ratios)]
    image_format: dict[str, Any] = {"type": "image", "aspect_ratio": ratio}
    if len(profile.image_sizes) > 1:
        image_format["image_size"] = size
    document = {"model": model, "input": input_of(PROMPT, config.vertex),
                "response_format": [{"type": "text"}, image_format]}
    expect = Expectation(aspect_ratio=ratio, image_size=size, size_explicit="image_size" in image_format)
    return Case(purpose="interactions", label=f"interactions create {model}", model=model, action="interactions",
                route=config.interactions_route(), document=document, auth=config.auth, expect=expect)


def stream_case(first: Case) -> Case:
    return replace(first, purpose="interactions_stream", label=f"interactions stream {first.model}",
                   document={**first.document, "stream": True})


def continuation_case(first: Exchange) -> Case | None:
    """The follow-up edit through ``previous_interaction_id`` (no ratio: the edit keeps the first image's)."""
    document: Any = first.json
    if first.status != 200 or not isinstance(document, dict) or not isinstance(document.get("id"), str):
        return None
    usage: dict[str, Any] = document["usage"] if isinstance(document.get("usage"), dict) else {}
    tokens = usage.get("total_input_tokens")
    case = first.case
    follow_up = {"model": case.model, "input": input_of(EDIT_PROMPT, _vertex_turns(case.document)),
                 "previous_interaction_id": document["id"]}
    expect = replace(case.expect, size_explicit=False,
                     previous_input_tokens=tokens if isinstance(tokens, int) else None)
    return replace(case, purpose="interactions_continuation", label=f"interactions continuation {case.model}",
                   document=follow_up, expect=expect)


# kind -> (HTTP status, error.code); the statuses are generateContent's for the same fault.
NEGATIVE: dict[str, tuple[int, str]] = {
    "bad_aspect_ratio": (400, "invalid_request"),
    "missing_input": (400, "invalid_request"),
    "malformed_json": (400, "invalid_request"),
    "unknown_model": (404, "not_found"),
    "unknown_previous_interaction": (404, "not_found"),
}
# The same faults on Vertex's paths: Google's standard envelope, google.rpc ``status`` names.
VERTEX_NEGATIVE: dict[str, tuple[int, str]] = {
    kind: (status, "INVALID_ARGUMENT" if status == 400 else "NOT_FOUND") for kind, (status, _code) in NEGATIVE.items()
}


def negative_cases(config: RunConfig) -> list[Case]:
    model = interactions_model(config)
    prompt, edit = input_of(PROMPT, config.vertex), input_of(EDIT_PROMPT, config.vertex)
    documents: dict[str, Any] = {
        "bad_aspect_ratio": {"model": model, "input": prompt, "response_format": {"type": "image",
                                                                                  "aspect_ratio": "7:3"}},
        "missing_input": {"model": model},
        "malformed_json": None,
        "unknown_model": {"model": UNKNOWN_MODEL, "input": prompt},
        "unknown_previous_interaction": {"model": model, "input": edit,
                                         "previous_interaction_id": "v1_contract-suite-unknown-interaction"},
    }
    return [
        Case(purpose="interactions_negative", label=f"interactions {kind}", model=model, action="interactions",
             route=config.interactions_route(), document=document,
             raw_body=b'{"model": ' if document is None else None, auth=config.auth, expect=Expectation(error=kind))
        for kind, document in documents.items()
    ]
