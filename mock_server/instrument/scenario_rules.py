"""Server-side scenario rules: ``serve --scenarios FILE`` and ``/_mock/scenarios/rules`` at run time.

A rule file is JSON: ``{"rules": [RULE, ...]}``. A rule::

    {"name": "retry-test",                        # optional, shown in the journal
     "match": {"model": "gemini-3-pro-*",         # glob on the model id
               "path": "*:generateContent",       # glob on the URL path
               "prompt": "(?i)cat",               # regex searched in the prompt
               "header": {"x-test": "retry*"}},   # header name -> glob on its value
     "sequence": ["overloaded", "overloaded"],     # one step per matching request, then spent
     "repeat": false,                              # cycle the sequence instead
     "scenario": "rate_limited",                   # or: always this one (instead of sequence)
     "times": 3,                                   # fire at most 3 times
     "probability": 0.25,                          # fire with this chance (seeded by --seed)
     "params": {"retryAfterSeconds": 2}}           # override catalogue fields

The first rule that matches and fires wins; with none, the request gets its normal answer.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mock_server.answer.validation import ImageRequest
from mock_server.instrument.rule_checks import compile_prompt, rule_problem, search_prompt
from mock_server.runtime import Runtime, runtime_of
from mock_server.state import StateStore, StateUnavailable, state_of, warn_degraded
from mock_server.state.store import NO_LIMIT, STALE
from mock_server.web.errors import ApiError, error_response
from schemas import scenario_catalogue
from schemas.wire.strict_json import loads_strict, scrub_surrogates

__all__ = ["Rule", "RuleBook", "load_rules_file", "routes", "rules_of"]

_MAX_RULES = 1000  # as schemas/scenario_rules.schema.json says


class RuleError(ValueError):
    """A rule that cannot be used; the admin endpoint answers 400 with its text."""


@dataclass
class Rule:
    name: str
    match: dict[str, Any]
    steps: list[str]
    is_sequence: bool = False
    repeat: bool = False
    times: int | None = None
    probability: float = 1.0
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: Any, index: int) -> Rule:
        problem = rule_problem(raw)  # schemas/scenario_rules.schema.json: shapes, types and bounds
        if problem is not None:
            raise RuleError(f"rule {index}: {problem}")
        match = raw.get("match") or {}
        if "prompt" in match:
            try:
                compile_prompt(match["prompt"])
            except ValueError as exc:
                raise RuleError(f"rule {index}: {exc}") from exc
        if ("sequence" in raw) == ("scenario" in raw):
            raise RuleError(f"rule {index}: give exactly one of 'scenario' or 'sequence'")
        steps = list(raw["sequence"]) if "sequence" in raw else [raw["scenario"]]
        if not steps:
            raise RuleError(f"rule {index}: the sequence is empty")
        for step in steps:
            known = scenario_catalogue()["scenarios"]
            if step not in known:
                raise RuleError(f"rule {index}: unknown scenario {step!r}; known: {', '.join(known)}")
        probability = float(raw.get("probability", 1.0))
        if not 0.0 <= probability <= 1.0:
            raise RuleError(f"rule {index}: probability must be within [0, 1]")
        times = raw.get("times")
        return cls(
            name=str(raw.get("name") or f"rule{index}"), match=match, steps=steps, is_sequence="sequence" in raw,
            repeat=bool(raw.get("repeat")),
            times=None if times is None else int(times), probability=probability,
            params=dict(raw.get("params") or {}),
        )

    def matches(self, request: Request, image_request: ImageRequest) -> bool:
        match = self.match
        if "model" in match and not fnmatch.fnmatchcase(image_request.profile.model_id, str(match["model"])):
            return False
        if "path" in match and not fnmatch.fnmatchcase(request.url.path, str(match["path"])):
            return False
        if "prompt" in match and not search_prompt(compile_prompt(match["prompt"]), image_request.prompt):
            return False
        for name, pattern in dict(match.get("header") or {}).items():
            if not fnmatch.fnmatchcase(request.headers.get(name, ""), str(pattern)):
                return False
        return True

    def limit(self) -> int:
        """How often the rule may fire (NO_LIMIT: forever): ``times``, and a one-shot sequence's length."""
        limits = [self.times] if self.times is not None else []
        if self.is_sequence and not self.repeat:
            limits.append(len(self.steps))
        return min(limits) if limits else NO_LIMIT

    def describe(self, fired: int) -> dict[str, Any]:
        limit = self.limit()
        return {"name": self.name, "match": self.match, "steps": self.steps, "repeat": self.repeat,
                "times": self.times, "probability": self.probability, "params": self.params,
                "fired": fired, "spent": limit != NO_LIMIT and fired >= limit}


