"""The BRK connector (Haal Centraal BRK-Bevragen bulk JSON) and the neighbourhood-map connector."""

import json

import pyarrow as pa
import pytest

from connectors.brk import read_brk
from connectors.delivery import DeliveryError
from connectors.gebieden import assign_buurt, read_gebieden

BUNDLE = {
    "_embedded": {
        "kadastraalOnroerendeZaken": [
            {
                "identificatie": "59020170810219",
                "kadastraleAanduiding": "Rotterdam AB 1234 A12",
                "type": "appartementsrecht",
                "adressen": [
                    {
                        "straat": "Boterdiep",
                        "huisnummer": 31,
                        "postcode": "3077AW",
                        "woonplaats": "Rotterdam",
                        "adresseerbaarObjectIdentificatie": "0599010000208579",
                        "nummeraanduidingIdentificatie": "0599200000219678",
                    }
                ],
                "zakelijkGerechtigdeIdentificaties": ["ZG1", "ZG2"],
            },
        ],
        "zakelijkGerechtigden": [
            {
                "identificatie": "ZG1",
                "kadastraalOnroerendeZaakIdentificatie": "59020170810219",
                "type": "eigenaar",
                "aanvangsdatum": "2014-03-01",
                "tenaamstelling": {"aandeel": {"teller": 1, "noemer": 2}},
                "persoonIdentificatie": "70882239",
            },
            {
                "identificatie": "ZG2",
                "kadastraalOnroerendeZaakIdentificatie": "59020170810219",
                "type": "eigenaar",
                "tenaamstelling": {"aandeel": {"teller": 1, "noemer": 2}},
                "persoonIdentificatie": "71291440",
            },
            {
                "identificatie": "ZG3",
                "kadastraalOnroerendeZaakIdentificatie": "99999999999999",
                "type": "eigenaar",
                "persoonIdentificatie": "70882239",
            },
        ],
        "personen": [
            {
                "identificatie": "70882239",
                "type": "KadasterNatuurlijkPersoon",
                "burgerservicenummer": "999993653",
                "naam": {"geslachtsnaam": "Moulin", "voornamen": "Suzanne"},
                "geboorte": {"datum": {"type": "JaarMaandDatum", "jaar": 1985, "maand": 12}},
            },
            {
                "identificatie": "71291440",
                "type": "KadasterNietNatuurlijkPersoon",
                "statutaireNaam": "Zuidhaven Vastgoed B.V.",
                "rechtsvorm": "besloten vennootschap",
                "kvkNummer": "24268006",
                "rsin": "002345675",
            },
            {
                "identificatie": "71291441",
                "type": "KadasterNietNatuurlijkPersoon",
                "statutaireNaam": "Fout BV",
                "rsin": "123456789",
            },
        ],
    }
}


def test_bulk_bundle_lands_objects_rights_and_owners(tmp_path):
    path = tmp_path / "brk_bulk.json"
    path.write_text(json.dumps(BUNDLE))
    r = read_brk(path, staging_root=tmp_path / "s")
    counts = r.counts()
    assert counts["kadastraal_object_adres"]["clean"] == 1
    assert counts["zakelijk_gerechtigde"] == {"in": 3, "clean": 2, "quarantined": 1}
    assert counts["persoon"] == {"in": 3, "clean": 2, "quarantined": 1}
    assert r.entities["zakelijk_gerechtigde"].read_quarantine()["reason_code"].to_pylist() == ["orphan"]
    assert r.entities["persoon"].read_quarantine()["reason_code"].to_pylist() == ["invalid_bsn"]  # the RSIN fails
    persons = {p["persoon_id"]: p for p in r.entities["persoon"].read_clean().to_pylist()}
    assert (persons["70882239"]["geboortedatum"], persons["70882239"]["geboortedatum_precision"]) == (
        "1985-12",
        "month",
    )
    assert persons["71291440"]["kvk_nummer"] == "24268006"


def test_kadaster_test_case_list_is_refused_clearly(real_fixtures, tmp_path):
    with pytest.raises(DeliveryError, match="not a BRK-Bevragen response: a list of resource paths"):
        read_brk(real_fixtures / "brk" / "testcases.json", staging_root=tmp_path)


def _square(x0, y0, size=100):
    return {
        "type": "Polygon",
        "coordinates": [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]],
    }


def test_buurten_per_year_and_point_assignment(tmp_path):
    d = tmp_path / "2026"
    d.mkdir()
    features = [
        {
            "type": "Feature",
            "properties": {"buurtcode": "BU05991081", "buurtnaam": "Bloemhof", "wijkcode": "WK059910"},
            "geometry": _square(0, 0),
        },
        {
            "type": "Feature",
            "properties": {"buurtcode": "BU05991082", "buurtnaam": "Hillesluis", "wijkcode": "WK059910"},
            "geometry": _square(100, 0),
        },
        {"type": "Feature", "properties": {"buurtcode": "BU0599", "buurtnaam": "Fout"}, "geometry": _square(0, 100)},
    ]
    (d / "buurten.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
                "features": features,
            }
        )
    )
    r = read_gebieden(d, staging_root=tmp_path / "s")
    assert r.counts()["buurt"] == {"in": 3, "clean": 2, "quarantined": 1}
    buurten = r.entities["buurt"].read_clean()
    assert buurten["jaar"].to_pylist() == [2026, 2026]
    assert assign_buurt([50, 150, 500, None], [50, 50, 500, None], buurten) == ["BU05991081", "BU05991082", None, None]
    assert isinstance(buurten, pa.Table)
