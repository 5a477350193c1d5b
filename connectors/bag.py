"""BAG connector: the LVBAG 2.0 extract (a zip, nested zips, a folder of XML files or one XML file).

The national extract holds 9.9 million addresses, so nothing is loaded whole: each XML file is streamed with
`lxml.etree.iterparse`, one `bagObject` at a time, and every version (voorkomen) is written to a Parquet file in the
staging folder in batches. A second pass in DuckDB (which spills to disk) keeps the current version of each object:
the one without eindGeldigheid, else the latest beginGeldigheid. Objects are routed by their XML element
(Nummeraanduiding, Verblijfsobject, ...), not by file name, so GDAL's `num.xml` and Kadaster's
`0599NUM01112026-000001.xml` read alike.

Counting: an entity's `records_in` counts objects (distinct identificaties) plus quarantined versions; versions
superseded by a later one of the same object are not records lost but history, and are counted in
`info["superseded_versions"]`.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from lxml import etree

from connectors.delivery import DeliveryError, DeliveryResult, EntityCollector, Staging
from connectors.identifiers import is_valid_bag_id, normalise_postcode

SOURCE = "bag"
NS_SL_BAG = "http://www.kadaster.nl/schemas/lvbag/extract-deelbestand-lvc/v20200601"
BAG_OBJECT_TAG = f"{{{NS_SL_BAG}}}bagObject"
_SKIP_FILES = re.compile(r"(leveringsdocument|relatie)", re.IGNORECASE)
_VERSION_FIELDS = [("voorkomen_id", pa.int32()), ("eind_geldigheid", pa.string())]
_COMMON = [("status", pa.string()), ("begin_geldigheid", pa.string())]
_TAIL = [("source_file", pa.string()), ("record_ref", pa.string())]
LIST = pa.list_(pa.string())

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
            *_COMMON,
            *_TAIL,
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
            ("x", pa.float64()),
            ("y", pa.float64()),
            *_COMMON,
            *_TAIL,
        ]
    ),
    "pand": pa.schema([("pand_id", pa.string()), ("oorspronkelijk_bouwjaar", pa.int32()), *_COMMON, *_TAIL]),
    "openbare_ruimte": pa.schema(
        [
            ("openbare_ruimte_id", pa.string()),
            ("naam", pa.string()),
            ("verkorte_naam", pa.string()),
            ("type", pa.string()),
            ("woonplaats_id", pa.string()),
            *_COMMON,
            *_TAIL,
        ]
    ),
    "woonplaats": pa.schema([("woonplaats_id", pa.string()), ("naam", pa.string()), *_COMMON, *_TAIL]),
    "ligplaats": pa.schema(
        [
            ("ligplaats_id", pa.string()),
            ("hoofdadres_id", pa.string()),
            ("nevenadres_ids", LIST),
            ("x", pa.float64()),
            ("y", pa.float64()),
            *_COMMON,
            *_TAIL,
        ]
    ),
    "standplaats": pa.schema(
        [
            ("standplaats_id", pa.string()),
            ("hoofdadres_id", pa.string()),
            ("nevenadres_ids", LIST),
            ("x", pa.float64()),
            ("y", pa.float64()),
            *_COMMON,
            *_TAIL,
        ]
    ),
}
ELEMENT_TO_ENTITY = {
    "Nummeraanduiding": "nummeraanduiding",
    "Verblijfsobject": "verblijfsobject",
    "Pand": "pand",
    "OpenbareRuimte": "openbare_ruimte",
    "Woonplaats": "woonplaats",
    "Ligplaats": "ligplaats",
    "Standplaats": "standplaats",
}
ID_KIND = {
    "nummeraanduiding": "nummeraanduiding",
    "verblijfsobject": "verblijfsobject",
    "pand": "pand",
    "openbare_ruimte": "openbare_ruimte",
    "woonplaats": "woonplaats",
    "ligplaats": "ligplaats",
    "standplaats": "standplaats",
}


def id_column(entity: str) -> str:
    return SCHEMAS[entity].names[0]


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _refs(el: etree._Element) -> list[str]:
    return [c.text.strip() for c in el if isinstance(c.tag, str) and c.text and c.text.strip()]


def _centroid(poslist: str, dim: int) -> tuple[float, float]:
    """Mean of the ring's vertices (closing vertex excluded): good enough to place a berth or pitch in a buurt."""
    values = [float(v) for v in poslist.split()]
    xs, ys = values[0::dim], values[1::dim]
    if len(xs) > 1 and xs[0] == xs[-1] and ys[0] == ys[-1]:
        xs, ys = xs[:-1], ys[:-1]
    return sum(xs) / len(xs), sum(ys) / len(ys)


