"""Retention per zone and source: what is past its term goes and is logged; nothing unlanded and no latest delivery."""

import json
import os
import time

from governance.retention import apply_raw_retention
from pseudonymisation.audit import AuditLog


def _delivery(root, source, delivery, age_days):
    folder = root / source / delivery
    folder.mkdir(parents=True)
    (folder / "_manifest.json").write_text(json.dumps({"source": source}))
    old = time.time() - age_days * 86400
    os.utime(folder / "_manifest.json", (old, old))
    return folder


def test_only_landed_deliveries_past_their_term_are_removed_and_logged(tmp_path):
    raw, landing = tmp_path / "raw", tmp_path / "landing"
    old_landed = _delivery(raw, "brp", "20260101", 60)
    (landing / "brp" / "20260101").mkdir(parents=True)
    old_not_landed = _delivery(raw, "brp", "20260102", 60)
    recent_landed = _delivery(raw, "brp", "20261101", 2)
    (landing / "brp" / "20261101").mkdir(parents=True)
    audit = AuditLog(tmp_path / "audit.jsonl")
    removed = apply_raw_retention(raw, landing, audit, days=30)
    assert [r.path for r in removed] == ["raw/brp/20260101"]
    assert not old_landed.exists() and old_not_landed.exists() and recent_landed.exists()
    (record,) = audit.records()
    assert record["event"]["action"] == "retention" and record["event"]["removed"] == "raw/brp/20260101"
    assert audit.verify().ok


# --- per-source terms, the landing zone's superseded deliveries, published datasets, the asset ----------------------

DAY = 86400


def _age(path, days):
    old = time.time() - days * DAY
    os.utime(path, (old, old))


def _landed(landing, source, delivery, age_days):
    folder = landing / source / delivery
    folder.mkdir(parents=True)
    (folder / "persoon.parquet").write_bytes(b"PAR1")
    (folder / "_landing.json").write_text("{}")
    _age(folder / "_landing.json", age_days)
    return folder


def _chain_ok_and_retention_only(audit):
    assert audit.verify().ok
    return [r["event"] for r in audit.records() if r["event"]["action"] == "retention"]


def test_raw_terms_are_per_source_and_the_env_var_overrides_only_the_default(tmp_path, monkeypatch):
    from governance.retention import raw_term

    monkeypatch.setenv("RGW_RAW_RETENTION_DAYS", "45")
    assert raw_term("brp") == 14 and raw_term("stedin") == 45 and raw_term("bag") == 90
    raw, landing = tmp_path / "raw", tmp_path / "landing"
    brp = _delivery(raw, "brp", "20261001", 20)  # past brp's 14 days
    stedin = _delivery(raw, "stedin", "20261001", 20)  # within the default (45 here)
    for source in ("brp", "stedin"):
        _landed(landing, source, "20261001", 20)
    audit = AuditLog(tmp_path / "audit.jsonl")
    removed = apply_raw_retention(raw, landing, audit)
    assert [r.path for r in removed] == ["raw/brp/20261001"]
    assert not brp.exists() and stedin.exists()
    (event,) = _chain_ok_and_retention_only(audit)
    assert event["zone"] == "raw" and event["term_days"] == 14 and event["age_days"] >= 20


def test_the_age_counts_from_landing_and_the_latest_raw_bag_stays(tmp_path):
    raw, landing = tmp_path / "raw", tmp_path / "landing"
    _delivery(raw, "brp", "20261001", 60)
    _landed(landing, "brp", "20261001", 3)  # landed late: three days ago
    old_bag, latest_bag = _delivery(raw, "bag", "20260101", 400), _delivery(raw, "bag", "20260201", 400)
    _landed(landing, "bag", "20260101", 400)
    _landed(landing, "bag", "20260201", 400)
    audit = AuditLog(tmp_path / "audit.jsonl")
    removed = apply_raw_retention(raw, landing, audit)
    assert [r.path for r in removed] == ["raw/bag/20260101"]
    assert not old_bag.exists() and latest_bag.exists() and (raw / "brp" / "20261001").exists()


