"""model_profiles.json against the facts file it was derived from (../shared/reference)."""

from __future__ import annotations

import re

import pytest

from schemas import load_profile_book
from tests.support.paths import SHARED_REFERENCE

FACTS = SHARED_REFERENCE / "gemini-image-api-facts.md"
BOOK = load_profile_book()


def facts_text() -> str:
    if not FACTS.exists():
        pytest.skip(f"facts file not present at {FACTS}")
    return FACTS.read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n### ", start + len(heading))
    return text[start:end]


def table_rows(block: str) -> list[list[str]]:
    rows = []
    for line in block.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def dims(cell: str) -> tuple[int, int]:
    match = re.search(r"(\d+)x(\d+)", cell)
    assert match, cell
    return int(match.group(1)), int(match.group(2))


def test_flash_25_dimensions_match_facts() -> None:
    rows = table_rows(section(facts_text(), "### 2a."))
    ratios, sizes = rows[0][1:], rows[1][1:]
    profile = BOOK.profiles["gemini-2.5-flash-image"]
    assert profile.aspect_ratios == ratios
    for ratio, cell in zip(ratios, sizes, strict=True):
        assert profile.dimensions(ratio, "1K") == dims(cell)


@pytest.mark.parametrize(("model", "heading", "size_names"), [
    ("gemini-3-pro-image-preview", "### 2b.", ["1K", "2K", "4K"]),
    ("gemini-3.1-flash-image-preview", "### 2c.", ["512", "1K", "2K", "4K"]),
])
def test_gemini3_dimensions_match_facts(model: str, heading: str, size_names: list[str]) -> None:
    rows = table_rows(section(facts_text(), heading))
    assert rows[0][1:] == size_names
    profile = BOOK.profiles[model]
    table_ratios = [row[0] for row in rows[1:]]
    assert sorted(profile.aspect_ratios) == sorted(table_ratios)
    for row in rows[1:]:
        ratio = row[0]
        for size, cell in zip(size_names, row[1:], strict=True):
            expected = (792, 336) if (ratio, size) == ("21:9", "512") else dims(cell)  # the table's typo, §11.1
            assert profile.dimensions(ratio, size) == expected, (ratio, size)


def test_output_tokens_match_facts() -> None:
    text = facts_text()
    assert "1290 output tokens per image" in text
    assert BOOK.profiles["gemini-2.5-flash-image"].output_tokens_per_image("1K") == 1290
    pro = re.search(r"tokens: 1K = (\d+), 2K = (\d+), 4K = (\d+)", section(text, "### 2b."))
    flash = re.search(r"tokens: 512 = (\d+), 1K = (\d+), 2K = (\d+), 4K = (\d+)", section(text, "### 2c."))
    assert pro and flash
    for size, tokens in zip(["1K", "2K", "4K"], pro.groups(), strict=True):
        assert BOOK.profiles["gemini-3-pro-image-preview"].output_tokens_per_image(size) == int(tokens)
    for size, tokens in zip(["512", "1K", "2K", "4K"], flash.groups(), strict=True):
        assert BOOK.profiles["gemini-3.1-flash-image-preview"].output_tokens_per_image(size) == int(tokens)


def test_model_resources_match_listmodels_dump() -> None:
    text = facts_text()
    for model_id, profile in BOOK.profiles.items():
        line = next((line for line in text.splitlines() if f'"name": "models/{model_id}"' in line), None)
        if line is None:  # the GA ids postdate the facts file: tests/mock_server/api/test_catalogue.py checks them
            continue
        assert f'"displayName": "{profile.resource["displayName"]}"' in line
        following = text[text.index(line):text.index(line) + 600]
        assert f'"inputTokenLimit": {profile.input_token_limit}' in following
        assert f'"outputTokenLimit": {profile.output_token_limit}' in following


def test_every_dimension_has_the_ratio_it_claims() -> None:
    for profile in BOOK.profiles.values():
        for size in profile.image_sizes:
            for ratio in profile.aspect_ratios:
                width, height = profile.dimensions(ratio, size)
                assert abs(width / height - profile.ratio_value(ratio)) / profile.ratio_value(ratio) < 0.06
                assert width % 8 == 0 and height % 8 == 0


def test_documented_aliases_resolve() -> None:
    alias = BOOK.get("models/nano-banana-pro-preview")
    assert alias is not None and alias.model_version == "gemini-3-pro-image-preview"
    assert alias.data["dimensions"] == BOOK.profiles["gemini-3-pro-image-preview"].data["dimensions"]
    assert BOOK.profiles["gemini-3.1-flash-image-preview"].canonical_image_size("0.5K") == "512"
    assert BOOK.profiles["gemini-3-pro-image-preview"].canonical_image_size("1k") is None  # lowercase is rejected
    assert BOOK.get("gemini-2.5-flash-image-preview") is None  # retired upstream
