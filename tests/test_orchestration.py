"""Real Dagster, in process: every source's ingest on the synthetic Rotterdam, its checks, sensors and failures."""

import shutil

import dagster as dg
import pytest

from orchestration.assets.ingest import INGEST_ASSETS, delivery_partitions, raw_key
from orchestration.definitions import defs
from orchestration.runner import ingest_all
from rgw.settings import HubPaths
from synth import generate

SOURCES = ["bag", "brp", "brk", "stedin", "corporaties", "meldpunten", "gebieden"]


@pytest.fixture(scope="module")
def hub(tmp_path_factory, monkeypatch_module):
    data = tmp_path_factory.mktemp("data")
    generate("tiny", 11, data)
    monkeypatch_module.setenv("RGW_DATA", str(data))
    monkeypatch_module.setenv("RGW_MASTER_KEY", "ab" * 32)  # a managed key: the landing never makes one up
    return HubPaths(data).ensure()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture(scope="module")
def ingested(hub):
    instance = dg.DagsterInstance.ephemeral()
    report = ingest_all(instance, hub)
    return instance, report


def test_every_source_is_ingested_as_a_partition(ingested, hub):
    instance, report = ingested
    assert report.failed == []
    assert sorted(s for s, _ in report.ingested) == sorted(SOURCES)
    for source in SOURCES:
        assert instance.get_dynamic_partitions(delivery_partitions(source).name)
        assert (hub.raw / source).is_dir()


def test_materialisations_carry_row_counts_and_schema(ingested):
    instance, _ = ingested
    event = instance.get_latest_materialization_event(raw_key("brp", "persoon"))
    meta = event.asset_materialization.metadata
    assert meta["dagster/row_count"].value + meta["quarantined"].value == meta["records_in"].value
    assert "bsn" in [c.name for c in meta["dagster/column_schema"].value.columns]


def test_reconcile_checks_pass_for_every_source(ingested):
    instance, _ = ingested
    for assets_def in INGEST_ASSETS:
        source = assets_def.node_def.name.removeprefix("ingest_")
        for key in assets_def.check_keys:
            record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
            evaluation = record.event.dagster_event.event_specific_data
            if key.name == "counts_reconcile":
                assert evaluation.passed, (source, evaluation.metadata)


def test_the_sensor_requests_a_run_for_a_new_delivery_once(hub, ingested):
    """Deliveries the instance already holds are not read again, even by a sensor starting with an empty cursor;
    a new one is requested exactly once."""
    instance, _ = ingested
    sensor = defs.get_sensor_def("meldpunten_delivery_sensor")
    first = sensor(dg.build_sensor_context(instance=instance, cursor=None))
    assert not first.run_requests  # landed by the ingest above, same fingerprint
    newer = hub.incoming / "meldpunten" / "20261201"
    shutil.copytree(hub.incoming / "meldpunten" / "20261101", newer)
    (newer / "_READY").touch()
    try:
        result = sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
        assert [r.partition_key for r in result.run_requests] == ["20261201"]
        again = sensor(dg.build_sensor_context(instance=instance, cursor=result.cursor))
        assert not again.run_requests  # nothing new: the cursor remembers the fingerprint
    finally:
        shutil.rmtree(newer)


def test_a_broken_delivery_fails_its_run_names_the_file_and_lands_nothing(hub, ingested):
    instance, _ = ingested
    broken = hub.incoming / "brp" / "20261102"
    shutil.copytree(hub.incoming / "brp" / "20261101", broken)
    csv = broken / "brp_persoonslijsten.csv"
    csv.write_bytes(csv.read_bytes()[:5000])
    report = ingest_all(instance, hub, sources=["brp"])
    failures = {(s, d): msg for s, d, msg in report.failed}
    assert ("brp", "20261102") in failures
    assert "brp_persoonslijsten.csv" in failures[("brp", "20261102")]
    assert "truncated" in failures[("brp", "20261102")]
    assert not (hub.raw / "brp" / "20261102").exists()
    assert not any(hub.staging.iterdir())
    shutil.rmtree(broken)
