"""The delivery contract: every record lands clean or in quarantine, and landing is all or nothing."""

import json

import pyarrow as pa
import pytest

from connectors.delivery import (
    DeliveryError,
    DeliveryResult,
    EntityCollector,
    Staging,
    detect_drift,
    land_delivery,
)

SCHEMA = pa.schema([("id", pa.string()), ("n", pa.int32()), ("source_file", pa.string()), ("record_ref", pa.string())])


def _collect(staging_dir):
    c = EntityCollector("thing", SCHEMA, staging_dir, key_fields=("id",), batch_rows=2)
    for i, ident in enumerate(["a", "b", "a", "c"]):
        c.add({"id": ident, "n": i, "source_file": "f.csv", "record_ref": f"line {i + 2}"}, record_ref=f"line {i + 2}")
    c.quarantine(
        file="f.csv", record_ref="line 6", field="n", reason_code="invalid_number", reason="n is 'x'", raw="d;x"
    )
    return c.finish()


def test_counts_reconcile_and_duplicates_go_to_quarantine(tmp_path):
    with Staging(tmp_path / "staging") as d:
        batch = _collect(d)
    assert (batch.records_in, batch.clean_rows, batch.quarantined_rows) == (5, 3, 2)
    assert batch.reconciles
    q = batch.read_quarantine().to_pylist()
    assert [r["reason_code"] for r in q] == ["duplicate", "invalid_number"]
    assert q[0]["record_ref"] == "line 4"
    assert batch.read_clean().column("id").to_pylist() == ["a", "b", "c"]


def test_landing_is_atomic_and_writes_a_manifest(tmp_path):
    with Staging(tmp_path / "staging") as d:
        batch = _collect(d)
        result = DeliveryResult(
            source="demo",
            delivery_id="20261101",
            files=["f.csv"],
            entities={"thing": batch},
            drift=[],
            staging_dir=d,
            info={},
        )
    target = land_delivery(result, tmp_path / "raw")
    manifest = json.loads((target / "_manifest.json").read_text())
    assert manifest["counts"]["thing"] == {"in": 5, "clean": 3, "quarantined": 2}
    assert sorted(p.name for p in target.iterdir()) == ["_manifest.json", "thing.parquet", "thing.quarantine.parquet"]
    assert not any(p.name.startswith(".") for p in target.parent.iterdir())


def test_a_failed_read_leaves_nothing_behind(tmp_path):
    root = tmp_path / "staging"
    with pytest.raises(DeliveryError, match=r"f\.csv, line 3: broken"), Staging(root) as d:
        EntityCollector("thing", SCHEMA, d)
        raise DeliveryError("f.csv", "line 3", "broken")
    assert list(root.iterdir()) == []


def test_drift_names_extra_missing_and_renamed_columns():
    drift = detect_drift(["a", "c", "sja"], expected=["a", "b", "sjv"], renames={"sja": "sjv"})
    kinds = {(d.kind, d.column) for d in drift}
    assert ("missing", "b") in kinds
    assert any(d.kind == "renamed" for d in drift)
