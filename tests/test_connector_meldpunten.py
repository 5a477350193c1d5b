"""The report-desk connector on Amsterdam's Signalen samples and on hub deliveries of meldingen, zaken, permits."""

import json

import pytest

from connectors.delivery import DeliveryError
from connectors.meldpunten import read_meldpunten

SIGNALS = ["signal_post.json", "create_initial.json", "create_initial_public.json"]


def _clean(result, entity):
    return result.entities[entity].read_clean().to_pylist()


def _reasons(result, entity):
    return [
        (q["record_ref"], q["field"], q["reason_code"]) for q in result.entities[entity].read_quarantine().to_pylist()
    ]


# --- the real Signalen samples --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SIGNALS)
def test_real_signalen_samples_land_clean(real_fixtures, tmp_path, name):
    r = read_meldpunten(real_fixtures / "meldpunten" / "amsterdam-signals" / name, staging_root=tmp_path)
    assert r.counts()["melding"] == {"in": 1, "clean": 1, "quarantined": 0}
    m = _clean(r, "melding")[0]
    assert m["bron"] == "signalen" and m["record_ref"] == "object"
    assert m["aangemaakt_op"].isoformat() == "2018-06-18T13:30:47.604472+00:00"  # tz-aware, Z read as UTC
    assert m["melder_telefoon"] == "0123456789" and m["lon"] and m["lat"]
    assert len(m["melding_id"]) == 36  # no signal_id in a request body: a uuid derived from the content
    assert r.info["unmapped_signalen_categories"]  # another city's categories are kept, and reported


def test_signal_post_state_category_and_text(real_fixtures, tmp_path):
    r = read_meldpunten(real_fixtures / "meldpunten" / "amsterdam-signals" / "signal_post.json", staging_root=tmp_path)
    m = _clean(r, "melding")[0]
    assert m["status"] == "openstaand"  # Signalen state "m" (gemeld)
    assert m["onderwerpen"] == ["Veeg- / zwerfvuil"]  # the sub-category as delivered, not refused
    assert (m["omschrijving"], m["melder_email"]) == ("test1 test_extra", "a@b.nl")
    assert (m["lon"], m["lat"]) == (4.898466, 52.361585)
    assert m["adres_tekst"] is None and m["wijknaam"] is None  # empty address; Amsterdam's area codes left out


def test_signal_address_is_mapped(real_fixtures, tmp_path):
    r = read_meldpunten(
        real_fixtures / "meldpunten" / "amsterdam-signals" / "create_initial.json", staging_root=tmp_path
    )
    m = _clean(r, "melding")[0]
    assert (m["straatnaam"], m["huisnummer"], m["huisnummer_int"], m["huisletter"], m["toevoeging"]) == (
        "Amstel",
        "1",
        1,
        None,
        None,
    )
    assert (m["postcode_normalised"], m["woonplaats"], m["adres_tekst"]) == (
        "1011PN",
        "Amsterdam",
        "Amstel 1, 1011PN Amsterdam",
    )
    assert m["onderwerpen"] == ["overig"]  # the slug at the end of the sub_category URL
    assert r.info["unmapped_signalen_categories"] == {"overig": 1}


def test_the_real_signalen_folder_reads_whole_and_again_the_same(real_fixtures, tmp_path):
    folder = real_fixtures / "meldpunten" / "amsterdam-signals"
    first = read_meldpunten(folder, staging_root=tmp_path / "a")
    again = read_meldpunten(folder, staging_root=tmp_path / "b")
    assert first.counts()["melding"] == {"in": 3, "clean": 3, "quarantined": 0}
    assert first.info["skipped_files"] == ["categories.json"]  # Signalen's category fixture: reference data
    assert first.info["unmapped_signalen_categories"] == {"Veeg- / zwerfvuil": 1, "overig": 2}
    ids = [m["melding_id"] for m in _clean(first, "melding")]
    assert len(set(ids)) == 3 and ids == [m["melding_id"] for m in _clean(again, "melding")]
    public = next(m for m in _clean(first, "melding") if m["source_file"].endswith("create_initial_public.json"))
    assert public["aangemaakt_op"].isoformat() == "2018-06-18T13:30:47.604472+00:00"  # from incident_date_start


