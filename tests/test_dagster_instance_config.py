"""The instance's dagster.yaml (what `make install` writes to DAGSTER_HOME) loads, with run monitoring switched on.

Runs launched by the daemon or the UI are not under `rgw run`'s lock and recovery; the daemon's run monitoring is
what marks such a run failed or cancelled when its process died and frees its concurrency slots.
"""

from __future__ import annotations

import dagster as dg
from dagster._core.instance.config import dagster_instance_config

from hubcore.paths import REPO_ROOT as REPO
from hubcore.paths import HubPaths
from orchestration.recovery import run_tags
from serving.dagster_instance import render


def _home(tmp_path, environ: dict[str, str]):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(render((REPO / "dagster.yaml").read_text(), environ))
    return home


def test_the_instance_loads_with_run_monitoring_that_frees_the_slots_of_dead_runs(tmp_path):
    home = _home(tmp_path, {})
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] == 300
        assert instance.run_monitoring_start_timeout_seconds == 180
        assert instance.run_monitoring_max_runtime_seconds == 14400
        assert instance.run_monitoring_max_resume_run_attempts == 0  # the default launcher cannot resume
    finally:
        instance.dispose()


def test_the_postgresql_variant_still_validates(tmp_path):
    home = _home(tmp_path, {"RGW_DAGSTER_PG_URL": "postgresql://u:p@127.0.0.1:5433/dagster"})
    config, _ = dagster_instance_config(str(home))  # validates every section against Dagster's schema
    assert config["storage"]["postgres"]["postgres_url"] == {"env": "RGW_DAGSTER_PG_URL"}
    assert config["run_monitoring"]["enabled"] is True


def test_rgw_runs_are_left_to_their_own_lock_not_to_the_daemons_time_limit(tmp_path):
    assert run_tags(HubPaths(tmp_path))["dagster/max_runtime"] == "0"
