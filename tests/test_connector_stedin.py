"""The Stedin connector on the real open-data files, variants derived from them, and the per-connection delivery."""

import json
import random
import re

import pyarrow as pa
import pytest

from connectors.delivery import DeliveryError
from connectors.identifiers import gs1_check_digit, is_valid_ean18
from connectors.stedin import _gs1_valid, read_stedin

ZEELAND = "zeeland-2013.csv"
AANSLUITINGEN_HEADER = (
    "EAN;PRODUCTSOORT;STRAATNAAM;HUISNUMMER;HUISLETTER;HUISNUMMERTOEVOEGING;POSTCODE;WOONPLAATS;FYSIEKE_STATUS;"
    "SLIMME_METER;SOORT_AANSLUITING;SJV;BAG_VBO_ID"
)


def _ean(n: int) -> str:
    body = f"871687{n:011d}"
    return body + gs1_check_digit(body)


def _wrong_check_digit(ean: str) -> str:
    return ean[:-1] + str((int(ean[-1]) + 1) % 10)


def _first(result, entity="kleinverbruik") -> dict:
    return result.entities[entity].read_clean().slice(0, 1).to_pylist()[0]


# --- open data: the real files -------------------------------------------------------------------------------------


def test_real_2013_file_lands_whole_with_the_first_row_as_published(real_fixtures, tmp_path):
    r = read_stedin(real_fixtures / "stedin" / ZEELAND, staging_root=tmp_path)
    # 1500 lines: the header and 1499 rows (the fixture is the first 1500 lines of the published file)
    assert r.counts()["kleinverbruik"] == {"in": 1499, "clean": 1499, "quarantined": 0}
    assert r.drift == [] and r.delivery_id == "zeeland-2013"
    assert r.info["files"][ZEELAND] == {
        "kind": "kleinverbruik",
        "encoding": "utf-8",
        "delimiter": "\t",
        "header": True,
        "jaar": 2013,
    }
    rows = r.entities["kleinverbruik"].read_clean().slice(0, 2).to_pylist()
    # line 2 of the file: "8716902000001" "Enduris Netgebied" "Poststraat" "4301AA" "4301AA" "ZIERIKZEE" "NL" "ELK"
    # "KVB" 14 100,00 100,00 85,71 "3x25" 9442 78,57 0,00
    assert {k: v for k, v in rows[0].items() if k != "source_file"} == {
        "netbeheerder": "8716902000001",
        "netgebied": "Enduris Netgebied",
        "straatnaam": "Poststraat",
        "postcode_van": "4301AA",
        "postcode_tot": "4301AA",
        "woonplaats": "ZIERIKZEE",
        "landcode": "NL",
        "productsoort": "ELK",
        "verbruikssegment": "KVB",
        "aansluitingen_aantal": 14,
        "leveringsrichting_perc": 100.0,
        "fysieke_status_perc": 100.0,
        "soort_aansluiting_perc": 85.71,
        "soort_aansluiting": "3x25",
        "sjv_gemiddeld": 9442.0,
        "sjv_laag_tarief_perc": 78.57,
        "slimme_meter_perc": 0.0,
        "jaar": 2013,
        "record_ref": "line 2",
    }
    # the gas row names Gasunie's GLN, which passes the GS1 check like Stedin's own
    assert (rows[1]["netbeheerder"], rows[1]["productsoort"], rows[1]["sjv_gemiddeld"]) == (
        "8717127750009",
        "GAS",
        3976,
    )