class RuleBook:
    """The live rules of one app. Rules, fire counters and the probability draws live in the state
    store, so with a shared store they count globally across workers and replicas; this object only
    keeps the parsed rules of the store's current version (re-read when another process changes them).
    """

    def __init__(self, store: StateStore, seed: int) -> None:
        self._store = store
        self._seed = seed
        self._parsed: tuple[int, list[Rule]] = (-1, [])

    def _current(self) -> tuple[int, list[Rule]]:
        if self._store.rules_version() != self._parsed[0]:
            self._reload()
        return self._parsed

    def _reload(self) -> None:
        version, raw_rules = self._store.rules()
        self._parsed = (version, [Rule.parse(raw, index) for index, raw in enumerate(raw_rules)])

    def replace(self, raw_rules: list[Any]) -> None:
        for index, raw in enumerate(raw_rules):
            Rule.parse(raw, index)
        self._store.set_rules(raw_rules)

    def add(self, raw_rule: Any) -> None:
        Rule.parse(raw_rule, len(self._current()[1]))
        self._store.add_rule(raw_rule)

    def load_file(self, path: str) -> None:
        """The ``--scenarios`` file, unless this store already holds it (a restarted replica keeps
        the counters and run-time changes; a changed file replaces them)."""
        raw_rules = load_rules_file(path)
        for index, raw in enumerate(raw_rules):
            Rule.parse(raw, index)
        digest = hashlib.sha256(json.dumps(raw_rules, sort_keys=True).encode()).hexdigest()
        self._store.load_rules_source(raw_rules, digest)

    def describe(self) -> list[dict[str, Any]]:
        fired = self._store.fired_counts()
        return [rule.describe(fired.get(index, 0)) for index, rule in enumerate(self._current()[1])]

    def may_fire(self) -> bool:
        """False when no rule can fire: a store of this process that holds none (the common case, answered
        without a coroutine); a shared store is always asked, another process may have added rules."""
        return self._store.shared or bool(self._current()[1])

    async def pick(self, request: Request, image_request: ImageRequest) -> tuple[str, str, dict[str, Any]] | None:
        """(rule name, scenario name, params) of the first rule that matches and fires."""
        try:
            for _attempt in range(5):  # another process may change the rules between read and fire
                # A store of this process answers at once: no coroutine per request to learn nothing changed.
                stored = await self._store.rules_version_async() if self._store.shared else self._store.rules_version()
                if stored != self._parsed[0]:
                    self._reload()
                version, rules = self._parsed
                if not rules:
                    return None
                candidates = [(index, rule.limit(), rule.probability) for index, rule in enumerate(rules)
                              if rule.matches(request, image_request)]
                if not candidates:
                    return None
                fired = await self._store.fire_async(version, candidates, self._seed)
                if fired == STALE:
                    continue
                if not isinstance(fired, tuple):
                    return None
                rule = rules[fired[0]]
                return rule.name, rule.steps[fired[1] % len(rule.steps)], rule.params
        except StateUnavailable as exc:
            warn_degraded("scenario rules", exc)
        return None


def _rules_list(document: Any) -> list[Any]:
    rules = document.get("rules") if isinstance(document, dict) else document
    if not isinstance(rules, list):
        raise RuleError('expected {"rules": [...]} or a list of rules')
    if len(rules) > _MAX_RULES:
        raise RuleError(f"at most {_MAX_RULES} rules")
    return rules


def load_rules_file(path: str) -> list[Any]:
    return _rules_list(json.loads(Path(path).read_text(encoding="utf-8")))


def rules_of(runtime: Runtime) -> RuleBook:
    book: RuleBook | None = runtime.extensions.get("scenario_rules")
    if book is None:
        book = RuleBook(state_of(runtime), runtime.settings.seed)
        if runtime.settings.scenarios_file:
            try:
                book.load_file(runtime.settings.scenarios_file)
            except StateUnavailable as exc:  # not remembered: the next request tries again
                warn_degraded("scenario rules", exc)
                return book
        book = runtime.extensions.setdefault("scenario_rules", book)
    return book


async def _state(request: Request) -> Response:
    scenarios = {name: spec.get("description", "") for name, spec in scenario_catalogue()["scenarios"].items()}
    return JSONResponse({"scenarios": scenarios, "rules": rules_of(runtime_of(request)).describe()})


async def _change(request: Request) -> Response:
    book = rules_of(runtime_of(request))
    try:
        if request.method == "DELETE":
            book.replace([])
        else:
            document = loads_strict(await request.body() or b"null")
            if request.method == "PUT":
                book.replace(_rules_list(document))
            else:
                book.add(document)
    except (RuleError, ValueError) as exc:  # JsonRejected is a ValueError
        return error_response(ApiError.named("mock_rule_invalid", detail=scrub_surrogates(str(exc))[:2000]))
    return JSONResponse({"rules": book.describe()})


def routes() -> list[Route]:
    return [
        Route("/_mock/scenarios", _state, methods=["GET"]),
        Route("/_mock/scenarios/rules", _state, methods=["GET"]),
        Route("/_mock/scenarios/rules", _change, methods=["PUT", "POST", "DELETE"]),
    ]
