"""Typed, read-only access to ``model_profiles.json``: the model catalogue.

The numbers live in the JSON file; this module only gives them names and types. An entry with
``basedOn`` starts as a copy of the named entry (top-level keys replaced), so a GA id that shares
its preview's tables restates none of them. See docs/schemas.md for the API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["Lifecycle", "ModelProfile", "ProfileBook", "load_profile_book", "parse_date"]


def parse_date(text: str | None) -> date | None:
    """A catalogue date (YYYY-MM-DD), or None."""
    return date.fromisoformat(text) if text else None


@dataclass(frozen=True)
class Lifecycle:
    """When a model id was launched, deprecated and shut down, and what replaces it."""

    launch: date | None
    deprecation: date | None
    shutdown: date | None
    replacement: str | None
    announced_shutdown: date | None  # a disputed date, applied only on request

    def served_on(self, day: date | None, apply_announced: bool = False) -> bool:
        """Whether Google answered for this id on ``day`` (None: today, where every known id is served)."""
        if day is None:
            return True
        if self.launch is not None and day < self.launch:
            return False
        end = self.shutdown or (self.announced_shutdown if apply_announced else None)
        return end is None or day < end

    def deprecated_on(self, day: date | None) -> bool:
        return self.deprecation is not None and (day is None or day >= self.deprecation)


@dataclass(frozen=True)
class ModelProfile:
    """Everything the fake and the contract suite need to know about one image model."""

    model_id: str
    data: dict[str, Any]

    @property
    def aliases(self) -> list[str]:
        return list(self.data.get("aliases", []))

    @property
    def model_version(self) -> str:
        """What ``modelVersion`` says in this model's answers."""
        return str(self.data.get("modelVersion") or self.model_id)

    @property
    def lifecycle(self) -> Lifecycle:
        raw = self.data.get("lifecycle") or {}
        return Lifecycle(parse_date(raw.get("launch")), parse_date(raw.get("deprecation")),
                         parse_date(raw.get("shutdown")), raw.get("replacement"),
                         parse_date(raw.get("announcedShutdown")))

    @property
    def resource(self) -> dict[str, Any]:
        """The Model resource exactly as ``GET models/{id}`` returns it."""
        return dict(self.data["resource"])

    @property
    def thinking(self) -> bool:
        return bool(self.data["thinking"])

    @property
    def thinking_levels(self) -> list[str] | None:
        """Accepted thinkingLevel values; None means any value is accepted and ignored."""
        levels = self.data["thinkingLevels"]
        return None if levels is None else list(levels)

    @property
    def default_thinking_level(self) -> str | None:
        level = self.data.get("defaultThinkingLevel")
        return None if level is None else str(level)

    @property
    def aspect_ratios(self) -> list[str]:
        return list(self.data["aspectRatios"])

    @property
    def image_sizes(self) -> list[str]:
        return list(self.data["imageSizes"])

    @property
    def image_size_aliases(self) -> dict[str, str]:
        return dict(self.data["imageSizeAliases"])

    @property
    def default_image_size(self) -> str:
        return str(self.data["defaultImageSize"])

    def canonical_image_size(self, size: str) -> str | None:
        """The profile's own name for ``size`` (resolving documented aliases), or None."""
        if size in self.data["imageSizes"]:
            return size
        alias = self.data["imageSizeAliases"].get(size)
        return str(alias) if alias is not None else None

    def dimensions(self, aspect_ratio: str, image_size: str) -> tuple[int, int]:
        """Exact output width x height for a (ratio, size) pair the model accepts."""
        width, height = self.data["dimensions"][image_size][aspect_ratio]
        return int(width), int(height)

    def default_dimensions(self, image_size: str) -> tuple[int, int] | None:
        """Output size when neither aspectRatio nor an input image fixes the shape; None means 1:1."""
        table = self.data.get("defaultDimensions") or {}
        if image_size not in table:
            return None
        width, height = table[image_size]
        return int(width), int(height)

    def expected_dimensions(self, aspect_ratio: str | None, image_size: str) -> tuple[int, int]:
        """The exact size of an answer that asked for ``aspect_ratio`` (None: none, and no input image)."""
        if aspect_ratio is not None:
            return self.dimensions(aspect_ratio, image_size)
        return self.default_dimensions(image_size) or self.dimensions("1:1", image_size)

    def output_tokens_per_image(self, image_size: str) -> int:
        return int(self.data["outputTokensPerImage"][image_size])

    def input_image_tokens(self, width: int, height: int) -> int:
        """Prompt tokens billed for one input image of the given size."""
        rule = self.data["inputImageTokens"]
        tokens = int(rule["tokens"])
        if rule["rule"] == "flat":
            return tokens
        # Gemini 2.x tiling rule: one charge for small images, else one per tile.
        if max(width, height) <= int(rule["smallMaxSide"]):
            return tokens
        tile = int(rule["tileSize"])
        return tokens * (-(-width // tile)) * (-(-height // tile))

    @property
    def max_input_images(self) -> int:
        return int(self.data["maxInputImages"])

    @property
    def input_mime_types(self) -> list[str]:
        return list(self.data["inputMimeTypes"])

    @property
    def output_mime_types(self) -> list[str]:
        """Every image type this model is known to return; the first is what it returns by default."""
        return list(self.data["outputMimeTypes"])

    @property
    def default_output_mime_type(self) -> str:
        return str(self.data["outputMimeTypes"][0])

    def service_tier(self, day: date | None = None) -> str | None:
        """``usageMetadata.serviceTier`` as this model reported it on ``day`` (None: today; None: absent)."""
        report = self.data.get("usageReport") or {}
        since = parse_date(report.get("serviceTierSince"))
        if report.get("serviceTier") is None or (day is not None and since is not None and day < since):
            return None
        return str(report["serviceTier"])

    @property
    def thoughts_reporting(self) -> str:
        """'thoughtsTokenCount' (own field), 'inCandidates' (folded into candidatesTokenCount) or 'none'."""
        return str((self.data.get("usageReport") or {}).get("thoughts", "thoughtsTokenCount"))

    @property
    def candidates_overhead_range(self) -> tuple[int, int]:
        """[min, max] tokens candidatesTokenCount carries beyond the image and text tokens."""
        low, high = (self.data.get("usageReport") or {}).get("candidatesOverheadTokens", [0, 0])
        return int(low), int(high)

    @property
    def realistic_signature_chars(self) -> tuple[int, int] | None:
        """[min, max] base64 length of a thought signature as Google's weigh (None: no signatures)."""
        span = self.data.get("realisticSignatureChars")
        return None if span is None else (int(span[0]), int(span[1]))

    @property
    def supports_google_search(self) -> bool:
        return bool(self.data["supportsGoogleSearch"])

    def thought_tokens_range(self, thinking_level: str | None = None) -> tuple[int, int] | None:
        """[min, max] thoughtsTokenCount for a thinking level; None for models that do not think."""
        spans = self.data["thoughtTokens"]
        if spans is None:
            return None
        low, high = spans.get(thinking_level or "default", spans["default"])
        return int(low), int(high)

    def thought_images(self, thinking_level: str | None = None) -> int:
        """Interim thought images shown with includeThoughts at a thinking level (0: none)."""
        counts = self.data.get("thoughtImages")
        if not counts:
            return 0
        return int(counts.get(thinking_level or "default", counts["default"]))

    @property
    def input_token_limit(self) -> int:
        return int(self.data["resource"]["inputTokenLimit"])

    @property
    def output_token_limit(self) -> int:
        return int(self.data["resource"]["outputTokenLimit"])

    def price_per_image_usd(self, image_size: str, batch: bool = False) -> float:
        """List price of one output image (USD); ``batch`` gives the Batch API price."""
        table = self.data["pricing"]["perImageBatchUsd" if batch else "perImageUsd"]
        return float(table[image_size])

    @property
    def input_price_per_million_usd(self) -> float:
        return float(self.data["pricing"]["inputPerMillionTokensUsd"])

    def typical_image_bytes(self, image_size: str) -> int:
        return int(self.data["typicalImageBytes"][image_size])

    def latency_ms(self, image_size: str) -> tuple[float, float]:
        """(median, p99) generation latency for one image of ``image_size``."""
        entry = self.data["latencyMs"][image_size]
        return float(entry["median"]), float(entry["p99"])

    @property
    def stream_first_chunk_ms(self) -> float:
        return float(self.data["streamFirstChunkMs"])

    def ratio_value(self, aspect_ratio: str) -> float:
        width, height = aspect_ratio.split(":")
        return int(width) / int(height)

    def closest_aspect_ratio(self, width: int, height: int) -> str:
        """The accepted ratio nearest to an input image's shape (the documented default)."""
        target = width / height
        return min(self.aspect_ratios, key=lambda ratio: abs(self.ratio_value(ratio) - target))


@dataclass(frozen=True)
class ProfileBook:
    """All model profiles, addressable by id or alias."""

    profiles: dict[str, ModelProfile]
    aliases: dict[str, str]
    retired: dict[str, str]
    text_chars_per_token: int

    def text_tokens(self, text: str) -> int:
        """Estimated tokens for a text (the fake's tokenizer stand-in: a fixed chars-per-token ratio)."""
        return -(-len(text) // self.text_chars_per_token) if text else 0

    def get(self, model: str) -> ModelProfile | None:
        """The profile for a model id (with or without ``models/``), or None when unknown."""
        model_id = model.removeprefix("models/")
        model_id = self.aliases.get(model_id, model_id)
        return self.profiles.get(model_id)

    def ids(self) -> list[str]:
        """Every catalogue id, in Google's ListModels order."""
        return list(self.profiles)

    def served(self, model: str, day: date | None = None, apply_announced: bool = False) -> ModelProfile | None:
        """The profile when Google answered for ``model`` on ``day`` (None: every known id), else None."""
        profile = self.get(model)
        if profile is None or not profile.lifecycle.served_on(day, apply_announced):
            return None
        return profile

    def served_ids(self, day: date | None = None, apply_announced: bool = False) -> list[str]:
        """The ids ListModels shows on ``day``, in order."""
        return [model_id for model_id in self.profiles if self.served(model_id, day, apply_announced)]


def _resolve(models: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each entry with ``basedOn`` as a copy of its base with its own top-level keys on top."""
    resolved: dict[str, dict[str, Any]] = {}
    for model_id, data in models.items():
        base = data.get("basedOn")
        merged = ({**resolved[base]} if base else {}) | {key: value for key, value in data.items() if key != "basedOn"}
        resolved[model_id] = merged
    return resolved


@cache
def load_profile_book() -> ProfileBook:
    """Read ``model_profiles.json`` once per process."""
    text = resources.files("schemas").joinpath("model_profiles.json").read_text(encoding="utf-8")
    raw: dict[str, Any] = json.loads(text)
    models = _resolve(raw["models"])
    profiles = {model_id: ModelProfile(model_id, data) for model_id, data in models.items()}
    aliases = {alias: model_id for model_id, data in models.items() for alias in data.get("aliases", [])}
    return ProfileBook(
        profiles=profiles, aliases=aliases, retired=dict(raw["retiredModels"]),
        text_chars_per_token=int(raw["textCharsPerToken"]),
    )
