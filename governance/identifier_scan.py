"""Scan tables outside the raw zone for anything that looks like a direct identifier.

The pseudonymisation boundary is the hub's most important promise, so it is checked from the outside as well:
every string column of every Parquet file under the shared zones (landing, published) is searched with DuckDB for
9-digit numbers that pass the 11-proef (BSN/RSIN), 10-digit A-nummers, EAN-18 codes with a valid GS1 check digit,
e-mail addresses, Dutch phone numbers, and full names taken from the raw delivery. A finding names the file, the
column, the kind and how many values; never the value itself, so the scan's own report leaks nothing.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from connectors.delivery import latest_delivery
from connectors.identifiers import is_valid_a_nummer, is_valid_bsn, is_valid_ean18
from hubcore.durable import write_whole
from pseudonymisation.reuse import CopiedRows

# Digits bounded by anything but a letter or digit: pseudonyms are base32 (a-z, 2-7), so runs of digits inside a
# pseudonym do not count as a free-standing number.
_BOUND_L = r"(?:^|[^0-9A-Za-z])"
_BOUND_R = r"(?:[^0-9A-Za-z]|$)"
PATTERNS: dict[str, str] = {
    "bsn": _BOUND_L + r"([0-9]{9})" + _BOUND_R,
    "a_nummer": _BOUND_L + r"([1-9][0-9]{9})" + _BOUND_R,
    "ean": _BOUND_L + r"(871[0-9]{15})" + _BOUND_R,
    "email": r"([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})",
    "phone": _BOUND_L + r"((?:\+31|0031|0)[ -]?6[ -]?[0-9]{8}|(?:\+31|0031|0)[1-9][0-9][ -]?[0-9]{7})" + _BOUND_R,
}
# Every pattern above needs seven digits in a row (the shortest is a landline's subscriber number) or an @: one pass
# over a column's distinct values keeps the few that can match, and the patterns run on those only, so a column of
# millions of consumption rows is not read once per pattern. The same values match as without the filter.
_CANDIDATE = r"[0-9]{7}|@"
# A value of digits alone can match a pattern only as a whole (the bounds need a non-alphanumeric or an end on both
# sides): as a BSN (9 digits), an A-nummer or a phone number (10), a phone number with 0031 (13) or an EAN (18).
# Other all-digit values are no candidates: the city's BAG ids (16 digits, 320,000 distinct in four columns of a BRP
# landing) made every pattern run over them, 0.9 s of the landing check's 2 s (5 December 2026).
_DIGITS_ONLY = r"[0-9]+"
_DIGIT_LENGTHS = (9, 10, 13, 18)
# A value holds a word pair (what a full name needs) only when an alphanumeric run, a separator and another
# alphanumeric run follow each other; single words are left out of the name join.
_SEVERAL_WORDS = r"[[:alnum:]][^[:alnum:]]+[[:alnum:]]"
# A value that is a machine-made key and nothing else splits into words too but can never be a person's name: left
# out of the name join, where a city's million pseudonyms made three word pairs each (half of a BRP landing check).
# The keys: a linkage pseudonym (`bsn.v1.<26 base32>`), one with a sequence number (`<pseudonym>|3`, the record key of
# a BRP address spell: two million of them in the city's address links) and an entity id (`persoon:<20 hex>`, linkage.
# clustering: 700,000 in the city's entity links). Leaving these two out took the privacy report's scan of the
# rewritten linkage files from 4.3 s to 2.6 s CPU (4.4 s to 1.9 s wall) at city scale, 5 December 2026.
_PSEUDONYM = r"^(?:[a-z][a-z_]*\.v[1-9][0-9]*\.[a-z2-7]{26}(?:\|[0-9]+)?|[a-z]+:[0-9a-f]{20})$"
# A candidate number only counts when it passes the identifier's own check: plain counts and amounts do not.
VALIDATORS = {"bsn": is_valid_bsn, "a_nummer": is_valid_a_nummer, "ean": is_valid_ean18}


@dataclass(frozen=True)
class Finding:
    """One column of one file that holds values looking like a direct identifier of one kind."""

    file: str
    column: str
    kind: str
    count: int

    def __str__(self) -> str:
        return f"{self.file}: column {self.column!r} holds {self.count} value(s) that look like {self.kind}"


def _varchar_columns(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    rel = con.sql(f"select * from read_parquet('{_sql_path(path)}') limit 0")
    return [name for name, typ in zip(rel.columns, rel.types, strict=True) if str(typ) in ("VARCHAR", "VARCHAR[]")]


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def scan_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    names_table: str | None = None,
    sample_limit: int = 10_000,
    copied: CopiedRows | None = None,
) -> list[Finding]:
    """Scan one Parquet file; `names_table` is a DuckDB table of lower-cased full names from the raw zone.

    With `copied`, the columns it names are scanned in its fresh rows only: the caller vouches that every other
    value of those columns is a copy of a value of a file scanned clean under the same question (`scan_zone`)."""
    findings: list[Finding] = []
    whole = f"read_parquet('{_sql_path(path)}')"
    fresh = whole
    if copied is not None:
        con.register("_scan_fresh_rows", pa.table({"pos": pa.array(copied.fresh_rows, pa.int64())}))
        fresh = (
            f"(select * from read_parquet('{_sql_path(path)}', file_row_number = true) "
            "where file_row_number in (select pos from _scan_fresh_rows))"
        )
    for column in _varchar_columns(con, path):
        src = fresh if copied is not None and column in copied.columns else whole
        col = _quote(column)
        # Lists (e.g. onderwerpen) are scanned element by element.
        value = f"unnest({col})" if _is_list(con, src, column) else col
        values = f"(select {value}::varchar as v from {src}) as t where v is not null"
        # Each distinct value once, with how often it occurs: a file name or a period repeated on millions of rows
        # is searched once, and every count is still a count of rows.
        con.execute(f"create or replace temp table _scan_values as select v, count(*) as n from {values} group by v")
        con.execute(
            "create or replace temp table _scan_candidates as select v, n from _scan_values where regexp_matches(v, ?) "
            f"and not (regexp_full_match(v, ?) and length(v) not in {_DIGIT_LENGTHS})",
            [_CANDIDATE, _DIGITS_ONLY],
        )
        for kind, pattern in PATTERNS.items():
            rows = con.execute(
                "select regexp_extract(v, ?, 1) as m, n from _scan_candidates where regexp_matches(v, ?) "
                f"limit {sample_limit}",
                [pattern, pattern],
            ).fetchall()
            validator = VALIDATORS.get(kind)
            hits = sum(
                n for m, n in rows if m and (validator is None or validator(m.replace(" ", "").replace("-", "")))
            )
            if hits:
                findings.append(Finding(str(path), column, kind, int(hits)))
        if names_table is not None:
            # Word pairs and triples of each value, joined on equality with the raw names: a hash join, so the
            # cost grows with the data, not with data times names.
            (count,) = con.execute(
                f"""with w as (select regexp_split_to_array(trim(regexp_replace(lower(v), '[^[:alnum:] ]', ' ', 'g')),
                                                            '\\s+') as ws, n from _scan_values
                                                            where regexp_matches(v, '{_SEVERAL_WORDS}')
                                                            and not regexp_matches(v, '{_PSEUDONYM}')),
                    grams as (
                        select unnest(list_transform(generate_series(1, len(ws) - 1),
                                                     lambda i: ws[i] || ' ' || ws[i + 1])) as g, n from w
                        union all
                        select unnest(list_transform(generate_series(1, len(ws) - 2),
                                                     lambda i: ws[i] || ' ' || ws[i + 1] || ' ' || ws[i + 2])), n
                        from w)
                    select coalesce(sum(grams.n), 0) from grams join {names_table} nm on nm.naam = grams.g"""
            ).fetchall()[0]
            if count:
                findings.append(Finding(str(path), column, "name from the raw delivery", int(count)))
    return findings


def _is_list(con: duckdb.DuckDBPyConnection, src: str, column: str) -> bool:
    rel = con.sql(f"select {_quote(column)} from {src} limit 0")
    return str(rel.types[0]).endswith("[]")


def load_raw_names(con: duckdb.DuckDBPyConnection, raw_files: Iterable[Path], table: str = "raw_names") -> str:
    """Collect full names (first given name + surname, lower case, at least 8 characters) from raw person tables.

    Full names rather than surnames alone: a surname such as "Bakker" or "Visser" also names streets and shops,
    while "jan bakker" in a shared table is a person.
    """
    raw_files = list(raw_files)
    key = tuple(_file_key(f) for f in raw_files)
    kept = _KEPT_NAMES.get(key)
    if kept is not None:
        con.register("_kept_raw_names", kept)
        con.execute(f"create or replace temp table {table} as select naam from _kept_raw_names")
        con.unregister("_kept_raw_names")
        return table
    con.execute(f"create or replace temp table {table} (naam varchar)")
    for f in raw_files:
        cols = set(con.sql(f"select * from read_parquet('{_sql_path(f)}') limit 0").columns)
        given = next((c for c in ("voornamen", "voornaam") if c in cols), None)
        surname = next((c for c in ("geslachtsnaam", "achternaam") if c in cols), None)
        if not (given and surname):
            continue
        con.execute(
            f"insert into {table} select distinct lower(split_part(trim({_quote(given)}), ' ', 1) || ' ' || "
            f"trim({_quote(surname)})) from read_parquet('{_sql_path(f)}') "
            f"where {_quote(given)} is not null and {_quote(surname)} is not null"
        )
    con.execute(f"delete from {table} where length(naam) < 8")
    _KEPT_NAMES.clear()  # the latest raw person files' names only: one entry, replaced when a delivery lands
    _KEPT_NAMES[key] = con.sql(f"select naam from {table}").to_arrow_table()
    return table


# The names of the raw person files last read, keyed by their paths, sizes and modification times: the five
# publications of one refresh each scan their dataset for the same names (the city's ~0.15 s CPU per read of the raw
# person tables). Held in this process only, beside the raw zone they come from, never written anywhere.
_KEPT_NAMES: dict[tuple[str, ...], pa.Table] = {}


# What a cached result depends on besides the file and the names: the scan itself.
_SCAN_RULES = (PATTERNS, _CANDIDATE, _DIGITS_ONLY, _DIGIT_LENGTHS, _SEVERAL_WORDS, _PSEUDONYM)
_SCAN_VERSION = hashlib.sha256(repr(_SCAN_RULES).encode()).hexdigest()[:12]


def _names_digest(con: duckdb.DuckDBPyConnection, names: str | None) -> str:
    if names is None:
        return "-"
    sql = f"select md5(coalesce(string_agg(naam, chr(10) order by naam), '')) from {names}"
    ((digest,),) = con.execute(sql).fetchall()  # fetched to the end: the connection takes other work after it
    return digest


def _file_key(path: Path) -> str:
    stat = path.stat()
    return f"{path}|{stat.st_size}|{stat.st_mtime_ns}"


def scan_zone(
    roots: Iterable[Path],
    raw_person_files: Iterable[Path] = (),
    cache: Path | None = None,
    copied: Mapping[Path, CopiedRows] | None = None,
) -> list[Finding]:
    """Scan every Parquet file under `roots` (the shared zones); names come from the raw person tables given.

    With `cache` (a JSON file), a file scanned before is not read again while its path, size and modification time,
    the set of names searched for and the scan itself are the same: its findings then cannot differ. The privacy
    report scans the whole landing zone after every delivery; this way only the files that delivery landed are read
    (unless the names changed, which makes every file a new question). The cache holds paths and counts, no values.

    `copied` names, per file, the rows and columns whose values a landing holds as an earlier landed file held them
    (pseudonymisation/reuse.py: 99% of a corrected BRP delivery's rows). When that earlier file, as it is now, is in
    the cache under the same question with no finding, none of its values matches a pattern or holds a name searched
    for, and every finding counts values one by one: so those values add nothing, and only the fresh rows of those
    columns are read (the other columns, kept values the raw delivery may have changed, are scanned whole). The
    findings are those of scanning the whole file; otherwise (another question, a finding, the earlier file changed
    or gone) the whole file is scanned."""
    con = duckdb.connect()
    raw_person_files = list(raw_person_files)
    names = load_raw_names(con, raw_person_files) if raw_person_files else None
    question = f"{_SCAN_VERSION}|{_names_digest(con, names)}"
    known = _read_cache(cache, question)
    seen: dict[str, list[list]] = {}
    findings: list[Finding] = []
    for root in roots:
        if not root.exists():
            continue
        for path in sorted(root.rglob("*.parquet")):
            key = _file_key(path)
            if key in known:
                found = [Finding(*f) for f in known[key]]
            else:
                found = scan_file(con, path, names, copied=_copied_from_clean((copied or {}).get(path), known))
            seen[key] = [[f.file, f.column, f.kind, f.count] for f in found]
            findings.extend(found)
    con.close()
    if cache is not None:
        _write_cache(cache, question, {**known, **seen})
    return findings


def _copied_from_clean(copied: CopiedRows | None, known: dict[str, list[list]]) -> CopiedRows | None:
    """`copied` when its earlier file is, unchanged, in the cache under this question with no finding; else None
    (the whole file is scanned: fail closed)."""
    if copied is None or not copied.source.exists():
        return None
    return copied if known.get(_file_key(copied.source)) == [] else None


def scan_cache(paths) -> Path:
    """Where a hub (a HubPaths) keeps its scan results: beside the reports the scans feed."""
    return paths.reports / ".identifier_scan.json"


def _read_cache(cache: Path | None, question: str) -> dict[str, list[list]]:
    if cache is None or not cache.exists():
        return {}
    try:
        stored = json.loads(cache.read_text())
    except (OSError, ValueError):
        return {}  # a damaged cache is no cache: everything is scanned
    return stored.get("files", {}) if stored.get("question") == question else {}


def _write_cache(cache: Path, question: str, files: dict[str, list[list]]) -> None:
    live = {k: v for k, v in files.items() if Path(k.rsplit("|", 2)[0]).exists()}
    cache.parent.mkdir(parents=True, exist_ok=True)
    write_whole(cache, json.dumps({"question": question, "files": live}).encode("utf-8"))


def scan_duckdb(path: Path, raw_person_files: Iterable[Path] = ()) -> list[Finding]:
    """Scan every table of a DuckDB file (the warehouse, an unsealed published dataset) the same way."""
    con = duckdb.connect()
    raw_person_files = list(raw_person_files)
    names = load_raw_names(con, raw_person_files) if raw_person_files else None
    con.execute(f"attach '{_sql_path(Path(path))}' as scanned (read_only)")
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = 'scanned'"
    ).fetchall()
    findings: list[Finding] = []
    for schema, table in tables:
        export = Path(tempfile.mkdtemp()) / f"{table}.parquet"
        con.execute(
            f"copy (select * from scanned.{_quote(schema)}.{_quote(table)}) to '{_sql_path(export)}' (format parquet)"
        )
        for f in scan_file(con, export, names):
            findings.append(Finding(f"{path}:{table}", f.column, f.kind, f.count))
        export.unlink()
    con.close()
    return findings


# The raw tables that hold persons' names: the scan looks for those names outside the raw zone.
PERSON_ENTITIES = {("brp", "persoon"), ("brk", "persoon"), ("corporaties", "relatie")}


def raw_person_files(raw_zone: Path) -> list[Path]:
    """The raw person tables of the latest deliveries: their names are what the identifier scan looks for."""
    files = []
    for source, entity in sorted(PERSON_ENTITIES):
        folder = latest_delivery(raw_zone, source)
        if folder and (folder / f"{entity}.parquet").exists():
            files.append(folder / f"{entity}.parquet")
    return files
