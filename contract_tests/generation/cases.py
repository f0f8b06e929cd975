"""A test case (one request and what a conforming endpoint must answer) and the exchange it produced."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from contract_tests.config import AuthStyle
from schemas.wire.casing import camel_to_snake
from schemas.wire.strict_json import JsonRejected, loads_strict

__all__ = [
    "BatchItem",
    "Case",
    "Casing",
    "Exchange",
    "Expectation",
    "InputImage",
    "Purpose",
    "b64encode",
    "with_casing",
]

Casing = Literal["camel", "snake", "mixed"]
B64Style = Literal["standard", "urlsafe", "urlsafe_unpadded"]
# Why a request was sent; checks pick the exchanges whose purpose they judge.
# "settings": fixed probes whose settings must take effect; "relay": sandwich-mode scenario probes.
Purpose = Literal["generate", "casing", "auth", "negative", "multi_turn", "stream", "models", "settings", "relay",
                  "interactions", "interactions_stream", "interactions_continuation", "interactions_negative",
                  "probe", "batch"]


def _rekey(value: Any, casing: Casing, depth: int = 0) -> Any:
    if isinstance(value, list):
        return [_rekey(item, casing, depth) for item in value]
    if not isinstance(value, dict):
        return value
    # "mixed" alternates per nesting level, so camelCase and snake_case meet at every depth.
    snake = casing == "snake" or (casing == "mixed" and depth % 2 == 1)
    return {(camel_to_snake(k) if snake else k): _rekey(v, casing, depth + 1) for k, v in value.items()}


def with_casing(document: Any, casing: Casing) -> Any:
    """A canonical camelCase request respelled (only schema field names; our requests carry no free-form maps)."""
    return document if casing == "camel" else _rekey(document, casing)


def b64encode(data: bytes, style: B64Style) -> str:
    if style == "standard":
        return base64.b64encode(data).decode()
    text = base64.urlsafe_b64encode(data).decode()
    return text.rstrip("=") if style == "urlsafe_unpadded" else text


@dataclass(frozen=True)
class InputImage:
    width: int
    height: int
    mime_type: str


@dataclass(frozen=True)
class Expectation:
    """What the request asked for, so checks know what a conforming answer looks like."""

    aspect_ratio: str | None = None
    image_size: str | None = None  # canonical profile size actually in force (explicit or default)
    size_explicit: bool = False
    input_images: tuple[InputImage, ...] = ()
    modalities: tuple[str, ...] = ()
    # For negative cases: the error_catalogue entry a conforming endpoint answers with.
    error: str | None = None
    # For an Interactions continuation: the first turn's total_input_tokens.
    previous_input_tokens: int | None = None
    # For batch cases: the step of the job's lifecycle, the job, and what its items asked for.
    batch_step: str = ""
    batch_name: str = ""
    batch_items: tuple[BatchItem, ...] = ()
    batch_input: str = "inline"  # "inline" requests, or "file": a JSONL file uploaded through the Files API


@dataclass(frozen=True)
class BatchItem:
    """One request of a batch job: its key, what it asked for, and whether it must come back as an error."""

    key: str
    aspect_ratio: str
    image_size: str
    fails: bool = False


@dataclass(frozen=True)
class Case:
    purpose: Purpose
    label: str
    model: str
    method: str = "POST"
    action: str = "generateContent"  # "", "generateContent", "streamGenerateContent", ...
    document: Any = None  # canonical camelCase body (None for GET)
    raw_body: bytes | None = None  # sent verbatim instead of ``document`` (malformed JSON)
    casing: Casing = "camel"
    auth: AuthStyle | None = "header"  # None: send no key at all
    wrong_key: bool = False
    query: dict[str, str] = field(default_factory=dict)
    expect: Expectation = field(default_factory=Expectation)
    route: str = ""  # a path below /{version} for surfaces outside models/ (e.g. "/interactions", "/batches/x")
    prefix: str = ""  # before /{version} on a route: "/upload" or "/download" (the Files API's media paths)
    headers: dict[str, str] = field(default_factory=dict)  # sent besides the key and Content-Type (uploads)
    # Sent on this API version instead of the run's (the /v1 parity requests).
    api_version: str | None = None

    def path(self, api_version: str) -> str:
        api_version = self.api_version or api_version
        if self.route:
            return f"{self.prefix}/{api_version}{self.route}"
        if self.purpose in ("models", "probe") and not self.model:
            return f"/{api_version}/models"
        suffix = f":{self.action}" if self.action else ""
        return f"/{api_version}/models/{self.model}{suffix}"

    def body(self) -> bytes | None:
        if self.raw_body is not None:
            return self.raw_body
        if self.document is None:
            return None
        return json.dumps(with_casing(self.document, self.casing), ensure_ascii=False).encode()


@dataclass
class Exchange:
    """One request/response pair; ``error`` is set when no HTTP response came back."""

    index: int
    case: Case
    url: str  # redacted
    request_headers: dict[str, str]  # redacted
    request_body: bytes | None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    elapsed_s: float = 0.0
    error: str | None = None
    cost_usd: float = 0.0
    # Why the response was cut short (size cap, deadline); the body holds what arrived until then.
    problem: str | None = None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @cached_property
    def json(self) -> Any:
        """The parsed body, or None when it is not (acceptable) JSON; never raises, whatever the nesting."""
        try:
            return loads_strict(self.body)
        except JsonRejected:
            return None

    @cached_property
    def json_problem(self) -> str | None:
        """Why a body that parses as plain JSON was still refused (nesting, lone surrogates), or None."""
        if self.json is not None or not self.body.strip():
            return None
        try:
            loads_strict(self.body)
        except JsonRejected as rejected:
            return None if rejected.reason == "Unexpected token." else rejected.reason
        return None
