"""The dbt unit tests run again when the code they test changed, and only then: a hub records the code under which
every unit test passed, and a failed or partial run records nothing (orchestration/dbt_unit_tests.py)."""

import json
import shutil

from hubcore.dbt_manifest import DBT_PROJECT_DIR
from orchestration.dbt_unit_tests import PASSED_FILE, code_fingerprint, record_if_all_passed, unit_test_args

UNIT_TESTS = ["unit_test.rgw.woning_indicatoren.a", "unit_test.rgw.woning_indicatoren.b"]


def _build(target, statuses: dict[str, str]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    (target / "manifest.json").write_text(json.dumps({"unit_tests": {u: {} for u in UNIT_TESTS}}))
    results = [{"unique_id": "model.rgw.woning_indicatoren", "status": "success"}]
    results += [{"unique_id": u, "status": s} for u, s in statuses.items()]
    (target / "run_results.json").write_text(json.dumps({"results": results}))


def test_unit_tests_are_left_out_only_while_the_code_they_passed_under_is_unchanged(tmp_path):
    target, code = tmp_path / "dbt_target", code_fingerprint()
    assert unit_test_args(target, code) == []  # a new hub runs them

    _build(target, {UNIT_TESTS[0]: "pass", UNIT_TESTS[1]: "fail"})
    assert not record_if_all_passed(target, code) and unit_test_args(target, code) == []
    _build(target, {UNIT_TESTS[0]: "pass"})  # a subset that left one out
    assert not record_if_all_passed(target, code) and unit_test_args(target, code) == []

    _build(target, dict.fromkeys(UNIT_TESTS, "pass"))
    assert record_if_all_passed(target, code)
    assert unit_test_args(target, code) == ["--exclude", "resource_type:unit_test"]
    assert (target / PASSED_FILE).read_text() == code


def test_any_change_to_the_dbt_code_gives_another_fingerprint(tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    before = code_fingerprint(project)
    assert code_fingerprint(project) == before
    yml = project / "dbt_project.yml"
    yml.write_text(yml.read_text().replace("overbewoning_m2_per_persoon: 12", "overbewoning_m2_per_persoon: 13"))
    assert code_fingerprint(project) != before
