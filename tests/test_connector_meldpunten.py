"""The report-desk connector on Amsterdam's Signalen samples and on hub deliveries of meldingen, zaken, permits."""

import json

import pytest

from connectors.delivery import DeliveryError
from connectors.meldpunten import read_meldpunten

SIGNALS = ["signal_post.json", "create_initial.json", "create_initial_public.json"]


@pytest.mark.parametrize("name", SIGNALS)
def test_real_signalen_samples_land_clean(real_fixtures, tmp_path, name):
    r = read_meldpunten(real_fixtures / "meldpunten" / "amsterdam-signals" / name, staging_root=tmp_path)
    assert r.counts()["melding"] == {"in": 1, "clean": 1, "quarantined": 0}
    m = r.entities["melding"].read_clean().to_pylist()[0]
    assert m["bron"] == "signalen" and m["aangemaakt_op"] is not None
    assert m["melder_email"] and m["lon"] and m["lat"]
    assert r.info["unmapped_signalen_categories"]  # another city's categories are kept, and reported


def test_signal_address_is_mapped(real_fixtures, tmp_path):
    r = read_meldpunten(
        real_fixtures / "meldpunten" / "amsterdam-signals" / "create_initial.json", staging_root=tmp_path
    )
    m = r.entities["melding"].read_clean().to_pylist()[0]
    assert (m["straatnaam"], m["huisnummer_int"], m["postcode_normalised"], m["onderwerpen"]) == (
        "Amstel",
        1,
        "1011PN",
        ["overig"],
    )


MELDING = {
    "uuid": "6f1c0000-0000-4000-8000-000000000001",
    "bron": "meldpunt_ongewenst_verhuurgedrag",
    "aangemaakt_op": "2026-03-02T10:15:00+01:00",
    "afgesloten_op": None,
    "status": "in_behandeling",
    "urgentie": "normaal",
    "onderwerpen": ["overbewoning", "illegale_kamerverhuur"],
    "grond_wgv": "borg_te_hoog",
    "omschrijving": "Er wonen zeker 9 mensen op 3 hoog",
    "melder": {"naam": "J. de Vries", "email": "jdevries@example.nl", "telefoon": "0612345678", "soort": "bewoner"},
    "verhuurder_genoemd": "Zuidhaven Vastgoed BV",
    "locatie": {
        "adres_tekst": "Putselaan 12 3 hoog, 3074 JB Rotterdam",
        "straatnaam": "Putselaan",
        "huisnummer": "12a",
        "huisletter": None,
        "toevoeging": "3 hoog",
        "postcode": "3074 jb",
        "wijknaam": "Feijenoord",
        "buurtnaam": "Hillesluis",
        "geometrie": {"type": "Point", "coordinates": [4.5012, 51.8954]},
    },
    "behandelend_cluster": "Stadsontwikkeling",
}


def _delivery(tmp_path, meldingen, zaken_csv, vergunningen_csv):
    d = tmp_path / "20261101"
    d.mkdir()
    (d / "meldingen.json").write_text(json.dumps(meldingen), encoding="utf-8")
    (d / "zaken.csv").write_text(zaken_csv, encoding="utf-8")
    (d / "vergunningen.csv").write_text(vergunningen_csv, encoding="utf-8")
    return d


ZAKEN = (
    "zaak_id;melding_uuids;adres_tekst;bag_vbo_id;wijk;geopend_op;gesloten_op;soort;clusters;interventies;eigenaar_genoemd\n"
    "RGW-2026-000001;6f1c0000-0000-4000-8000-000000000001|earlier-uuid;Putselaan 12;0599010000123456;Hillesluis;"
    "2026-03-05;;multi;Stadsontwikkeling|Directie Veiligheid;inspectie@2026-03-10|waarschuwing@2026-04-01;Zuidhaven\n"
    "RGW-2026-000002;;Pleinweg 1;;Katendrecht;2026-03-05;;mono;Stadsbeheer;;\n"
)
VERGUNNINGEN = (
    "vergunning_id;bag_vbo_id;adres_tekst;soort;verleend_op;geldig_tot;status\n"
    "V1;0599010000123456;Putselaan 12;verhuurvergunning;2024-01-01;2028-01-01;verleend\n"
    "V2;0599010000123457;Putselaan 14;verhuurvergunning;2024-13-01;;verleend\n"
)


