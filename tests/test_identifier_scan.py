"""The scan that guards the pseudonymisation boundary finds identifiers and stays quiet on pseudonyms."""

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.identifiers import gs1_check_digit
from governance.identifier_scan import scan_zone


def _write(path, **columns):
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)
    return path


def test_each_kind_of_direct_identifier_is_found_and_named_without_its_value(tmp_path):
    ean = "87169020000" + "1234567"
    ean = ean[:17] + gs1_check_digit(ean[:17])
    _write(
        tmp_path / "landing" / "leak.parquet",
        note=["bsn 999993653 here", f"meter {ean}", "mail j.devries@example.nl", "bel 06-12345678", "Suzanne Moulin"],
    )
    raw = _write(tmp_path / "raw" / "persoon.parquet", voornamen=["Suzanne Maria"], geslachtsnaam=["Moulin"])
    findings = scan_zone([tmp_path / "landing"], [raw])
    assert {f.kind for f in findings} == {"bsn", "ean", "email", "phone", "name from the raw delivery"}
    assert all(f.column == "note" for f in findings)
    assert not any("999993653" in str(f) or "Moulin" in str(f) for f in findings)


def test_pseudonyms_counts_and_invalid_numbers_are_not_findings(tmp_path):
    _write(
        tmp_path / "landing" / "clean.parquet",
        bsn_psn=["bsn.v1.2345672345672345672345", "bsn.v1.77777777777777777777aa"],
        aantal=["123456789", "1200"],  # nine digits failing the 11-proef: a count, not a BSN
        straat=["Putselaan", "Bakkerstraat"],
    )
    raw = _write(tmp_path / "raw" / "persoon.parquet", voornamen=["Jan"], geslachtsnaam=["Bakker"])
    assert scan_zone([tmp_path / "landing"], [raw]) == []


def test_a_name_beside_pseudonyms_is_still_found(tmp_path):
    """Pseudonyms, address spell keys and entity ids stay out of the name join (they cannot be names); a name
    written in the same column, also where it follows such a key, is found."""
    _write(
        tmp_path / "landing" / "mixed.parquet",
        psn=[
            "person_name.v1.abcdefghijklmnopqrstuvwxyz",
            "bsn.v2.2345672345672345672345",
            "bsn.v2.2345672345672345672345|3",
            "persoon:93bc3b6ce3df335fe6ff",
            "ook jan bakker",
            "bsn.v2.2345672345672345672345|jan bakker",
            "persoon:jan bakker",
        ],
    )
    raw = _write(tmp_path / "raw" / "persoon.parquet", voornamen=["Jan"], geslachtsnaam=["Bakker"])
    findings = scan_zone([tmp_path / "landing"], [raw])
    assert [(f.column, f.kind, f.count) for f in findings] == [("psn", "name from the raw delivery", 3)]


def test_identifiers_written_as_bare_digits_are_found_beside_bag_ids(tmp_path):
    """All-digit values of other lengths (16-digit BAG ids) are no candidates; a bare BSN, A-nummer, EAN or phone
    number (0031: 13 digits) still is."""
    ean = "87169020000" + "1234567"
    ean = ean[:17] + gs1_check_digit(ean[:17])
    _write(
        tmp_path / "landing" / "bare.parquet",
        bag_id=["0599010000123456", "0599200000654321"],
        bsn=["999993653", "0599010000123456"],
        a_nummer=["1234567984", "0599010000123456"],
        ean=[ean, "0599010000123456"],
        phone=["0031612345678", "0599010000123456"],
    )
    findings = scan_zone([tmp_path / "landing"], [])
    assert sorted((f.column, f.kind) for f in findings) == [
        ("a_nummer", "a_nummer"),
        ("bsn", "bsn"),
        ("ean", "ean"),
        ("phone", "phone"),
    ]


def test_names_kept_between_scans_follow_a_changed_raw_delivery(tmp_path):
    """The raw names are read once per state of the raw person files (the five publications of a refresh share
    them); a raw file that changed is read again, so a name only the new delivery holds is still found."""
    landing = _write(tmp_path / "landing" / "notes.parquet", note=["Suzanne Moulin", "Pieternella Zoutendijk"])
    raw = _write(tmp_path / "raw" / "persoon.parquet", voornamen=["Suzanne Maria"], geslachtsnaam=["Moulin"])
    first = scan_zone([landing.parent], [raw])
    assert [(f.kind, f.count) for f in first] == [("name from the raw delivery", 1)]
    assert scan_zone([landing.parent], [raw]) == first
    _write(raw, voornamen=["Suzanne Maria", "Pieternella"], geslachtsnaam=["Moulin", "Zoutendijk"])
    assert [(f.kind, f.count) for f in scan_zone([landing.parent], [raw])] == [("name from the raw delivery", 2)]
