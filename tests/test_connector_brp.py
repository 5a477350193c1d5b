"""The BRP connector on the RvIG GBA-V test set and the Haal Centraal sample responses, and on broken copies."""

import json
from collections import Counter

import pytest

from connectors.brp import read_brp
from connectors.delivery import DeliveryError

GBAV = "20220502_Testset_persoonslijsten_proefomgeving_GBA-V.csv"


@pytest.fixture(scope="module")
def gbav(real_fixtures, tmp_path_factory):
    return read_brp(real_fixtures / "brp" / GBAV, staging_root=tmp_path_factory.mktemp("staging"))


def test_every_persoonslijst_is_counted_and_reconciles(gbav):
    assert gbav.counts() == {
        "persoon": {"in": 687, "clean": 681, "quarantined": 6},
        "verblijfplaats_historie": {"in": 1712, "clean": 1688, "quarantined": 24},
    }
    assert all(b.reconciles for b in gbav.entities.values())


def test_quarantine_holds_only_what_is_really_wrong(gbav):
    q = Counter((r["field"], r["reason_code"]) for r in gbav.entities["persoon"].read_quarantine().to_pylist())
    # Five BSNs head two persoonslijsten each in the test set; one birth date is 1966-00-13 (a day without a month).
    assert q == {("burgerservicenummer", "duplicate"): 5, ("01.03.10", "invalid_date"): 1}
    spells = gbav.entities["verblijfplaats_historie"].read_quarantine().to_pylist()
    bad_ids = [r for r in spells if r["reason_code"] == "invalid_bag_id"]
    # 14- and 15-digit ids and an openbare-ruimte id given as verblijfplaats: the spell goes, the person stays.
    assert len(bad_ids) == 4
    assert all("1234" not in r["reason"] for r in bad_ids)


def test_suzanne_moulin_with_her_current_and_earlier_address(gbav):
    persons = {p["bsn"]: p for p in gbav.entities["persoon"].read_clean().to_pylist()}
    p = persons["999993653"]
    assert (p["voornamen"], p["geslachtsnaam"], p["geboortedatum"], p["a_nummer"]) == (
        "Suzanne",
        "Moulin",
        "1985-12-01",
        "8940402024",
    )
    spells = [s for s in gbav.entities["verblijfplaats_historie"].read_clean().to_pylist() if s["bsn"] == "999993653"]
    current, earlier = sorted(spells, key=lambda s: s["volgnummer"])
    assert (current["straatnaam"], current["huisnummer"], current["postcode"], current["is_current"]) == (
        "Boterdiep",
        31,
        "3077AW",
        True,
    )
    assert (current["verblijfsobject_id"], current["nummeraanduiding_id"]) == ("0599010000208579", "0599200000219678")
    assert (earlier["straatnaam"], earlier["huisnummer"], earlier["postcode"]) == ("Vredesplein", 7, "3074SN")
    assert earlier["datum_einde"] == current["datum_aanvang"] == "2015-08-08"


def test_partial_birth_dates_keep_their_precision(gbav):
    precision = Counter(p["geboortedatum_precision"] for p in gbav.entities["persoon"].read_clean().to_pylist())
    assert precision == {"day": 670, "month": 5, "year": 3, "unknown": 3}


def test_haal_centraal_responses_and_a_request_beside_them(real_fixtures, tmp_path):
    r = read_brp(real_fixtures / "brp" / "personen-responses", staging_root=tmp_path)
    assert r.info["requests_skipped"] == ["999999333-request_02.json"]
    assert r.counts()["persoon"] == {"in": 3, "clean": 2, "quarantined": 1}
    (q,) = r.entities["persoon"].read_quarantine().to_pylist()
    assert q["reason_code"] == "missing_required" and "field selection" in q["reason"]
    clean = {p["bsn"]: p for p in r.entities["persoon"].read_clean().to_pylist()}
    assert clean["999971785"]["geslachtsnaam"] == "Hul"
    spells = {s["bsn"]: s for s in r.entities["verblijfplaats_historie"].read_clean().to_pylist()}
    assert (spells["999971785"]["straatnaam"], spells["999971785"]["postcode"]) == ("Mariënburg", "6511PS")


def _broken(real_fixtures, tmp_path, transform):
    data = (real_fixtures / "brp" / GBAV).read_bytes()
    path = tmp_path / "in" / "brp.csv"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(transform(data))
    return path


@pytest.mark.parametrize(
    ("transform", "message"),
    [
        (lambda d: d.replace(b";", b"\t"), r"line 1: .*tab-separated.*wrong delimiter\?"),
        (lambda d: d[: len(d) // 2], r"line \d+: row has \d+ fields where the header has 257: truncated row\?"),
        (
            lambda d: d.replace("Béamont".encode(), "Béamont".encode("latin-1")),
            r"line 2: .*not UTF-8.*wrong encoding\?",
        ),
        (lambda d: d.replace(b";01.02.40;", b";01.02.41;", 1), r"line 1, field .01.02.40.: required column 01.02.40"),
        (lambda d: b"", r"empty file"),
    ],
    ids=["wrong-delimiter", "truncated", "latin-1", "missing-column", "zero-bytes"],
)
def test_unreadable_deliveries_name_file_and_place_and_leave_nothing(real_fixtures, tmp_path, transform, message):
    path = _broken(real_fixtures, tmp_path, transform)
    staging = tmp_path / "staging"
    with pytest.raises(DeliveryError, match=message) as err:
        read_brp(path, staging_root=staging)
    assert "brp.csv" in str(err.value)
    assert list(staging.iterdir()) == []


def test_header_only_file_is_a_valid_empty_delivery(real_fixtures, tmp_path):
    path = _broken(real_fixtures, tmp_path, lambda d: d.split(b"\n", 1)[0] + b"\n")
    r = read_brp(path, staging_root=tmp_path / "staging")
    assert r.counts()["persoon"] == {"in": 0, "clean": 0, "quarantined": 0}


def test_truncated_json_names_line_and_column(tmp_path):
    path = tmp_path / "resp.json"
    path.write_text(json.dumps({"personen": [{"burgerservicenummer": "999993653"}]})[:-5])
    with pytest.raises(DeliveryError, match=r"resp\.json, line 1 column \d+: malformed JSON"):
        read_brp(path, staging_root=tmp_path / "staging")