@pytest.mark.parametrize(
    ("name", "rows", "encoding", "delimiter", "header", "drift", "first"),
    [
        ("zeeland-2020.csv", 1499, "utf-8-sig", "\t", True, set(), ("Poststraat", "4301AA", "ELK", 14, 7774.0)),
        (
            "zeeland-2021.csv",
            1500,
            "utf-8-sig",
            ";",
            False,
            {("missing", "(header row)")},
            ("Wagenaarstraat", "4351BB", "ELK", 11, 3100.0),
        ),
        ("zeeland-2023.csv", 1499, "utf-8", "\t", True, set(), ("Irenestraat", "4388NG", "ELK", 12, 2739.0)),
        (
            "zeeland-2025.csv",
            1499,
            "utf-8",
            "\t",
            True,
            {("renamed", "SJV_GEMIDDELD"), ("renamed", "SJV_LAAG_TARIEF_PERC")},
            ("Poststraat", "4301AA", "GAS", 14, 2589.79),
        ),
    ],
    ids=["2020-utf8-bom", "2021-no-header-tripled-quotes", "2023-utf8", "2025-sja"],
)
def test_every_published_variant_lands_whole(
    real_fixtures, tmp_path, name, rows, encoding, delimiter, header, drift, first
):
    r = read_stedin(real_fixtures / "stedin" / name, staging_root=tmp_path)
    assert r.counts()["kleinverbruik"] == {"in": rows, "clean": rows, "quarantined": 0}
    info = r.info["files"][name]
    assert (info["encoding"], info["delimiter"], info["header"], info["jaar"]) == (
        encoding,
        delimiter,
        header,
        int(name[8:12]),
    )
    assert {(d.kind, d.column) for d in r.drift} == drift
    if first:
        f = _first(r)
        assert (
            f["straatnaam"],
            f["postcode_van"],
            f["productsoort"],
            f["aansluitingen_aantal"],
            f["sjv_gemiddeld"],
        ) == first


def test_non_ascii_street_names_survive(real_fixtures, tmp_path):
    r = read_stedin(real_fixtures / "stedin" / "zeeland-2023.csv", staging_root=tmp_path)
    streets = set(r.entities["kleinverbruik"].read_clean()["straatnaam"].to_pylist())
    assert {"Bruëlisstraat", "Jozef Israëlsstraat", "Hammarskjöldstede"} <= streets


def test_a_folder_of_years_reads_every_file(real_fixtures, tmp_path):
    r = read_stedin(real_fixtures / "stedin", staging_root=tmp_path)
    assert r.counts()["kleinverbruik"] == {"in": 7496, "clean": 7496, "quarantined": 0}
    years = r.entities["kleinverbruik"].read_clean()["jaar"].value_counts().to_pylist()
    assert {y["values"]: y["counts"] for y in years} == {2013: 1499, 2020: 1499, 2021: 1500, 2023: 1499, 2025: 1499}


# --- open data: variants derived from the 2013 file ----------------------------------------------------------------


def _no_header_tripled_quotes(text: str) -> str:
    """The 2021 layout: `;`-separated, no header, text in tripled quotes, numbers bare."""
    lines = []
    for line in text.splitlines()[1:]:
        cells = [f'"""{c.strip(chr(34))}"""' if c.startswith('"') else c for c in line.split("\t")]
        lines.append(";".join(cells))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("name", "transform", "file_encoding", "drift"),
    [
        ("utf8-bom-2019.csv", lambda t: t, "utf-8-sig", set()),
        ("utf16-2018.csv", lambda t: t, "utf-16", set()),
        ("crlf-2017.csv", lambda t: t.replace("\n", "\r\n"), "ascii", set()),
        ("noheader-2016.csv", _no_header_tripled_quotes, "utf-8", {("missing", "(header row)")}),
        (
            "sja-2024.csv",
            lambda t: t.replace("SJV_GEMIDDELD", "SJA_GEMIDDELD").replace("SJV_LAAG", "SJA_LAAG"),
            "utf-8",
            {("renamed", "SJV_GEMIDDELD"), ("renamed", "SJV_LAAG_TARIEF_PERC")},
        ),
    ],
    ids=["utf8-bom", "utf16-excel", "crlf", "no-header-tripled-quotes", "sja-renamed"],
)
def test_derived_variants_read_alike(real_fixtures, tmp_path, name, transform, file_encoding, drift):
    text = (real_fixtures / "stedin" / ZEELAND).read_text(encoding="ascii")
    path = tmp_path / name
    path.write_bytes(transform(text).encode(file_encoding))
    r = read_stedin(path, staging_root=tmp_path / "staging")
    assert r.counts()["kleinverbruik"] == {"in": 1499, "clean": 1499, "quarantined": 0}
    f = _first(r)
    assert (f["straatnaam"], f["woonplaats"], f["aansluitingen_aantal"], f["sjv_gemiddeld"], f["jaar"]) == (
        "Poststraat",
        "ZIERIKZEE",
        14,
        9442.0,
        int(name[-8:-4]),
    )
    assert f["soort_aansluiting_perc"] == 85.71
    assert {(d.kind, d.column) for d in r.drift} == drift
    renamed = [d for d in r.drift if d.kind == "renamed"]
    assert all("delivered as 'SJA_" in d.detail for d in renamed)


