"""The privacy boundary: one raw delivery in, its pseudonymised landing form out, written atomically.

For each entity: addresses are resolved to BAG while they are still readable (the written address of a report is
encoded afterwards, the dwelling's BAG id is what the programme needs), derived columns are added (an owner's name as
one normalised string), then the policy is applied column by column and the result lands in
`landing/<source>/<delivery>/` in one rename. Identifiers are put in the vault as they are pseudonymised.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Collection
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from connectors.delivery import file_sha256
from connectors.overlapped_writer import OverlappedWriter
from connectors.registry import address_columns, party_name
from hubcore.durable import sync_folder, sync_tree
from linkage.address.parse import parsed_from_parts
from linkage.address.resolve import BagIndex, Match, resolve, resolve_text
from linkage.companies import normalise_party_name
from pseudonymisation import reuse
from pseudonymisation.policy import Boundary, ColumnStep
from pseudonymisation.pseudonyms import Pseudonymiser, parse_pseudonym
from pseudonymisation.suppression import NON_REGISTRY_SOURCES, OLD_VERSION_MARK, suppress

ADDRESS_COLUMNS = [
    "adres_nummeraanduiding_id",
    "adres_verblijfsobject_id",
    "adres_confidence",
    "adres_methode",
    "adres_onopgelost",
]


def _bag_match(vbo: str | None, num: str | None) -> Match | None:
    if vbo or num:
        return Match(num, vbo, 1.0, "bag_id", None)
    return None


def _once(fn):
    """`fn` with its results kept per argument tuple: an address written on many rows (every resident of a dwelling,
    every report about it) is resolved once per delivery. Resolution is a pure function of the text and the index."""
    done: dict = {}
    missing = object()

    def cached(*args):
        found = done.get(args, missing)
        if found is missing:
            found = done[args] = fn(*args)
        return found

    return cached


def _resolve_rows(table: pa.Table, source: str, entity: str, index: BagIndex | None) -> list[Match] | None:
    """The BAG match of every row of an entity that declares address columns (connectors/registry.py); None for
    entities without one. Only those columns become Python values, so an entity without an address (7 million
    consumption rows) passes the boundary as columns only."""
    roles = address_columns(source, entity)
    if roles is None:
        return None
    col = table.select(list(roles.columns)).to_pydict()
    n = table.num_rows

    def values(role: str | None) -> list:
        return col[role] if role else [None] * n

    vbo, num, text = values(roles.bag_vbo), values(roles.bag_num), values(roles.text)
    street, nr, letter = values(roles.street), values(roles.number), values(roles.letter)
    addition, postcode = values(roles.addition), values(roles.postcode)
    none = Match(None, None, 0.0, "unresolved", "no_bag_index")
    by_parts = _once(lambda *parts: resolve(parsed_from_parts(*parts), index))
    by_text = _once(lambda written: resolve_text(written, index))
    bag_match = _once(_bag_match)

    def row(i: int) -> Match:
        direct = bag_match(vbo[i], num[i])
        if direct:
            return direct
        if not roles.has_written_address:  # BAG ids only (BRK): what the source did not register stays unknown
            return Match(None, None, 0.0, "unresolved", "no_bag_id")
        if index is None:
            return none
        parts = (street[i], nr[i], letter[i], addition[i], postcode[i])
        if roles.text:
            found = by_text(text[i])
            if found.nummeraanduiding_id is None and nr[i] is not None:  # the split fields, where the text failed
                alt = by_parts(*parts)
                found = alt if alt.nummeraanduiding_id else found
            return found
        if street[i] is None and nr[i] is None:
            return Match(None, None, 0.0, "unresolved", "no_address")
        return by_parts(*parts)

    matches = [row(i) for i in range(n)]
    if index is not None:
        with_number = _once(
            lambda m: (
                Match(
                    index.num_of_vbo.get(m.verblijfsobject_id),
                    m.verblijfsobject_id,
                    m.confidence,
                    m.method,
                    m.unresolved_reason,
                )
                if m.nummeraanduiding_id is None and m.verblijfsobject_id
                else m
            )
        )
        matches = [with_number(m) for m in matches]
    return matches


def _with_matches(table: pa.Table, matches: list[Match]) -> pa.Table:
    return (
        table.append_column(
            "adres_nummeraanduiding_id", pa.array([m.nummeraanduiding_id for m in matches], pa.string())
        )
        .append_column("adres_verblijfsobject_id", pa.array([m.verblijfsobject_id for m in matches], pa.string()))
        .append_column("adres_confidence", pa.array([m.confidence for m in matches], pa.float64()))
        .append_column("adres_methode", pa.array([m.method for m in matches], pa.string()))
        .append_column("adres_onopgelost", pa.array([m.unresolved_reason for m in matches], pa.string()))
    )


def _derive(table: pa.Table, source: str, entity: str) -> pa.Table:
    """Columns made at the door before the policy applies: the party a record names, as one normalised string
    (the entity's `PartyName` in connectors/registry.py)."""
    party = party_name(source, entity)
    if party is None:
        return table
    if not party.parts:
        normalised = [normalise_party_name(v) if v else None for v in table.column(party.column).to_pylist()]
        return table.set_column(table.column_names.index(party.column), party.column, pa.array(normalised, pa.string()))
    col = table.select([party.statutory, *party.parts]).to_pydict()
    names = []
    for i in range(table.num_rows):
        if col[party.statutory][i]:
            names.append(normalise_party_name(col[party.statutory][i]))
        else:
            full = " ".join(x for x in (col[p][i] for p in party.parts) if x)
            names.append(normalise_party_name(full) if full else None)
    return table.append_column(party.column, pa.array(names, pa.string()))


def land_entity(
    boundary: Boundary, raw: pa.Table, source: str, entity: str, index: BagIndex | None
) -> tuple[pa.Table, list[ColumnStep], dict[str, Any]]:
    """The landing form of one raw entity table, the steps per column, and address-resolution figures."""
    stats: dict[str, Any] = {}
    matches = _resolve_rows(raw, source, entity, index)
    if matches is not None:
        raw = _with_matches(raw, matches)
        resolved = sum(1 for m in matches if m.nummeraanduiding_id or m.verblijfsobject_id)
        stats = _address_figures(len(matches), resolved)
    raw = _derive(raw, source, entity)
    landed, steps = boundary.apply_policy(raw, source, entity)
    return landed, steps, stats


def land_delivery_folder(
    boundary: Boundary,
    raw_dir: Path,
    landing_root: Path,
    source: str,
    delivery_id: str,
    entities: list[str],
    index: BagIndex | None,
    suppressed: Collection[str] = (),
    context: str | None = None,
    copied: dict[str, reuse.CopiedRows] | None = None,
) -> dict[str, Any]:
    """Pseudonymise every entity of one raw delivery into `landing_root/<source>/<delivery_id>/`, atomically.

    `suppressed` are pseudonyms of erased persons (governance/restrictions.py): their rows of a non-registry source
    are left out (pseudonymisation/suppression.py), so a re-delivery does not bring them back; the identifiers of
    those rows (a reporter's name too) are not put in the vault, because the vault is filled after the rows are left
    out.

    `context` names what else the landing depends on (key version, BAG delivery, erased persons: the caller's
    boundary context). With it, rows whose inputs are unchanged since the latest landing of this source under the
    same context (and the same policy and boundary code) are taken from that landing instead of passing the boundary
    again (pseudonymisation/reuse.py); the report records the context so the next delivery can do the same. Given
    `copied`, it is filled with which rows of each entity landed that way and from which file (what the landing
    check need not scan again).
    """
    target = landing_root / source / delivery_id
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".landing-{uuid.uuid4().hex}"
    staging.mkdir()
    report: dict[str, Any] = {"source": source, "delivery_id": delivery_id, "entities": {}, "steps": []}
    suppressing = bool(suppressed) and source in NON_REGISTRY_SOURCES
    door = Boundary(boundary.keystore, None) if suppressing else boundary  # the vault gets only the rows that stay
    held: dict[str, tuple[pa.Table, pa.Table, list[ColumnStep]]] = {}
    earlier: list[reuse.Previous] = []
    writes: list[OverlappedWriter] = []  # each entity's file is written while the next entity is landed

    def write(table: pa.Table, entity: str) -> None:
        writes.append(writer := OverlappedWriter(staging / f"{entity}.parquet", table.schema, compression="zstd"))
        writer.write_table(table)

    if context is not None:
        report["context"] = context = f"{context}|code:{reuse.code_fingerprint()}"
        if not suppressing:
            earlier = reuse.previous_landings(landing_root / source, raw_dir.parent, context)
    try:
        for entity in entities:
            raw_path = raw_dir / f"{entity}.parquet"
            reused = _land_reusing(door, raw_path, write, source, entity, index, earlier) if earlier else None
            if reused is not None:
                report["entities"][entity], steps, rows = reused
                if copied is not None:
                    copied[entity] = rows
                report["steps"].extend(asdict(s) for s in steps)
            elif not suppressing and pq.ParquetFile(raw_path).metadata.num_rows > batch_rows():
                figures, steps = _land_in_batches(door, raw_path, staging / f"{entity}.parquet", source, entity, index)
                report["entities"][entity] = figures
                report["steps"].extend(asdict(s) for s in steps)
            else:
                raw = pq.read_table(raw_path)
                landed, steps, stats = land_entity(door, raw, source, entity, index)
                report["entities"][entity] = {"rows_in": raw.num_rows, "rows_out": landed.num_rows, **stats}
                report["steps"].extend(asdict(s) for s in steps)
                if suppressing:
                    landed = landed.append_column(_ROW, pa.array(range(landed.num_rows), pa.int64()))
                    held[entity] = (raw, _with_old_versions(boundary, raw, landed, steps, suppressed), steps)
                else:
                    write(landed, entity)
            if context is not None and not suppressing and reuse.worth_reusing(source, entity, raw_path):
                report["entities"][entity]["raw_sha256"] = file_sha256(raw_path)  # what a next landing checks
        if held:
            kept, removed = suppress(source, {e: t for e, (_, t, _) in held.items()}, suppressed)
            for entity, landed in kept.items():
                raw, _, steps = held[entity]
                rows = landed[_ROW]
                landed = landed.drop_columns([c for c in landed.column_names if c == _ROW or OLD_VERSION_MARK in c])
                boundary.to_vault(raw.take(rows), landed, steps)
                write(landed, entity)
                report["entities"][entity]["rows_out"] = landed.num_rows
            report["suppressed_rows"] = removed  # counts only: which persons stays in the suppression list
        for writer in writes:
            writer.close()
        (staging / "_landing.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
        sync_tree(staging)  # on the disk before the rename: a power cut leaves the old landing or the new one
        old = None
        if target.exists():
            old = target.parent / f".old-{uuid.uuid4().hex}"
            os.rename(target, old)
        os.rename(staging, target)
        sync_folder(target.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        for writer in writes:
            writer.abort()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report


_ROW = "__row"  # a landed row's place in its raw table, while erased persons' rows are left out
BATCH_ROWS = 500_000  # rows per batch of a large entity (RGW_BATCH_ROWS): what bounds the landing's memory


def batch_rows() -> int:
    return int(os.environ.get("RGW_BATCH_ROWS", BATCH_ROWS))


def _address_figures(addresses: int, resolved: int) -> dict[str, Any]:
    return {
        "addresses": addresses,
        "resolved": resolved,
        "unresolved_share": round(1 - resolved / addresses, 4) if addresses else 0.0,
    }


def _land_in_batches(
    door: Boundary, raw_path: Path, out_path: Path, source: str, entity: str, index: BagIndex | None
) -> tuple[dict[str, Any], list[ColumnStep]]:
    """Land a large entity batch by batch (every step of the boundary is row by row), so memory is bounded by the
    batch, not by the delivery: 7 million consumption rows never sit in memory at once. The rows, their order and
    every value are those of landing the table whole."""
    rows_in = rows_out = addresses = resolved = 0
    has_addresses = False
    steps: list[ColumnStep] = []
    writer: OverlappedWriter | None = None  # a batch is written while the next one passes the boundary
    try:
        for batch in pq.ParquetFile(raw_path).iter_batches(batch_size=batch_rows()):
            landed, steps, stats = land_entity(door, pa.Table.from_batches([batch]), source, entity, index)
            if writer is None:
                writer = OverlappedWriter(out_path, landed.schema, compression="zstd")
            writer.write_table(landed)
            rows_in, rows_out = rows_in + batch.num_rows, rows_out + landed.num_rows
            addresses, resolved = addresses + stats.get("addresses", 0), resolved + stats.get("resolved", 0)
            has_addresses = "addresses" in stats
    finally:
        if writer is not None:
            writer.close()
    figures = {"rows_in": rows_in, "rows_out": rows_out}
    return {**figures, **_address_figures(addresses, resolved)} if has_addresses else figures, steps


def _land_reusing(
    door: Boundary,
    raw_path: Path,
    write: Callable[[pa.Table, str], None],
    source: str,
    entity: str,
    index: BagIndex | None,
    earlier: list[reuse.Previous],
) -> tuple[dict[str, Any], list[ColumnStep], reuse.CopiedRows] | None:
    """Land one entity taking the made columns of unchanged rows from the latest of the `earlier` landings still
    usable (pseudonymisation/reuse.py); only new and changed rows pass the boundary (and the vault: the earlier
    landing put the others there under the same key). None when reuse does not apply: an entity without per-row
    work, no earlier landing made from the raw file still there, or one of another shape; then the entity is landed
    as usual."""
    if not reuse.worth_reusing(source, entity, raw_path):
        return None
    previous = next((p for p in earlier if p.usable(entity)), None)
    if previous is None:
        return None
    schema, prev_raw = pq.read_schema(raw_path), previous.raw_dir / f"{entity}.parquet"
    shape, prev_schema = reuse.entity_shape(source, entity, schema), pq.read_schema(prev_raw)
    if any(c not in prev_schema.names or prev_schema.field(c) != schema.field(c) for c in shape.inputs):
        return None  # the connector's schema changed: values are not comparable
    raw = pq.read_table(raw_path)
    try:  # the earlier delivery may be removed meanwhile (retention): then this one is landed as usual
        made = pq.read_table(previous.landed_dir / f"{entity}.parquet", columns=list(shape.made))
        matched = reuse.match_rows(prev_raw, raw.select(list(shape.inputs)))
    except (OSError, pa.ArrowInvalid, KeyError, duckdb.Error):
        return None
    fresh, steps, _ = land_entity(door, raw.filter(pa.array(matched < 0)), source, entity, index)
    landed = reuse.assemble(raw, shape, matched, made, fresh)
    if landed is None:
        return None
    write(landed, entity)
    figures: dict[str, Any] = {"rows_in": raw.num_rows, "rows_out": landed.num_rows}
    if "adres_methode" in landed.column_names:
        found = pc.or_(pc.is_valid(landed[ADDRESS_COLUMNS[0]]), pc.is_valid(landed[ADDRESS_COLUMNS[1]]))
        figures.update(_address_figures(landed.num_rows, int(pc.sum(pc.cast(found, pa.int64())).as_py() or 0)))
    figures["rows_reused"] = int((matched >= 0).sum())
    figures["reused_from"] = previous.delivery_id
    # What a matched row holds as the earlier landing did: the made columns (taken from it) and the kept columns
    # copied from an input column (equal inputs, so the same value the earlier landing copied).
    taken = frozenset(c for c in landed.column_names if c not in shape.copied or shape.copied[c] in shape.inputs)
    rows = reuse.CopiedRows(previous.landed_dir / f"{entity}.parquet", taken, np.flatnonzero(matched < 0))
    return figures, steps, rows


def _with_old_versions(
    boundary: Boundary, raw: pa.Table, landed: pa.Table, steps: list[ColumnStep], suppressed: Collection[str]
) -> pa.Table:
    """`landed` with, for every key version of an erased person's pseudonym other than the current one, its
    pseudonym columns made again under that version (`bsn_psn@v1`), so an erasure made before a key rotation still
    matches: the erased identifiers themselves are gone, but the raw delivery holds them again and the key ring keeps
    every version."""
    current = boundary.keystore.version
    versions = {v for v in (parse_pseudonym(p) for p in suppressed) if v and v[1] != current}
    for version in sorted({v for _, v in versions}):
        for step in steps:
            if step.action == "pseudonymise" and step.output in landed.column_names:
                old = Pseudonymiser(boundary.keystore, step.argument, version=version)
                name = f"{step.output}{OLD_VERSION_MARK}{version}"
                landed = landed.append_column(name, old.pseudonymise_array(raw.column(step.column)))
    return landed


def address_link_rows(landed: pa.Table, source: str, entity: str) -> pa.Table | None:
    """(source, entity, record_key, ids, confidence, method, reason) of a landed table with address columns."""
    if "adres_methode" not in landed.column_names:
        return None
    key = record_key(landed, address_columns(source, entity).record_key)
    return pa.table(
        {
            "source": pa.array([source] * landed.num_rows, pa.string()),
            "entity": pa.array([entity] * landed.num_rows, pa.string()),
            "record_key": key,
            "nummeraanduiding_id": landed["adres_nummeraanduiding_id"],
            "verblijfsobject_id": landed["adres_verblijfsobject_id"],
            "confidence": landed["adres_confidence"],
            "method": landed["adres_methode"],
            "unresolved_reason": landed["adres_onopgelost"],
        }
    )


def _join_key(*columns: pa.ChunkedArray) -> pa.Array:
    return pc.binary_join_element_wise(*[pc.cast(c, pa.string()) for c in columns], "|")


def record_key(landed: pa.Table, columns: tuple[str, ...]) -> pa.Array | pa.ChunkedArray:
    """The key a landed row carries into linkage/address_links: its declared key column, or several joined by "|"."""
    return landed[columns[0]] if len(columns) == 1 else _join_key(*(landed[c] for c in columns))
