"""The BRK connector (Haal Centraal BRK-Bevragen bulk JSON), on deliveries built here in the documented shape.

There is no public BRK response file to test on: Kadaster's `testcases.json` lists resource paths of its test
environment, so it is used to show the connector refuses it, and its object identifiers are used as identifiers.
"""

import copy
import json

import pytest

from connectors.brk import read_brk
from connectors.delivery import DeliveryError

# The example of docs/formats.md, verbatim.
EXAMPLE = {
    "_embedded": {
        "kadastraalOnroerendeZaken": [
            {
                "identificatie": "59020170810219",
                "domein": "NL.IMKAD.KadastraalObject",
                "kadastraleAanduiding": "Rotterdam AB 1234 A12",
                "type": "appartementsrecht",
                "adressen": [
                    {
                        "straat": "Boterdiep",
                        "huisnummer": 31,
                        "huisletter": "A",
                        "huisnummertoevoeging": "01",
                        "postcode": "3077AW",
                        "woonplaats": "Rotterdam",
                        "adresseerbaarObjectIdentificatie": "0599010000208579",
                        "nummeraanduidingIdentificatie": "0599200000219678",
                    }
                ],
                "zakelijkGerechtigdeIdentificaties": ["59020170810219-ZG1"],
            }
        ],
        "zakelijkGerechtigden": [
            {
                "identificatie": "59020170810219-ZG1",
                "kadastraalOnroerendeZaakIdentificatie": "59020170810219",
                "type": "eigenaar",
                "aanvangsdatum": "2014-03-01",
                "tenaamstelling": {"aandeel": {"teller": 1, "noemer": 2}},
                "persoonIdentificatie": "70882239",
            }
        ],
        "personen": [
            {
                "identificatie": "70882239",
                "type": "KadasterNatuurlijkPersoon",
                "burgerservicenummer": "999993653",
                "naam": {"geslachtsnaam": "Moulin", "voorvoegsel": "", "voornamen": "Suzanne"},
                "geboorte": {"datum": {"type": "Datum", "datum": "1985-12-01"}},
                "woonadres": {"straat": "Boterdiep", "huisnummer": 31, "postcode": "3077AW", "woonplaats": "Rotterdam"},
            },
            {
                "identificatie": "71291440",
                "type": "KadasterNietNatuurlijkPersoon",
                "statutaireNaam": "Zuidhaven Vastgoed B.V.",
                "statutaireZetel": "Rotterdam",
                "rechtsvorm": "besloten vennootschap",
                "kvkNummer": "24268006",
                "rsin": "812345672",
            },
        ],
    }
}
VALID_RSIN = "002345675"  # 0*9+0*8+2*7+3*6+4*5+5*4+6*3+7*2-5 = 99 = 9*11


def _write(path, doc) -> None:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _object(oid: str, *adressen: dict, rights: tuple[str, ...] = (), kind: str = "perceel") -> dict:
    return {
        "identificatie": oid,
        "kadastraleAanduiding": f"Rotterdam AB {oid[-4:]}",
        "type": kind,
        "adressen": list(adressen),
        "zakelijkGerechtigdeIdentificaties": list(rights),
    }


def _adres(nr: int, ao: str = "0599010000208579", **extra) -> dict:
    return {
        "straat": "Putselaan",
        "huisnummer": nr,
        "postcode": "3074JB",
        "woonplaats": "Rotterdam",
        "adresseerbaarObjectIdentificatie": ao,
        "nummeraanduidingIdentificatie": "0599200000219678",
        **extra,
    }


def _recht(zid: str, oid: str, pid: str, kind: str = "eigenaar", teller=1, noemer=1, **extra) -> dict:
    return {
        "identificatie": zid,
        "kadastraalOnroerendeZaakIdentificatie": oid,
        "type": kind,
        "aanvangsdatum": "2015-06-01",
        "tenaamstelling": {"aandeel": {"teller": teller, "noemer": noemer}},
        "persoonIdentificatie": pid,
        **extra,
    }


