"""Every knob of the fake in one frozen dataclass, passable to worker processes as JSON."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

__all__ = ["ENV_VAR", "ImageFormat", "PayloadMode", "Settings", "settings_of"]

ENV_VAR = "GEMINI_MOCK_SETTINGS"
"""Environment variable that carries the settings to uvicorn worker processes."""

ImageFormat = Literal["model", "png", "jpeg", "mixed"]
PayloadMode = Literal["compact", "realistic"]

# Google's observed hard HTTP cap (facts §8): 300 MiB.
GOOGLE_MAX_BODY_BYTES = 314_572_800


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    # Accepted keys; empty means any non-empty key is accepted.
    api_keys: tuple[str, ...] = ()
    seed: int = 0
    # "model": each model's own format (catalogue outputMimeTypes); "png"/"jpeg" force one; "mixed"
    # varies per request between a model's known formats (only 3 Pro Image has two).
    image_format: ImageFormat = "model"
    # "realistic" pads images to the byte sizes real ones have (megabytes), see model_profiles.json.
    payload: PayloadMode = "compact"
    max_body_bytes: int = GOOGLE_MAX_BODY_BYTES
    # Unknown imageSize: Google's behaviour is unconfirmed (facts §11.3); "reject" answers 400, "fallback" uses 1K.
    unknown_image_size: Literal["reject", "fallback"] = "reject"
    # Thought signatures are HMACs under this secret, so replicas sharing it verify each other's.
    signing_secret: str = "gemini-image-kit-default-secret"
    # Bytes of rendered images kept for reuse across requests (--image-cache-mb); 64 MiB keeps a long
    # run of distinct requests under 300 MB RSS (docs/performance.md), 512 MiB reached 649 MB.
    image_cache_bytes: int = 64 * 1024 * 1024
    # Bytes of small answers remembered for identical requests (--answer-cache-mb; 0 sends every request
    # to its handler): web/answers.py.
    answer_cache_bytes: int = 8 * 1024 * 1024
    # Thought parts without includeThoughts (facts §11.8 unconfirmed): "on_request" or "always".
    thought_parts: Literal["on_request", "always"] = "on_request"
    # Present thought signatures in the history: "strict" verifies them, "presence" only requires
    # them on model images, "off" disables the rules (docs/conversations.md).
    signature_check: Literal["strict", "presence", "off"] = "strict"
    # SSE event terminator (facts §11.10 unconfirmed): "crlf" = data: ...\r\n\r\n, "lf" = \n\n.
    sse_line_ending: Literal["crlf", "lf"] = "crlf"
    # Files API: total bytes kept (uploads in progress included), where (None = memory, else a
    # directory shared by all workers), and for how long (Google: 48 h).
    files_max_bytes: int = 256 * 1024 * 1024
    files_dir: str | None = None
    files_ttl_seconds: int = 48 * 3600
    # Contract-suite self-test: inject exactly one contract violation (see mock_server/instrument/defects.py).
    defect: str | None = None
    # Issue 5 (testing instrument): scenario rules file, simulated latency, journal, replay.
    scenarios_file: str | None = None
    latency: str = "none"  # "none", "realistic" or a fixed number of milliseconds
    time_scale: float = 1.0  # multiplies every simulated delay (0.001: seconds become milliseconds)
    journal_size: int = 1000  # requests kept by GET /_mock/requests (oldest dropped first)
    replay_dir: str | None = None  # answer matching requests from these cassettes
    replay_miss: Literal["fake", "error"] = "fake"  # a request no cassette matches: fake answer or 404
    extra: dict[str, Any] = field(default_factory=dict)
    # Issue 12 (hostile input): keys for /_mock/* (else the API keys guard it; none: open to local tooling),
    # the journal's byte budget, and the largest input image decoded (decodes run one at a time).
    admin_keys: tuple[str, ...] = ()
    journal_max_bytes: int = 16 * 1024 * 1024
    max_input_pixels: int = 50_000_000
    # Issue 9 (Interactions API, docs/interactions.md): DELETE answers "ok" (documented) or 501
    # "not_implemented" (observed Aug 2026); stored interactions are bounded in bytes and expire
    # (Google: 55 days on paid tiers).
    interactions_delete: Literal["ok", "not_implemented"] = "ok"
    interactions_store_bytes: int = 256 * 1024 * 1024
    interactions_ttl_seconds: int = 55 * 24 * 3600
    # Issue 13: where state shared between requests lives: None (memory of this process),
    # "sqlite:///PATH" (every worker on one machine; --workers picks one by itself) or
    # "redis://HOST:PORT/DB" (replicas on several machines). See docs/scaling.md.
    state: str | None = None
    state_documents_max: int = 1000  # documents kept per kind (stored interactions, batch jobs)
    # Issue 10 (Vertex paths, Batch API; docs/vertex.md, docs/batch.md).
    # Vertex shows a thought summary before the image even without includeThoughts (README obs. 12).
    vertex_thought_summaries: Literal["always", "on_request"] = "always"
    batch_max_jobs: int = 1000  # jobs kept (the oldest finished ones are dropped first)
    batch_max_concurrent: int = 100  # pending or running at once (Google: 100)
    batch_ttl_hours: float = 48.0  # simulated hours a job may stay pending or running before it expires
    batch_inline_max_bytes: int = 20 * 1024 * 1024  # inline requests per batch (Google: 20 MB)
    # Issue 8: answer as Google did on this date (YYYY-MM-DD; None: every known id is served), and
    # whether disputed shutdown dates (catalogue announcedShutdown) count then.
    as_of: str | None = None
    announced_shutdowns: Literal["ignore", "apply"] = "ignore"
    # Webhooks (docs/webhooks.md): which destinations the fake may POST events to ("off": none,
    # "loopback": this machine only, the default, so the fake is never an SSRF vector; "any"), the
    # timeout of one attempt, and the retries after a failed attempt.
    webhooks: Literal["off", "loopback", "any"] = "loopback"
    webhook_timeout_seconds: float = 5.0
    webhook_retries: int = 2
    # Vertex batchPredictionJobs (docs/vertex.md): gs://bucket/path is read and written as
    # {gcs_dir}/bucket/path; None: no Cloud Storage, so every job fails to import its input.
    gcs_dir: str | None = None

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Settings:
        raw = json.loads(text)
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in raw.items() if key in known}
        for name in ("api_keys", "admin_keys"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)

    @classmethod
    def from_env(cls) -> Settings:
        text = os.environ.get(ENV_VAR)
        return cls.from_json(text) if text else cls()


def settings_of(request: Any) -> Settings:
    """The settings of the app serving ``request`` (a Starlette request; ``create_app`` puts them there)."""
    settings: Settings = request.app.state.settings
    return settings