def test_superseded_landing_deliveries_go_but_the_latest_and_event_sources_stay(tmp_path):
    from governance.retention import apply_landing_retention

    landing, raw = tmp_path / "landing", tmp_path / "raw"
    old = _landed(landing, "brp", "20260101", 40)  # superseded, past brp's 30 days
    recent = _landed(landing, "brp", "20260901", 10)  # superseded, within the term
    latest = _landed(landing, "brp", "20261001", 400)  # the latest: never removed, however old
    stedin_old = _landed(landing, "stedin", "20260101", 40)  # superseded but within the default 90
    _landed(landing, "stedin", "20260201", 1)
    with_raw = _landed(landing, "corporaties", "20260101", 100)  # its raw copy is still there: kept
    _delivery(raw, "corporaties", "20260101", 100)
    _landed(landing, "corporaties", "20260201", 1)
    events = [_landed(landing, "meldpunten", d, 1000) for d in ("20250101", "20250201", "20250301")]
    (landing / "linkage").mkdir()
    (landing / "linkage" / "entity_links.parquet").write_bytes(b"PAR1")
    audit = AuditLog(tmp_path / "audit.jsonl")
    removed = apply_landing_retention(landing, audit, raw=raw)
    assert [r.path for r in removed] == ["landing/brp/20260101"]
    assert not old.exists() and recent.exists() and latest.exists() and stedin_old.exists() and with_raw.exists()
    assert all(e.exists() for e in events) and (landing / "linkage" / "entity_links.parquet").exists()
    (event,) = _chain_ok_and_retention_only(audit)
    assert event["zone"] == "landing" and "superseded by delivery 20261001" in event["reason"]


def test_a_stale_purpose_dataset_and_publication_leftovers_are_expired(tmp_path):
    from governance.retention import apply_published_retention

    published = tmp_path / "published"
    stale = published / "selectie_integrale_acties" / "selectie_integrale_acties.duckdb.enc"  # term 365 days
    fresh = published / "signalering" / "signalering.duckdb.enc"  # term 3652 days
    leftover = published / "signalering" / ".signalering.0123abcd.enc"
    running = published / "signalering" / ".signalering.4567cdef.duckdb"
    for path in (stale, fresh, leftover, running):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"sealed")
    _age(stale, 400)
    _age(fresh, 400)
    _age(leftover, 2)
    audit = AuditLog(tmp_path / "audit.jsonl")
    removed = apply_published_retention(published, audit)
    assert sorted(r.path for r in removed) == [
        "published/selectie_integrale_acties/selectie_integrale_acties.duckdb.enc",
        "published/signalering/.signalering.0123abcd.enc",
    ]
    assert not stale.exists() and not leftover.exists() and fresh.exists() and running.exists()
    events = _chain_ok_and_retention_only(audit)
    assert {e["term_days"] for e in events if "selectie" in e["removed"]} == {365}


def test_the_retention_asset_applies_every_zone_logs_and_removes_nothing_unlanded(tmp_path, monkeypatch):
    import dagster as dg

    from orchestration.assets.retention import retention
    from orchestration.resources import HubPathsResource
    from rgw.settings import HubPaths

    paths = HubPaths(tmp_path).ensure()
    _delivery(paths.raw, "brp", "20260101", 60)
    _landed(paths.landing, "brp", "20260101", 60)
    unlanded_raw = _delivery(paths.raw, "brp", "20260201", 60)
    dropped = paths.incoming / "corporaties" / "20260101"
    dropped.mkdir(parents=True)
    (dropped / "relaties.csv").write_text("relatie_id\n1\n")
    _age(dropped / "relaties.csv", 60)
    _landed(paths.landing, "corporaties", "20260101", 60)
    unlanded_drop = paths.incoming / "corporaties" / "20260301"
    unlanded_drop.mkdir(parents=True)
    (unlanded_drop / "relaties.csv").write_text("relatie_id\n1\n")
    _age(unlanded_drop / "relaties.csv", 60)
    _landed(paths.landing, "brp", "20260301", 1)
    _landed(paths.landing, "corporaties", "20260401", 1)
    result = dg.materialize([retention], resources={"hub": HubPathsResource(data_dir=str(tmp_path))})
    assert result.success
    meta = result.asset_materializations_for_node("governance__retention")[0].metadata
    assert meta["removed"].value == {
        "raw": ["raw/brp/20260101"],
        "incoming": ["incoming/corporaties/20260101"],
        "landing": ["landing/brp/20260101", "landing/corporaties/20260101"],
    }
    assert meta["terms"].value["raw_days"]["brp"] == 14 and meta["terms"].value["landing_event_sources_kept"]
    assert unlanded_raw.exists() and unlanded_drop.exists()
    audit = AuditLog(paths.audit_log)
    events = _chain_ok_and_retention_only(audit)
    assert len(events) == 4 and all({"zone", "removed", "age_days", "term_days", "reason"} <= set(e) for e in events)


def test_the_retention_job_runs_daily_and_starts_stopped():
    from orchestration.definitions import defs

    schedule = defs.resolve_schedule_def("retention_job_schedule")
    assert schedule.execution_timezone == "Europe/Amsterdam" and schedule.cron_schedule == "30 4 * * *"
    assert schedule.default_status.value == "STOPPED"
    assert defs.resolve_job_def("retention_job") is not None
