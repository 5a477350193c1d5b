"""Stedin connector: the open-data kleinverbruik files and the per-connection delivery (docs/formats.md).

Files are recognised by name and header: `stedin_aansluitingen.csv` and `stedin_verbruik.csv` are the
per-connection delivery the municipality receives under agreement; any other CSV is an open-data kleinverbruik file,
whose published variants differ per year (tab- or `;`-separated, with or without header, ASCII or UTF-8 with or
without BOM, quoted or triple-quoted text, decimal commas, SJV_ columns renamed SJA_ from 2024). Measured usage
(`stedin_verbruik.csv`) runs to millions of rows at city scale, so it is validated in one DuckDB pass rather than row
by row in Python.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from connectors.csvfile import HubCsv, decoded_lines, to_float, to_int
from connectors.delivery import DeliveryError, DeliveryResult, EntityCollector, SchemaDrift, Staging, detect_drift
from connectors.identifiers import is_valid_bag_id, is_valid_ean18, is_valid_gln, normalise_postcode

SOURCE = "stedin"
KLEINVERBRUIK_COLUMNS = [
    "NETBEHEERDER",
    "NETGEBIED",
    "STRAATNAAM",
    "POSTCODE_VAN",
    "POSTCODE_TOT",
    "WOONPLAATS",
    "LANDCODE",
    "PRODUCTSOORT",
    "VERBRUIKSSEGMENT",
    "AANSLUITINGEN_AANTAL",
    "LEVERINGSRICHTING_PERC",
    "FYSIEKE_STATUS_PERC",
    "SOORT_AANSLUITING_PERC",
    "SOORT_AANSLUITING",
    "SJV_GEMIDDELD",
    "SJV_LAAG_TARIEF_PERC",
    "SLIMME_METER_PERC",
]
KLEINVERBRUIK_RENAMES = {"SJA_GEMIDDELD": "SJV_GEMIDDELD", "SJA_LAAG_TARIEF_PERC": "SJV_LAAG_TARIEF_PERC"}
KLEINVERBRUIK_SCHEMA = pa.schema(
    [
        ("netbeheerder", pa.string()),
        ("netgebied", pa.string()),
        ("straatnaam", pa.string()),
        ("postcode_van", pa.string()),
        ("postcode_tot", pa.string()),
        ("woonplaats", pa.string()),
        ("landcode", pa.string()),
        ("productsoort", pa.string()),
        ("verbruikssegment", pa.string()),
        ("aansluitingen_aantal", pa.int32()),
        ("leveringsrichting_perc", pa.float64()),
        ("fysieke_status_perc", pa.float64()),
        ("soort_aansluiting_perc", pa.float64()),
        ("soort_aansluiting", pa.string()),
        ("sjv_gemiddeld", pa.float64()),
        ("sjv_laag_tarief_perc", pa.float64()),
        ("slimme_meter_perc", pa.float64()),
        ("jaar", pa.int32()),
        ("source_file", pa.string()),
        ("record_ref", pa.string()),
    ]
)
AANSLUITING_REQUIRED = ["EAN", "PRODUCTSOORT", "HUISNUMMER", "POSTCODE"]
AANSLUITING_OPTIONAL = [
    "STRAATNAAM",
    "HUISLETTER",
    "HUISNUMMERTOEVOEGING",
    "WOONPLAATS",
    "FYSIEKE_STATUS",
    "SLIMME_METER",
    "SOORT_AANSLUITING",
    "SJV",
    "BAG_VBO_ID",
]
AANSLUITING_SCHEMA = pa.schema(
    [
        ("ean", pa.string()),
        ("productsoort", pa.string()),
        ("straatnaam", pa.string()),
        ("huisnummer", pa.int32()),
        ("huisletter", pa.string()),
        ("huisnummertoevoeging", pa.string()),
        ("postcode", pa.string()),
        ("woonplaats", pa.string()),
        ("fysieke_status", pa.string()),
        ("slimme_meter", pa.bool_()),
        ("soort_aansluiting", pa.string()),
        ("sjv", pa.float64()),
        ("bag_vbo_id", pa.string()),
        ("source_file", pa.string()),
        ("record_ref", pa.string()),
    ]
)
VERBRUIK_REQUIRED = ["EAN", "PERIODE", "VERBRUIK"]
VERBRUIK_SCHEMA = pa.schema(
    [
        ("ean", pa.string()),
        ("periode", pa.string()),
        ("periode_soort", pa.string()),
        ("verbruik", pa.float64()),
        ("eenheid", pa.string()),
        ("source_file", pa.string()),
        ("record_ref", pa.string()),
    ]
)
PRODUCTS = {"ELK", "GAS"}


def _unquote(value: str | None) -> str | None:
    """Open-data values come quoted once or three times; strip what is left of the quotes."""
    if value is None:
        return None
    v = value.strip().strip('"').strip()
    return v or None


def _year(path: Path) -> int | None:
    m = re.search(r"(19|20)\d{2}", path.stem)
    return int(m.group(0)) if m else None


def read_kleinverbruik(path: Path, collector: EntityCollector) -> list[SchemaDrift]:
    """One open-data file, whatever the year's variant; returns its schema drift."""
    import csv

    if path.stat().st_size == 0:
        raise DeliveryError(path, "byte 0", "empty file")
    lines = decoded_lines(path)
    first = next(lines, "")
    delimiter = "\t" if "\t" in first else ";" if ";" in first else ","
    has_header = "NETBEHEERDER" in first.upper()
    reader = csv.reader(_chain(first, lines), delimiter=delimiter)
    drift: list[SchemaDrift] = []
    if has_header:
        raw_header = [_unquote(h) or "" for h in next(reader)]
        header = [KLEINVERBRUIK_RENAMES.get(h.upper(), h.upper()) for h in raw_header]
        drift = detect_drift([h.upper() for h in raw_header], KLEINVERBRUIK_COLUMNS, KLEINVERBRUIK_RENAMES)
        missing = [
            c for c in ("NETBEHEERDER", "POSTCODE_VAN", "PRODUCTSOORT", "AANSLUITINGEN_AANTAL") if c not in header
        ]
        if missing:
            raise DeliveryError(path, "line 1", f"required column {missing[0]!r} is missing", missing[0])
    else:
        header = KLEINVERBRUIK_COLUMNS
        drift = [SchemaDrift("extra", "(no header)", "no header row: the published column order is assumed")]
    year = _year(path)
    width = len(header)
    for row in reader:
        line = reader.line_num
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != width:
            raise DeliveryError(
                path, f"line {line}", f"row has {len(row)} fields where {width} were expected: truncated row?"
            )
        rec = {h: _unquote(v) for h, v in zip(header, row, strict=True)}
        ref = f"line {line}"
        problem = _check_kleinverbruik(rec)
        if problem:
            fld, code, reason = problem
            collector.quarantine(file=str(path), record_ref=ref, field=fld, reason_code=code, reason=reason, raw=rec)
            continue
        collector.add(
            {
                "netbeheerder": rec["NETBEHEERDER"],
                "netgebied": rec.get("NETGEBIED"),
                "straatnaam": rec.get("STRAATNAAM"),
                "postcode_van": normalise_postcode(rec["POSTCODE_VAN"]),
                "postcode_tot": normalise_postcode(rec.get("POSTCODE_TOT")) if rec.get("POSTCODE_TOT") else None,
                "woonplaats": rec.get("WOONPLAATS"),
                "landcode": rec.get("LANDCODE"),
                "productsoort": rec["PRODUCTSOORT"],
                "verbruikssegment": rec.get("VERBRUIKSSEGMENT"),
                "aansluitingen_aantal": to_int(rec["AANSLUITINGEN_AANTAL"]),
                **{
                    c.lower(): to_float(rec.get(c), decimal_comma=True)
                    for c in (
                        "LEVERINGSRICHTING_PERC",
                        "FYSIEKE_STATUS_PERC",
                        "SOORT_AANSLUITING_PERC",
                        "SJV_GEMIDDELD",
                        "SJV_LAAG_TARIEF_PERC",
                        "SLIMME_METER_PERC",
                    )
                },
                "soort_aansluiting": rec.get("SOORT_AANSLUITING"),
                "jaar": year,
                "source_file": str(path),
                "record_ref": ref,
            },
            record_ref=ref,
        )
    return drift