def test_a_header_only_year_alone_is_refused_but_in_a_folder_of_years_it_is_how_it_was_published(
    real_fixtures, tmp_path
):
    # zeeland-2022.csv was published with only its header; delivered alone it would wipe the open data downstream
    with pytest.raises(DeliveryError, match=r"zeeland-2022\.csv, line 2: a snapshot delivery with no records"):
        read_stedin(real_fixtures / "stedin" / "zeeland-2022.csv", staging_root=tmp_path / "s")
    assert list((tmp_path / "s").iterdir()) == []
    # in the folder of years (test_a_folder_of_years_reads_every_file) the other years land and 2022 adds nothing


def test_open_data_rows_that_break_a_rule_go_to_quarantine_with_the_field(real_fixtures, tmp_path):
    lines = (real_fixtures / "stedin" / ZEELAND).read_text().splitlines()[:6]
    cells = [line.split("\t") for line in lines]
    cells[1][0] = '"8716902000002"'  # GLN with a wrong check digit
    cells[2][3] = '"43O1AA"'  # letter O for a zero
    cells[3][10] = "100,50"  # a percentage above 100
    cells[4][14] = "n.v.t."  # SJV not a number
    path = tmp_path / "zeeland-2013.csv"
    path.write_text("\n".join("\t".join(c) for c in cells) + "\n")
    r = read_stedin(path, staging_root=tmp_path / "s")
    assert r.counts()["kleinverbruik"] == {"in": 5, "clean": 1, "quarantined": 4}
    q = r.entities["kleinverbruik"].read_quarantine().to_pylist()
    assert [(x["record_ref"], x["field"], x["reason_code"]) for x in q] == [
        ("line 2", "NETBEHEERDER", "invalid_gln"),
        ("line 3", "POSTCODE_VAN", "invalid_postcode"),
        ("line 4", "LEVERINGSRICHTING_PERC", "invalid_number"),
        ("line 5", "SJV_GEMIDDELD", "invalid_number"),
    ]
    assert json.loads(q[1]["raw_record"])["POSTCODE_VAN"] == "43O1AA"


def test_open_data_truncated_row_names_the_line(real_fixtures, tmp_path):
    lines = (real_fixtures / "stedin" / ZEELAND).read_text().splitlines()[:5]
    path = tmp_path / "zeeland-2013.csv"
    path.write_text("\n".join(lines[:4]) + "\n" + lines[4][:40])
    with pytest.raises(DeliveryError, match=r"zeeland-2013\.csv, line 5: row has \d+ fields where 17 .*truncated"):
        read_stedin(path, staging_root=tmp_path / "s")
    assert list((tmp_path / "s").iterdir()) == []


def test_open_data_latin1_bytes_are_named_by_line(real_fixtures, tmp_path):
    text = (real_fixtures / "stedin" / ZEELAND).read_text()
    path = tmp_path / "zeeland-2013.csv"
    path.write_bytes(text.replace("Poststraat", "Poststraße", 1).encode("latin-1"))
    with pytest.raises(DeliveryError, match=r"line 2: bytes that are not UTF-8.*wrong encoding\?"):
        read_stedin(path, staging_root=tmp_path / "s")


