"""The corporations connector on real VERA eenheid samples and on VERA / CSV-export deliveries."""

import json

import pytest

from connectors.corporaties import REFERENCE, code_list, read_corporaties
from connectors.delivery import DeliveryError


def _clean(result, entity):
    return result.entities[entity].read_clean().to_pylist()


def _reasons(result, entity):
    return [
        (q["record_ref"], q["field"], q["reason_code"]) for q in result.entities[entity].read_quarantine().to_pylist()
    ]


# --- the real woningwaardering samples ------------------------------------------------------------------------------


def test_real_woningwaardering_eenheden_land_clean(real_fixtures, tmp_path):
    r = read_corporaties(real_fixtures / "corporaties" / "eenheden", staging_root=tmp_path)
    assert r.counts()["eenheid"] == {"in": 5, "clean": 5, "quarantined": 0}
    assert all(b.reconciles for b in r.entities.values())
    units = {u["eenheid_id"]: u for u in _clean(r, "eenheid")}
    assert set(units) == {"37101000032", "15004000185", "20002000126", "23109000031", "28018000044"}
    assert units["37101000032"]["gebruiksoppervlakte"] == 187.0 and units["37101000032"]["bouwjaar"] == 1924
    assert units["37101000032"]["woonplaats"] == "ROTTERDAM"
    assert (
        units["15004000185"]["gebruiksoppervlakte"] == 58.0
    )  # adresseerbaarObjectBasisregistratie.bagGebruikersOppervlakte
    # No declared area: the unit's own indoor rooms (23109000031 without its 3.21 m2 terrace, a BTR buitenruimte)
    assert units["20002000126"]["gebruiksoppervlakte"] == 83.75
    assert units["23109000031"]["gebruiksoppervlakte"] == 62.57
    assert r.info["gebruiksoppervlakte_bron"] == {"bag": 1, "eenheid": 2, "ruimten": 2}
    # VERA's empty strings are nulls, not empty names, numbers or ids
    u = units["20002000126"]
    assert (u["straatnaam"], u["huisnummer"], u["postcode"], u["woonplaats"], u["verblijfsobject_id"]) == (None,) * 5
    assert u["record_ref"] == "object" and u["source_file"].endswith("zelfstandig_20002000126.json")


def test_the_real_folder_with_its_code_list_reads_too(real_fixtures, tmp_path):
    r = read_corporaties(real_fixtures / "corporaties", staging_root=tmp_path)
    assert r.counts()["eenheid"]["clean"] == 5
    assert r.info["skipped_files"] == ["Referentiedata.csv"]  # the code list beside the samples is no delivery file
    assert len(r.files) == 5


def test_code_lists_come_from_the_bundled_copy_of_the_vera_reference_data(real_fixtures):
    assert REFERENCE.read_bytes() == (real_fixtures / "corporaties" / "Referentiedata.csv").read_bytes()
    assert code_list("EENHEIDSOORT") == {"BED", "INT", "MOG", "OVE", "PAR", "REC", "WOO"}
    assert code_list("EENHEIDSTATUS") == {"ADM", "LEE", "OND", "ONT", "UIT", "VEH", "VEK"}


# --- a VERA delivery ------------------------------------------------------------------------------------------------


def _unit(uid, soort="WOO", status="VEH", **extra):
    return {"id": uid, "soort": {"code": soort}, "status": {"code": status}, "adres": {}, **extra}


