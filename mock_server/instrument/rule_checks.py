"""Scenario rule documents from strangers: checked against ``schemas/scenario_rules.schema.json`` before
use, and their prompt patterns matched with a time limit so that no pattern can stall the server.

Prompt patterns use the ``regex`` module (a superset of ``re``'s syntax) because it can stop a search
after a deadline, which ``re`` cannot; it also avoids the classic catastrophic backtracking of patterns
such as ``^(a+)+$``. A search that runs out of time counts as no match (and is counted on the rule).
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import regex
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from schemas import load_schema

__all__ = ["MATCH_SECONDS", "MAX_SUBJECT_CHARS", "compile_prompt", "rule_problem", "search_prompt"]

log = logging.getLogger("gemini_mock")

MATCH_SECONDS = 0.05  # per search: far above any sane pattern, far below anything a client would notice
MAX_SUBJECT_CHARS = 64 * 1024  # prompts are searched in their first 64K characters


@cache
def _rule_validator() -> Draft202012Validator:
    schema = load_schema("scenario_rules")
    return Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/rule"})


def rule_problem(raw: Any) -> str | None:
    """Why ``raw`` is not a valid rule (the schema's most relevant complaint), or None."""
    error = best_match(_rule_validator().iter_errors(raw))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path)
    return f"{error.message[:300]}" + (f" at {where}" if where else "")


def compile_prompt(pattern: str) -> regex.Pattern[str]:
    """The compiled prompt pattern; raises ValueError with the reason when it does not compile."""
    try:
        return regex.compile(pattern)
    except (regex.error, OverflowError, RecursionError) as exc:
        raise ValueError(f"bad prompt pattern: {exc}") from exc


def search_prompt(pattern: regex.Pattern[str], prompt: str) -> bool | None:
    """Whether ``pattern`` is found in ``prompt``; None when the search ran out of time."""
    try:
        return pattern.search(prompt[:MAX_SUBJECT_CHARS], timeout=MATCH_SECONDS) is not None
    except TimeoutError:
        log.warning("a scenario rule's prompt pattern ran out of time; counted as no match")
        return None
