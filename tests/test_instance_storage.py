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