# --- the per-connection delivery -----------------------------------------------------------------------------------


def _delivery(tmp_path, aansluitingen: list[str], verbruik: list[str], verbruik_header="EAN;PERIODE;VERBRUIK;EENHEID"):
    d = tmp_path / "20261101"
    d.mkdir()
    (d / "stedin_aansluitingen.csv").write_text(
        AANSLUITINGEN_HEADER + "\n" + "\n".join(aansluitingen) + "\n", encoding="utf-8"
    )
    (d / "stedin_verbruik.csv").write_text(verbruik_header + "\n" + "\n".join(verbruik) + "\n", encoding="utf-8")
    return d


def test_per_connection_delivery_lands_clean_rows_typed(tmp_path):
    elk, gas = _ean(1), _ean(2)
    d = _delivery(
        tmp_path,
        [
            f"{elk};ELK;Putselaan;12;A;2;3074 jb;Rotterdam;IN;J;3x25;2900;0599010000123456",
            f"{gas};GAS;Putselaan;12;A;2;3074JB;Rotterdam;UIT;N;G4;850.5;",
        ],
        [f"{elk};2026-01;250.5;kWh", f"{elk};2026;3100;kWh", f"{gas};2026-01;80;m3", f"{gas};2026-02;75;M3"],
    )
    r = read_stedin(d, staging_root=tmp_path / "s")
    assert r.delivery_id == "20261101" and r.info["connections"] == 2 and r.drift == []
    assert r.counts()["aansluiting"] == {"in": 2, "clean": 2, "quarantined": 0}
    a = r.entities["aansluiting"].read_clean().to_pylist()
    assert {k: v for k, v in a[0].items() if k != "source_file"} == {
        "ean": elk,
        "productsoort": "ELK",
        "straatnaam": "Putselaan",
        "huisnummer": 12,
        "huisletter": "A",
        "huisnummertoevoeging": "2",
        "postcode": "3074JB",
        "woonplaats": "Rotterdam",
        "fysieke_status": "IN",
        "slimme_meter": True,
        "soort_aansluiting": "3x25",
        "sjv": 2900.0,
        "bag_vbo_id": "0599010000123456",
        "record_ref": "line 2",
    }
    assert (a[1]["slimme_meter"], a[1]["sjv"], a[1]["bag_vbo_id"], a[1]["fysieke_status"]) == (
        False,
        850.5,
        None,
        "UIT",
    )
    assert a[0]["source_file"].endswith("stedin_aansluitingen.csv")
    v = r.entities["verbruik"].read_clean().to_pylist()
    assert [(x["periode"], x["periode_soort"], x["verbruik"], x["eenheid"], x["record_ref"]) for x in v] == [
        ("2026-01", "month", 250.5, "kWh", "line 2"),
        ("2026", "year", 3100.0, "kWh", "line 3"),
        ("2026-01", "month", 80.0, "m3", "line 4"),
        ("2026-02", "month", 75.0, "m3", "line 5"),
    ]


