"""What one contract run is told to do, and the conservative defaults for remote targets."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal
from urllib.parse import urlsplit

from schemas import load_profile_book

__all__ = [
    "AUTH_STYLES",
    "LOOPBACK_DEFAULTS",
    "REMOTE_DEFAULTS",
    "AuthStyle",
    "RunConfig",
    "is_loopback",
]

AuthStyle = Literal["header", "query", "bearer"]
AUTH_STYLES: tuple[AuthStyle, ...] = ("header", "query", "bearer")

# Limits a user did not set. A remote endpoint bills real money and rate-limits, so it gets few
# examples, a request-rate ceiling and a spending cap unless the user raises them explicitly.
LOOPBACK_DEFAULTS: dict[str, Any] = {"max_examples": 10, "rate_limit_per_min": None, "budget_usd": None}
REMOTE_DEFAULTS: dict[str, Any] = {"max_examples": 3, "rate_limit_per_min": 10.0, "budget_usd": 1.0}


def is_loopback(base_url: str) -> bool:
    """True for localhost / 127.0.0.0/8 / ::1 targets (the fake, a local proxy)."""
    host = urlsplit(base_url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class RunConfig:
    """One run's parameters. ``None`` limits are filled from the loopback/remote defaults by ``resolved``."""

    base_url: str
    api_key: str | None = None
    models: tuple[str, ...] = ()
    auth: AuthStyle = "header"
    # Styles that must work; the others are probed and reported but may fail. Empty: just ``auth``.
    required_auth: tuple[AuthStyle, ...] = ()
    checks: tuple[str, ...] = ()
    # Restrict generated requests to these image sizes (cost control); empty: every size a model accepts.
    image_sizes: tuple[str, ...] = ()
    max_examples: int | None = None
    max_requests: int | None = None
    budget_usd: float | None = None
    rate_limit_per_min: float | None = None
    seed: int | None = None
    api_version: str = "v1beta"
    timeout_s: float = 120.0
    # (model, size) -> USD per image, overriding the profile's price.
    price_overrides: dict[tuple[str, str], float] = field(default_factory=dict)
    # A deliberately wrong key for the wrong-key probe; never a real secret.
    wrong_api_key: str = "AIzaSy-contract-suite-deliberately-wrong-key"
    # False for endpoints that accept any key by design (the fake without --api-key).
    probe_wrong_key: bool = True
    # Versions that also get the parity requests (list models, baseline per model, a stream) besides
    # ``api_version``: google-genai 3.x defaults to /v1, so both are tested unless told otherwise.
    parity_versions: tuple[str, ...] = ("v1",)
    # Sandwich mode: the fake the endpoint under test forwards to, and the key the relay injects upstream.
    upstream_fake: str | None = None
    upstream_api_key: str | None = None
    # A relay may retry an upstream failure, but one that holds a scenario probe longer than this is
    # reported; the suite never sleeps for a retry hint itself.
    scenario_timeout_s: float = 12.0
    # Issue 10. Which surface the endpoint is: the Gemini API, or Vertex AI's publisher-model paths
    # (project mode with ``vertex_project``, else express mode).
    api_flavour: Literal["gemini", "vertex"] = "gemini"
    vertex_project: str | None = None
    vertex_location: str = "us-central1"
    # Batch API checks: None = on for loopback targets, off for remote ones (they cost money and hours).
    batch: bool | None = None
    batch_timeout_s: float = 600.0
    # Largest response body taken in (Google's 4K images make tens of MB); past it the response is a finding.
    max_response_bytes: int = 128 * 1024 * 1024

    @property
    def loopback(self) -> bool:
        return is_loopback(self.base_url)

    @property
    def vertex(self) -> bool:
        return self.api_flavour == "vertex"

    def model_path(self, model: str, action: str) -> str:
        """The URL path of ``model:action`` on this run's surface."""
        suffix = f":{action}" if action else ""
        if not self.vertex:
            return f"/{self.api_version}/models/{model}{suffix}"
        scope = f"projects/{self.vertex_project}/locations/{self.vertex_location}/" if self.vertex_project else ""
        return f"/{self.api_version}/{scope}publishers/google/models/{model}{suffix}"

    def interactions_route(self) -> str:
        """The Interactions collection below ``/{version}`` on this run's surface. On Vertex: the project
        path with ``vertex_project``, else express mode, which the SDK sends to ``/v1beta1/interactions``;
        on ``v1`` that path is the Gemini API's own, so express on ``v1`` takes Vertex's REST-sample path
        ``/v1/locations/{l}/interactions`` (docs/vertex.md)."""
        if not self.vertex:
            return "/interactions"
        if self.vertex_project:
            return f"/projects/{self.vertex_project}/locations/{self.vertex_location}/interactions"
        return "/interactions" if self.api_version == "v1beta1" else f"/locations/{self.vertex_location}/interactions"

    @property
    def required_auth_styles(self) -> tuple[AuthStyle, ...]:
        return self.required_auth or (self.auth,)

    def resolved(self) -> RunConfig:
        """This config with unset limits filled in (conservative for non-loopback targets) and models defaulted."""
        defaults = LOOPBACK_DEFAULTS if self.loopback else REMOTE_DEFAULTS
        # The fake serves every catalogue id; a remote endpoint is judged on the ids Google serves today.
        book = load_profile_book()
        models = self.models or tuple(book.ids() if self.loopback else book.served_ids(date.today()))
        return replace(
            self,
            base_url=self.base_url.rstrip("/"),
            models=models,
            max_examples=self.max_examples if self.max_examples is not None else defaults["max_examples"],
            rate_limit_per_min=(
                self.rate_limit_per_min if self.rate_limit_per_min is not None else defaults["rate_limit_per_min"]
            ),
            budget_usd=self.budget_usd if self.budget_usd is not None else defaults["budget_usd"],
            # Vertex's default version is v1beta1 (api-2026.md §4); the Batch API is a Gemini API surface,
            # and the /v1 parity requests are the Gemini API's.
            api_version="v1beta1" if self.vertex and self.api_version == "v1beta" else self.api_version,
            batch=False if self.vertex else (self.loopback if self.batch is None else self.batch),
            parity_versions=() if self.vertex else tuple(v for v in self.parity_versions if v != self.api_version),
        )

    def secrets(self) -> tuple[str, ...]:
        """Strings that must never be written anywhere."""
        return tuple(secret for secret in (self.api_key, self.upstream_api_key) if secret)