def _chain(first: str, rest):
    yield first
    yield from rest


def _check_kleinverbruik(rec: dict[str, Any]) -> tuple[str, str, str] | None:
    if not rec.get("NETBEHEERDER") or not is_valid_gln(rec["NETBEHEERDER"]):
        return ("NETBEHEERDER", "invalid_gln", "netbeheerder is not a GLN with a valid GS1 check digit")
    if normalise_postcode(rec.get("POSTCODE_VAN")) is None:
        return ("POSTCODE_VAN", "invalid_postcode", "postcode_van is not a Dutch postcode")
    if rec.get("PRODUCTSOORT") not in PRODUCTS:
        return ("PRODUCTSOORT", "invalid_code", "productsoort is not ELK or GAS")
    try:
        to_int(rec.get("AANSLUITINGEN_AANTAL"))
        for c in ("SJV_GEMIDDELD", "SLIMME_METER_PERC", "LEVERINGSRICHTING_PERC", "FYSIEKE_STATUS_PERC"):
            to_float(rec.get(c), decimal_comma=True)
    except ValueError:
        return ("AANSLUITINGEN_AANTAL", "invalid_number", "a count or percentage is not a number")
    return None


def _check_aansluiting(rec: dict[str, str | None]) -> tuple[str, str, str] | None:
    if not rec.get("EAN"):
        return ("EAN", "missing_required", "EAN is empty")
    if not is_valid_ean18(rec["EAN"]):
        return ("EAN", "invalid_ean", "EAN is not 18 digits with a valid GS1 check digit")
    if rec.get("PRODUCTSOORT") not in PRODUCTS:
        return ("PRODUCTSOORT", "invalid_code", "productsoort is not ELK or GAS")
    try:
        nr = to_int(rec.get("HUISNUMMER"))
    except ValueError:
        nr = None
    if nr is None or not 1 <= nr <= 99999:
        return ("HUISNUMMER", "invalid_number", "huisnummer missing or outside 1-99999")
    if normalise_postcode(rec.get("POSTCODE")) is None:
        return ("POSTCODE", "invalid_postcode", "postcode missing or not [1-9][0-9]{3}[A-Z]{2}")
    if rec.get("FYSIEKE_STATUS") not in (None, "IN", "UIT"):
        return ("FYSIEKE_STATUS", "invalid_code", "fysieke status is not IN or UIT")
    if rec.get("SLIMME_METER") not in (None, "J", "N"):
        return ("SLIMME_METER", "invalid_code", "slimme meter is not J or N")
    try:
        sjv = to_float(rec.get("SJV"))
    except ValueError:
        sjv = -1.0
    if sjv is not None and sjv < 0:
        return ("SJV", "invalid_number", "SJV is not a number >= 0")
    if rec.get("BAG_VBO_ID") and not is_valid_bag_id(rec["BAG_VBO_ID"], "verblijfsobject"):
        return ("BAG_VBO_ID", "invalid_bag_id", "BAG_VBO_ID is not a verblijfsobject id")
    return None