def _vera(tmp_path, eenheden=None, relaties=None, contracten=None):
    d = tmp_path / "20261101"
    d.mkdir()
    eenheden = eenheden or [
        {
            "id": "E1",
            "code": "HIL12A",
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
        _unit("E2", soort="XYZ", status="LEE"),
        _unit("E3", soort="PAR"),
        _unit("E4", bouwjaar="negentien"),
    ]
    relaties = relaties or [
        {
            "id": "R1",
            "soort": {"code": "NatuurlijkPersoon"},
            "bsn": "999993653",
            "geboortedatum": "1985-12",
            "voornaam": "Suzanne",
            "tussenvoegsels": "",
            "achternaam": "Moulin",
            "email": "s@example.nl",
        },
        {"id": "R2", "soort": {"code": "NatuurlijkPersoon"}, "bsn": "123456789", "achternaam": "Fout"},
        {"id": "R3", "soort": {"code": "NAT"}, "bsn": 12345672, "achternaam": "Nul"},  # JSON number: lost its 0
        {"id": "R4", "soort": {"code": "Rechtspersoon"}, "kvkNummer": "24268006", "naam": "Zuidhaven Vastgoed B.V."},
        {"id": "R5", "soort": {"code": "GRO"}, "naam": "Huishouden Moulin"},  # a VERA relatiegroep: no person
    ]
    contracten = contracten or [
        {
            "id": "H1",
            "begindatum": "2020-01-01",
            "einddatum": None,
            "brutohuur": 612.5,
            "eenheden": [{"id": "E3"}, {"id": "E1"}],  # parking place first, the dwelling is the one followed
            "relaties": [{"id": "R1"}, {"id": "R3"}, {"id": "R1"}],
            "soort": {"code": "HUU"},
        },
        {"id": "H2", "begindatum": "2021-01-01", "eenheden": [{"id": "E9"}], "relaties": [{"id": "R1"}]},
        {"id": "H3", "begindatum": "2021-01-01", "eenheden": [{"id": "E1"}], "relaties": [{"id": "R2"}]},
        {"id": "H4", "begindatum": "2021-05-01", "einddatum": "2021-04-30", "eenheden": [{"id": "E3"}]},
        {"id": "H5", "begindatum": "2021-13-01", "eenheden": [{"id": "E3"}]},
        {"id": "H6", "begindatum": "2022-02-01", "eenheden": [{"id": "E3"}], "relaties": [{"id": "R4"}]},
    ]
    for name, data in (
        ("vera_eenheden.json", eenheden),
        ("vera_relaties.json", relaties),
        ("vera_huurovereenkomsten.json", contracten),
    ):
        (d / name).write_text(json.dumps(data), encoding="utf-8")
    return d


def test_vera_delivery_checks_codes_bsn_dates_and_orphans(tmp_path):
    r = read_corporaties(_vera(tmp_path), staging_root=tmp_path / "s")
    assert r.delivery_id == "20261101"
    counts = r.counts()
    assert counts["eenheid"] == {"in": 4, "clean": 2, "quarantined": 2}
    assert counts["relatie"] == {"in": 5, "clean": 3, "quarantined": 2}
    assert counts["huurovereenkomst"] == {"in": 6, "clean": 2, "quarantined": 4}
    assert all(b.reconciles for b in r.entities.values())
    assert _reasons(r, "eenheid") == [("[1]", "soort", "invalid_code"), ("[3]", "bouwjaar", "invalid_number")]
    assert _reasons(r, "relatie") == [("[1]", "bsn", "invalid_bsn"), ("[4]", "soort", "invalid_code")]
    # H2 names a unit that is not delivered; H3 a tenant whose record was quarantined: both orphans
    assert _reasons(r, "huurovereenkomst") == [
        ("[1]", "eenheden", "orphan"),
        ("[2]", "relaties", "orphan"),
        ("[3]", "einddatum", "inconsistent"),
        ("[4]", "begindatum", "invalid_date"),
    ]
    e1 = next(u for u in _clean(r, "eenheid") if u["eenheid_id"] == "E1")
    assert (e1["postcode"], e1["huisnummer"], e1["huisletter"], e1["huisnummertoevoeging"]) == ("3074KD", 12, "A", None)
    assert (e1["verblijfsobject_id"], e1["kamers_aantal"], e1["brutohuur"], e1["code"]) == (
        "0599010000123456",
        3,
        612.5,
        "HIL12A",
    )
    relaties = {x["relatie_id"]: x for x in _clean(r, "relatie")}
    assert (relaties["R1"]["geboortedatum"], relaties["R1"]["geboortedatum_precision"]) == ("1985-12", "month")
    assert relaties["R1"]["tussenvoegsels"] is None and relaties["R1"]["soort"] == "natuurlijk_persoon"
    assert relaties["R3"]["bsn"] == "012345672"  # leading zero restored, then the 11-proef passes
    assert (relaties["R4"]["soort"], relaties["R4"]["kvk_nummer"]) == ("rechtspersoon", "24268006")
    h1 = next(h for h in _clean(r, "huurovereenkomst") if h["huurovereenkomst_id"] == "H1")
    assert (h1["eenheid_id"], h1["begindatum"], h1["einddatum"], h1["soort"]) == ("E1", "2020-01-01", None, "HUU")
    links = [(x["huurovereenkomst_id"], x["relatie_id"]) for x in _clean(r, "huurovereenkomst_relatie")]
    assert links == [("H1", "R1"), ("H1", "R3"), ("H6", "R4")]  # R1 listed twice on H1, linked once
    assert r.info["huurovereenkomsten_met_meerdere_eenheden"] == 1


def test_quarantine_keeps_the_raw_record_but_no_identifier_in_the_reason(tmp_path):
    r = read_corporaties(_vera(tmp_path), staging_root=tmp_path / "s")
    bad = r.entities["relatie"].read_quarantine().to_pylist()[0]
    assert json.loads(bad["raw_record"])["bsn"] == "123456789"  # the raw zone keeps what was delivered
    assert "123456789" not in bad["reason"] and bad["file"].endswith("vera_relaties.json")


def test_duplicate_ids_land_once(tmp_path):
    d = _vera(tmp_path, eenheden=[_unit("E1"), _unit("E1"), _unit("E3")])
    r = read_corporaties(d, staging_root=tmp_path / "s")
    assert r.counts()["eenheid"] == {"in": 3, "clean": 2, "quarantined": 1}
    assert _reasons(r, "eenheid") == [("[1]", "eenheid_id", "duplicate")]


# --- the CSV export -------------------------------------------------------------------------------------------------

EENHEDEN_HEADER = (
    "id;code;soort;status;straatnaam;huisnummer;huisletter;huisnummertoevoeging;postcode;woonplaats;bag_vbo_id;"
    "gebruiksoppervlakte;kamers_aantal;brutohuur;bouwjaar"
)
RELATIES_HEADER = "id;soort;bsn;geboortedatum;voornaam;tussenvoegsels;achternaam;kvk_nummer;naam;email;telefoonnummer"
CONTRACTEN_HEADER = "id;eenheid_id;relatie_ids;begindatum;einddatum;brutohuur;soort"


def _csv_export(tmp_path, eenheden, relaties, contracten):
    d = tmp_path / "csv"
    d.mkdir()
    (d / "eenheden.csv").write_text(eenheden, encoding="utf-8-sig")
    (d / "relaties.csv").write_text(relaties, encoding="utf-8")
    (d / "huurovereenkomsten.csv").write_text(contracten, encoding="utf-8")
    return d


def test_csv_export_reads_the_same(tmp_path):
    d = _csv_export(
        tmp_path,
        EENHEDEN_HEADER + "\nE1;;WOO;VEH;Hillevliet;12;A;;3074KD;Rotterdam;0599010000123456;54;3;612.5;1931\n"
        "E2;;WOO;VEH;Hillevliet;14;;;3074 KD;Rotterdam;0599100000123456;54;3;612.5;1931\n",
        RELATIES_HEADER + "\nR1;NatuurlijkPersoon;999993653;1985-12-01;Suzanne;;Moulin;;;;\n"
        "R2;Rechtspersoon;;;;;;24268006;Zuidhaven Vastgoed B.V.;;\n",
        CONTRACTEN_HEADER + "\nH1;E1;R1|R2;2020-01-01;;612.5;HUU\n",
    )
    r = read_corporaties(d, staging_root=tmp_path / "s")
    assert {e: c["clean"] for e, c in r.counts().items()} == {
        "eenheid": 1,
        "huurovereenkomst": 1,
        "huurovereenkomst_relatie": 2,
        "relatie": 2,
    }
    assert _reasons(r, "eenheid") == [("line 3", "bag_vbo_id", "invalid_bag_id")]  # a pand id (type 10), not a VBO
    e1 = _clean(r, "eenheid")[0]
    assert (e1["gebruiksoppervlakte"], e1["bouwjaar"], e1["record_ref"]) == (54.0, 1931, "line 2")
    assert r.drift == []


def test_a_header_only_csv_export_is_refused_as_an_empty_snapshot(tmp_path):
    d = _csv_export(tmp_path, EENHEDEN_HEADER + ";energielabel\n", RELATIES_HEADER + "\n", "id;eenheid_id\n")
    with pytest.raises(DeliveryError, match=r"eenheden\.csv, line 2: a snapshot delivery with no records: the CSV"):
        read_corporaties(d, staging_root=tmp_path / "s")
    assert list((tmp_path / "s").iterdir()) == []


# --- unreadable deliveries ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("vera_relaties.json", b"", r"vera_relaties\.json, byte 0: empty file"),
        (
            "vera_relaties.json",
            b'[{"id": "R1", "bsn": "99999',
            r"vera_relaties\.json, line 1 column \d+: malformed JSON",
        ),
        ("vera_relaties.json", b'[{"id": "R1", "achternaam": "M\xfcller"}]', r"line 1: bytes that are not UTF-8"),
        ("relaties.csv", b"id,soort,bsn\nR1,NAT,999993653\n", r"relaties\.csv, line 1: .*wrong delimiter\?"),
        ("relaties.csv", b"id;soort\nR1;Rechtspersoon\nR2;M\xfcller\n", r"relaties\.csv, line 3: .*wrong encoding\?"),
        ("eenheden.csv", b"code;soort\nX;WOO\n", r"eenheden\.csv, line 1, field 'id': required column 'id'"),
        ("huurovereenkomsten.csv", b"id;relatie_ids\nH1;R1\n", r"required column 'eenheid_id' is missing"),
        ("vera_eenheden.json", b'[{"id": "E1", "adres": "Hillevliet 12"}]', r"vera_eenheden\.json, \[0\]: not a VERA"),
        ("vera_export.json", b'{"naam": "geen eenheid"}', r"vera_export\.json, root: neither a VERA eenheid"),
    ],
)
def test_unreadable_files_name_file_and_place_and_leave_nothing(tmp_path, name, content, message):
    d = _vera(tmp_path)
    (d / name).write_bytes(content)
    with pytest.raises(DeliveryError, match=message):
        read_corporaties(d, staging_root=tmp_path / "s")
    assert list((tmp_path / "s").iterdir()) == []