def test_rotterdams_onderwerpen_fixtures_are_no_reports(real_fixtures, tmp_path):
    r = read_meldpunten(real_fixtures / "meldpunten" / "rotterdam-onderwerpen", staging_root=tmp_path)
    assert r.info["skipped_files"] == ["categories_initial_data.json", "groups_initial_data.json"]
    assert all(c["in"] == 0 for c in r.counts().values()) and r.files == []


def test_signalen_states_and_closing_time(tmp_path):
    base = {"text": "kamers", "location": {"address": {}}, "created_at": "2026-01-05T09:00:00+01:00"}
    signals = [
        {**base, "signal_id": "A", "status": {"state": "o", "created_at": "2026-02-01T12:00:00+01:00"}},
        {**base, "signal_id": "B", "status": {"state": "s"}, "priority": {"priority": "high"}},
    ]
    p = tmp_path / "signalen_export.json"
    p.write_text(json.dumps({"count": 2, "results": signals}), encoding="utf-8")
    r = read_meldpunten(p, staging_root=tmp_path / "s")
    a, b = _clean(r, "melding")
    assert (a["status"], a["afgesloten_op"].isoformat()) == ("afgehandeld", "2026-02-01T11:00:00+00:00")
    assert (b["status"], b["urgentie"], b["record_ref"]) == (None, "hoog", "results[1]")
    assert r.info["unmapped_signalen_states"] == {"s": 1}  # gesplitst has no hub status


# --- a hub delivery -------------------------------------------------------------------------------------------------

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
    "RGW-2026-000001;6F1C0000-0000-4000-8000-000000000001|earlier-uuid|x2;Putselaan 12;0599010000123456;Hillesluis;"
    "2026-03-05;;multi;Stadsontwikkeling|Directie Veiligheid;inspectie@2026-03-10|waarschuwing@2026-04-01;Zuidhaven\n"
    "RGW-2026-000002;;Pleinweg 1;;Katendrecht;2026-03-05;;mono;Stadsbeheer;;\n"
    "RGW-2026-000003;;Pleinweg 3;;Tarwewijk;2026-03-05;;mono;Stadsbeheer;huisbezoek@2026-03-06;\n"
    "RGW-2026-000004;;Pleinweg 5;;Tarwewijk;2026-03-05;2026-03-01;mono;Stadsbeheer;;\n"
)
VERGUNNINGEN = (
    "vergunning_id;bag_vbo_id;adres_tekst;soort;verleend_op;geldig_tot;status\n"
    "V1;0599010000123456;Putselaan 12;verhuurvergunning;2024-01-01;2028-01-01;verleend\n"
    "V2;0599010000123457;Putselaan 14;verhuurvergunning;2024-13-01;;verleend\n"
    "V3;;Putselaan 16;kamerverhuur;2024-01-01;2029-01-01;geschorst\n"
)


