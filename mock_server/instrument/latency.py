"""Simulated generation time: ``--latency none|realistic|FIXED_MS`` scaled by ``--time-scale``.

``realistic`` draws from a log-normal fitted to the profile's (median, p99) for the model and size
(``latencyMs`` in model_profiles.json): most answers near the median, a long tail up to p99 and a
little beyond (capped at twice p99). Streams first wait ``streamFirstChunkMs`` (never longer than
the whole draw), then the rest. A fixed value is used as is for every request. The time scale
multiplies everything (0.001 turns 12 s into 12 ms for tests). Draws come from a random source
seeded by ``--seed``, so a run's sequence of delays is reproducible.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass

from mock_server.runtime import Runtime
from mock_server.settings import Settings
from schemas import ModelProfile

__all__ = ["Delay", "parse_latency", "plan_delay", "scaled_seconds"]

_Z99 = 2.3263478740408408  # standard normal 99th percentile
_TAIL_CAP = 2.0


@dataclass(frozen=True)
class Delay:
    """Seconds (already scaled) until the first chunk and until the whole answer."""

    first_chunk: float
    total: float


_NO_DELAY = Delay(0.0, 0.0)


def parse_latency(value: str) -> str:
    """argparse type: 'none', 'realistic' or a non-negative number of milliseconds."""
    if value in ("none", "realistic"):
        return value
    try:
        if float(value) >= 0:
            return value
    except ValueError:
        pass
    raise ValueError(f"latency must be none, realistic or milliseconds, not {value!r}")


def scaled_seconds(settings: Settings, milliseconds: float) -> float:
    return max(0.0, milliseconds) / 1000.0 * settings.time_scale


def lognormal_ms(rng: random.Random, median: float, p99: float) -> float:
    sigma = math.log(p99 / median) / _Z99 if p99 > median > 0 else 0.0
    return min(median * math.exp(sigma * rng.gauss(0.0, 1.0)), p99 * _TAIL_CAP)


class _Source:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.lock = threading.Lock()


def _source(runtime: Runtime) -> _Source:
    source: _Source | None = runtime.extensions.get("latency_source")
    if source is None:
        source = runtime.extensions.setdefault("latency_source", _Source(runtime.settings.seed))
    return source


def plan_delay(runtime: Runtime, profile: ModelProfile, image_size: str) -> Delay:
    """The delay for one request under the runtime's latency setting."""
    settings = runtime.settings
    mode = settings.latency
    if mode == "none":
        return _NO_DELAY
    if mode == "realistic":
        median, p99 = profile.latency_ms(image_size)
        source = _source(runtime)
        with source.lock:
            total_ms = lognormal_ms(source.random, median, p99)
        first_ms = min(profile.stream_first_chunk_ms, total_ms)
    else:
        total_ms = first_ms = float(mode)
    return Delay(scaled_seconds(settings, first_ms), scaled_seconds(settings, total_ms))
