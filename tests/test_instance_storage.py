"""Dagster's SQLite storage while `rgw run` runs (orchestration/instance_storage.py): the events committed inside are
all in the database files afterwards, nothing is left only in a write-ahead log, and Dagster's own behaviour returns
at the end."""

import sqlite3

import dagster as dg

from orchestration.instance_storage import events_flushed_per_checkpoint


def _materialisations(index_db) -> int:
    con = sqlite3.connect(index_db)
    try:
        return con.execute(
            "select count(*) from event_logs where dagster_event_type = 'ASSET_MATERIALIZATION'"
        ).fetchone()[0]
    finally:
        con.close()


def test_events_stored_inside_are_in_the_database_files_after(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        index_db = tmp_path / "history" / "runs" / "index.db"
        instance.report_runless_asset_event(dg.AssetMaterialization("before"))
        with events_flushed_per_checkpoint(checkpoint_seconds=0.05):
            for i in range(30):
                instance.report_runless_asset_event(dg.AssetMaterialization("inside", metadata={"i": i}))
            assert _materialisations(index_db) == 31  # readable by another connection while held
        wal = index_db.with_name("index.db-wal")
        assert not wal.exists() or wal.stat().st_size == 0  # checkpointed into the database file and closed
        instance.report_runless_asset_event(dg.AssetMaterialization("after"))
        assert _materialisations(index_db) == 32
        assert len(instance.fetch_materializations(dg.AssetKey("inside"), limit=100).records) == 30


@dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="_small")])
def _small():
    yield dg.Output(1)
    yield dg.AssetCheckResult(passed=True)


def test_a_run_inside_keeps_every_event_in_its_own_database_and_in_the_index(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        with events_flushed_per_checkpoint(checkpoint_seconds=0.05):
            first = dg.materialize([_small], instance=instance)  # a new run's database is made inside
            second = dg.materialize([_small], instance=instance)
        assert first.success and second.success
        for run in (first, second):
            shard = tmp_path / "history" / "runs" / f"{run.run_id}.db"
            wal = shard.with_name(f"{shard.name}-wal")
            assert not wal.exists() or wal.stat().st_size == 0
            con = sqlite3.connect(shard)
            try:
                stored = {t for (t,) in con.execute("select distinct dagster_event_type from event_logs")}
            finally:
                con.close()
            assert {
                "PIPELINE_START",
                "STEP_START",
                "ASSET_MATERIALIZATION",
                "STEP_SUCCESS",
                "PIPELINE_SUCCESS",
            } <= stored
        assert len(instance.fetch_materializations(dg.AssetKey("_small"), limit=10).records) == 2
        index = sqlite3.connect(tmp_path / "history" / "runs" / "index.db")
        try:
            (checks,) = index.execute("select count(*) from asset_check_executions").fetchone()
        finally:
            index.close()
        assert checks == 2
        third = dg.materialize([_small], instance=instance)  # Dagster's own connections again
        assert third.success
        assert len(instance.fetch_materializations(dg.AssetKey("_small"), limit=10).records) == 3
