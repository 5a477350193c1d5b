"""The Stedin connector on the real open-data file, its published variants, and the per-connection delivery."""

import pytest

from connectors.delivery import DeliveryError
from connectors.identifiers import gs1_check_digit
from connectors.stedin import read_stedin

ZEELAND = "zeeland-2013.csv"


def _ean(n: int) -> str:
    body = f"871687{n:011d}"
    return body + gs1_check_digit(body)


def test_real_open_data_file_lands_whole(real_fixtures, tmp_path):
    r = read_stedin(real_fixtures / "stedin" / ZEELAND, staging_root=tmp_path)
    assert r.counts()["kleinverbruik"] == {"in": 1499, "clean": 1499, "quarantined": 0}
    first = r.entities["kleinverbruik"].read_clean().slice(0, 1).to_pylist()[0]
    assert (first["straatnaam"], first["postcode_van"], first["woonplaats"], first["productsoort"]) == (
        "Poststraat",
        "4301AA",
        "ZIERIKZEE",
        "ELK",
    )
    assert (first["aansluitingen_aantal"], first["sjv_gemiddeld"], first["soort_aansluiting_perc"]) == (
        14,
        9442.0,
        85.71,
    )
    assert first["jaar"] == 2013 and r.drift == []


@pytest.mark.parametrize(
    ("name", "transform", "drift_kind"),
    [
        ("utf8-bom-2019.csv", lambda t: "\ufeff" + t, None),
        (
            "sja-2024.csv",
            lambda t: t.replace("SJV_GEMIDDELD", "SJA_GEMIDDELD").replace("SJV_LAAG", "SJA_LAAG"),
            "renamed",
        ),
        (
            "noheader-2016.csv",
            lambda t: (
                "\n".join(
                    ";".join(f'"""{c.strip(chr(34))}"""' if c.startswith('"') else c for c in line.split("\t"))
                    for line in t.splitlines()[1:]
                )
                + "\n"
            ),
            "extra",
        ),
    ],
    ids=["utf8-bom", "sja-renamed", "no-header-tripled-quotes"],
)
def test_published_variants_read_alike(real_fixtures, tmp_path, name, transform, drift_kind):
    text = (real_fixtures / "stedin" / ZEELAND).read_text(encoding="ascii")
    path = tmp_path / name
    path.write_text(transform(text), encoding="utf-8")
    r = read_stedin(path, staging_root=tmp_path / "staging")
    rows = r.entities["kleinverbruik"].read_clean()
    assert rows.num_rows == 1499
    first = rows.slice(0, 1).to_pylist()[0]
    assert (first["straatnaam"], first["sjv_gemiddeld"]) == ("Poststraat", 9442.0)
    assert ({d.kind for d in r.drift} == {drift_kind}) if drift_kind else r.drift == []


def test_header_only_year_is_empty_not_an_error(real_fixtures, tmp_path):
    path = tmp_path / "limburg-2022.csv"
    path.write_text((real_fixtures / "stedin" / ZEELAND).read_text().splitlines()[0] + "\n")
    assert read_stedin(path, staging_root=tmp_path / "s").counts()["kleinverbruik"]["in"] == 0


def _delivery(tmp_path, aansluitingen: list[str], verbruik: list[str]):
    d = tmp_path / "20261101"
    d.mkdir()
    (d / "stedin_aansluitingen.csv").write_text(
        "EAN;PRODUCTSOORT;STRAATNAAM;HUISNUMMER;HUISLETTER;HUISNUMMERTOEVOEGING;POSTCODE;WOONPLAATS;FYSIEKE_STATUS;"
        "SLIMME_METER;SOORT_AANSLUITING;SJV;BAG_VBO_ID\n" + "\n".join(aansluitingen) + "\n",
        encoding="utf-8",
    )
    (d / "stedin_verbruik.csv").write_text("EAN;PERIODE;VERBRUIK;EENHEID\n" + "\n".join(verbruik) + "\n")
    return d


def test_per_connection_delivery_checks_ean_orphans_and_duplicates(tmp_path):
    good, other = _ean(1), _ean(2)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    d = _delivery(
        tmp_path,
        [
            f"{good};ELK;Putselaan;12;A;2;3074 jb;Rotterdam;IN;J;3x25;2900;0599010000123456",
            f"{bad};ELK;Putselaan;14;;;3074JB;Rotterdam;IN;N;1x35;1800;",
            f"{other};GAS;Putselaan;14;;;3074JB;Rotterdam;IN;N;G4;900;",
        ],
        [
            f"{good};2026-01;250.5;kWh",
            f"{good};2026-01;251;kWh",
            f"{other};2026-02;80;m3",
            f"{bad};2026-01;10;kWh",
            f"{good};2026-13;10;kWh",
        ],
    )
    r = read_stedin(d, staging_root=tmp_path / "s")
    assert r.counts()["aansluiting"] == {"in": 3, "clean": 2, "quarantined": 1}
    assert r.entities["aansluiting"].read_quarantine()["reason_code"].to_pylist() == ["invalid_ean"]
    a = r.entities["aansluiting"].read_clean().to_pylist()[0]
    assert (a["postcode"], a["huisletter"], a["slimme_meter"], a["sjv"]) == ("3074JB", "A", True, 2900.0)
    assert r.counts()["verbruik"] == {"in": 5, "clean": 2, "quarantined": 3}
    q = {row["record_ref"]: row["reason_code"] for row in r.entities["verbruik"].read_quarantine().to_pylist()}
    assert q == {"line 3": "duplicate", "line 5": "invalid_ean", "line 6": "invalid_date"}
    v = r.entities["verbruik"].read_clean().to_pylist()
    assert [(x["periode_soort"], x["verbruik"]) for x in v] == [("month", 250.5), ("month", 80.0)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"EAN,PRODUCTSOORT,HUISNUMMER,POSTCODE\n", r"wrong delimiter\?"),
        (b"EAN;PRODUCTSOORT;HUISNUMMER\n", "required column 'POSTCODE' is missing"),
        (b"EAN;PRODUCTSOORT;HUISNUMMER;POSTCODE\n871;ELK\n", r"line 2: row has 2 fields .* truncated row\?"),
        (b"EAN;PRODUCTSOORT;HUISNUMMER;POSTCODE\n871;ELK;1;3074JB Caf\xe9\n", r"line 2: .*wrong encoding\?"),
    ],
)
def test_unreadable_files_raise_with_file_and_place(tmp_path, content, message):
    d = tmp_path / "20261101"
    d.mkdir()
    (d / "stedin_aansluitingen.csv").write_bytes(content)
    with pytest.raises(DeliveryError, match=message):
        read_stedin(d, staging_root=tmp_path / "s")
    assert list((tmp_path / "s").iterdir()) == []
