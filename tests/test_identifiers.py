"""The identifier checks every connector relies on, against the real test sets where they exist."""

import csv

import pytest

from connectors.identifiers import (
    gs1_check_digit,
    is_valid_a_nummer,
    is_valid_bag_id,
    is_valid_bsn,
    is_valid_ean18,
    is_valid_gln,
    normalise_postcode,
    parse_gba_date,
    parse_iso_date,
)


def _brp_column(real_fixtures, code: str) -> set[str]:
    path = real_fixtures / "brp" / "20220502_Testset_persoonslijsten_proefomgeving_GBA-V.csv"
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter=";")
        header = next(reader)
        i = header.index(code)
        return {row[i] for row in reader if row[i]}


def test_every_a_nummer_of_the_rvig_test_set_passes(real_fixtures):
    a_nummers = _brp_column(real_fixtures, "01.01.10")
    assert len(a_nummers) == 690
    assert all(is_valid_a_nummer(a) for a in a_nummers)
    assert not is_valid_a_nummer("1234567890")  # adjacent digits differ, but both checksums fail


def test_bsns_of_the_rvig_test_set_pass_the_11_proef_but_one(real_fixtures):
    bsns = _brp_column(real_fixtures, "01.01.20")
    failing = {b for b in bsns if not is_valid_bsn(b)}
    # The test set holds one BSN that fails the 11-proef (weighted sum 60, 60 mod 11 = 5): really invalid input.
    assert len(bsns) == 682 and failing == {"010008579"}
    assert is_valid_bsn("999993653")
    assert not is_valid_bsn("000000000")
    assert not is_valid_bsn("99999365")


def test_gs1_codes():
    ean = "87161234567890123" + gs1_check_digit("87161234567890123")
    assert is_valid_ean18(ean)
    assert not is_valid_ean18(ean[:-1] + str((int(ean[-1]) + 1) % 10))
    assert is_valid_gln("8716902000001")  # Stedin electricity, from the open-data files


@pytest.mark.parametrize(
    ("value", "kind", "ok"),
    [
        ("0599010000208579", "verblijfsobject", True),
        ("0599200000219678", "nummeraanduiding", True),
        ("0599200000219678", "verblijfsobject", False),
        ("1900010000000001", "verblijfsobject", True),  # other municipality prefixes are legal
        ("059901000020857", None, False),
    ],
)
def test_bag_ids(value, kind, ok):
    assert is_valid_bag_id(value, kind) is ok


def test_postcodes_are_normalised_or_refused():
    assert normalise_postcode(" 3077 aw ") == "3077AW"
    assert normalise_postcode("0123AB") is None
    assert normalise_postcode("3077-AW") is None


def test_partial_dates_keep_what_is_known():
    assert parse_gba_date("19851201").iso() == "1985-12-01"
    assert parse_gba_date("19850000").precision == "year"
    assert parse_gba_date("19851200").iso() == "1985-12"
    assert parse_gba_date("00000000").precision == "unknown"
    assert parse_gba_date("19850231") is None
    assert parse_iso_date("2026-03-02T10:15:00+01:00").iso() == "2026-03-02"
    assert parse_iso_date("1985-13") is None