def _geometry(el: etree._Element, row: dict[str, Any]) -> None:
    for node in el.iter():
        name = _local(node.tag)
        if name == "pos" and node.text:
            parts = node.text.split()
            row["x"], row["y"] = float(parts[0]), float(parts[1])
            return
        if name == "posList" and node.text:
            dim = next((int(a.get("srsDimension")) for a in node.iterancestors() if a.get("srsDimension")), 2)
            row["x"], row["y"] = _centroid(node.text, int(node.get("srsDimension") or dim))
            return


def parse_object(obj: etree._Element) -> dict[str, Any]:
    """Turn one Objecten:* element into a flat dict of its fields (raw text; validation comes after)."""
    row: dict[str, Any] = {"nevenadres_ids": [], "pand_ids": [], "gebruiksdoelen": []}
    for child in obj:
        name = _local(child.tag)
        if not name:
            continue
        if name == "identificatie":
            row["id"] = (child.text or "").strip()
        elif name == "voorkomen":
            for v in child.iter():
                vname = _local(v.tag)
                if vname == "voorkomenidentificatie":
                    row["voorkomen_id"] = int(v.text)
                elif vname == "beginGeldigheid":
                    row["begin_geldigheid"] = v.text
                elif vname == "eindGeldigheid":
                    row["eind_geldigheid"] = v.text
        elif name == "heeftAlsHoofdadres":
            refs = _refs(child)
            row["hoofdadres_id"] = refs[0] if refs else None
        elif name == "heeftAlsNevenadres":
            row["nevenadres_ids"].extend(_refs(child))
        elif name == "maaktDeelUitVan":
            row["pand_ids"].extend(_refs(child))
        elif name == "gebruiksdoel":
            row["gebruiksdoelen"].append((child.text or "").strip())
        elif name == "ligtAan":
            refs = _refs(child)
            row["openbare_ruimte_id"] = refs[0] if refs else None
        elif name == "ligtIn":
            refs = _refs(child)
            row["woonplaats_id"] = refs[0] if refs else None
        elif name == "verkorteNaam":
            texts = [t.text for t in child.iter() if _local(t.tag) == "verkorteNaam" and t is not child and t.text]
            row["verkorte_naam"] = texts[0].strip() if texts else None
        elif name == "geometrie":
            _geometry(child, row)
        else:
            row[name] = child.text.strip() if child.text and child.text.strip() else None
    return row


@dataclass
class RawObject:
    entity: str
    fields: dict[str, Any]
    file: str
    ref: str


def _iter_xml(stream: IO[bytes], file: str) -> Iterator[RawObject]:
    """Stream the bagObjects of one XML file; memory stays at one object."""
    count = 0
    context = etree.iterparse(stream, events=("end",), tag=BAG_OBJECT_TAG, huge_tree=True, recover=False)
    try:
        for _, el in context:
            count += 1
            for obj in el:
                entity = ELEMENT_TO_ENTITY.get(_local(obj.tag))
                if entity:
                    yield RawObject(entity, parse_object(obj), file, f"bagObject {count}")
            el.clear()
            parent = el.getparent()
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else "?"
        raise DeliveryError(file, f"line {line}", f"malformed or truncated XML ({exc.msg})") from exc


@contextmanager
def _opened(path: Path) -> Iterator[IO[bytes]]:
    with open(path, "rb") as f:
        yield f


def iter_xml_files(path: Path) -> Iterator[tuple[str, IO[bytes]]]:
    """Yield (name, binary stream) for every object XML file in a folder, a zip (nested zips too) or one file."""
    path = Path(path)
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file() and p.suffix.lower() in (".xml", ".zip"):
                yield from iter_xml_files(p)
        return
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as zf:
            yield from _iter_zip(zf, path.name)
        return
    if _SKIP_FILES.search(path.name):
        return
    if path.stat().st_size == 0:
        raise DeliveryError(path, "byte 0", "empty file")
    with _opened(path) as f:
        yield str(path), f


def _iter_zip(zf: zipfile.ZipFile, label: str) -> Iterator[tuple[str, IO[bytes]]]:
    for info in sorted(zf.infolist(), key=lambda i: i.filename):
        name = info.filename
        if info.is_dir() or _SKIP_FILES.search(name):
            continue
        if name.lower().endswith(".zip"):
            with zf.open(info) as inner_stream:
                data = inner_stream if inner_stream.seekable() else io.BytesIO(inner_stream.read())
                with zipfile.ZipFile(data) as inner:
                    yield from _iter_zip(inner, f"{label}/{name}")
        elif name.lower().endswith(".xml"):
            if info.file_size == 0:
                raise DeliveryError(f"{label}/{name}", "byte 0", "empty file")
            with zf.open(info) as f:
                yield f"{label}/{name}", f