def test_hub_delivery_lands_reports_cases_interventions_and_permits(tmp_path):
    no_postcode = {**MELDING, "uuid": "u-3", "locatie": {"adres_tekst": "Putselaan 12", "postcode": "30741B"}}
    meldingen = [
        MELDING,
        {**MELDING, "uuid": "x2", "onderwerpen": ["verzonnen"]},
        no_postcode,
        {**MELDING, "uuid": "x4", "afgesloten_op": "2026-03-01T10:00:00+01:00"},
        {**MELDING, "uuid": "x5", "aangemaakt_op": "2026-03-02T10:15:00"},
        {**MELDING, "uuid": "x6", "bron": "signalen"},  # Signalen's mark, not a desk of the hub format
    ]
    r = read_meldpunten(_delivery(tmp_path, meldingen, ZAKEN, VERGUNNINGEN), staging_root=tmp_path / "s")
    counts = r.counts()
    assert counts["melding"] == {"in": 6, "clean": 2, "quarantined": 4}
    assert _reasons(r, "melding") == [
        ("[1]", "onderwerpen", "invalid_code"),
        ("[3]", "afgesloten_op", "inconsistent"),
        ("[4]", "aangemaakt_op", "invalid_date"),  # no offset: the moment is ambiguous
        ("[5]", "bron", "invalid_code"),
    ]
    assert counts["zaak"] == {"in": 4, "clean": 1, "quarantined": 3}
    assert _reasons(r, "zaak") == [
        ("line 3", "wijk", "invalid_code"),  # Katendrecht is not a focus neighbourhood
        ("line 4", "interventies", "invalid_code"),
        ("line 5", "gesloten_op", "inconsistent"),
    ]
    assert counts["zaak_interventie"]["clean"] == 2 and counts["zaak_melding"]["clean"] == 3
    assert counts["vergunning"] == {"in": 3, "clean": 1, "quarantined": 2}
    assert _reasons(r, "vergunning") == [
        ("line 3", "verleend_op", "invalid_date"),
        ("line 4", "status", "invalid_code"),
    ]
    assert r.info["zaak_meldingen_from_earlier_deliveries"] == 1  # not an orphan: cases outlive deliveries
    assert r.info["zaak_meldingen_quarantined_here"] == 1  # x2 is in this delivery, but in quarantine
    assert all(b.reconciles for b in r.entities.values())

    m, loose = _clean(r, "melding")
    assert (m["huisnummer"], m["huisnummer_int"], m["postcode"], m["postcode_normalised"]) == (
        "12a",
        12,
        "3074 jb",
        "3074JB",
    )
    assert m["aangemaakt_op"].isoformat() == "2026-03-02T09:15:00+00:00"
    assert (m["melder_naam"], m["melder_soort"], m["lon"], m["lat"]) == ("J. de Vries", "bewoner", 4.5012, 51.8954)
    assert (m["onderwerpen"], m["grond_wgv"], m["wijknaam"]) == (
        ["overbewoning", "illegale_kamerverhuur"],
        "borg_te_hoog",
        "Feijenoord",
    )
    # a wrong postcode and no form fields are no reason to refuse a report: the address resolver copes
    assert (loose["postcode"], loose["postcode_normalised"], loose["huisnummer"]) == ("30741B", None, None)
    # the case's uuid in capitals is the same report
    assert [z["melding_id"] for z in _clean(r, "zaak_melding")] == [MELDING["uuid"], "earlier-uuid", "x2"]
    zaak = _clean(r, "zaak")[0]
    assert (zaak["wijk"], zaak["geopend_op"], zaak["gesloten_op"], zaak["clusters"]) == (
        "Hillesluis",
        "2026-03-05",
        None,
        ["Stadsontwikkeling", "Directie Veiligheid"],
    )
    interventies = _clean(r, "zaak_interventie")
    assert [(i["volgnummer"], i["soort"], i["datum"]) for i in interventies] == [
        (1, "inspectie", "2026-03-10"),
        (2, "waarschuwing", "2026-04-01"),
    ]


