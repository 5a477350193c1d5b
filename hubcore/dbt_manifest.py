"""Where the dbt project lives and its prepared manifest (every model's compiled SQL), for whoever reads it.

The column lineage, the privacy report and the CLI read the manifest; Dagster runs the project. Reading it needs
neither Dagster nor dagster-dbt, so it lives here, at the bottom, and orchestration/dbt_manifest.py (dagster-dbt's
`DbtProject`, which prepares the manifest with `dbt compile`) builds on it.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from hubcore.paths import REPO_ROOT

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
# dagster-dbt's DbtProject(...).manifest_path with the default target path; orchestration/dbt_manifest.py checks it.
MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


class ManifestMissing(FileNotFoundError):
    """The dbt project was not prepared on this machine."""


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
