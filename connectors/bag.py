"""BAG connector: an LVBAG 2.0 extract (a zip, zips nested in a zip, a folder of XML files or one XML file).

Files are streamed one `bagObject` at a time (`connectors/bag_xml.py`); objects are routed by their element
(Nummeraanduiding, Verblijfsobject, ...), so Kadaster's `0599NUM01112026-000001.xml` and GDAL's `num.xml` read alike,
and both the v20200601 namespaces and the older v20180601 ones are understood.

Only the current voorkomen (version) of each object lands: the one without eindGeldigheid, else the one with the
latest beginGeldigheid (ties: the highest voorkomenidentificatie). Objects whose status says they ended (ingetrokken,
niet gerealiseerd) are current versions like any other and are kept with that status. Versions need not be adjacent
in a file, or even in one file: `CurrentVersions` keeps a dict id -> best version so far (under 1 kB per object) and
writes it out as a sorted run when the objects held over all types pass `max_objects_in_memory`; the runs are merged
at the end, so memory stays bounded whatever the size of the extract.

History: the current version carries the other values its object's earlier versions had of one field, the
postcode of a nummeraanduiding (`historic_postcodes`) and the name of an openbare ruimte (`historic_names`), so the
address resolver can recognise an old postcode or street name without landing the versions themselves.

Counting (how `records_in == clean + quarantined` reconciles): a superseded version is history, not a record lost.
An entity's `records_in` counts each object once (its current version lands clean or goes to quarantine), plus every
version that is quarantined before versions are compared: no or an invalid identificatie, an unreadable
voorkomenidentificatie, or a second copy of a version already seen (same identificatie and voorkomenidentificatie:
reason `duplicate`). The versions left out as superseded are counted per entity in `info["superseded_versions"]`;
`info["versions_read"]` = records_in + superseded_versions.

A verblijfsobject whose hoofdadres is not among the clean nummeraanduidingen of the delivery is not quarantined
(partial extracts are normal) but counted in `info["vbo_without_hoofdadres_in_delivery"]`.
"""

from __future__ import annotations

import gc
import heapq
import pickle
import shutil
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from connectors.bag_parallel import choose_workers, read_parts_in_processes, split_entities
from connectors.bag_xml import (
    CURRENT_NAMESPACE_VERSION,
    ENTITIES,
    RECORD_KEYS,
    ParseStats,
    entities_of_kinds,
    iter_bag_objects,
    iter_xml_files,
    read_extract_date,
)
from connectors.delivery import DeliveryError, DeliveryResult, EntityBatch, EntityCollector, SchemaDrift, Staging
from connectors.identifiers import is_valid_bag_id, normalise_postcode, parse_iso_date
from connectors.snapshots import require_records

__all__ = ["SCHEMAS", "CurrentVersions", "bag_extract_date", "iter_bag_objects", "read_bag"]

SOURCE = "bag"
LIST = pa.list_(pa.string())
_TAIL = [("status", pa.string()), ("begin_geldigheid", pa.string())]
_REF = [("source_file", pa.string()), ("record_ref", pa.string())]


def _plaats_schema(id_column: str) -> pa.Schema:
    return pa.schema(
        [
            (id_column, pa.string()),
            ("hoofdadres_id", pa.string()),
            ("nevenadres_ids", LIST),
            ("status", pa.string()),
            ("x", pa.float64()),
            ("y", pa.float64()),
            ("begin_geldigheid", pa.string()),
            *_REF,
        ]
    )