def iter_bag_objects(path: Path) -> Iterator[RawObject]:
    """Every object version in the extract, as parsed dicts (used by read_bag and by the benchmarks)."""
    for name, stream in iter_xml_files(Path(path)):
        yield from _iter_xml(stream, name)


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


class _VersionWriter:
    """All versions of one entity, validated, written to a Parquet file in batches for the DuckDB pass."""

    def __init__(self, entity: str, staging_dir: Path):
        self.entity = entity
        self.schema = pa.schema([*SCHEMAS[entity], *_VERSION_FIELDS])
        self.path = staging_dir / f".{entity}.versions.parquet"
        self.rows: list[dict[str, Any]] = []
        self.writer = pq.ParquetWriter(self.path, self.schema)
        self.count = 0

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.count += 1
        if len(self.rows) >= 50_000:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.writer.write_table(pa.Table.from_pylist(self.rows, schema=self.schema))
            self.rows = []

    def close(self) -> None:
        self.flush()
        self.writer.close()


def _validate(obj: RawObject, collector: EntityCollector) -> dict[str, Any] | None:
    """Check one version; quarantine it with the failing field, or return the row in the entity's schema."""
    f = obj.fields
    entity = obj.entity
    idcol = id_column(entity)
    ident = f.get("id")

    def reject(field: str, code: str, reason: str) -> None:
        collector.quarantine(file=obj.file, record_ref=obj.ref, field=field, reason_code=code, reason=reason, raw=f)

    if not ident:
        reject("identificatie", "missing_required", f"{entity} without identificatie")
        return None
    if not is_valid_bag_id(ident, ID_KIND[entity]):
        reject("identificatie", "invalid_bag_id", f"{entity} identificatie is not a valid BAG id of that type")
        return None
    row: dict[str, Any] = {
        idcol: ident,
        "status": f.get("status"),
        "begin_geldigheid": f.get("begin_geldigheid"),
        "voorkomen_id": f.get("voorkomen_id"),
        "eind_geldigheid": f.get("eind_geldigheid"),
        "source_file": obj.file,
        "record_ref": f"{obj.ref}: {ident} voorkomen {f.get('voorkomen_id')}",
    }
    if entity == "nummeraanduiding":
        try:
            huisnummer = _int(f.get("huisnummer"))
        except ValueError:
            huisnummer = None
        if huisnummer is None or not 1 <= huisnummer <= 99999:
            reject("huisnummer", "invalid_number", "huisnummer missing or outside 1-99999")
            return None
        postcode = f.get("postcode")
        if postcode is not None:
            postcode = normalise_postcode(postcode)
            if postcode is None:
                reject("postcode", "invalid_postcode", "postcode does not match [1-9][0-9]{3}[A-Z]{2}")
                return None
        for ref in ("openbare_ruimte_id",):
            if f.get(ref) and not is_valid_bag_id(f[ref], "openbare_ruimte"):
                reject("ligtAan", "invalid_bag_id", "ligtAan is not an openbare ruimte id")
                return None
        row.update(
            huisnummer=huisnummer,
            huisletter=f.get("huisletter"),
            huisnummertoevoeging=f.get("huisnummertoevoeging"),
            postcode=postcode,
            type_adresseerbaar_object=f.get("typeAdresseerbaarObject"),
            openbare_ruimte_id=f.get("openbare_ruimte_id"),
            woonplaats_id=f.get("woonplaats_id"),
        )
    elif entity in ("verblijfsobject", "ligplaats", "standplaats"):
        hoofd = f.get("hoofdadres_id")
        if hoofd and not is_valid_bag_id(hoofd, "nummeraanduiding"):
            reject("heeftAlsHoofdadres", "invalid_bag_id", "hoofdadres is not a nummeraanduiding id")
            return None
        row.update(hoofdadres_id=hoofd, nevenadres_ids=f["nevenadres_ids"], x=f.get("x"), y=f.get("y"))
        if entity == "verblijfsobject":
            try:
                oppervlakte = _int(f.get("oppervlakte"))
            except ValueError:
                reject("oppervlakte", "invalid_number", "oppervlakte is not a whole number of m2")
                return None
            row.update(pand_ids=f["pand_ids"], gebruiksdoelen=f["gebruiksdoelen"], oppervlakte=oppervlakte)
    elif entity == "pand":
        try:
            row["oorspronkelijk_bouwjaar"] = _int(f.get("oorspronkelijkBouwjaar"))
        except ValueError:
            reject("oorspronkelijkBouwjaar", "invalid_number", "bouwjaar is not a year")
            return None
    elif entity == "openbare_ruimte":
        if not f.get("naam"):
            reject("naam", "missing_required", "openbare ruimte without naam")
            return None
        row.update(
            naam=f.get("naam"),
            verkorte_naam=f.get("verkorte_naam"),
            type=f.get("type"),
            woonplaats_id=f.get("woonplaats_id"),
        )
    elif entity == "woonplaats":
        row["naam"] = f.get("naam")
    return row


