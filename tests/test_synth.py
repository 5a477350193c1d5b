"""The synthetic Rotterdam: deterministic, in the real formats, with every abuse planted and the truth recorded."""

import hashlib
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from lxml import etree

from connectors.registry import SOURCES
from synth import generate
from synth.world import ABUSES


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    summary = generate("tiny", 7, out)
    return out, summary


def test_same_seed_same_bytes_other_seed_other_world(tiny, tmp_path):
    out, _ = tiny
    again = tmp_path / "again"
    generate("tiny", 7, again)
    assert _digest(out) == _digest(again)
    other = tmp_path / "other"
    generate("tiny", 8, other)
    assert _digest(out) != _digest(other)


def test_connectors_quarantine_only_what_was_planted_invalid(tiny, tmp_path):
    out, _ = tiny
    quarantined = Counter()
    for name, spec in SOURCES.items():
        folder = out / "incoming" / name / ("2026" if name == "gebieden" else "20261101")
        result = spec.read(folder, delivery_id=folder.name, staging_root=tmp_path)
        for entity, batch in result.entities.items():
            assert batch.reconciles
            for row in batch.read_quarantine().to_pylist():
                quarantined[(name, entity, row["reason_code"])] += 1
    planted = Counter(
        (r["source"], r["reason_code"])
        for r in pq.read_table(out / "ground_truth" / "planted_invalid.parquet").to_pylist()
    )
    assert planted == {("brp", "invalid_bsn"): 1, ("stedin", "invalid_ean"): 1, ("meldpunten", "invalid_code"): 1}
    # The person with the bad BSN takes its address spells along; the bad EAN's monthly usage becomes orphaned.
    assert {k for k in quarantined} == {
        ("brp", "persoon", "invalid_bsn"),
        ("brp", "verblijfplaats_historie", "invalid_bsn"),
        ("stedin", "aansluiting", "invalid_ean"),
        ("stedin", "verbruik", "orphan"),
        ("meldpunten", "melding", "invalid_code"),
    }
    assert quarantined[("stedin", "verbruik", "orphan")] == 12


def test_every_abuse_is_planted_at_least_twice(tiny):
    out, summary = tiny
    abuses = Counter(pq.read_table(out / "ground_truth" / "abuses.parquet")["abuse"].to_pylist())
    assert set(abuses) == set(ABUSES)
    assert min(abuses.values()) >= 2
    assert summary["abuses"] == dict(abuses)


def test_ground_truth_covers_every_person_and_address_record(tiny, tmp_path):
    out, summary = tiny
    persons = pq.read_table(out / "ground_truth" / "persons.parquet").to_pylist()
    brp = [p for p in persons if p["source"] == "brp"]
    assert len(brp) == summary["brp"]["persoon"] - 1  # all but the planted invalid BSN
    addresses = Counter(a["source"] for a in pq.read_table(out / "ground_truth" / "addresses.parquet").to_pylist())
    assert addresses["brp"] == summary["brp"]["verblijfplaats_historie"]
    assert addresses["corporaties"] == summary["corporaties"]["eenheid"]
    assert addresses["meldpunten"] >= summary["meldpunten"]["melding"] - 1
    owners = pq.read_table(out / "ground_truth" / "owners.parquet").to_pylist()
    assert {o["source"] for o in owners} >= {"brk", "meldpunten"}


def test_names_hold_tussenvoegsels_and_diacritics_and_twins(tmp_path):
    out = tmp_path / "focus-like"
    generate("tiny", 3, out)
    text = (out / "incoming" / "brp" / "20261101" / "brp_persoonslijsten.csv").read_text(encoding="utf-8-sig")
    assert any(t in text for t in (";van der;", ";van;", ";de;"))
    assert any(ch in text for ch in "ąęłńśźżășțîâç")
    landlords = (out / "incoming" / "meldpunten" / "20261101" / "meldingen.json").read_text(encoding="utf-8")
    assert "Rotterdam" in landlords


def test_bag_files_use_kadasters_namespaces(tiny):
    out, _ = tiny
    num = next((out / "incoming" / "bag" / "20261101").glob("0599NUM*.xml"))
    root = etree.parse(str(num)).getroot()
    assert root.tag == "{http://www.kadaster.nl/schemas/lvbag/extract-deelbestand-lvc/v20200601}bagStand"
    assert "www.kadaster.nl/schemas/lvbag/imbag/objecten/v20200601" in root.nsmap.values()