SCHEMAS: dict[str, pa.Schema] = {
    "nummeraanduiding": pa.schema(
        [
            ("nummeraanduiding_id", pa.string()),
            ("huisnummer", pa.int32()),
            ("huisletter", pa.string()),
            ("huisnummertoevoeging", pa.string()),
            ("postcode", pa.string()),
            ("type_adresseerbaar_object", pa.string()),
            ("openbare_ruimte_id", pa.string()),
            ("woonplaats_id", pa.string()),
            *_TAIL,
            ("historic_postcodes", LIST),
            *_REF,
        ]
    ),
    "verblijfsobject": pa.schema(
        [
            ("verblijfsobject_id", pa.string()),
            ("hoofdadres_id", pa.string()),
            ("nevenadres_ids", LIST),
            ("pand_ids", LIST),
            ("gebruiksdoelen", LIST),
            ("oppervlakte", pa.int32()),
            ("status", pa.string()),
            ("x", pa.float64()),
            ("y", pa.float64()),
            ("begin_geldigheid", pa.string()),
            *_REF,
        ]
    ),
    "pand": pa.schema([("pand_id", pa.string()), ("oorspronkelijk_bouwjaar", pa.int32()), *_TAIL, *_REF]),
    "openbare_ruimte": pa.schema(
        [
            ("openbare_ruimte_id", pa.string()),
            ("naam", pa.string()),
            ("verkorte_naam", pa.string()),
            ("type", pa.string()),
            ("woonplaats_id", pa.string()),
            *_TAIL,
            ("historic_names", LIST),
            *_REF,
        ]
    ),
    "woonplaats": pa.schema([("woonplaats_id", pa.string()), ("naam", pa.string()), *_TAIL, *_REF]),
    "ligplaats": _plaats_schema("ligplaats_id"),
    "standplaats": _plaats_schema("standplaats_id"),
}
ID_COLUMN = {entity: schema.names[0] for entity, schema in SCHEMAS.items()}
ELEMENT_NAME = {
    "nummeraanduiding": "Nummeraanduiding",
    "verblijfsobject": "Verblijfsobject",
    "pand": "Pand",
    "openbare_ruimte": "OpenbareRuimte",
    "woonplaats": "Woonplaats",
    "ligplaats": "Ligplaats",
    "standplaats": "Standplaats",
}
MAX_VOORKOMEN = 99_999
# Entries per pickled chunk of a spilled run. The merge holds one chunk of every run at once, and the runs grow in
# number with the extract (a national extract spills some 100 runs per entity in each of three processes, whose
# budgets are a third each): at 4,096 entries the three processes together grew by some 140 MB per million
# addresses (2.1 GB at 9.9 million by the line), at 1,024 the merge holds about 70 MB per process nationally.
RUN_CHUNK = 1_024
# The field whose earlier values are kept with the current version (`historic_postcodes`, `historic_names`): people
# and registries keep writing a postcode or a street name for years after BAG changed it.
HISTORY_FIELD = {"nummeraanduiding": "postcode", "openbare_ruimte": "naam"}
# Values repeated across many objects (codes, dates, street and woonplaats ids) are interned while held, which
# roughly halves the memory of the version dict.
_INTERNED = ("status", "begin_geldigheid", "eind_geldigheid", "type_adresseerbaar_object", "openbare_ruimte_id")
_INTERNED += ("woonplaats_id", "postcode", "type")
_INTERNED_OF = {entity: (*(k for k in _INTERNED if k in keys), "source_file") for entity, keys in RECORD_KEYS.items()}
_LIST_KEYS_OF = {
    entity: tuple(k for k in keys if k in ("nevenadres_ids", "pand_ids", "gebruiksdoelen"))
    for entity, keys in RECORD_KEYS.items()
}


class Rejected(Exception):
    """A record that fails a check: the XML element it concerns, the reason code and a reason without values."""

    def __init__(self, field: str, reason_code: str, reason: str):
        super().__init__(reason)
        self.field = field
        self.reason_code = reason_code
        self.reason = reason


# ---------------------------------------------------------------------------------------------------------------
# Picking the current version of every object.
# ---------------------------------------------------------------------------------------------------------------