def test_per_connection_checks_quarantine_with_reason_and_line(tmp_path):
    good, gas, other, bad_pc, dup = _ean(1), _ean(2), _ean(3), _ean(4), _ean(5)
    bad = _wrong_check_digit(good)
    d = _delivery(
        tmp_path,
        [
            f"{good};ELK;Putselaan;12;A;2;3074JB;Rotterdam;IN;J;3x25;2900;0599010000123456",  # line 2
            f"{bad};ELK;Putselaan;14;;;3074JB;Rotterdam;IN;N;1x35;1800;",  # line 3: EAN check digit
            f"{gas};GAS;Putselaan;14;;;3074JB;Rotterdam;IN;N;G4;900;",  # line 4
            f"{bad_pc};ELK;Putselaan;16;;;3074 J;Rotterdam;IN;N;1x35;1800;",  # line 5: postcode
            f"{other};WATER;Putselaan;18;;;3074JB;Rotterdam;IN;N;;;",  # line 6: product
            f"{dup};ELK;Putselaan;0;;;3074JB;Rotterdam;IN;N;;;",  # line 7: huisnummer 0
            f"{dup};ELK;Putselaan;20;;;3074JB;Rotterdam;AAN;N;;;",  # line 8: fysieke status
            f"{dup};ELK;Putselaan;20;;;3074JB;Rotterdam;IN;N;;-5;",  # line 9: negative SJV
            f"{dup};ELK;Putselaan;20;;;3074JB;Rotterdam;IN;N;;;0599100000123456",  # line 10: a pand id
            f"{dup};ELK;Putselaan;20;AB;;3074JB;Rotterdam;IN;N;;;",  # line 11: two letters
            f"{dup};ELK;Putselaan;20;;;3074JB;Rotterdam;IN;N;;;",  # line 12: lands
            f"{dup};ELK;Putselaan;22;;;3074JB;Rotterdam;IN;N;;;",  # line 13: the same EAN again
            ";ELK;Putselaan;22;;;3074JB;Rotterdam;IN;N;;;",  # line 14: no EAN
        ],
        [
            f"{good};2026-01;250.5;kWh",  # line 2
            f"{good};2026-01;251;kWh",  # line 3: second value for the period
            f"{gas};2026-02;80;m3",  # line 4
            f"{bad};2026-01;10;kWh",  # line 5: EAN check digit
            f"{good};2026-13;10;kWh",  # line 6: month 13
            f"{bad_pc};2026-01;10;kWh",  # line 7: its connection was quarantined
            f"{_ean(99)};2026-01;10;kWh",  # line 8: connection not delivered
            f"{gas};2026-03;80;kWh",  # line 9: kWh on a gas connection
            f"{gas};2026-04;-3;m3",  # line 10: negative
            f"{gas};2026-05;12,5;m3",  # line 11: decimal comma in a hub file
            f"{gas};2026-06;12;liter",  # line 12: unit
            f"{gas};2026-07;12;",  # line 13: no unit: the connection's
        ],
    )
    r = read_stedin(d, staging_root=tmp_path / "s")
    assert r.counts()["aansluiting"] == {"in": 13, "clean": 3, "quarantined": 10}
    qa = r.entities["aansluiting"].read_quarantine().to_pylist()
    assert sorted((x["record_ref"], x["field"], x["reason_code"]) for x in qa) == sorted(
        [
            ("line 3", "EAN", "invalid_ean"),
            ("line 5", "POSTCODE", "invalid_postcode"),
            ("line 6", "PRODUCTSOORT", "invalid_code"),
            ("line 7", "HUISNUMMER", "invalid_number"),
            ("line 8", "FYSIEKE_STATUS", "invalid_code"),
            ("line 9", "SJV", "invalid_number"),
            ("line 10", "BAG_VBO_ID", "invalid_bag_id"),
            ("line 11", "HUISLETTER", "invalid_code"),
            ("line 13", "EAN", "duplicate"),
            ("line 14", "EAN", "missing_required"),
        ]
    )
    raw = json.loads(next(x for x in qa if x["record_ref"] == "line 3")["raw_record"])
    assert raw["EAN"] == bad and raw["HUISNUMMER"] == "14"
    assert [x["record_ref"] for x in r.entities["aansluiting"].read_clean().to_pylist()] == [
        "line 2",
        "line 4",
        "line 12",
    ]

    assert r.counts()["verbruik"] == {"in": 12, "clean": 3, "quarantined": 9}
    qv = {x["record_ref"]: x for x in r.entities["verbruik"].read_quarantine().to_pylist()}
    assert {k: (x["field"], x["reason_code"]) for k, x in qv.items()} == {
        "line 3": ("EAN,PERIODE", "duplicate"),
        "line 5": ("EAN", "invalid_ean"),
        "line 6": ("PERIODE", "invalid_date"),
        "line 7": ("EAN", "orphan"),
        "line 8": ("EAN", "orphan"),
        "line 9": ("EENHEID", "inconsistent"),
        "line 10": ("VERBRUIK", "invalid_number"),
        "line 11": ("VERBRUIK", "invalid_number"),
        "line 12": ("EENHEID", "invalid_code"),
    }
    assert "went to quarantine" in qv["line 7"]["reason"] and "no connection" in qv["line 8"]["reason"]
    clean = r.entities["verbruik"].read_clean().to_pylist()
    assert [(x["record_ref"], x["eenheid"]) for x in clean] == [("line 2", "kWh"), ("line 4", "m3"), ("line 13", "m3")]
    assert all(b.reconciles for b in r.entities.values())


