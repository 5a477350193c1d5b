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
from collections.abc import Collection
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hubcore.durable import sync_folder, sync_tree
from linkage.address.parse import parsed_from_parts
from linkage.address.resolve import BagIndex, Match, resolve, resolve_text
from linkage.companies import normalise_party_name
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


# The entities that carry an address, and the columns their resolution reads: only these become Python values, so
# an entity without an address (7 million consumption rows) passes the boundary as columns only.
ADDRESS_INPUTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("brp", "verblijfplaats_historie"): (
        "verblijfsobject_id",
        "nummeraanduiding_id",
        "straatnaam",
        "huisnummer",
        "huisletter",
        "huisnummertoevoeging",
        "postcode",
    ),
    ("stedin", "aansluiting"): (
        "bag_vbo_id",
        "straatnaam",
        "huisnummer",
        "huisletter",
        "huisnummertoevoeging",
        "postcode",
    ),
    ("corporaties", "eenheid"): (
        "verblijfsobject_id",
        "straatnaam",
        "huisnummer",
        "huisletter",
        "huisnummertoevoeging",
        "postcode",
    ),
    ("brk", "kadastraal_object_adres"): ("verblijfsobject_id", "nummeraanduiding_id"),
    ("meldpunten", "melding"): ("adres_tekst", "straatnaam", "huisnummer", "huisletter", "toevoeging", "postcode"),
    ("meldpunten", "zaak"): ("adres_tekst", "bag_vbo_id"),
    ("meldpunten", "vergunning"): ("adres_tekst", "bag_vbo_id"),
}


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
    """The BAG match of every row of an entity that has an address; None for entities without one."""
    if (source, entity) not in ADDRESS_INPUTS:
        return None
    col = table.select(list(ADDRESS_INPUTS[(source, entity)])).to_pydict()
    n = table.num_rows
    none = Match(None, None, 0.0, "unresolved", "no_bag_index")
    by_parts = _once(
        lambda street, nr, letter, toev, postcode: resolve(parsed_from_parts(street, nr, letter, toev, postcode), index)
    )
    by_text = _once(lambda text: resolve_text(text, index))
    bag_match = _once(_bag_match)

    def parts(street, nr, letter, toev, postcode) -> list[Match]:
        out = []
        for i in range(n):
            direct = None
            if source == "brp":
                direct = bag_match(col["verblijfsobject_id"][i], col["nummeraanduiding_id"][i])
            elif source == "stedin":
                direct = bag_match(col["bag_vbo_id"][i], None)
            elif source == "corporaties":
                direct = bag_match(col["verblijfsobject_id"][i], None)
            if direct:
                out.append(direct)
            elif index is None:
                out.append(none)
            elif col[street][i] is None and col[nr][i] is None:
                out.append(Match(None, None, 0.0, "unresolved", "no_address"))
            else:
                out.append(
                    by_parts(
                        col[street][i],
                        col[nr][i],
                        col[letter][i] if letter else None,
                        col[toev][i] if toev else None,
                        col[postcode][i],
                    )
                )
        return out

    def text(text_col: str, bag_col: str | None, fallback=None) -> list[Match]:
        out = []
        for i in range(n):
            direct = bag_match(col[bag_col][i], None) if bag_col else None
            if direct:
                out.append(direct)
                continue
            if index is None:
                out.append(none)
                continue
            m = by_text(col[text_col][i])
            if m.nummeraanduiding_id is None and fallback == "form" and col["huisnummer"][i] is not None:
                # the desk's form fields, where the free text did not resolve
                alt = by_parts(
                    col["straatnaam"][i],
                    col["huisnummer"][i],
                    col["huisletter"][i],
                    col["toevoeging"][i],
                    col["postcode"][i],
                )
                m = alt if alt.nummeraanduiding_id else m
            out.append(m)
        return out

    matches = _dispatch(source, entity, parts, text, col)
    if matches is not None and index is not None:
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


