"""docs/contract-suite.md carries the catalogue exactly as the registry generates it."""

from __future__ import annotations

from contract_tests.cli import catalogue_markdown
from mock_server.instrument.defects import DEFECTS
from tests.support.paths import REPO

DOC = REPO / "docs" / "contract-suite.md"


def test_catalogue_in_docs_matches_the_registry() -> None:
    assert catalogue_markdown() in DOC.read_text(encoding="utf-8")


def test_docs_name_the_three_uses_and_the_defects_module() -> None:
    text = DOC.read_text(encoding="utf-8")
    for phrase in ("Validating a relay", "In CI", "Local development against the fake", "gemini_mock",
                   "mock_server/instrument/defects.py"):
        assert phrase in text
    assert DEFECTS