def _mens(pid: str, datum: dict | None = None, **extra) -> dict:
    return {
        "identificatie": pid,
        "type": "KadasterNatuurlijkPersoon",
        "burgerservicenummer": "999993653",
        "naam": {"geslachtsnaam": "Jansen", "voorvoegsel": "de", "voornamen": "Piet"},
        "geboorte": {"datum": datum or {"type": "Datum", "datum": "1970-01-31"}},
        **extra,
    }


def _bedrijf(pid: str, **extra) -> dict:
    return {
        "identificatie": pid,
        "type": "KadasterNietNatuurlijkPersoon",
        "statutaireNaam": "Maasoever Beheer B.V.",
        "kvkNummer": "24268006",
        "rsin": VALID_RSIN,
        **extra,
    }


def _bundle(objects=(), rights=(), persons=(), **embedded) -> dict:
    return {
        "_embedded": {
            "kadastraalOnroerendeZaken": list(objects),
            "zakelijkGerechtigden": list(rights),
            "personen": list(persons),
            **embedded,
        }
    }


def _rows(result, entity) -> list[dict]:
    return result.entities[entity].read_clean().to_pylist()


def _quarantine(result, entity) -> dict[str, tuple[str, str]]:
    return {
        q["record_ref"]: (q["field"], q["reason_code"]) for q in result.entities[entity].read_quarantine().to_pylist()
    }


def test_the_documented_example_lands_and_its_rsin_is_caught(tmp_path):
    path = tmp_path / "brk_bulk.json"
    _write(path, EXAMPLE)
    r = read_brk(path, staging_root=tmp_path / "s")
    assert r.counts() == {
        "kadastraal_object": {"in": 1, "clean": 1, "quarantined": 0},
        "kadastraal_object_adres": {"in": 1, "clean": 1, "quarantined": 0},
        "zakelijk_gerechtigde": {"in": 1, "clean": 1, "quarantined": 0},
        "persoon": {"in": 2, "clean": 1, "quarantined": 1},
    }
    assert r.delivery_id == "brk_bulk" and r.drift == []
    obj = _rows(r, "kadastraal_object")[0]
    assert (obj["kadastraal_object_id"], obj["kadastrale_aanduiding"], obj["type"], obj["record_ref"]) == (
        "59020170810219",
        "Rotterdam AB 1234 A12",
        "appartementsrecht",
        "kadastraalOnroerendeZaken[0]",
    )
    adres = _rows(r, "kadastraal_object_adres")[0]
    assert {k: adres[k] for k in adres if k not in ("source_file", "record_ref")} == {
        "kadastraal_object_id": "59020170810219",
        "volgnummer": 0,
        "straat": "Boterdiep",
        "huisnummer": 31,
        "huisletter": "A",
        "huisnummertoevoeging": "01",
        "postcode": "3077AW",
        "woonplaats": "Rotterdam",
        "verblijfsobject_id": "0599010000208579",
        "nummeraanduiding_id": "0599200000219678",
    }
    recht = _rows(r, "zakelijk_gerechtigde")[0]
    assert (
        recht["persoon_id"],
        recht["type"],
        recht["aanvangsdatum"],
        recht["aandeel_teller"],
        recht["aandeel_noemer"],
    ) == (
        "70882239",
        "eigenaar",
        "2014-03-01",
        1,
        2,
    )
    persoon = _rows(r, "persoon")[0]
    assert {k: persoon[k] for k in persoon if k not in ("source_file", "record_ref") and persoon[k] is not None} == {
        "persoon_id": "70882239",
        "persoon_type": "natuurlijk",
        "bsn": "999993653",
        "geslachtsnaam": "Moulin",
        "voornamen": "Suzanne",
        "geboortedatum": "1985-12-01",
        "geboortedatum_precision": "day",
        "woon_straat": "Boterdiep",
        "woon_huisnummer": 31,
        "woon_postcode": "3077AW",
        "woon_woonplaats": "Rotterdam",
    }
    # The example's RSIN 812345672 fails the 11-proef (weighted sum 182, 182 mod 11 = 6): the company is quarantined.
    q = r.entities["persoon"].read_quarantine().to_pylist()
    assert [(x["record_ref"], x["field"], x["reason_code"]) for x in q] == [("personen[1]", "rsin", "invalid_number")]
    assert json.loads(q[0]["raw_record"])["statutaireNaam"] == "Zuidhaven Vastgoed B.V."
    assert "812345672" not in q[0]["reason"]  # the reason names the field, not the value
    # one eigenaar holding 1/2 and no other: reported, not quarantined
    assert r.info["objecten_eigendom_niet_geheel"] == 1
    assert r.info["recht_type"] == {"eigenaar": 1} and r.info["persoon_type"] == {"natuurlijk": 1}


