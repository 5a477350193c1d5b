"""Landing only what changed: rows of a snapshot delivery whose boundary inputs equal a row of the previous landing
take their landed values from it instead of passing the boundary again.

A corrected BRP delivery differs from the one before it in about 1% of the persons, yet the boundary would key every
BSN, encode every name and resolve every address again (most of `land_brp`'s time). Every column the boundary makes
is a function of one raw row and of the boundary context alone: the key version and a check of its secret
(pseudonyms, encodings), the BAG delivery (address resolution), the erased persons (the vault, suppression), the
policy and the code that applies it. So under the same context, a row whose *inputs* (the raw columns those made
columns are computed from) equal a row of the previous delivery lands with that row's made values; kept columns
(`keep`) are copied from the new raw row as always, so a changed kept value (a `source_file`, a date) never needs
the boundary. The result is the table a landing from scratch produces, value for value
(tests/test_landing_reuse.py).

Rows are matched by their raw values themselves, compared exactly (nulls equal) in a DuckDB join, not by a stored
hash: nothing derived from identifiers is kept for it anywhere. The previous raw delivery is read from the
restricted raw zone; the landing report (`_landing.json`) records the context and a SHA-256 of each raw Parquet file
it landed (a digest of a whole file, not of any value), so a previous landing is used only if it was made under the
same context from the raw file that is still there: a raw delivery ingested again under the same id, or a changed
BAG, key, erasure, policy or boundary code, lands everything anew. Erased persons' rows of the sources the hub holds
on its own account (pseudonymisation/suppression.py) are left out after the boundary; those landings never reuse.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from connectors.delivery import file_sha256
from connectors.registry import address_columns, party_name
from pseudonymisation.policy import POLICY, plan

REPO = Path(__file__).resolve().parents[1]
# The code that decides a landed value: a change in any of it lands everything anew, never a mix of old and new.
BOUNDARY_CODE = (
    POLICY,
    REPO / "connectors" / "registry.py",
    REPO / "linkage" / "companies.py",
    *sorted((REPO / "linkage" / "address").glob("*.py")),
    *sorted((REPO / "pseudonymisation").glob("*.py")),
)
_ROW = "__reuse_row"  # a row's position, carried through the join
ADDRESS_OUTPUTS = (
    "adres_nummeraanduiding_id",
    "adres_verblijfsobject_id",
    "adres_confidence",
    "adres_methode",
    "adres_onopgelost",
)


def code_fingerprint() -> str:
    """A short digest of the policy and the boundary's code (part of the reuse context)."""
    digest = hashlib.sha256()
    for path in BOUNDARY_CODE:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class EntityShape:
    """What the landing of one entity reads and writes, seen from reuse.

    `copied`: landed column -> the raw column it is a copy of (`keep`). `made`: the landed columns the boundary
    computes (pseudonyms, encodings, generalisations, resolved addresses, derived names). `inputs`: every raw column
    a made column depends on, so equal inputs mean equal made values.
    """

    copied: dict[str, str]
    made: tuple[str, ...]
    inputs: tuple[str, ...]
    costly: bool  # per-row work (addresses, encodings, derived names) worth reusing; pseudonyms alone are columnar


def entity_shape(source: str, entity: str, raw: pa.Schema) -> EntityShape:
    """The shape of an entity's landing, from the policy and the registry's address and party declarations."""
    roles = address_columns(source, entity)
    party = party_name(source, entity)
    names = list(raw.names)
    derived: dict[str, tuple[str, ...]] = {}  # a column made at the door before the policy -> its raw inputs
    if roles is not None:
        derived.update(dict.fromkeys(ADDRESS_OUTPUTS, roles.columns))
    if party is not None:
        derived[party.column] = (party.statutory, *party.parts) if party.parts else (party.column,)
        names = names if party.column in names else [*names, party.column]
    names += [c for c in ADDRESS_OUTPUTS if roles is not None]
    schema_like = pa.schema([(n, pa.null()) for n in names])
    copied: dict[str, str] = {}
    made: list[str] = []
    inputs: list[str] = []
    costly = roles is not None or party is not None
    for step in plan(schema_like, source, entity):
        if step.output is None:
            continue
        if step.action == "keep" and step.column not in derived:
            copied[step.output] = step.column
            continue
        made.append(step.output)
        inputs.extend(derived.get(step.column, (step.column,)))
        if step.action == "keep_legal_person":
            inputs.extend(("persoon_type", "rechtsvorm"))
        costly = costly or step.action == "encode"
    return EntityShape(copied, tuple(made), tuple(dict.fromkeys(c for c in inputs if c)), costly)


def worth_reusing(source: str, entity: str, raw_path: Path) -> bool:
    """Whether an entity's landing does per-row work that reuse saves: addresses resolved, values encoded, names
    derived. An entity whose made columns are pseudonyms alone (7 million consumption rows) is keyed column-wise
    faster than its rows could be matched, and is landed in batches as before."""
    shape = entity_shape(source, entity, pq.read_schema(raw_path))
    return shape.costly and bool(shape.made)


