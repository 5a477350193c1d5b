"""Dependencies point one way: the contracts in pyproject.toml ([tool.importlinter]) hold for the repository, and an
import pointing up breaks them, so `make test` fails on it (the CLI over Dagster over governance over linkage over
pseudonymisation over connectors over hubcore; the synthetic world apart)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("hubcore", "connectors", "pseudonymisation", "linkage", "governance", "orchestration", "rgw", "synth")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter as `make lint` runs it, on the packages under `root`."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _python_only(folder: str, names: list[str]) -> list[str]:
    """copytree's ignore: all but Python files and folders (no data, no caches)."""
    return [n for n in names if n == "__pycache__" or not (n.endswith(".py") or (Path(folder) / n).is_dir())]


def test_the_repository_keeps_every_import_contract():
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_governance_importing_dagster_code_breaks_the_layers(tmp_path):
    """The old wall in the wrong place (governance reading deliveries through orchestration) is refused by name."""
    for package in PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package, ignore=_python_only)
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    (tmp_path / "governance" / "reads_runs.py").write_text("from orchestration.runner import run_everything\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert "governance.reads_runs -> orchestration.runner" in result.stdout