def test_files_are_recognised_by_header_not_name(tmp_path):
    d = tmp_path / "20261201"
    d.mkdir()
    (d / "aansluitingen_rotterdam.csv").write_text(
        AANSLUITINGEN_HEADER + "\n" + f"{_ean(1)};ELK;Putselaan;12;;;3074JB;Rotterdam;IN;J;3x25;2900;\n"
    )
    (d / "meterstanden.csv").write_text(f"EAN;PERIODE;VERBRUIK;EENHEID\n{_ean(1)};2026-01;250;kWh\n")
    r = read_stedin(d, staging_root=tmp_path / "s")
    assert r.counts()["aansluiting"]["clean"] == 1 and r.counts()["verbruik"]["clean"] == 1
    assert r.info["files"]["meterstanden.csv"] == {"kind": "verbruik"}
    (d / "notities.csv").write_text("datum;opmerking\n2026-01-01;levering compleet\n")
    with pytest.raises(DeliveryError, match=r"notities\.csv, line 1: not a Stedin file"):
        read_stedin(d, staging_root=tmp_path / "s2")


def test_missing_unit_column_is_drift_and_the_unit_follows_the_product(tmp_path):
    elk, gas = _ean(1), _ean(2)
    d = _delivery(
        tmp_path,
        [f"{elk};ELK;Putselaan;12;;;3074JB;Rotterdam;IN;J;3x25;2900;", f"{gas};GAS;Putselaan;12;;;3074JB;;;;;;"],
        [f"{elk};2026-01;250", f"{gas};2026-01;80"],
        verbruik_header="EAN;PERIODE;VERBRUIK",
    )
    r = read_stedin(d, staging_root=tmp_path / "s")
    assert [(x.kind, x.column) for x in r.drift] == [("missing", "EENHEID")]
    assert r.entities["verbruik"].read_clean()["eenheid"].to_pylist() == ["kWh", "m3"]
    gas_row = r.entities["aansluiting"].read_clean().to_pylist()[1]
    assert (gas_row["woonplaats"], gas_row["slimme_meter"], gas_row["sjv"]) == (None, None, None)


def test_blank_and_whitespace_lines_keep_line_references_exact(tmp_path):
    elk = _ean(1)
    d = _delivery(
        tmp_path,
        [f"{elk};ELK;Putselaan;12;;;3074JB;Rotterdam;IN;J;3x25;2900;"],
        [f"{elk};2026-01;250;kWh", "", "   ", f"{elk};2026-02;x;kWh", f"{elk};2026-03;260;kWh"],
    )
    r = read_stedin(d, staging_root=tmp_path / "s")
    assert r.counts()["verbruik"] == {"in": 3, "clean": 2, "quarantined": 1}
    assert r.entities["verbruik"].read_quarantine()["record_ref"].to_pylist() == ["line 5"]
    assert r.entities["verbruik"].read_clean()["record_ref"].to_pylist() == ["line 2", "line 6"]


