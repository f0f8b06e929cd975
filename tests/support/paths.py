"""Where tests find files outside tests/, whatever folder a test sits in."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
"""The repository root (docs/, fixtures/, .venv/)."""

SHARED_REFERENCE = REPO.parent / "shared" / "reference"
"""The ground truth beside the repository (facts, real captures), never copied into it; tests skip where absent."""
