"""Retention of the raw zone: landed deliveries past their term go, and the removal is logged; nothing else goes."""

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
