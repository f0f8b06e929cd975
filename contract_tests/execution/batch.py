"""The Batch API step of a run: create a small job, follow it to the end, list it, delete it.

One job of three inline requests: two valid ones at the model's cheapest size with different aspect
ratios, and one with an aspect ratio the model refuses, which must come back as an error in its own
item while the others succeed. Polling backs off from 0.1 s to 10 s until the job is done or
``--batch-timeout`` passes. Every exchange is judged by the checks in ``checks/batch.py``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from contract_tests.config import RunConfig
from contract_tests.execution.budget import Pricing
from contract_tests.execution.target import Target
from contract_tests.generation.cases import BatchItem, Case, Exchange, Expectation
from contract_tests.generation.strategies import base_document
from schemas import load_profile_book

__all__ = ["FOLLOW_UPS", "batch_case", "clean_up", "follow_job", "max_polls", "run_batch"]

_BAD_RATIO = "7:3"  # no image model accepts it
_FIRST_PAUSE, _LONGEST_PAUSE = 0.1, 10.0
FOLLOW_UPS = 3  # list, delete, and the GET that must answer 404


def _pauses() -> Iterator[float]:
    pause = _FIRST_PAUSE
    while True:
        yield pause
        pause = min(pause * 2, _LONGEST_PAUSE)


def max_polls(timeout_s: float) -> int:
    """The most polls ``run_batch`` sends within ``timeout_s`` (requests taking no time at all)."""
    polls, waited = 0, 0.0
    for pause in _pauses():
        polls += 1
        if waited + pause > timeout_s:
            break
        waited += pause
    return polls


def batch_case(config: RunConfig, pricing: Pricing) -> Case:
    """The create request: two valid items and one the model must refuse, keys in order."""
    model = config.models[0]
    profile = load_profile_book().get(model)
    assert profile is not None
    size = min(profile.image_sizes if not config.image_sizes else
               [s for s in profile.image_sizes if s in config.image_sizes] or [profile.default_image_size],
               key=lambda s: pricing.per_image(model, s))
    ratios = [profile.aspect_ratios[0], profile.aspect_ratios[-1], _BAD_RATIO]
    items = tuple(BatchItem(f"item-{n}", ratio, size, fails=ratio == _BAD_RATIO) for n, ratio in enumerate(ratios))
    explicit = size if len(profile.image_sizes) > 1 else None
    requests: list[dict[str, Any]] = [
        {"request": base_document(f"A paper boat, variant {n}", [], "standard", item.aspect_ratio, explicit, None),
         "metadata": {"key": item.key}}
        for n, item in enumerate(items)
    ]
    document = {"batch": {"displayName": "gemini-contract batch", "inputConfig": {"requests": {"requests": requests}}}}
    return Case(purpose="batch", label=f"batch create {model}", model=model, action="batchGenerateContent",
                document=document, auth=config.auth,
                expect=Expectation(batch_step="create", batch_items=items, image_size=size))


def _follow(base: Case, step: str, name: str, resource: str = "", method: str = "GET") -> Case:
    return replace(base, label=f"batch {step}", action="", document=None, method=method, route="/" + (resource or name),
                   expect=replace(base.expect, batch_step=step, batch_name=name))


def follow_job(target: Target, config: RunConfig, create: Case) -> tuple[str, Exchange] | None:
    """Create the job and poll it until it is done or ``--batch-timeout`` passes: its name and the final
    poll (labelled step ``final``), or None when the job was not created."""
    created = target.send(create)
    name = created.json.get("name") if created.status == 200 and isinstance(created.json, dict) else None
    if not isinstance(name, str) or not name.startswith("batches/"):
        return None
    deadline = time.monotonic() + config.batch_timeout_s
    for pause in _pauses():
        polled = target.send(_follow(create, "poll", name))
        done = polled.status != 200 or not isinstance(polled.json, dict) or polled.json.get("done") is True
        if done or time.monotonic() + pause > deadline:
            break
        time.sleep(pause)
    polled.case = replace(polled.case, label="batch final", expect=replace(polled.case.expect, batch_step="final"))
    return name, polled


def clean_up(target: Target, create: Case, name: str) -> None:
    """Delete the job, then read it again: it must be gone."""
    target.send(_follow(create, "delete", name, method="DELETE"))
    target.send(_follow(create, "gone", name))


def run_batch(target: Target, config: RunConfig) -> None:
    create = batch_case(config, target.pricing)
    followed = follow_job(target, config, create)
    if followed is None:
        return
    name, _final = followed
    target.send(replace(_follow(create, "list", name, resource="batches"), query={"pageSize": "100"}))
    clean_up(target, create, name)