def test_vectorised_check_digit_agrees_with_the_reference_rule():
    rng = random.Random(7)
    values = [_ean(rng.randrange(10**11)) for _ in range(300)]
    values += [_wrong_check_digit(v) for v in values[:100]]
    values += ["87168700000000001", "8716870000000000012", "87168700000000000X", "", " " * 18]
    rng.shuffle(values)
    col = pa.chunked_array([pa.array(values[:150]), pa.array(values[150:])])
    expected = [is_valid_ean18(v) for v in values]
    assert _gs1_valid(col, 18, block=7).tolist() == expected  # small blocks: the block boundaries are exercised
    assert sum(expected) == 300


@pytest.mark.parametrize("filename", ["stedin_aansluitingen.csv", "stedin_verbruik.csv"])
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"byte 0: empty file"),
        (
            b"EAN,PRODUCTSOORT,HUISNUMMER,POSTCODE,PERIODE,VERBRUIK\n",
            r"line 1: the header does not split .*wrong delimiter\?",
        ),
        (
            b"EAN;PRODUCTSOORT;PERIODE\n",
            r"line 1, field '(HUISNUMMER|VERBRUIK)': required column '(HUISNUMMER|VERBRUIK)' is missing",
        ),
        (
            b"EAN;PRODUCTSOORT;HUISNUMMER;POSTCODE;PERIODE;VERBRUIK\n1;ELK;1;3074JB;2026;1\n871;ELK\n",
            r"line 3: row has 2",
        ),
        (
            b"EAN;PRODUCTSOORT;HUISNUMMER;POSTCODE;PERIODE;VERBRUIK\n1;ELK;1;3074JB;2026;1\n1;ELK;1;Caf\xe9;2026;1\n",
            r"line 3: bytes that are not UTF-8.*wrong encoding\?",
        ),
    ],
    ids=["zero-bytes", "wrong-delimiter", "missing-column", "truncated", "latin1"],
)
def test_unreadable_files_raise_with_file_and_place_and_leave_nothing(tmp_path, filename, content, message):
    d = tmp_path / "20261101"
    d.mkdir()
    (d / filename).write_bytes(content)
    with pytest.raises(DeliveryError, match=re.escape(filename) + ", " + message):
        read_stedin(d, staging_root=tmp_path / "s")
    assert list((tmp_path / "s").iterdir()) == []


def test_a_usage_file_larger_than_one_read_block(tmp_path):
    """600k usage rows (about 22 MB, two 16 MB read blocks): duplicates, blank lines and line numbers across blocks."""
    eans = [_ean(i) for i in range(25_000)]
    aansluitingen = [f"{e};ELK;Putselaan;{i % 300 + 1};;;3074JB;Rotterdam;IN;J;3x25;2900;" for i, e in enumerate(eans)]
    periods = [f"2025-{m:02d}" for m in range(1, 13)] + [f"2026-{m:02d}" for m in range(1, 13)]
    usage = [f"{e};{p};{100 + i % 50}.5;kWh" for i, e in enumerate(eans) for p in periods]
    usage.insert(1000, "   ")  # line 1002: whitespace only
    usage.append(f"{eans[0]};2025-01;1;kWh")  # a second value for the very first row's period, blocks later
    usage.append(f"{eans[1]};2025-13;1;kWh")
    d = _delivery(tmp_path, aansluitingen, usage)
    assert (d / "stedin_verbruik.csv").stat().st_size > 20_000_000
    r = read_stedin(d, staging_root=tmp_path / "s")
    assert r.counts()["verbruik"] == {"in": 600_002, "clean": 600_000, "quarantined": 2}
    last_line = 600_000 + 3 + 1  # header, the blank line, and the two extra rows after 600k
    q = r.entities["verbruik"].read_quarantine().to_pylist()
    assert [(x["record_ref"], x["reason_code"]) for x in q] == [
        (f"line {last_line - 1}", "duplicate"),
        (f"line {last_line}", "invalid_date"),
    ]
    refs = r.entities["verbruik"].read_clean().column("record_ref")
    assert (refs[999].as_py(), refs[1000].as_py(), refs[-1].as_py()) == ("line 1001", "line 1003", "line 600002")
