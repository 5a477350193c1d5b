"""Entity-link rows as Arrow columns: made per kind of record, fingerprinted, and carried from an earlier run.

A city's entity-links table has over a million rows (every BRP person, every Kadaster owner, every named landlord).
Made as one Python object per row, and carried from the previous run the same way (`to_pylist`), it cost most of the
step's time and gigabytes of memory; here a kind of record becomes its rows in one column operation, and a carried
record is found by a hash join on its node, so a re-delivery pays per changed record, not per row of the city.

While the table is built each row carries two more columns: `node`, the record's node in the entity graph, and `to`,
the node its link points at (a BSN or KvK pseudonym, a BRP person, an owner), null for a record linked to nothing.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

LINK_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("entity", pa.string()),
        ("record_key", pa.string()),
        ("entity_kind", pa.string()),
        ("entity_id", pa.string()),
        ("match_probability", pa.float64()),
        ("method", pa.string()),
        ("evidence", pa.string()),
        ("input_fingerprint", pa.string()),
    ]
)
BUILDING = pa.schema([f for f in LINK_SCHEMA if f.name not in ("entity_id", "input_fingerprint")]).append(
    pa.field("node", pa.string())
)
BUILDING = BUILDING.append(pa.field("to", pa.string()))
# The records whose links depend on their own content: (source, entity, key column). Their fingerprint is DuckDB's
# 64-bit hash of the landed row without its delivery bookkeeping (source_file, record_ref), so a re-delivered unchanged
# record keeps its fingerprint. (It was an md5 of the row as JSON: the same decision at a twentieth of the cost; a
# table made with md5 fingerprints relinks its records once, as changed. A changed record keeping its hash: 2^-64.)
# BRP persons are keyed by their BSN pseudonym itself and need none.
FINGERPRINTED = (
    ("brk", "persoon", "persoon_id"),
    ("corporaties", "relatie", "relatie_id"),
    ("meldpunten", "melding", "melding_id"),
    ("meldpunten", "zaak", "zaak_id"),
)
BOOKKEEPING = ("source_file", "record_ref")


def one_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array (DuckDB and Parquet hand results over in chunks); a single chunk is not copied."""
    if isinstance(values, pa.ChunkedArray):
        return values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
    return values