def test_partial_birth_dates_keep_their_precision(tmp_path):
    dates = [
        ({"type": "JaarMaandDatum", "jaar": 1985, "maand": 12}, "1985-12", "month"),
        ({"type": "JaarDatum", "jaar": 1985}, "1985", "year"),
        ({"type": "DatumOnbekend"}, None, "unknown"),
        ({"jaar": 1961, "maand": 2, "dag": 3, "datum": "1961-02-03"}, "1961-02-03", "day"),  # the v1 shape
        ({"jaar": 1961, "maand": 2}, "1961-02", "month"),
    ]
    persons = [_mens(f"8000000{i}", datum=d) for i, (d, _, _) in enumerate(dates)]
    persons.append(_mens("80000009", datum={"type": "Datum", "datum": "1985-02-30"}))
    _write(tmp_path / "brk.json", _bundle(persons=persons))
    r = read_brk(tmp_path / "brk.json", staging_root=tmp_path / "s")
    got = [(p["geboortedatum"], p["geboortedatum_precision"]) for p in _rows(r, "persoon")]
    assert got == [(iso, precision) for _, iso, precision in dates]
    assert _quarantine(r, "persoon") == {"personen[5]": ("geboorte.datum", "invalid_date")}


def test_every_rule_quarantines_with_field_and_reason_and_counts_reconcile(tmp_path):
    d = tmp_path / "20261101"
    d.mkdir()
    good = "59020170810001"
    first = _bundle(
        objects=[
            _object(good, _adres(10), _adres(12, ao="0599020000000017"), rights=("ZG1", "ZG2", "ZG9")),  # [0]
            _object("5902017081", _adres(14)),  # [1]: id too short; its address goes with it
            _object("59020170810003", kind="huurwoning"),  # [2]: not perceel or appartementsrecht
            _object("59020170810004", _adres(0)),  # [3]: lands; its address has no valid huisnummer
            _object("59020170810005", _adres(16, nummeraanduidingIdentificatie="0599010000219678")),  # [4]
            _object("59020170810006", _adres(18, postcode="3074 J")),  # [5]
            _object("59020170810007", _adres(20, huisletter="AB")),  # [6]
        ],
        rights=[
            _recht("ZG1", good, "70000001", teller=1, noemer=2),  # [0] lands
            _recht("ZG2", good, "70000002", teller=1, noemer=2),  # [1] lands
            _recht("ZG3", "59020170899999", "70000001"),  # [2] object not delivered
            _recht("ZG4", good, "70000003"),  # [3] its persoon went to quarantine
            _recht("ZG5", good, "70000001", kind="huurder"),  # [4] not a BRK right
            _recht("ZG6", good, "70000001", teller=3, noemer=2),  # [5] share above 1
            _recht("ZG7", good, "70000001", aanvangsdatum="2015-02-30"),  # [6]
            {**_recht("ZG8", good, "70000001"), "persoonIdentificatie": None},  # [7]
            _recht("ZG1", good, "70000002"),  # [8] another record with ZG1's identificatie
            _recht("ZG10", "5902017081", "70000001"),  # [9] its object went to quarantine
        ],
        persons=[
            _mens("70000001"),  # [0]
            _bedrijf("70000002"),  # [1]
            _mens("70000003", burgerservicenummer="999993654"),  # [2] fails the 11-proef
            _bedrijf("70000004", kvkNummer="2426800"),  # [3] seven digits
            _bedrijf("70000005", burgerservicenummer="999993653"),  # [4] a company with a BSN
            {**_mens("70000006"), "type": "ingeschreven_natuurlijk_persoon"},  # [5] its id would be a BSN
            _mens("70000007", woonadres={"straat": "Putselaan", "huisnummer": "12a", "postcode": "3074JB"}),  # [6]
        ],
        kadasterNatuurlijkPersonen=[],
    )
    second = [
        _bundle(
            objects=[_object(good, _adres(10), rights=("ZG1", "ZG2", "ZG9"))],  # [0]'s id, one address fewer
            persons=[_mens("70000001")],  # identical repeat
        ),
        {"_links": {"self": {"href": "/kadastraalonroerendezaken"}}, "_embedded": {"personen": [_bedrijf("70000008")]}},
    ]
    _write(d / "a.json", first)
    _write(d / "b.json", second)
    r = read_brk(d, staging_root=tmp_path / "s")
    assert r.delivery_id == "20261101"
    assert all(b.reconciles for b in r.entities.values())
    assert [(x.kind, x.column) for x in r.drift] == [("extra", "_embedded.kadasterNatuurlijkPersonen")]

    assert _quarantine(r, "kadastraal_object") == {
        "kadastraalOnroerendeZaken[1]": ("identificatie", "invalid_code"),
        "kadastraalOnroerendeZaken[2]": ("type", "invalid_code"),
        "[0].kadastraalOnroerendeZaken[0]": ("identificatie", "duplicate"),
    }
    assert _quarantine(r, "kadastraal_object_adres") == {
        "kadastraalOnroerendeZaken[1].adressen[0]": ("adressen", "orphan"),
        "kadastraalOnroerendeZaken[3].adressen[0]": ("huisnummer", "invalid_number"),
        "kadastraalOnroerendeZaken[4].adressen[0]": ("nummeraanduidingIdentificatie", "invalid_bag_id"),
        "kadastraalOnroerendeZaken[5].adressen[0]": ("postcode", "invalid_postcode"),
        "kadastraalOnroerendeZaken[6].adressen[0]": ("huisletter", "invalid_code"),
        "[0].kadastraalOnroerendeZaken[0].adressen[0]": ("adressen", "duplicate"),
    }
    adressen = _rows(r, "kadastraal_object_adres")
    assert [(a["volgnummer"], a["huisnummer"], a["verblijfsobject_id"]) for a in adressen] == [
        (0, 10, "0599010000208579"),
        (1, 12, None),  # a ligplaats (type 02) is an adresseerbaar object, not a verblijfsobject
    ]
    assert r.info["adres_ligplaats_of_standplaats"] == 1

    assert _quarantine(r, "persoon") == {
        "personen[2]": ("burgerservicenummer", "invalid_bsn"),
        "personen[3]": ("kvkNummer", "invalid_number"),
        "personen[4]": ("burgerservicenummer", "inconsistent"),
        "personen[5]": ("type", "invalid_code"),
        "personen[6]": ("woonadres.huisnummer", "invalid_number"),
        "[0].personen[0]": ("identificatie", "duplicate"),
    }
    dup = next(q for q in r.entities["persoon"].read_quarantine().to_pylist() if q["record_ref"] == "[0].personen[0]")
    assert dup["reason"].startswith("an identical repeat") and "personen[0]" in dup["reason"]
    objects_q = {q["record_ref"]: q["reason"] for q in r.entities["kadastraal_object"].read_quarantine().to_pylist()}
    assert objects_q["[0].kadastraalOnroerendeZaken[0]"].startswith("a different record")
    assert [(p["persoon_id"], p["persoon_type"]) for p in _rows(r, "persoon")] == [
        ("70000001", "natuurlijk"),
        ("70000002", "niet_natuurlijk"),
        ("70000008", "niet_natuurlijk"),
    ]

    q = _quarantine(r, "zakelijk_gerechtigde")
    assert q == {
        "zakelijkGerechtigden[2]": ("kadastraalOnroerendeZaakIdentificatie", "orphan"),
        "zakelijkGerechtigden[3]": ("persoonIdentificatie", "orphan"),
        "zakelijkGerechtigden[4]": ("type", "invalid_code"),
        "zakelijkGerechtigden[5]": ("tenaamstelling.aandeel", "inconsistent"),
        "zakelijkGerechtigden[6]": ("aanvangsdatum", "invalid_date"),
        "zakelijkGerechtigden[7]": ("persoonIdentificatie", "missing_required"),
        "zakelijkGerechtigden[8]": ("identificatie", "duplicate"),
        "zakelijkGerechtigden[9]": ("kadastraalOnroerendeZaakIdentificatie", "orphan"),
    }
    reasons = {x["record_ref"]: x["reason"] for x in r.entities["zakelijk_gerechtigde"].read_quarantine().to_pylist()}
    assert "is not in this delivery" in reasons["zakelijkGerechtigden[2]"]
    assert "went to quarantine" in reasons["zakelijkGerechtigden[3]"]
    assert "went to quarantine" in reasons["zakelijkGerechtigden[9]"]
    assert reasons["zakelijkGerechtigden[8]"].startswith("a different record")
    assert [z["zakelijk_gerechtigde_id"] for z in _rows(r, "zakelijk_gerechtigde")] == ["ZG1", "ZG2"]
    # two eigenaars of 1/2 make the object whole; ZG9 is listed by the object but was not delivered
    assert r.info["objecten_eigendom_niet_geheel"] == 0 and r.info["genoemde_rechten_niet_geleverd"] == 1