def test_hub_delivery_lands_reports_cases_interventions_and_permits(tmp_path):
    bad = {**MELDING, "uuid": "x2", "onderwerpen": ["verzonnen"]}
    r = read_meldpunten(_delivery(tmp_path, [MELDING, bad], ZAKEN, VERGUNNINGEN), staging_root=tmp_path / "s")
    counts = r.counts()
    assert counts["melding"] == {"in": 2, "clean": 1, "quarantined": 1}
    assert counts["zaak"] == {"in": 2, "clean": 1, "quarantined": 1}  # Katendrecht is not a focus neighbourhood
    assert counts["zaak_interventie"]["clean"] == 2 and counts["zaak_melding"]["clean"] == 2
    assert counts["vergunning"] == {"in": 2, "clean": 1, "quarantined": 1}
    assert r.info["zaak_meldingen_from_earlier_deliveries"] == 1
    m = r.entities["melding"].read_clean().to_pylist()[0]
    assert (m["huisnummer"], m["huisnummer_int"], m["postcode"], m["postcode_normalised"]) == (
        "12a",
        12,
        "3074 jb",
        "3074JB",
    )
    assert m["aangemaakt_op"].isoformat() == "2026-03-02T09:15:00+00:00"
    interventies = r.entities["zaak_interventie"].read_clean().to_pylist()
    assert [(i["soort"], i["datum"]) for i in interventies] == [
        ("inspectie", "2026-03-10"),
        ("waarschuwing", "2026-04-01"),
    ]


def test_meldingen_csv_reads_like_json(tmp_path):
    d = tmp_path / "csv"
    d.mkdir()
    header = (
        "uuid;bron;aangemaakt_op;afgesloten_op;status;urgentie;onderwerpen;grond_wgv;omschrijving;melder_naam;"
        "melder_email;melder_telefoon;melder_soort;verhuurder_genoemd;adres_tekst;straatnaam;huisnummer;huisletter;"
        "toevoeging;postcode;wijknaam;buurtnaam;lon;lat;behandelend_cluster"
    )
    row = (
        "u1;woonoverlast;2026-03-02T10:15:00+01:00;;openstaand;normaal;woonoverlast|overbewoning;;tekst;;;;;;"
        "Hillevliet 3b;Hillevliet;3;b;;;Feijenoord;Hillesluis;4.5;51.9;Stadsbeheer"
    )
    (d / "meldingen.csv").write_text(header + "\n" + row + "\n", encoding="utf-8-sig")
    r = read_meldpunten(d, staging_root=tmp_path / "s")
    m = r.entities["melding"].read_clean().to_pylist()[0]
    assert m["onderwerpen"] == ["woonoverlast", "overbewoning"] and m["postcode_normalised"] is None


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("meldingen.json", b"", "empty file"),
        ("meldingen.json", b'[{"uuid": "a", ', r"line 1 column \d+: malformed JSON"),
        ("zaken.csv", b"zaak_id,wijk\nR1,Carnisse\n", r"wrong delimiter\?"),
        ("vergunningen.csv", b"id;soort\nV1;x\n", "required column 'vergunning_id' is missing"),
        (
            "meldingen.csv",
            b"uuid;bron;aangemaakt_op\nu1;professional;2026-01-01T00:00:00+01:00 caf\xe9\n",
            "wrong encoding",
        ),
    ],
)
def test_unreadable_files_name_file_and_place(tmp_path, name, content, message):
    d = tmp_path / "d"
    d.mkdir()
    (d / name).write_bytes(content)
    with pytest.raises(DeliveryError, match=message) as err:
        read_meldpunten(d, staging_root=tmp_path / "s")
    assert name in str(err.value)
    assert list((tmp_path / "s").iterdir()) == []