class CurrentVersions:
    """Per object id the best version seen so far, in a dict id -> [no_end, begin, voorkomen, seen, record, history].

    `seen` is a bit mask of the voorkomenidentificaties met, so a second copy of any version (current or not) is
    caught and handed to `on_duplicate`; the first copy counts. The record is held as a tuple of the parsed dict's
    values (same key order for every object of an entity), repeated strings interned: about 600 bytes per
    nummeraanduiding and 900 per verblijfsobject, measured. `history` is None, or the distinct values of the
    entity's HISTORY_FIELD over its versions once they differ (a tuple; rarely more than two). Beyond `max_objects`
    the dict is written to `spill_dir` as a run sorted by id and emptied; `current()` merges the runs, so memory
    stays bounded by `max_objects`.
    """

    def __init__(self, on_duplicate: Callable[[dict[str, Any]], None], spill_dir: Path, max_objects: int = 300_000):
        self.on_duplicate = on_duplicate
        self.spill_dir = spill_dir
        self.max_objects = max_objects
        self.best: dict[str, list[Any]] = {}
        self.keys: tuple[str, ...] | None = None
        self.runs: list[Path] = []
        self.history_at: int | None = None
        self.versions = 0
        self.duplicates = 0
        self.objects = 0

    def __len__(self) -> int:
        return len(self.best)

    @property
    def superseded(self) -> int:
        return self.versions - self.duplicates - self.objects

    def offer(self, rec: dict[str, Any]) -> None:
        """Take one version (identificatie and voorkomenidentificatie already checked)."""
        if self.keys is None:
            self.keys = tuple(rec)
            field = HISTORY_FIELD.get(rec["entity"])
            self.history_at = self.keys.index(field) if field else None
        self.versions += 1
        ident = rec["id"]
        v = rec["voorkomen_id"]
        bit = 1 << v if v is not None else 0
        entry = self.best.get(ident)
        if entry is None:
            self.best[ident] = [
                rec["eind_geldigheid"] is None,
                rec["begin_geldigheid"] or "",
                v or 0,
                bit,
                _pack(rec),
                None,
            ]
            if len(self.best) > self.max_objects:
                self.spill()
            return
        if self.history_at is not None:  # every value delivered counts, a second copy's too: order-independent
            value = rec[self.keys[self.history_at]]
            if value != entry[4][self.history_at]:
                entry[5] = _union(entry[5], (value, entry[4][self.history_at]))
        if entry[3] & bit:
            self.duplicates += 1
            self.on_duplicate(rec)
            return
        entry[3] |= bit
        rank = (rec["eind_geldigheid"] is None, rec["begin_geldigheid"] or "", v or 0)
        if rank > (entry[0], entry[1], entry[2]):
            entry[0], entry[1], entry[2], entry[4] = rank[0], rank[1], rank[2], _pack(rec)

    def spill(self) -> None:
        """Write the dict out as one run sorted by id (pickled chunks) and start afresh."""
        self.spill_dir.mkdir(parents=True, exist_ok=True)
        run = self.spill_dir / f"run-{id(self)}-{len(self.runs)}.pickle"
        items = sorted(self.best.items(), key=itemgetter(0))
        self.best = {}
        with open(run, "wb") as f:
            for start in range(0, len(items), RUN_CHUNK):
                pickle.dump(items[start : start + RUN_CHUNK], f, protocol=pickle.HIGHEST_PROTOCOL)
        self.runs.append(run)

    def current(self) -> Iterator[dict[str, Any]]:
        """The current version of every object, as the parsed dict, in id order."""
        if self.keys is None:
            return
        if self.runs:
            if self.best:
                self.spill()
            entries: Iterator[tuple[str, list[Any]]] = self._merged()
        else:
            entries = iter(sorted(self.best.items(), key=itemgetter(0)))
            self.best = {}
        keys = self.keys
        for _ident, entry in entries:
            self.objects += 1
            rec = dict(zip(keys, entry[4], strict=True))
            if self.history_at is not None:
                current = entry[4][self.history_at]
                rec["history"] = sorted({v for v in entry[5] or () if v and v != current})
            yield rec
        for run in self.runs:
            run.unlink(missing_ok=True)

    def _merged(self) -> Iterator[tuple[str, list[Any]]]:
        """Merge the sorted runs (earlier runs first for equal ids), combining the entries of an id met in several."""
        streams = [_read_run(run) for run in self.runs]
        pending: tuple[str, list[Any]] | None = None
        for ident, entry in heapq.merge(*streams, key=itemgetter(0)):
            if pending is not None and pending[0] == ident:
                pending = (ident, self._combine(ident, pending[1], entry))
                continue
            if pending is not None:
                yield pending
            pending = (ident, entry)
        if pending is not None:
            yield pending

    def _combine(self, ident: str, a: list[Any], b: list[Any]) -> list[Any]:
        """One object's entries from an earlier run (a) and a later one (b).

        A voorkomen in both is a second copy, and the later copy is the duplicate: b's best version when that is the
        one repeated (its record is at hand, and it drops out of the comparison), else a version b had already set
        aside, of which only the fact is left to quarantine.
        """
        keys = self.keys or ()
        b_record = dict(zip(keys, b[4], strict=True))
        overlap = a[3] & b[3]
        b_is_copy = bool(overlap >> b[2] & 1) if b[3] else False
        while overlap:
            v = overlap.bit_length() - 1
            overlap &= ~(1 << v)
            self.duplicates += 1
            if b_is_copy and v == b[2]:
                self.on_duplicate(b_record)
            else:
                self.on_duplicate(
                    {
                        "id": ident,
                        "entity": b_record.get("entity"),
                        "voorkomen_id": v,
                        "source_file": b_record["source_file"],
                        "record_ref": f"voorkomen {v} (a second copy met after other versions; its line is not kept)",
                    }
                )
        best = a if b_is_copy or (a[0], a[1], a[2]) >= (b[0], b[1], b[2]) else b
        history = _union(a[5], b[5])
        if self.history_at is not None and a[4][self.history_at] != b[4][self.history_at]:
            history = _union(history, (a[4][self.history_at], b[4][self.history_at]))
        return [best[0], best[1], best[2], a[3] | b[3], best[4], history]