def read_aansluitingen(path: Path, collector: EntityCollector) -> tuple[list[SchemaDrift], set[str]]:
    csvf = HubCsv(path, AANSLUITING_REQUIRED, AANSLUITING_OPTIONAL)
    eans: set[str] = set()
    for line, rec in csvf.rows():
        ref = f"line {line}"
        problem = _check_aansluiting(rec)
        if problem:
            fld, code, reason = problem
            collector.quarantine(file=str(path), record_ref=ref, field=fld, reason_code=code, reason=reason, raw=rec)
            continue
        row = {
            "ean": rec["EAN"],
            "productsoort": rec["PRODUCTSOORT"],
            "straatnaam": rec.get("STRAATNAAM"),
            "huisnummer": to_int(rec["HUISNUMMER"]),
            "huisletter": rec.get("HUISLETTER"),
            "huisnummertoevoeging": rec.get("HUISNUMMERTOEVOEGING"),
            "postcode": normalise_postcode(rec["POSTCODE"]),
            "woonplaats": rec.get("WOONPLAATS"),
            "fysieke_status": rec.get("FYSIEKE_STATUS"),
            "slimme_meter": None if rec.get("SLIMME_METER") is None else rec["SLIMME_METER"] == "J",
            "soort_aansluiting": rec.get("SOORT_AANSLUITING"),
            "sjv": to_float(rec.get("SJV")),
            "bag_vbo_id": rec.get("BAG_VBO_ID"),
            "source_file": str(path),
            "record_ref": ref,
        }
        if collector.add(row, file=str(path), record_ref=ref, raw=rec):
            eans.add(rec["EAN"])
    return csvf.drift, eans


def _ean_check_sql(column: str) -> str:
    """GS1 mod-10 in SQL: weights 3,1,3,... from the right over the first 17 digits."""
    terms = " + ".join(
        f"(ascii(substr({column}, {i + 1}, 1)) - 48) * {3 if (17 - i) % 2 == 1 else 1}" for i in range(17)
    )
    return (
        f"(length({column}) = 18 and regexp_full_match({column}, '[0-9]{{18}}') "
        f"and (10 - (({terms}) % 10)) % 10 = ascii(substr({column}, 18, 1)) - 48)"
    )