def strings(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous string array."""
    values = one_array(values)
    return values if values.type == pa.string() else values.cast(pa.string())


def nodes_of(source: str, entity: str, keys: pa.Array) -> pa.Array:
    """The graph nodes of records, "1:source:entity:key" (linkage.entities.node, per column)."""
    return pc.binary_join_element_wise(f"1:{source}:{entity}:", strings(keys), "")


def pseudonym_nodes(kind: str, pseudonyms: pa.Array) -> pa.Array:
    """The nodes of BSN or KvK pseudonyms, "0:bsn:..." / "0:kvk:..." (null where the pseudonym is)."""
    return pc.binary_join_element_wise(f"0:{kind}:", strings(pseudonyms), "")


def present(values: pa.Array) -> np.ndarray:
    """Where a value is there and not empty: what `if value:` tests on a Python string."""
    values = strings(values)
    return pc.fill_null(pc.greater(pc.utf8_length(values), 0), False).to_numpy(zero_copy_only=False)


def _column(value, n: int, kind: pa.DataType) -> pa.Array:
    if isinstance(value, pa.ChunkedArray):
        value = one_array(value)
    if isinstance(value, pa.Array):
        return value if value.type == kind else value.cast(kind)
    if isinstance(value, np.ndarray):
        return pa.array(value, kind)
    return pa.repeat(pa.scalar(value, kind), n)


def link_rows(
    source: str,
    entity: str,
    keys: pa.Array,
    kind: str,
    probability,
    method,
    evidence,
    to,
    nodes: pa.Array | None = None,
) -> pa.Table:
    """The rows of records of one kind (BUILDING): every argument a column or one value for all of them (`nodes`
    made from source, entity and key unless given)."""
    keys = strings(keys)
    n = len(keys)
    if nodes is None:
        nodes = nodes_of(source, entity, keys)
    return pa.table(
        [
            _column(source, n, pa.string()),
            _column(entity, n, pa.string()),
            keys,
            _column(kind, n, pa.string()),
            _column(probability, n, pa.float64()),
            _column(method, n, pa.string()),
            _column(evidence, n, pa.string()),
            nodes,
            _column(to, n, pa.string()),
        ],
        schema=BUILDING,
    )


def last_rows(keys: pa.Array, among: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The position in `among` of each of `keys` (null where none; the last where several are equal, as a dict filled
    in order would). One hash join on the key column alone: a table's other columns are taken at these positions,
    as many as needed, without copying the table."""
    n = len(among)
    if n == 0:
        return pa.nulls(len(keys), pa.int64())
    last_first = strings(among).take(pa.array(np.arange(n - 1, -1, -1)))
    return pc.subtract(pa.scalar(n - 1, pa.int64()), pc.index_in(keys, value_set=last_first).cast(pa.int64()))


def lookup(keys: pa.Array, table: pa.Table, key: str, value: str) -> pa.Array:
    """`table[value]` at the row whose `key` equals each of `keys` (null where none; the last row where several do,
    as a dict filled in order would)."""
    if table.num_rows == 0:
        return pa.nulls(len(keys), table.schema.field(value).type)
    return one_array(table[value]).take(last_rows(keys, table[key]))


def record_fingerprints(con: duckdb.DuckDBPyConnection, landing: Path, latest) -> pa.Table:
    """(node, input_fingerprint) of the latest landed row of every FINGERPRINTED record. `latest(landing, source,
    entity)` names the file."""
    parts = []
    for source, entity, key in FINGERPRINTED:
        path = latest(landing, source, entity)
        if path is None:
            continue
        names = [d[0] for d in con.execute(f"select * from read_parquet('{path}') limit 0").description]
        keep = ", ".join(f'"{n}"' for n in names if n not in BOOKKEEPING)
        parts.append(
            f"select '1:{source}:{entity}:' || {key}::varchar as node, lower(hex(hash(t))) as input_fingerprint "
            f"from (select {keep} from read_parquet('{path}')) as t"
        )
    if not parts:
        return pa.table({"node": pa.array([], pa.string()), "input_fingerprint": pa.array([], pa.string())})
    table = con.sql(" union all ".join(parts)).to_arrow_table()
    return pa.table({"node": strings(table["node"]), "input_fingerprint": strings(table["input_fingerprint"])})


def carried_links(previous: pa.Table | None, fingerprints: pa.Table) -> pa.Table:
    """The rows of an earlier run's table whose record has not changed since, with their node: (node, entity_id,
    match_probability, method, evidence). A record whose fingerprint now differs from the one its link was made from
    is left out: it is placed and linked afresh. Records no longer delivered stay (their entity keeps its members'
    count, as the entity map kept them)."""
    if previous is None or previous.num_rows == 0:
        return pa.table(
            {
                "node": pa.array([], pa.string()),
                "entity_id": pa.array([], pa.string()),
                "match_probability": pa.array([], pa.float64()),
                "method": pa.array([], pa.string()),
                "evidence": pa.array([], pa.string()),
            }
        )
    nodes = pc.binary_join_element_wise(
        "1", strings(previous["source"]), strings(previous["entity"]), strings(previous["record_key"]), ":"
    )
    now = lookup(nodes, fingerprints, "node", "input_fingerprint")
    made_from = (
        strings(previous["input_fingerprint"])
        if "input_fingerprint" in previous.column_names
        else pa.nulls(previous.num_rows, pa.string())
    )
    same = pc.fill_null(pc.equal(now, made_from), False)
    unchanged = pc.or_(pc.is_null(now), same)
    return pa.table(
        {
            "node": nodes,
            "entity_id": strings(previous["entity_id"]),
            "match_probability": one_array(previous["match_probability"]),
            "method": strings(previous["method"]),
            "evidence": strings(previous["evidence"]),
        }
    ).filter(unchanged)
