"""dbt's unit tests run when the code they test changed, not on every refresh of the data.

The unit tests (dbt_project/models/marts/woning_indicatoren.yml) check each indicator's SQL against fixed input
rows: their outcome depends on the models, macros, vars and the dbt and DuckDB versions, never on a delivery. Run
in every `dbt build` they cost a fifth of a BRP re-delivery's build at focus scale, answering the same question again.
So the hub records, beside its dbt target folder, the fingerprint of the code under which every unit test last
passed; a build under the same fingerprint leaves them out, any change (a model, a macro, a threshold in
dbt_project.yml, an upgrade of dbt or DuckDB) runs them again, and so does every new hub (its first build), a wiped
target folder and every test hub of `make test`. A failing unit test fails the build as before and records nothing.
"""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import version
from pathlib import Path

from hubcore.dbt_manifest import DBT_PROJECT_DIR

UNIT_TESTS = "resource_type:unit_test"
PASSED_FILE = "unit_tests_passed"
_CODE_FOLDERS = ("models", "macros", "tests")
_CODE_FILES = ("dbt_project.yml", "profiles.yml")
_ENGINE = ("dbt-core", "dbt-duckdb", "duckdb")


def code_fingerprint(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """sha256 over the project's own files (path and content) and the versions of the engine that runs them."""
    digest = hashlib.sha256()
    files = [p for folder in _CODE_FOLDERS for p in (project_dir / folder).rglob("*") if p.is_file()]
    files += [project_dir / name for name in _CODE_FILES if (project_dir / name).is_file()]
    for path in sorted(files):
        digest.update(path.relative_to(project_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for package in _ENGINE:
        digest.update(f"{package}=={version(package)}\0".encode())
    return digest.hexdigest()


def unit_test_args(target: Path, fingerprint: str) -> list[str]:
    """`--exclude resource_type:unit_test` when every unit test passed under the code of `fingerprint`, else nothing."""
    passed = target / PASSED_FILE
    if passed.is_file() and passed.read_text() == fingerprint:
        return ["--exclude", UNIT_TESTS]
    return []


def record_if_all_passed(target: Path, fingerprint: str) -> bool:
    """After a build: when its run_results hold every unit test of the project, all passed, record the fingerprint.

    A build of a subset that left some unit test out (their model was not selected) records nothing, so the next
    build runs them."""
    results_path, manifest_path = target / "run_results.json", target / "manifest.json"
    if not results_path.is_file() or not manifest_path.is_file():
        return False
    expected = set(json.loads(manifest_path.read_text()).get("unit_tests", {}))
    ran = {
        r["unique_id"]: r["status"]
        for r in json.loads(results_path.read_text())["results"]
        if r["unique_id"].startswith("unit_test.")
    }
    if not expected or set(ran) != expected or any(status != "pass" for status in ran.values()):
        return False
    (target / PASSED_FILE).write_text(fingerprint)
    return True