def read_verbruik(path: Path, collector: EntityCollector, known_eans: set[str]) -> list[SchemaDrift]:
    """Measured usage, validated in one DuckDB pass: checks, orphans and duplicates as SQL over the whole file."""
    csvf = HubCsv(path, VERBRUIK_REQUIRED, ["EENHEID"])
    has_unit = "EENHEID" in csvf.header
    con = duckdb.connect()
    con.execute("set preserve_insertion_order = true")
    con.register("known", pa.table({"ean": pa.array(sorted(known_eans), pa.string())}))
    try:
        con.execute(
            "create table v as select row_number() over () + 1 as line, * from read_csv(?, delim = ';', header = true, "
            "all_varchar = true, quote = '\"', strict_mode = true)",
            [str(path)],
        )
    except duckdb.Error as exc:
        raise DeliveryError(path, "while reading", f"unreadable CSV: {str(exc).splitlines()[0]}") from exc
    unit = "nullif(trim(EENHEID), '')" if has_unit else "null"
    checked = con.sql(
        f"""
        select line, trim(EAN) as ean, trim(PERIODE) as periode, trim(VERBRUIK) as verbruik_text, {unit} as eenheid,
            case
                when nullif(trim(EAN), '') is null then 'EAN|missing_required|EAN is empty'
                when not {_ean_check_sql("trim(EAN)")}
                    then 'EAN|invalid_ean|EAN is not 18 digits with a valid GS1 check digit'
                when not regexp_full_match(trim(PERIODE), '[12][0-9]{{3}}(-(0[1-9]|1[0-2]))?')
                    then 'PERIODE|invalid_date|periode is not YYYY-MM or YYYY'
                when try_cast(trim(VERBRUIK) as double) is null or try_cast(trim(VERBRUIK) as double) < 0
                    then 'VERBRUIK|invalid_number|verbruik is not a number >= 0'
                when {unit} is not null and {unit} not in ('kWh', 'm3')
                    then 'EENHEID|invalid_code|eenheid is not kWh or m3'
                when trim(EAN) not in (select ean from known)
                    then 'EAN|orphan|no connection with this EAN in stedin_aansluitingen.csv of this delivery'
                when row_number() over (partition by trim(EAN), trim(PERIODE) order by line) > 1
                    then 'EAN,PERIODE|duplicate|a second value for this connection and period'
            end as problem
        from v
        """
    ).to_arrow_table()
    con.close()
    problems = checked.filter(checked["problem"].is_valid())
    for rec in problems.to_pylist():
        fld, code, reason = rec["problem"].split("|", 2)
        raw = {k: rec[k] for k in ("ean", "periode", "verbruik_text", "eenheid")}
        collector.quarantine(
            file=str(path), record_ref=f"line {rec['line']}", field=fld, reason_code=code, reason=reason, raw=raw
        )
    ok = checked.filter(checked["problem"].is_null())
    duck = duckdb.connect()
    duck.register("ok", ok)
    clean = duck.sql(
        f"""select ean, periode, case when length(periode) = 7 then 'month' else 'year' end as periode_soort,
                   cast(verbruik_text as double) as verbruik, eenheid, '{str(path).replace("'", "''")}' as source_file,
                   'line ' || line as record_ref
            from ok order by line"""
    ).to_arrow_table()
    collector.add_table(clean)
    return csvf.drift


def stedin_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".txt"))
    return [path]


def read_stedin(path: Path, *, delivery_id: str | None = None, staging_root: Path | None = None) -> DeliveryResult:
    """Read a Stedin delivery: per-connection files and/or open-data kleinverbruik files."""
    path = Path(path)
    if not path.exists():
        raise DeliveryError(path, "path", "no such file or folder")
    files = stedin_files(path)
    with Staging(staging_root) as staging_dir:
        collectors = {
            "aansluiting": EntityCollector("aansluiting", AANSLUITING_SCHEMA, staging_dir, key_fields=("ean",)),
            "verbruik": EntityCollector("verbruik", VERBRUIK_SCHEMA, staging_dir),
            "kleinverbruik": EntityCollector("kleinverbruik", KLEINVERBRUIK_SCHEMA, staging_dir),
        }
        drift: list[SchemaDrift] = []
        try:
            aansl = [f for f in files if f.name.lower() == "stedin_aansluitingen.csv"]
            verbr = [f for f in files if f.name.lower() == "stedin_verbruik.csv"]
            eans: set[str] = set()
            for f in aansl:
                d, e = read_aansluitingen(f, collectors["aansluiting"])
                drift += d
                eans |= e
            for f in verbr:
                drift += read_verbruik(f, collectors["verbruik"], eans)
            for f in files:
                if f not in aansl and f not in verbr:
                    drift += read_kleinverbruik(f, collectors["kleinverbruik"])
        except BaseException:
            for c in collectors.values():
                c.abort()
            raise
        entities = {n: c.finish() for n, c in collectors.items()}
        return DeliveryResult(
            source=SOURCE,
            delivery_id=delivery_id or path.stem,
            files=[str(f) for f in files],
            entities=entities,
            drift=drift,
            staging_dir=staging_dir,
            info={"connections": len(eans)},
        )