def _select_current(
    con: duckdb.DuckDBPyConnection, writer: _VersionWriter, collector: EntityCollector
) -> tuple[int, int]:
    """Keep the current version per object; quarantine exact duplicate versions. Returns (superseded, duplicates)."""
    idcol = id_column(writer.entity)
    src = f"read_parquet('{writer.path}')"
    dups = con.sql(
        f"select * from (select *, row_number() over (partition by {idcol}, voorkomen_id order by record_ref) as n "
        f"from {src}) where n > 1"
    ).to_arrow_table()
    for row in dups.drop(["n"]).to_pylist():
        collector.quarantine(
            file=row["source_file"],
            record_ref=row["record_ref"],
            field="voorkomenidentificatie",
            reason_code="duplicate",
            reason="the same version of this object appears twice in the delivery",
            raw=row,
        )
    current = con.sql(
        f"select * exclude (voorkomen_id, eind_geldigheid) from {src} "
        f"qualify row_number() over (partition by {idcol} order by (eind_geldigheid is null) desc, "
        f"begin_geldigheid desc nulls last, voorkomen_id desc nulls last) = 1 order by {idcol}"
    ).to_arrow_table()
    collector.add_table(current)
    superseded = writer.count - current.num_rows - dups.num_rows
    return superseded, dups.num_rows


def bag_extract_date(path: Path) -> str | None:
    """The StandTechnischeDatum of the extract, from the delivery document or the first object file."""
    for _name, stream in iter_xml_files_all(Path(path)):
        for _, el in etree.iterparse(stream, events=("end",)):
            if _local(el.tag) == "StandTechnischeDatum":
                return el.text
            if _local(el.tag) == "bagObject":
                return None
    return None


def iter_xml_files_all(path: Path) -> Iterator[tuple[str, IO[bytes]]]:
    """Like iter_xml_files but also the delivery document (for its date)."""
    if path.is_dir():
        docs = sorted(path.glob("Leveringsdocument*.xml"))
        if docs:
            with open(docs[0], "rb") as f:
                yield str(docs[0]), f
                return
    yield from iter_xml_files(path)


def read_bag(path: Path, *, delivery_id: str | None = None, staging_root: Path | None = None) -> DeliveryResult:
    """Read an LVBAG 2.0 extract into the current version of every object, per entity."""
    path = Path(path)
    if not path.exists():
        raise DeliveryError(path, "path", "no such file or folder")
    delivery_id = delivery_id or path.stem
    with Staging(staging_root) as staging_dir:
        collectors = {e: EntityCollector(e, s, staging_dir) for e, s in SCHEMAS.items()}
        writers = {e: _VersionWriter(e, staging_dir) for e in SCHEMAS}
        files: list[str] = []
        try:
            for name, stream in iter_xml_files(path):
                files.append(name)
                for obj in _iter_xml(stream, name):
                    row = _validate(obj, collectors[obj.entity])
                    if row is not None:
                        writers[obj.entity].add(row)
            for w in writers.values():
                w.close()
            superseded: dict[str, int] = {}
            con = duckdb.connect()
            con.execute("set preserve_insertion_order = false")
            for entity, w in writers.items():
                superseded[entity], _ = _select_current(con, w, collectors[entity])
                w.path.unlink()
            con.close()
        except BaseException:
            for c in collectors.values():
                c.abort()
            raise
        entities = {e: c.finish() for e, c in collectors.items()}
        vbo = pq.read_table(entities["verblijfsobject"].clean_path, columns=["hoofdadres_id"]).column(0).to_pylist()
        nums = set(
            pq.read_table(entities["nummeraanduiding"].clean_path, columns=["nummeraanduiding_id"])
            .column(0)
            .to_pylist()
        )
        info = {
            "superseded_versions": superseded,
            "vbo_without_hoofdadres_in_delivery": sum(1 for h in vbo if h and h not in nums),
            "extract_date": _first_date(path),
        }
        return DeliveryResult(
            source=SOURCE,
            delivery_id=delivery_id,
            files=files,
            entities=entities,
            drift=[],
            staging_dir=staging_dir,
            info=info,
        )


def _first_date(path: Path) -> str | None:
    try:
        return bag_extract_date(path)
    except (DeliveryError, etree.XMLSyntaxError, OSError):
        return None