def test_rights_may_come_before_their_objects_and_persons(tmp_path):
    oid = "59020170810219"
    doc = {
        "_embedded": {
            "zakelijkGerechtigden": [_recht("ZG1", oid, "70882239")],
            "personen": [_mens("70882239")],
            "kadastraalOnroerendeZaken": [_object(oid, _adres(31), rights=("ZG1",))],
        }
    }
    _write(tmp_path / "brk.json", doc)
    r = read_brk(tmp_path / "brk.json", staging_root=tmp_path / "s")
    assert {n: c["clean"] for n, c in r.counts().items()} == {
        "kadastraal_object": 1,
        "kadastraal_object_adres": 1,
        "zakelijk_gerechtigde": 1,
        "persoon": 1,
    }
    assert r.info["objecten_eigendom_niet_geheel"] == 0 and r.info["recht_niet_genoemd_door_object"] == 0


def test_kadasters_test_case_list_is_refused_and_its_object_ids_are_accepted(real_fixtures, tmp_path):
    testcases = real_fixtures / "brk" / "testcases.json"
    with pytest.raises(DeliveryError, match=r"testcases\.json, line 2 column 3: not a BRK-Bevragen response: a list"):
        read_brk(testcases, staging_root=tmp_path / "s")
    assert list((tmp_path / "s").iterdir()) == []
    # The resource paths name real identifiers of Kadaster's test set: as identifiers, each passes the object check.
    paths = json.loads(testcases.read_text())
    ids = [p.rsplit("/", 1)[1] for p in paths if p.startswith("/kadastraalonroerendezaken/")]
    assert len(ids) == 25
    _write(tmp_path / "ids.json", _bundle(objects=[{"identificatie": i} for i in ids]))
    r = read_brk(tmp_path / "ids.json", staging_root=tmp_path / "s")
    assert r.counts()["kadastraal_object"] == {"in": 25, "clean": 25, "quarantined": 0}


