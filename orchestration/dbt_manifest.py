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

import sys
from pathlib import Path

from dagster_dbt import DbtProject

from hubcore.dbt_manifest import DBT_PROJECT_DIR, MANIFEST, ManifestMissing, ensure_manifest, load_manifest

# Reading the manifest is hubcore's (governance and the CLI need it without Dagster); re-exported for Dagster's code.
__all__ = ["DBT_PROJECT_DIR", "MANIFEST", "ManifestMissing", "dbt_project", "ensure_manifest", "load_manifest"]

PREPARE_ARGS = [
    *("compile", "--quiet", "--no-partial-parse", "--no-populate-cache", "--no-introspect"),
    *("--exclude", "resource_type:unit_test"),
]

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, prepare_project_cli_args=PREPARE_ARGS
)
dbt_project.prepare_if_dev()
if dbt_project.manifest_path != MANIFEST:  # the reader in hubcore must look where dagster-dbt writes
    raise RuntimeError(f"dagster-dbt writes the manifest to {dbt_project.manifest_path}, hubcore reads {MANIFEST}")


def dbt_executable() -> str:
    """The dbt beside the running Python (the project's venv), else whatever is on PATH."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"
