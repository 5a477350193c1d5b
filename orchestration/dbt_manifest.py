"""The dbt manifest that Dagster loads its warehouse assets from, produced by `dbt parse` when missing or stale.

Dagster reads the manifest at import time. In CI, in tests and on a fresh clone it does not exist yet, so the
definitions run `dbt parse` themselves (a few seconds) rather than fail or load an outdated graph.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rgw.settings import REPO_ROOT

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


def _newest_source_mtime() -> float:
    files = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for sub in ("models", "macros", "tests", "seeds"):
        files.extend(p for p in (DBT_PROJECT_DIR / sub).rglob("*") if p.is_file())
    return max(p.stat().st_mtime for p in files if p.exists())


def dbt_executable() -> str:
    """The dbt beside the running Python (the project's venv), else whatever is on PATH."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def ensure_manifest() -> Path:
    """Return the manifest path, running `dbt parse` first when it is missing or older than the project files."""
    if MANIFEST.exists() and MANIFEST.stat().st_mtime >= _newest_source_mtime():
        return MANIFEST
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    subprocess.run(
        [dbt_executable(), "parse", "--quiet", "--profiles-dir", str(DBT_PROJECT_DIR)],
        cwd=DBT_PROJECT_DIR,
        env=env,
        check=True,
    )
    return MANIFEST
