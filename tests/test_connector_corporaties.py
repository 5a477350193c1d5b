"""The corporations connector on real VERA eenheid samples and on VERA / CSV-export deliveries."""

import json

import pytest

from connectors.corporaties import code_list, read_corporaties
from connectors.delivery import DeliveryError


def test_real_woningwaardering_eenheden_land_clean(real_fixtures, tmp_path):
    r = read_corporaties(real_fixtures / "corporaties" / "eenheden", staging_root=tmp_path)
    assert r.counts()["eenheid"] == {"in": 5, "clean": 5, "quarantined": 0}
    units = {u["eenheid_id"]: u for u in r.entities["eenheid"].read_clean().to_pylist()}
    assert units["37101000032"]["gebruiksoppervlakte"] == 187.0 and units["37101000032"]["bouwjaar"] == 1924
    assert units["15004000185"]["gebruiksoppervlakte"] == 58.0  # from bagGebruikersOppervlakte
    assert units["20002000126"]["straatnaam"] is None  # VERA's empty strings are nulls, not empty names


def test_code_lists_come_from_the_vera_reference_data():
    assert {"WOO", "BED", "PAR"} <= code_list("EENHEIDSOORT")
    assert {"VEH", "LEE"} <= code_list("EENHEIDSTATUS")


def _vera(tmp_path):
    d = tmp_path / "20261101"
    d.mkdir()
    eenheden = [
        {
            "id": "E1",
            "soort": {"code": "WOO"},
            "status": {"code": "VEH"},
            "adres": {
                "straatnaam": "Hillevliet",
                "huisnummer": 12,
                "huisletter": "A",
                "huisnummerToevoeging": "",
                "postcode": "3074 kd",
                "woonplaats": {"naam": "Rotterdam"},
            },
            "adresseerbaarObjectBasisregistratie": {"bagIdentificatie": "0599010000123456"},
            "gebruiksoppervlakte": 54,
            "kamersAantal": 3,
            "brutohuur": 612.5,
            "bouwjaar": 1931,
        },
        {"id": "E2", "soort": {"code": "XYZ"}, "status": {"code": "LEE"}, "adres": {}},
    ]
    relaties = [
        {
            "id": "R1",
            "soort": {"code": "NatuurlijkPersoon"},
            "bsn": "999993653",
            "geboortedatum": "1985-12-01",
            "voornaam": "Suzanne",
            "tussenvoegsels": "",
            "achternaam": "Moulin",
            "email": "s@example.nl",
        },
        {"id": "R2", "soort": {"code": "NatuurlijkPersoon"}, "bsn": "123456789", "achternaam": "Fout"},
    ]
    contracten = [
        {
            "id": "H1",
            "begindatum": "2020-01-01",
            "einddatum": None,
            "brutohuur": 612.5,
            "eenheden": [{"id": "E1"}],
            "relaties": [{"id": "R1"}],
            "soort": {"code": "ZEL"},
        },
        {"id": "H2", "begindatum": "2021-01-01", "eenheden": [{"id": "E9"}], "relaties": [{"id": "R1"}]},
    ]
    for name, data in (
        ("vera_eenheden.json", eenheden),
        ("vera_relaties.json", relaties),
        ("vera_huurovereenkomsten.json", contracten),
    ):
        (d / name).write_text(json.dumps(data), encoding="utf-8")
    return d


def test_vera_delivery_checks_codes_bsn_and_orphans(tmp_path):
    r = read_corporaties(_vera(tmp_path), staging_root=tmp_path / "s")
    counts = r.counts()
    assert counts["eenheid"] == {"in": 2, "clean": 1, "quarantined": 1}
    assert counts["relatie"] == {"in": 2, "clean": 1, "quarantined": 1}
    assert counts["huurovereenkomst"] == {"in": 2, "clean": 1, "quarantined": 1}
    reasons = {e: [q["reason_code"] for q in b.read_quarantine().to_pylist()] for e, b in r.entities.items()}
    assert reasons["eenheid"] == ["invalid_code"] and reasons["relatie"] == ["invalid_bsn"]
    assert reasons["huurovereenkomst"] == ["orphan"]
    e1 = r.entities["eenheid"].read_clean().to_pylist()[0]
    assert (e1["postcode"], e1["huisletter"], e1["verblijfsobject_id"]) == ("3074KD", "A", "0599010000123456")
    link = r.entities["huurovereenkomst_relatie"].read_clean().to_pylist()
    assert [(x["huurovereenkomst_id"], x["relatie_id"]) for x in link] == [("H1", "R1")]


def test_csv_export_reads_the_same(tmp_path):
    d = tmp_path / "csv"
    d.mkdir()
    (d / "eenheden.csv").write_text(
        "id;code;soort;status;straatnaam;huisnummer;huisletter;huisnummertoevoeging;postcode;woonplaats;bag_vbo_id;"
        "gebruiksoppervlakte;kamers_aantal;brutohuur;bouwjaar\nE1;;WOO;VEH;Hillevliet;12;A;;3074KD;Rotterdam;;54;3;612.5;1931\n"
    )
    (d / "relaties.csv").write_text(
        "id;soort;bsn;geboortedatum;voornaam;tussenvoegsels;achternaam;kvk_nummer;naam;"
        "email;telefoonnummer\nR1;NatuurlijkPersoon;999993653;1985-12-01;Suzanne;;Moulin;;;;\n"
    )
    (d / "huurovereenkomsten.csv").write_text(
        "id;eenheid_id;relatie_ids;begindatum;einddatum;brutohuur;soort\nH1;E1;R1;2020-01-01;;612.5;ZEL\n"
    )
    r = read_corporaties(d, staging_root=tmp_path / "s")
    assert {e: c["clean"] for e, c in r.counts().items()} == {
        "eenheid": 1,
        "huurovereenkomst": 1,
        "huurovereenkomst_relatie": 1,
        "relatie": 1,
    }


def test_truncated_json_is_refused_with_line_and_column(tmp_path):
    d = _vera(tmp_path)
    p = d / "vera_relaties.json"
    p.write_text(p.read_text()[:-20])
    with pytest.raises(DeliveryError, match=r"vera_relaties\.json, line 1 column \d+: malformed JSON"):
        read_corporaties(d, staging_root=tmp_path / "s")
    assert list((tmp_path / "s").iterdir()) == []
