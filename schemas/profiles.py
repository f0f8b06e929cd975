"""Typed, read-only access to ``model_profiles.json``.

The numbers live in the JSON file; this module only gives them names and types.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["ModelProfile", "ProfileBook", "load_profile_book"]


@dataclass(frozen=True)
class ModelProfile:
    """Everything the fake and the contract suite need to know about one image model."""

    model_id: str
    data: dict[str, Any]

    @property
    def aliases(self) -> list[str]:
        return list(self.data["aliases"])

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
        return list(self.data["outputMimeTypes"])

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

    def price_per_image_usd(self, image_size: str) -> float:
        return float(self.data["pricing"]["perImageUsd"][image_size])

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
        return list(self.profiles)


@cache
def load_profile_book() -> ProfileBook:
    """Read ``model_profiles.json`` once per process."""
    text = resources.files("schemas").joinpath("model_profiles.json").read_text(encoding="utf-8")
    raw: dict[str, Any] = json.loads(text)
    profiles = {model_id: ModelProfile(model_id, data) for model_id, data in raw["models"].items()}
    aliases = {alias: model_id for model_id, data in raw["models"].items() for alias in data["aliases"]}
    return ProfileBook(
        profiles=profiles, aliases=aliases, retired=dict(raw["retiredModels"]),
        text_chars_per_token=int(raw["textCharsPerToken"]),
    )