def test_a_large_bundle_is_walked_across_read_blocks(tmp_path):
    """3 MB of objects: values and errors that fall on the 1 MB block boundaries are read and placed right."""
    objects = [
        _object(f"5902017{i:07d}", _adres(i % 9999 + 1, straat="Straat met een lange naam " * 8)) for i in range(6000)
    ]
    doc = _bundle(objects=objects)
    path = tmp_path / "groot.json"
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    assert path.stat().st_size > 3_000_000
    r = read_brk(path, staging_root=tmp_path / "s")
    assert r.counts()["kadastraal_object_adres"] == {"in": 6000, "clean": 6000, "quarantined": 0}
    nummers = [a["huisnummer"] for a in _rows(r, "kadastraal_object_adres")]
    assert nummers == [i % 9999 + 1 for i in range(6000)]
    # a missing comma near the end: the error names the exact line and column
    text = path.read_text().splitlines()
    at = len(text) - 40
    while not text[at].rstrip().endswith(","):
        at += 1
    text[at] = text[at].rstrip()[:-1]
    path.write_text("\n".join(text))
    with pytest.raises(DeliveryError, match=rf"groot\.json, line {at + 2} column \d+: malformed JSON"):
        read_brk(path, staging_root=tmp_path / "s2")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"byte 0: empty file"),
        (b"  \n ", r"byte 0: empty file"),
        (json.dumps(EXAMPLE).encode()[:300], r"line 1 column \d+: malformed JSON.*(truncated|ends inside)"),
        (
            b'{"_embedded": {"personen": [{"identificatie": "1"} {"identificatie": "2"}]}}',
            r"line 1 column 52: malformed JSON: expected ',' or ']', found '{'",
        ),
        (b'{"hits": {"total": 0}}', r"line 1 column 23: not a BRK-Bevragen response: the bundle has no _embedded"),
        (b'{"_embedded": {"adressen": []}}', r"line 1 column 31: not a BRK-Bevragen response: _embedded has none of"),
        (
            b'{"_embedded": {"personen": {"identificatie": "1"}}}',
            r"line 1 column 28: not a BRK-Bevragen response: _embedded\.personen is not a list",
        ),
        (b'{"_embedded": {"personen": []}}\n{"_embedded": {}}', r"line 2 column 1: malformed JSON: more data"),
        ('{"_embedded": {"personen": [{"naam": "Caf\u00e9"}]}}'.encode("latin-1"), r"line 1: .*wrong encoding\?"),
    ],
    ids=[
        "zero-bytes",
        "blank",
        "truncated",
        "missing-comma",
        "not-hal",
        "no-collection",
        "not-a-list",
        "two-docs",
        "latin1",
    ],
)
def test_unreadable_files_raise_with_file_and_place_and_leave_nothing(tmp_path, content, message):
    path = tmp_path / "brk.json"
    path.write_bytes(content)
    with pytest.raises(DeliveryError, match=r"brk\.json, " + message):
        read_brk(path, staging_root=tmp_path / "s")
    assert list((tmp_path / "s").iterdir()) == []


def test_a_failure_in_a_later_file_leaves_nothing_behind(tmp_path):
    d = tmp_path / "20261101"
    d.mkdir()
    _write(d / "a.json", copy.deepcopy(EXAMPLE))
    (d / "b.json").write_text('{"_embedded": {"personen": [')
    with pytest.raises(DeliveryError, match=r"b\.json, line 1 column 29: malformed JSON: the file ends inside a value"):
        read_brk(d, staging_root=tmp_path / "s")
    assert list((tmp_path / "s").iterdir()) == []
