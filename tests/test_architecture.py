"""The layers of docs/architecture.md hold, and the import contracts really catch a forbidden import."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("schemas", "mock_server", "contract_tests", "validating_proxy")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
MAX_MODULE_LINES = 400


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
                          cwd=root, env={"PYTHONPATH": str(root), "PATH": ""}, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the packages and the contracts, to break on purpose."""
    if not LINT_IMPORTS.exists():
        pytest.skip("lint-imports is not installed (make test installs it)")
    root = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_real_tree_keeps_every_contract(tree_copy: Path) -> None:
    result = lint_imports(tree_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "line", "broken"), [
    ("schemas/wire/casing.py", "import mock_server.settings", "schemas is the bottom layer"),
    ("contract_tests/checks/schema.py", "from mock_server.web import errors", "never import each other"),
    ("mock_server/web/errors.py", "from contract_tests import config", "never import each other"),
    ("mock_server/app.py", "import validating_proxy.checks", "Nothing imports the validating proxy"),
    # A function-level import that closes a circle (as reply <-> thoughts once did).
    ("mock_server/answer/thoughts.py", "def _late() -> None:\n    from mock_server.answer import reply",
     "No import circles"),
])
def test_a_forbidden_import_breaks_a_contract(tree_copy: Path, module: str, line: str, broken: str) -> None:
    path = tree_copy / module
    original = path.read_text()
    try:
        path.write_text(original + "\n\n" + line + "\n")
        result = lint_imports(tree_copy)
    finally:
        path.write_text(original)
    assert result.returncode == 1, result.stdout
    broken_section = result.stdout.split("Broken contracts", 1)[1]
    assert broken in broken_section


def test_no_module_is_over_400_lines() -> None:
    long = {str(path.relative_to(ROOT)): n for package in PACKAGES for path in (ROOT / package).rglob("*.py")
            if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long