def _union(a: tuple[Any, ...] | None, b: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
    """The distinct values of two histories (None for none), order kept."""
    if not b:
        return a
    return tuple(dict.fromkeys(v for v in (*(a or ()), *b) if v is not None)) or None


def _pack(rec: dict[str, Any]) -> tuple[Any, ...]:
    """The record as a tuple of its values: repeated strings interned, lists as tuples (the empty one is shared)."""
    entity = rec["entity"]
    for key in _INTERNED_OF[entity]:
        value = rec[key]
        if value.__class__ is str:
            rec[key] = sys.intern(value)
    for key in _LIST_KEYS_OF[entity]:
        rec[key] = tuple(map(sys.intern, rec[key]))
    return tuple(rec.values())


def _read_run(run: Path) -> Iterator[tuple[str, list[Any]]]:
    with open(run, "rb") as f:
        while True:
            try:
                chunk = pickle.load(f)
            except EOFError:
                return
            yield from chunk


# ---------------------------------------------------------------------------------------------------------------
# Checks on the current version, per entity.
# ---------------------------------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _bag_ref(value: Any, kind: str, element: str, required: bool = False) -> str | None:
    ref = _text(value)
    if ref is None:
        if required:
            raise Rejected(element, "missing_required", f"{element} is missing")
        return None
    if not is_valid_bag_id(ref, kind):
        raise Rejected(element, "invalid_bag_id", f"{element} is not a valid {kind} id")
    return ref


def _bag_refs(values: Iterable[Any], kind: str, element: str) -> list[str]:
    return [ref for ref in (_bag_ref(v, kind, element) for v in values) if ref is not None]


def _whole_number(value: Any, element: str, low: int, high: int) -> int | None:
    text = _text(value)
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise Rejected(element, "invalid_number", f"{element} is not a whole number from {low} to {high}")
    return int(text)


def _iso_date(value: Any) -> str:
    """beginGeldigheid as YYYY-MM-DD; `date.fromisoformat` first, as it is many times faster than the general parser."""
    text = _text(value)
    if text is None:
        raise Rejected("beginGeldigheid", "missing_required", "voorkomen without beginGeldigheid")
    if len(text) == 10:
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            pass
    parsed = parse_iso_date(text)
    if parsed is None:
        raise Rejected("beginGeldigheid", "invalid_date", "beginGeldigheid is not an ISO date")
    return parsed.iso() or text


def _common(rec: dict[str, Any], entity: str) -> dict[str, Any]:
    return {
        ID_COLUMN[entity]: rec["id"],
        "status": rec["status"],
        "begin_geldigheid": _iso_date(rec["begin_geldigheid"]),
        "source_file": rec["source_file"],
        "record_ref": rec["record_ref"],
    }


def _point(rec: dict[str, Any]) -> dict[str, Any]:
    if rec.get("geometrie_error") is not None:
        raise Rejected("geometrie", "invalid_number", "geometrie holds coordinates that are not numbers")
    return {"x": rec["x"], "y": rec["y"]}


def _nummeraanduiding(rec: dict[str, Any], row: dict[str, Any]) -> None:
    huisnummer = _whole_number(rec["huisnummer"], "huisnummer", 1, 99_999)
    if huisnummer is None:
        raise Rejected("huisnummer", "missing_required", "nummeraanduiding without huisnummer")
    postcode = rec["postcode"]
    if postcode is not None:
        postcode = normalise_postcode(postcode)
        if postcode is None:
            raise Rejected("postcode", "invalid_postcode", "postcode is not four digits (first not 0) and two letters")
    row["huisnummer"] = huisnummer
    row["huisletter"] = rec["huisletter"]
    row["huisnummertoevoeging"] = rec["huisnummertoevoeging"]
    row["postcode"] = postcode
    row["type_adresseerbaar_object"] = rec["type_adresseerbaar_object"]
    row["openbare_ruimte_id"] = _bag_ref(rec["openbare_ruimte_id"], "openbare_ruimte", "ligtAan", required=True)
    row["woonplaats_id"] = _bag_ref(rec["woonplaats_id"], "woonplaats", "ligtIn")
    earlier = (normalise_postcode(v) for v in rec.get("history") or ())
    row["historic_postcodes"] = sorted({v for v in earlier if v and v != postcode})  # an unreadable one is no help


def _adresseerbaar(rec: dict[str, Any], row: dict[str, Any]) -> None:
    row["hoofdadres_id"] = _bag_ref(rec["hoofdadres_id"], "nummeraanduiding", "heeftAlsHoofdadres", required=True)
    row["nevenadres_ids"] = _bag_refs(rec["nevenadres_ids"], "nummeraanduiding", "heeftAlsNevenadres")
    row.update(_point(rec))


def _verblijfsobject(rec: dict[str, Any], row: dict[str, Any]) -> None:
    _adresseerbaar(rec, row)
    row["pand_ids"] = _bag_refs(rec["pand_ids"], "pand", "maaktDeelUitVan")
    row["gebruiksdoelen"] = list(rec["gebruiksdoelen"])
    row["oppervlakte"] = _whole_number(rec["oppervlakte"], "oppervlakte", 1, 999_999)


def _pand(rec: dict[str, Any], row: dict[str, Any]) -> None:
    row["oorspronkelijk_bouwjaar"] = _whole_number(rec["oorspronkelijk_bouwjaar"], "oorspronkelijkBouwjaar", 1, 9999)


def _openbare_ruimte(rec: dict[str, Any], row: dict[str, Any]) -> None:
    naam = rec["naam"]
    if naam is None:
        raise Rejected("naam", "missing_required", "openbare ruimte without naam")
    row["naam"] = naam
    row["verkorte_naam"] = rec["verkorte_naam"]
    row["type"] = rec["type"]
    row["woonplaats_id"] = _bag_ref(rec["woonplaats_id"], "woonplaats", "ligtIn")
    row["historic_names"] = list(rec.get("history") or ())


def _woonplaats(rec: dict[str, Any], row: dict[str, Any]) -> None:
    naam = rec["naam"]
    if naam is None:
        raise Rejected("naam", "missing_required", "woonplaats without naam")
    row["naam"] = naam


_CHECKS: dict[str, Callable[[dict[str, Any], dict[str, Any]], None]] = {
    "nummeraanduiding": _nummeraanduiding,
    "verblijfsobject": _verblijfsobject,
    "pand": _pand,
    "openbare_ruimte": _openbare_ruimte,
    "woonplaats": _woonplaats,
    "ligplaats": _adresseerbaar,
    "standplaats": _adresseerbaar,
}


def validate_current(rec: dict[str, Any], entity: str) -> dict[str, Any]:
    """The output row for an object's current version, or `Rejected` naming the failing element."""
    row = _common(rec, entity)
    _CHECKS[entity](rec, row)
    return row


def _identity_problem(rec: dict[str, Any], entity: str) -> Rejected | None:
    """What must hold before versions can be compared: a valid identificatie and a usable voorkomenidentificatie."""
    ident = rec["id"]
    if not ident:
        return Rejected("identificatie", "missing_required", f"{ELEMENT_NAME[entity]} without identificatie")
    if not is_valid_bag_id(ident, entity):
        kind = "four digits" if entity == "woonplaats" else "16 digits with the object type in positions 5-6"
        return Rejected("identificatie", "invalid_bag_id", f"identificatie is not a {entity} id ({kind})")
    v = rec["voorkomen_id"]
    if v is not None and (v.__class__ is not int or not 1 <= v <= MAX_VOORKOMEN):
        return Rejected(
            "voorkomenidentificatie", "invalid_number", f"voorkomenidentificatie is not 1 to {MAX_VOORKOMEN}"
        )
    return None


# ---------------------------------------------------------------------------------------------------------------
# The extract date, from the delivery document.
# ---------------------------------------------------------------------------------------------------------------


def bag_extract_date(path: Path) -> str | None:
    """The extract's `StandTechnischeDatum` (ISO date) from Leveringsdocument-BAG-Extract.xml when the delivery has
    one, else from the `bagInfo` header of its first object file; None when neither says."""
    path = Path(path)
    document = _delivery_document(path)
    if document is not None:
        opener, name = document
        with opener() as stream:
            found = read_extract_date(stream, name)
        if found:
            return found
    files = iter_xml_files(path)
    try:
        first = next(files, None)
        return read_extract_date(first[1], first[0]) if first is not None else None
    finally:
        files.close()


def _delivery_document(path: Path) -> tuple[Callable[[], Any], str] | None:
    def is_document(name: str) -> bool:
        return Path(name).name.lower().startswith("leveringsdocument") and name.lower().endswith(".xml")

    if path.is_dir():
        docs = sorted(p for p in path.rglob("*") if p.is_file() and is_document(p.name))
        return (lambda: open(docs[0], "rb"), str(docs[0])) if docs else None
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                names = sorted(n for n in zf.namelist() if is_document(n))
        except zipfile.BadZipFile as exc:
            raise DeliveryError(path, "zip directory", f"not a readable zip archive (truncated?): {exc}") from exc
        if not names:
            return None
        return (lambda: _ZipMember(path, names[0]), f"{path}/{names[0]}")
    return (lambda: open(path, "rb"), str(path)) if is_document(path.name) else None


class _ZipMember:
    """One member of a zip as a context-managed binary stream (closing the archive with it)."""

    def __init__(self, path: Path, name: str):
        self.zf = zipfile.ZipFile(path)
        self.stream = self.zf.open(name)

    def __enter__(self) -> Any:
        return self.stream

    def __exit__(self, *exc: object) -> None:
        self.stream.close()
        self.zf.close()


# ---------------------------------------------------------------------------------------------------------------
# read_bag
# ---------------------------------------------------------------------------------------------------------------


def read_bag(
    path: Path,
    *,
    delivery_id: str | None = None,
    staging_root: Path | None = None,
    max_objects_in_memory: int = 300_000,
    entities: Iterable[str] | None = None,
    workers: int | None = None,
) -> DeliveryResult:
    """Read an LVBAG 2.0 extract into the current version of every object, one entity per object type.

    See the module docstring for the counting. `info` holds `extract_date`, `versions_read`, `superseded_versions`,
    `duplicate_versions` (all per entity), `vbo_without_hoofdadres_in_delivery`, `namespace_versions` and
    `files_without_objects`. `max_objects_in_memory` bounds the objects held (over all entities and processes)
    before sorted runs go to disk. `entities` limits the reading to those object types (files named for others are
    not opened; the others' tables are empty): the address table needs no panden, a third of a national extract.

    `workers`: 3 reads the object types in three processes (addresses, verblijfsobjecten, panden; `bag_parallel.py`),
    2 in two (the panden with the addresses), 1 in this one; None decides by the extract's size (`RGW_BAG_WORKERS`
    overrides). All land the same tables, quarantine, counts and info.
    """
    path = Path(path)
    if not path.exists():
        raise DeliveryError(path, "path", "no such file or folder")
    delivery_id = delivery_id or path.stem
    wanted = entities_of_kinds(entities)
    with Staging(staging_root) as staging_dir:
        extract_date = bag_extract_date(path)
        parts = split_entities(wanted, choose_workers(path, workers))
        outcome: PartOutcome | None = None
        if len(parts) > 1:
            outcome = read_parts_in_processes(path, staging_dir, parts, max_objects_in_memory)
            if outcome.strays(wanted):
                outcome = None  # a file named for one type holds another's objects: read in one process
        if outcome is None:
            outcome = read_part(path, staging_dir, wanted, ENTITIES, max_objects_in_memory, ".spill")
        if not outcome.stats.files:
            raise DeliveryError(path, "delivery", "no LVBAG object XML files in it (nothing to read)")
        # An LVBAG extract is a full snapshot; one object type may be empty (no ligplaatsen), all may not.
        require_records(
            sum(outcome.versions_read.values()), path, outcome.stats.files, "sl:standBestand", "no BAG object"
        )
        for spill in staging_dir.glob(".spill*"):
            shutil.rmtree(spill, ignore_errors=True)
        batches = {e: outcome.batches.get(e) or EntityCollector(e, SCHEMAS[e], staging_dir).finish() for e in ENTITIES}
        stats = outcome.stats
        info = {
            "extract_date": extract_date,
            "versions_read": outcome.versions_read,
            "superseded_versions": outcome.superseded,
            "duplicate_versions": outcome.duplicates,
            "vbo_without_hoofdadres_in_delivery": _vbo_without_hoofdadres(batches),
            "namespace_versions": sorted(stats.namespace_versions),
            "files_without_objects": stats.files_without_objects,
        }
        return DeliveryResult(
            source=SOURCE,
            delivery_id=delivery_id,
            files=stats.files,
            entities=batches,
            drift=_drift(stats),
            staging_dir=staging_dir,
            info=info,
        )


@dataclass
class PartOutcome:
    """What reading some object types landed: their batches, the version counts per entity and what the parser saw."""

    batches: dict[str, EntityBatch]
    versions_read: dict[str, int]
    superseded: dict[str, int]
    duplicates: dict[str, int]
    stats: ParseStats

    def strays(self, wanted: frozenset[str] | None) -> bool:
        """Whether objects of a wanted type were passed over in a file named for another type."""
        return any(wanted is None or e in wanted for e in self.stats.skipped_in_named_files)


def read_part(
    path: Path,
    staging_dir: Path,
    read: frozenset[str] | None,
    own: Iterable[str],
    max_objects: int,
    spill_name: str,
) -> PartOutcome:
    """Read the object types `read` (None: all) and land them; `own` are the entities whose batches this part writes
    (the ones read, or all of them in a one-process read, so the others come out empty)."""
    own = tuple(own)
    collectors = {e: EntityCollector(e, SCHEMAS[e], staging_dir) for e in own}
    try:
        stats = ParseStats()
        with _no_cyclic_gc():
            selectors, versions_read = _select_versions(
                path, collectors, staging_dir / spill_name, stats, max_objects, read
            )
            for entity, selector in selectors.items():
                _land_current(selector, entity, collectors[entity])
    except BaseException:
        for c in collectors.values():
            c.abort()
        raise
    return PartOutcome(
        batches={e: c.finish() for e, c in collectors.items()},
        versions_read=versions_read,
        superseded={e: s.superseded for e, s in selectors.items()},
        duplicates={e: s.duplicates for e, s in selectors.items()},
        stats=stats,
    )


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while reading: the version dict holds hundreds of thousands of lists and
    tuples, which every full collection would walk again (it doubled the time on the city-size extract). Nothing
    here forms reference cycles, so reference counting frees everything as before."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _select_versions(
    path: Path,
    collectors: dict[str, EntityCollector],
    spill_dir: Path,
    stats: ParseStats,
    max_objects: int,
    entities: Iterable[str] | None = None,
) -> tuple[dict[str, CurrentVersions], dict[str, int]]:
    """One pass over every file: check each version's identity, keep the best version per object (of the entities
    that have a collector)."""
    selectors = {e: CurrentVersions(_duplicate_handler(c), spill_dir, max_objects) for e, c in collectors.items()}
    versions_read = dict.fromkeys(ENTITIES, 0)
    held = 0
    for rec in iter_bag_objects(path, entities, stats=stats, tmp_dir=spill_dir.parent):
        entity = rec["entity"]
        versions_read[entity] += 1
        problem = _identity_problem(rec, entity)
        if problem is not None:
            _quarantine(collectors[entity], rec, problem)
            continue
        selectors[entity].offer(rec)
        held += 1
        if held >= 65_536:  # now and then: keep the objects held over all entities under the budget
            held = 0
            if sum(len(s) for s in selectors.values()) > max_objects:
                max(selectors.values(), key=len).spill()
    return selectors, versions_read


