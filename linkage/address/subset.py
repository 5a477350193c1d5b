"""Resolving against an address table on disk, holding in memory only the addresses the input can mean.

A BagIndex holds an address in about 70 bytes (linkage/address/columns.py), but the address table of the national
extract (9.9 million rows of text) is not read whole into memory either. `resolve_with_address_file` reads the input
first and asks DuckDB (within a memory limit, spilling to disk) for the addresses any route of the resolver could
look at, then builds a BagIndex of those alone, batch by batch:
- every address at a written postcode (current or earlier), which covers the postcode routes;
- on each street the written street names can mean (exact keys, short names, earlier names and the fuzzy matches,
  in every woonplaats, found on an index of the distinct streets: a few hundred thousand nationally), the addresses
  at the numbers the text can mean (each reading of the number, and the heads of a number an addition may be glued
  to: "2101" 21, 210), which covers the street routes and the number splits;
- the addresses of BAG ids in the text.
The subset's index takes over the street universe of the street index (every street of the extract), so a misspelt
street is matched against the same streets as with the whole table, and the answers are the same (checked in
benchmarks/bench_bag_national.py and tests/test_address_subset.py). Memory follows the input, not the extract; where
street names repeat from town to town and the input names no town, the input can mean a share of every town, and
that share is held at 70 bytes an address.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from linkage.address.index import BATCH_ROWS, BagIndex
from linkage.address.normalise import street_keys
from linkage.address.parse import alternative_parses, normalise_postcode, parse_address
from linkage.address.resolve import resolve_addresses

_BAG_ID = re.compile(r"(?<![0-9])([0-9]{16})(?![0-9])")


def street_index(con: duckdb.DuckDBPyConnection, source: str) -> tuple[BagIndex, pa.Table]:
    """A BagIndex with one row per distinct street (name, short name, woonplaats, earlier names), and that table."""
    streets = con.sql(f"""
        select row_number() over ()::varchar as nummeraanduiding_id, straatnaam, verkorte_naam, woonplaats,
               historic_straatnamen, 0 as huisnummer
        from (select straatnaam, verkorte_naam, woonplaats, any_value(historic_straatnamen) as historic_straatnamen
              from {source} group by all)
    """).to_arrow_table()
    return BagIndex(streets), streets


def resolve_with_address_file(
    table: pa.Table,
    addresses: Path,
    text_column: str | None = None,
    fields: Mapping[str, str] | None = None,
    memory_limit: str = "256MB",
    info: dict | None = None,
) -> pa.Table:
    """`resolve_addresses` on `table`, against the address table in the Parquet file `addresses` (as written by
    linkage.address.index.save_bag_addresses), loading only the addresses the input can mean. `info`, when given,
    gets `streets` (in the file) and `addresses_held` (in memory)."""
    spill = tempfile.TemporaryDirectory(prefix="rgw-address-")
    con = duckdb.connect(config={"memory_limit": memory_limit, "threads": 2, "temp_directory": spill.name})
    try:
        # a view, not a CTE: DuckDB materialises a CTE used five times, i.e. the whole address table in memory
        path = str(addresses).replace("'", "''")
        con.execute(f"create temp view a as select * from read_parquet('{path}')")
        source = "a"
        streets, street_rows = street_index(con, source)
        postcodes, ids, at = _wanted(table, streets, text_column, fields or {})
        names = street_rows.select(["straatnaam", "verkorte_naam", "woonplaats"])
        con.register("street", names.append_column("sid", pa.array(range(names.num_rows), pa.int32())))
        con.register(
            "want_street", pa.table({"sid": at[:, 0].astype(np.int32), "huisnummer": at[:, 1].astype(np.int32)})
        )
        con.register(
            "want_postcode", pa.table({"postcode": sorted(postcodes)}, schema=pa.schema([("postcode", pa.string())]))
        )
        con.register("want_id", pa.table({"id": sorted(ids)}, schema=pa.schema([("id", pa.string())])))
        subset = con.sql("""
            with hits as (
                select nummeraanduiding_id from a semi join want_postcode w on a.postcode = w.postcode
                union
                select nummeraanduiding_id from (select nummeraanduiding_id, unnest(historic_postcodes) as old from a)
                    semi join want_postcode w on old = w.postcode
                union
                select nummeraanduiding_id from a join street s
                    on a.straatnaam is not distinct from s.straatnaam
                    and a.verkorte_naam is not distinct from s.verkorte_naam
                    and a.woonplaats is not distinct from s.woonplaats
                    semi join want_street w on w.sid = s.sid and w.huisnummer = a.huisnummer
                union
                select nummeraanduiding_id from a semi join want_id i
                    on a.nummeraanduiding_id = i.id or a.adresseerbaar_object_id = i.id
            )
            select a.* from a semi join hits h on a.nummeraanduiding_id = h.nummeraanduiding_id
            order by a.nummeraanduiding_id
        """).to_arrow_reader(BATCH_ROWS)
        index = BagIndex(subset)  # read batch by batch: the subset is never whole in memory as text
    finally:
        con.close()
        spill.cleanup()
    index.share_streets(streets)
    if info is not None:
        info.update(streets=street_rows.num_rows, addresses_held=index.size, street_numbers=len(at))
    return resolve_addresses(table, index, text_column=text_column, fields=fields)


def _wanted(
    table: pa.Table, streets: BagIndex, text_column: str | None, fields: Mapping[str, str]
) -> tuple[set[str], set[str], np.ndarray]:
    """The postcodes, BAG ids and distinct (street id, huisnummer) pairs the input can mean (street ids: rows of
    the street index; the pairs as an int64 array of two columns, not as Python tuples: a national input's pairs
    run into the millions where street names repeat from town to town)."""
    postcodes: set[str] = set()
    ids: set[str] = set()
    numbers_of: dict[tuple[str, str | None], set[int]] = {}  # the numbers written with each (street, woonplaats)
    written_wp = fields.get("woonplaats")
    wps = table.column(written_wp).to_pylist() if written_wp else None
    for column in (fields.get("postcode"),):
        if column:
            postcodes.update(p for p in map(normalise_postcode, table.column(column).to_pylist()) if p)
    for role in ("nummeraanduiding_id", "verblijfsobject_id"):
        if fields.get(role):
            ids.update(str(v) for v in table.column(fields[role]).to_pylist() if v)
    texts: list[str | None] = []
    if text_column:
        texts += [str(v) if v is not None else None for v in table.column(text_column).to_pylist()]
    if fields.get("straatnaam"):
        texts += [str(v) if v is not None else None for v in table.column(fields["straatnaam"]).to_pylist()]
    woonplaatsen = streets.woonplaatsen
    for i, text in enumerate(texts):
        if not text:
            continue
        ids.update(_BAG_ID.findall(text))
        first = parse_address(text, woonplaatsen)
        wp_written = (wps[i] if wps is not None and i < len(wps) else None) or None
        for p in (first, *alternative_parses(first, woonplaatsen)):
            if p.postcode:
                postcodes.add(p.postcode)
            if p.street and p.huisnummer is not None:
                numbers_of.setdefault((p.street, p.woonplaats or wp_written), set()).update(
                    _numbers_meant(p.huisnummer)
                )
    meant: dict[tuple[str, str | None], np.ndarray] = {}
    pairs = [np.empty((0, 2), np.int64)]
    for (street, wp), numbers in numbers_of.items():
        sids = meant.get((street, wp))
        if sids is None:
            sids = meant[(street, wp)] = np.fromiter(_streets_meant(streets, street, wp), np.int64)
        if len(sids):
            nrs = np.fromiter(numbers, np.int64)
            pairs.append(np.column_stack([np.repeat(sids, len(nrs)), np.tile(nrs, len(sids))]))
    return postcodes, ids, np.unique(np.concatenate(pairs), axis=0)


def _numbers_meant(huisnummer: int) -> set[int]:
    """The number, and each head an addition may have been glued to ("2101": 2, 21, 210)."""
    digits = str(huisnummer)
    return {huisnummer, *(int(digits[:cut]) for cut in range(1, len(digits)))}


def _streets_meant(streets: BagIndex, street: str, woonplaats: str | None) -> set[int]:
    """The street ids a written street can mean: what the resolver's street match finds within the woonplaats and
    across all streets, and the streets once named so."""
    keys = set(street_keys(street))
    wp = streets.woonplaats_of(woonplaats)
    for scope in {wp, None}:
        keys.update(k for k, _ in streets.street_matches(street, scope))
    found: set[int] = set()
    for k in keys:
        found.update(streets.sids_of_key.get(k, ()))
        found.update(streets.historic_sids_of_key.get(k, ()))
    return found