def _dispatch(source, entity, parts, text, col) -> list[Match] | None:
    if (source, entity) == ("brp", "verblijfplaats_historie"):
        return parts("straatnaam", "huisnummer", "huisletter", "huisnummertoevoeging", "postcode")
    if (source, entity) == ("stedin", "aansluiting"):
        return parts("straatnaam", "huisnummer", "huisletter", "huisnummertoevoeging", "postcode")
    if (source, entity) == ("corporaties", "eenheid"):
        return parts("straatnaam", "huisnummer", "huisletter", "huisnummertoevoeging", "postcode")
    if (source, entity) == ("brk", "kadastraal_object_adres"):
        return [
            _bag_match(v, nu) or Match(None, None, 0.0, "unresolved", "no_bag_id")
            for v, nu in zip(col["verblijfsobject_id"], col["nummeraanduiding_id"], strict=True)
        ]
    if (source, entity) == ("meldpunten", "melding"):
        return text("adres_tekst", None, "form")
    if (source, entity) in (("meldpunten", "zaak"), ("meldpunten", "vergunning")):
        return text("adres_tekst", "bag_vbo_id")
    return None


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
    """Columns made at the door before the policy applies: the owner's name as one normalised string."""
    if (source, entity) == ("brk", "persoon"):
        col = table.select(["statutaire_naam", "voornamen", "voorvoegsel", "geslachtsnaam"]).to_pydict()
        names = []
        for i in range(table.num_rows):
            if col["statutaire_naam"][i]:
                names.append(normalise_party_name(col["statutaire_naam"][i]))
            else:
                full = " ".join(x for x in (col["voornamen"][i], col["voorvoegsel"][i], col["geslachtsnaam"][i]) if x)
                names.append(normalise_party_name(full) if full else None)
        table = table.append_column("partij_naam", pa.array(names, pa.string()))
    if (source, entity) in (("meldpunten", "melding"), ("meldpunten", "zaak"), ("corporaties", "relatie")):
        column = {"melding": "verhuurder_genoemd", "zaak": "eigenaar_genoemd", "relatie": "naam"}[entity]
        normalised = [normalise_party_name(v) if v else None for v in table.column(column).to_pylist()]
        table = table.set_column(table.column_names.index(column), column, pa.array(normalised, pa.string()))
    return table


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
) -> dict[str, Any]:
    """Pseudonymise every entity of one raw delivery into `landing_root/<source>/<delivery_id>/`, atomically.

    `suppressed` are pseudonyms of erased persons (governance/restrictions.py): their rows of a non-registry source
    are left out (pseudonymisation/suppression.py), so a re-delivery does not bring them back; the identifiers of
    those rows (a reporter's name too) are not put in the vault, because the vault is filled after the rows are left
    out.
    """
    target = landing_root / source / delivery_id
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".landing-{uuid.uuid4().hex}"
    staging.mkdir()
    report: dict[str, Any] = {"source": source, "delivery_id": delivery_id, "entities": {}, "steps": []}
    suppressing = bool(suppressed) and source in NON_REGISTRY_SOURCES
    door = Boundary(boundary.keystore, None) if suppressing else boundary  # the vault gets only the rows that stay
    held: dict[str, tuple[pa.Table, pa.Table, list[ColumnStep]]] = {}
    try:
        for entity in entities:
            raw_path = raw_dir / f"{entity}.parquet"
            if not suppressing and pq.ParquetFile(raw_path).metadata.num_rows > batch_rows():
                figures, steps = _land_in_batches(door, raw_path, staging / f"{entity}.parquet", source, entity, index)
                report["entities"][entity] = figures
                report["steps"].extend(asdict(s) for s in steps)
                continue
            raw = pq.read_table(raw_path)
            landed, steps, stats = land_entity(door, raw, source, entity, index)
            report["entities"][entity] = {"rows_in": raw.num_rows, "rows_out": landed.num_rows, **stats}
            report["steps"].extend(asdict(s) for s in steps)
            if suppressing:
                landed = landed.append_column(_ROW, pa.array(range(landed.num_rows), pa.int64()))
                held[entity] = (raw, _with_old_versions(boundary, raw, landed, steps, suppressed), steps)
            else:
                pq.write_table(landed, staging / f"{entity}.parquet", compression="zstd")
        if held:
            kept, removed = suppress(source, {e: t for e, (_, t, _) in held.items()}, suppressed)
            for entity, landed in kept.items():
                raw, _, steps = held[entity]
                rows = landed[_ROW]
                landed = landed.drop_columns([c for c in landed.column_names if c == _ROW or OLD_VERSION_MARK in c])
                boundary.to_vault(raw.take(rows), landed, steps)
                pq.write_table(landed, staging / f"{entity}.parquet", compression="zstd")
                report["entities"][entity]["rows_out"] = landed.num_rows
            report["suppressed_rows"] = removed  # counts only: which persons stays in the suppression list
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
    writer: pq.ParquetWriter | None = None
    try:
        for batch in pq.ParquetFile(raw_path).iter_batches(batch_size=batch_rows()):
            landed, steps, stats = land_entity(door, pa.Table.from_batches([batch]), source, entity, index)
            if writer is None:
                writer = pq.ParquetWriter(out_path, landed.schema, compression="zstd")
            writer.write_table(landed)
            rows_in, rows_out = rows_in + batch.num_rows, rows_out + landed.num_rows
            addresses, resolved = addresses + stats.get("addresses", 0), resolved + stats.get("resolved", 0)
            has_addresses = "addresses" in stats
    finally:
        if writer is not None:
            writer.close()
    figures = {"rows_in": rows_in, "rows_out": rows_out}
    return {**figures, **_address_figures(addresses, resolved)} if has_addresses else figures, steps


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
    key = RECORD_KEYS[(source, entity)](landed)
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


RECORD_KEYS = {
    ("brp", "verblijfplaats_historie"): lambda t: _join_key(t["bsn_psn"], t["volgnummer"]),
    ("stedin", "aansluiting"): lambda t: t["ean_psn"],
    ("corporaties", "eenheid"): lambda t: t["eenheid_id"],
    ("brk", "kadastraal_object_adres"): lambda t: _join_key(t["kadastraal_object_id"], t["volgnummer"]),
    ("meldpunten", "melding"): lambda t: t["melding_id"],
    ("meldpunten", "zaak"): lambda t: t["zaak_id"],
    ("meldpunten", "vergunning"): lambda t: t["vergunning_id"],
}