def _duplicate_handler(collector: EntityCollector) -> Callable[[dict[str, Any]], None]:
    def on_duplicate(rec: dict[str, Any]) -> None:
        _quarantine(
            collector,
            rec,
            Rejected(
                "voorkomenidentificatie",
                "duplicate",
                "this voorkomen of the object was already delivered (same identificatie and voorkomenidentificatie)",
            ),
        )

    return on_duplicate


def _quarantine(collector: EntityCollector, rec: dict[str, Any], problem: Rejected) -> None:
    collector.quarantine(
        file=rec["source_file"],
        record_ref=rec["record_ref"],
        field=problem.field,
        reason_code=problem.reason_code,
        reason=problem.reason,
        raw=rec,
    )


def _land_current(selector: CurrentVersions, entity: str, collector: EntityCollector, batch_rows: int = 50_000) -> None:
    """Validate each object's current version; clean rows go to the collector in column batches (`add_table`),
    which is some twenty times faster than handing it rows one dict at a time."""
    schema = SCHEMAS[entity]
    rows: list[dict[str, Any]] = []
    for rec in selector.current():
        try:
            rows.append(validate_current(rec, entity))
        except Rejected as problem:
            _quarantine(collector, rec, problem)
            continue
        if len(rows) >= batch_rows:
            collector.add_table(_to_table(rows, schema))
            rows = []
    if rows:
        collector.add_table(_to_table(rows, schema))


