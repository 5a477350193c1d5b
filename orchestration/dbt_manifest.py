"""The dbt project as Dagster loads it, and its manifest with every model's compiled SQL.

dagster-dbt's `DbtProject` prepares the manifest: `make install` (and so `make demo` and `make test`) runs
`dagster-dbt project prepare-and-package --file orchestration/dbt_manifest.py` whenever a model, macro or the project
file changed, and `dagster dev` (`make ui`) prepares it again on every load (`prepare_if_dev`). We prepare with
`dbt compile` rather than dagster-dbt's default `dbt parse`, so the manifest carries each model's `compiled_code`: the
column lineage reads the SQL dbt itself rendered (refs, sources, vars, macros), not a rendering of our own. The
compile neither opens the warehouse file nor needs data (`--no-populate-cache --no-introspect`), leaves the unit tests
out (dbt compiles those against built upstream tables), and parses the project whole (a partial parse kept from an
earlier layout of the YAML can refuse a model described in a new file).
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

from dagster_dbt import DbtProject

from rgw.settings import REPO_ROOT

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
PREPARE_ARGS = [
    *("compile", "--quiet", "--no-partial-parse", "--no-populate-cache", "--no-introspect"),
    *("--exclude", "resource_type:unit_test"),
]

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, prepare_project_cli_args=PREPARE_ARGS
)
dbt_project.prepare_if_dev()
MANIFEST = dbt_project.manifest_path


class ManifestMissing(FileNotFoundError):
    """The dbt project was not prepared on this machine."""


def dbt_executable() -> str:
    """The dbt beside the running Python (the project's venv), else whatever is on PATH."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


PREPARE_HINT = (
    "run `make install` (or `dagster-dbt project prepare-and-package --file orchestration/dbt_manifest.py` with the "
    "venv's bin on PATH)"
)


def _changed_since(manifest: Path) -> list[Path]:
    """dbt project files newer than the manifest: it describes an older project."""
    built = manifest.stat().st_mtime
    files = [
        DBT_PROJECT_DIR / "dbt_project.yml",
        *(p for sub in ("models", "macros") for p in (DBT_PROJECT_DIR / sub).rglob("*")),
    ]
    return [p for p in files if p.stat().st_mtime > built]


def ensure_manifest() -> Path:
    """The prepared manifest's path; a clear error when there is none, and a warning when the project changed since
    (Dagster would then run models and tests the manifest does not know), each naming the command that prepares it."""
    if not MANIFEST.exists():
        raise ManifestMissing(f"no dbt manifest at {MANIFEST}: {PREPARE_HINT}")
    changed = _changed_since(MANIFEST)
    if changed:
        warnings.warn(
            f"the dbt manifest is older than {changed[0].relative_to(DBT_PROJECT_DIR)} "
            f"(and {len(changed) - 1} more): {PREPARE_HINT}",
            stacklevel=2,
        )
    return MANIFEST


def load_manifest() -> dict[str, Any]:
    return json.loads(ensure_manifest().read_text(encoding="utf-8"))