def match_rows(previous: Path, current: pa.Table) -> np.ndarray:
    """For each row of `current`, the position of a row of the Parquet file `previous` (the earlier raw delivery)
    with equal values in every column of `current` (nulls equal to nulls), or -1. Exact either way:

    - a row equal to the row at the same position of `previous` takes that position (`_same_place`): a snapshot
      re-delivery keeps its order, so all but the changed rows are found by comparing columns in place, without
      hashing a million rows (the city's BRP re-delivery, its two entities: 1.4 to 1.6 s CPU to 0.6 to 0.75 s);
    - the other rows are joined in DuckDB on the values themselves (`IS NOT DISTINCT FROM`) and take the first equal
      row of `previous`.

    A row with several equal rows in `previous` may so take another of them than the first: equal inputs make equal
    landed values (the module's docstring), so the landing is the same, and so is which rows are matched at all."""
    names = current.column_names
    prior = pq.read_table(previous, columns=names)
    matched = np.full(current.num_rows, -1, dtype=np.int64)
    in_place = _same_place(current, prior)
    matched[in_place] = in_place
    rest = np.flatnonzero(matched < 0)
    if not len(rest):
        return matched
    columns = ", ".join(f'"{n}"' for n in names)
    cur = current.take(pa.array(rest)).append_column(_ROW, pa.array(rest, pa.int64()))
    prior = prior.append_column(_ROW, pa.array(np.arange(prior.num_rows), pa.int64()))
    same = " AND ".join(f'c."{n}" IS NOT DISTINCT FROM p."{n}"' for n in names)
    con = duckdb.connect()
    try:
        con.register("c", cur)
        con.register("p", prior)
        found = con.sql(
            f'SELECT c."{_ROW}" AS i, min(p."{_ROW}") AS j FROM c JOIN (SELECT {columns}, "{_ROW}" FROM p) AS p '
            f"ON {same} GROUP BY 1"
        ).to_arrow_table()
    finally:
        con.close()
    matched[found["i"].to_numpy()] = found["j"].to_numpy()
    return matched


# Types whose Arrow equality is the join's (exact; no NaN, no -0.0): columns of others are not compared in place.
_IN_PLACE_TYPES = (pa.types.is_string, pa.types.is_large_string, pa.types.is_integer, pa.types.is_boolean)


def _same_place(current: pa.Table, prior: pa.Table) -> np.ndarray:
    """Positions (ascending) where a row of `current` equals the row of `prior` at the same position in every
    column, nulls equal to nulls; none when a column's type is not one compared in place or the types differ."""
    n = min(current.num_rows, prior.num_rows)
    if any(
        prior.schema.field(f.name).type != f.type or not any(t(f.type) for t in _IN_PLACE_TYPES) for f in current.schema
    ):
        return np.zeros(0, dtype=np.int64)
    same = np.ones(n, dtype=bool)
    for name in current.column_names:
        a, b = current[name].slice(0, n), prior[name].slice(0, n)
        equal = pc.fill_null(pc.equal(a, b), False)
        both_null = pc.and_(pc.is_null(a), pc.is_null(b))
        same &= pc.or_(equal, both_null).to_numpy(zero_copy_only=False)
    return np.flatnonzero(same)


def assemble(
    raw: pa.Table, shape: EntityShape, matched: np.ndarray, previous: pa.Table, fresh: pa.Table
) -> pa.Table | None:
    """The landed table: copied columns from `raw`, made columns from `previous` (the previous landing's made
    columns, at `matched`) where a row matched, else from `fresh` (the boundary's landing of the unmatched rows, in
    order). Columns in `fresh`'s order and types; None when the previous landing's types differ (land anew)."""
    reused = matched >= 0
    position = np.where(reused, matched, previous.num_rows + np.cumsum(~reused) - 1)
    take = pa.array(position, pa.int64())
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    for field in fresh.schema:
        if field.name in shape.copied:
            columns[field.name] = raw[shape.copied[field.name]]
            continue
        if field.name not in previous.column_names or previous.schema.field(field.name).type != field.type:
            return None
        columns[field.name] = pa.chunked_array(previous[field.name].chunks + fresh[field.name].chunks).take(take)
    return pa.table(columns, schema=fresh.schema)


@dataclass(frozen=True)
class CopiedRows:
    """Which values of a landed file are copies of an earlier landed file's: in `columns` (the made columns, and kept
    columns copied from an input column), every row but those at `fresh_rows` (positions in the landed file,
    ascending) holds a value of `source`. The landing check need not scan those again when `source` was scanned
    clean under the same question (governance/identifier_scan.py)."""

    source: Path
    columns: frozenset[str]
    fresh_rows: np.ndarray


@dataclass(frozen=True)
class Previous:
    """A landing of the same source made under the same context, and the raw delivery it was made from."""

    delivery_id: str
    raw_dir: Path
    landed_dir: Path
    raw_sha256: dict[str, str]  # entity -> SHA-256 of the raw Parquet file it was landed from

    def usable(self, entity: str) -> bool:
        """Whether this landing of `entity` can be reused: landed, and its raw file still the one it was made from."""
        raw = self.raw_dir / f"{entity}.parquet"
        landed = self.landed_dir / f"{entity}.parquet"
        recorded = self.raw_sha256.get(entity)
        return bool(recorded) and raw.exists() and landed.exists() and file_sha256(raw) == recorded


def previous_landings(landing_dir: Path, raw_dir: Path, context: str) -> list[Previous]:
    """The landings in `landing_dir` (one source's folder) made under `context` whose raw delivery is still in
    `raw_dir` (the same source's raw folder), latest delivery first: each entity reuses the first one still usable."""
    if not landing_dir.is_dir():
        return []
    found = []
    for folder in sorted((p for p in landing_dir.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True):
        report_path = folder / "_landing.json"
        if folder.name.startswith(".") or not report_path.exists():
            continue
        try:
            report = json.loads(report_path.read_text())
        except (OSError, ValueError):
            continue
        if report.get("context") != context or not (raw_dir / folder.name).is_dir():
            continue
        shas = {e: f.get("raw_sha256", "") for e, f in report.get("entities", {}).items()}
        found.append(Previous(folder.name, raw_dir / folder.name, folder, shas))
    return found