def test_zaken_json_takes_lists_and_intervention_objects(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    zaken = [
        {
            "zaak_id": "RGW-2026-000009",
            "melding_uuids": ["u1", "u1"],
            "wijk": "Carnisse",
            "geopend_op": "2026-01-02",
            "soort": "mono",
            "clusters": ["Stadsbeheer"],
            "interventies": [{"soort": "casustafel", "datum": "2026-01-14"}, "boete@2026-02-01"],
        }
    ]
    (d / "zaken.json").write_text(json.dumps(zaken), encoding="utf-8")
    r = read_meldpunten(d, staging_root=tmp_path / "s")
    assert r.counts()["zaak"] == {"in": 1, "clean": 1, "quarantined": 0}
    assert [(i["soort"], i["datum"]) for i in _clean(r, "zaak_interventie")] == [
        ("casustafel", "2026-01-14"),
        ("boete", "2026-02-01"),
    ]
    assert len(_clean(r, "zaak_melding")) == 1 and r.info["zaak_meldingen_from_earlier_deliveries"] == 1


MELDINGEN_HEADER = (
    "uuid;bron;aangemaakt_op;afgesloten_op;status;urgentie;onderwerpen;grond_wgv;omschrijving;melder_naam;"
    "melder_email;melder_telefoon;melder_soort;verhuurder_genoemd;adres_tekst;straatnaam;huisnummer;huisletter;"
    "toevoeging;postcode;wijknaam;buurtnaam;lon;lat;behandelend_cluster"
)


def test_meldingen_csv_reads_like_json(tmp_path):
    d = tmp_path / "csv"
    d.mkdir()
    row = (
        "u1;woonoverlast;2026-03-02T10:15:00+01:00;;openstaand;normaal;woonoverlast|overbewoning;;tekst;;;;;;"
        "Hillevliet 3b;Hillevliet;3;b;;;Feijenoord;Hillesluis;4.5;51.9;Stadsbeheer"
    )
    (d / "meldingen.csv").write_text(MELDINGEN_HEADER + "\n" + row + "\n", encoding="utf-8-sig")
    r = read_meldpunten(d, staging_root=tmp_path / "s")
    m = _clean(r, "melding")[0]
    assert m["onderwerpen"] == ["woonoverlast", "overbewoning"] and m["postcode_normalised"] is None
    assert (m["huisnummer"], m["huisletter"], m["lon"], m["record_ref"]) == ("3", "b", 4.5, "line 2")
    assert r.drift == []


def test_header_only_csv_is_valid_and_missing_optional_columns_are_drift(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "meldingen.csv").write_text("uuid;bron;aangemaakt_op;status;kanaal\n", encoding="utf-8")
    r = read_meldpunten(d, staging_root=tmp_path / "s")
    assert r.counts()["melding"] == {"in": 0, "clean": 0, "quarantined": 0}
    drift = {(x.kind, x.column) for x in r.drift}
    assert ("extra", "kanaal") in drift and ("missing", "onderwerpen") in drift


# --- unreadable deliveries ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("meldingen.json", b"", r"meldingen\.json, byte 0: empty file"),
        ("meldingen.json", b'[{"uuid": "a", ', r"meldingen\.json, line 1 column \d+: malformed JSON"),
        ("meldingen.json", b'[{"uuid": "a",\n "omschrijving": "caf\xe9"}]', r"line 2: bytes that are not UTF-8"),
        ("meldingen.json", b'[{"id": 1}]', r"meldingen\.json, \[0\]: neither a hub melding"),
        ("meldingen.json", b'[{"uuid": "a", "melder": "Jan"}]', r"meldingen\.json, \[0\]: a value where an object"),
        ("zaken.csv", b"zaak_id,wijk\nR1,Carnisse\n", r"zaken\.csv, line 1: .*wrong delimiter\?"),
        ("zaken.csv", b"wijk;soort\nCarnisse;mono\n", r"zaken\.csv, line 1, field 'zaak_id': required column"),
        ("zaken.json", b'[{"wijk": "Carnisse"}]', r"zaken\.json, \[0\], field 'zaak_id'"),
        ("vergunningen.csv", b"id;soort\nV1;x\n", "required column 'vergunning_id' is missing"),
        ("meldingen.csv", b"id;bron;aangemaakt_op\nu1;professional;2026-01-01T00:00:00+01:00\n", "'uuid' is missing"),
        (
            "meldingen.csv",
            b"uuid;bron;aangemaakt_op\nu1;professional;2026-01-01T00:00:00+01:00 caf\xe9\n",
            r"meldingen\.csv, line 2: .*wrong encoding\?",
        ),
    ],
)
def test_unreadable_files_name_file_and_place(tmp_path, name, content, message):
    d = tmp_path / "d"
    d.mkdir()
    (d / "meldingen.json").write_text(json.dumps([MELDING]), encoding="utf-8")
    (d / name).write_bytes(content)
    with pytest.raises(DeliveryError, match=message) as err:
        read_meldpunten(d, staging_root=tmp_path / "s")
    assert name in str(err.value)
    assert list((tmp_path / "s").iterdir()) == []  # a failed read leaves nothing behind