def _to_table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    return pa.table([pa.array([row[f.name] for row in rows], type=f.type) for f in schema], schema=schema)


def _vbo_without_hoofdadres(entities: dict[str, Any]) -> int:
    """Verblijfsobjecten whose hoofdadres is not among the clean nummeraanduidingen (an anti-join that DuckDB can
    spill, rather than a set of ten million ids in Python)."""
    vbo, num = entities["verblijfsobject"].clean_path, entities["nummeraanduiding"].clean_path
    con = duckdb.connect()
    try:
        (count,) = con.execute(
            "select count(*) from read_parquet(?) v anti join read_parquet(?) n "
            "on v.hoofdadres_id = n.nummeraanduiding_id where v.hoofdadres_id is not null",
            [str(vbo), str(num)],
        ).fetchone()
    finally:
        con.close()
    return int(count)


def _drift(stats: ParseStats) -> list[SchemaDrift]:
    """Elements the connector does not know, and objects in another namespace generation than LVBAG 2.0's."""
    drift = [
        SchemaDrift("extra", f"{ELEMENT_NAME[entity]}.{name}", "element not read by the connector")
        for entity, name in sorted(stats.unknown_elements)
    ]
    drift.extend(
        SchemaDrift("renamed", "namespace", f"objects delivered in the {version} namespaces, read as LVBAG 2.0")
        for version in sorted(stats.namespace_versions)
        if version != CURRENT_NAMESPACE_VERSION
    )
    return drift
