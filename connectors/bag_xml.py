"""Streaming LVBAG 2.0 XML: finding the object files in a delivery and turning each `bagObject` into a plain dict.

Kept apart from `connectors/bag.py` (version selection, validation, output) so the parsing loop can be timed on its
own. Memory stays at one object: `iterparse` only reports the end of a `bagObject`, which is cleared at once, and the
emptied elements before it (and the `sl:stand` wrappers around them) are deleted, so the tree never grows.

Both namespace generations are read: the v20200601 files (Kadaster since 2020, NLExtract's and GDAL's samples) and the
older v20180601 ones (GDAL's `lig_old.xml`), where an identificatie is `DatatypenNEN3610:lokaalID` inside
`Objecten:identificatie` and a reference is an `xlink:href="NL.IMBAG.NUMMERAANDUIDING.<id>"` attribute. Elements are
matched on their local name, so a namespace version change does not silently lose fields; local names the connector
does not know are collected (`ParseStats.unknown_elements`) and reported as schema drift.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from lxml import etree

from connectors.delivery import DeliveryError
from connectors.xml_guard import GuardedStream

# Kadaster's three-letter object codes (file names, `sl:objectType`) and the entities they become.
KIND_CODES = {
    "NUM": "nummeraanduiding",
    "VBO": "verblijfsobject",
    "PND": "pand",
    "OPR": "openbare_ruimte",
    "WPL": "woonplaats",
    "LIG": "ligplaats",
    "STA": "standplaats",
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
ENTITIES = tuple(KIND_CODES.values())
CURRENT_NAMESPACE_VERSION = "v20200601"

# `{gem}NUM{ddmmyyyy}-{nnnnnn}.xml`, `9999NUM08112020.zip`, GDAL's `num.xml` and `lig_old.xml`.
_KIND_IN_NAME = re.compile(r"^(?:\d{4})?(NUM|VBO|PND|OPR|WPL|LIG|STA)(?![a-z])", re.IGNORECASE)
_NOT_OBJECTS = re.compile(r"^(leveringsdocument|gem-wpl-relatie)", re.IGNORECASE)
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_MAX_ZIP_DEPTH = 3

# What each object's child elements become. Actions: T text field, L repeated text (list), R one reference,
# RL references (list), I identificatie, V voorkomen, G geometry (point or polygon centroid), K verkorteNaam,
# S known but not needed (document data, building and woonplaats outlines).
_IGNORED = {"geconstateerd": ("S", ""), "documentdatum": ("S", ""), "documentnummer": ("S", "")}
_COMMON = {"identificatie": ("I", "id"), "voorkomen": ("V", ""), "status": ("T", "status"), **_IGNORED}
_ADRESSEERBAAR = {
    **_COMMON,
    "heeftAlsHoofdadres": ("R", "hoofdadres_id"),
    "heeftAlsNevenadres": ("RL", "nevenadres_ids"),
    "geometrie": ("G", ""),
}
SPEC: dict[str, dict[str, tuple[str, str]]] = {
    "nummeraanduiding": {
        **_COMMON,
        "huisnummer": ("T", "huisnummer"),
        "huisletter": ("T", "huisletter"),
        "huisnummertoevoeging": ("T", "huisnummertoevoeging"),
        "postcode": ("T", "postcode"),
        "typeAdresseerbaarObject": ("T", "type_adresseerbaar_object"),
        "ligtAan": ("R", "openbare_ruimte_id"),
        "ligtIn": ("R", "woonplaats_id"),
    },
    "verblijfsobject": {
        **_ADRESSEERBAAR,
        "gebruiksdoel": ("L", "gebruiksdoelen"),
        "oppervlakte": ("T", "oppervlakte"),
        "maaktDeelUitVan": ("RL", "pand_ids"),
    },
    "pand": {**_COMMON, "oorspronkelijkBouwjaar": ("T", "oorspronkelijk_bouwjaar"), "geometrie": ("S", "")},
    "openbare_ruimte": {
        **_COMMON,
        "naam": ("T", "naam"),
        "type": ("T", "type"),
        "ligtIn": ("R", "woonplaats_id"),
        "verkorteNaam": ("K", "verkorte_naam"),
    },
    "woonplaats": {**_COMMON, "naam": ("T", "naam"), "geometrie": ("S", "")},
    "ligplaats": dict(_ADRESSEERBAAR),
    "standplaats": dict(_ADRESSEERBAAR),
}
# Every key a parsed object of an entity carries, so consumers see the same dict shape whatever the file held.
_LIST_KEYS = {"nevenadres_ids", "pand_ids", "gebruiksdoelen"}
RECORD_KEYS: dict[str, tuple[str, ...]] = {
    entity: (
        "id",
        *dict.fromkeys(key for action, key in spec.values() if action in ("T", "L", "R", "RL", "K")),
        *(("x", "y", "geometrie_error") if spec.get("geometrie", ("", ""))[0] == "G" else ()),
        "voorkomen_id",
        "begin_geldigheid",
        "eind_geldigheid",
    )
    for entity, spec in SPEC.items()
}
_LIST_KEYS_OF = {entity: tuple(k for k in keys if k in _LIST_KEYS) for entity, keys in RECORD_KEYS.items()}
_VOORKOMEN_KEYS = {
    "voorkomenidentificatie": "voorkomen_id",
    "beginGeldigheid": "begin_geldigheid",
    "eindGeldigheid": "eind_geldigheid",
}
# Per-entity dispatch on the full `{namespace}name` tag, filled on first sight of each tag (see `_learn`).
_TAG_TABLES: dict[str, dict[str, tuple[str, str]]] = {entity: {} for entity in SPEC}
_VOORKOMEN_TAGS: dict[str, str] = {}
_TEMPLATES: dict[str, dict[str, Any]] = {
    entity: {**dict.fromkeys(keys), "entity": entity} for entity, keys in RECORD_KEYS.items()
}

_local_names: dict[str, str] = {}


def local_name(tag: Any) -> str:
    """`{ns}name` -> `name`, cached per tag string (a dict hit is cheaper than a split for every element)."""
    name = _local_names.get(tag)
    if name is None:
        if not isinstance(tag, str):  # comments and processing instructions
            return ""
        name = _local_names[tag] = tag.rpartition("}")[2]
    return name


def kind_from_name(name: str) -> str | None:
    """The entity a file holds, from Kadaster's (or GDAL's) file name; None when the name does not say."""
    m = _KIND_IN_NAME.match(Path(name).name)
    return KIND_CODES[m.group(1).upper()] if m else None


def entity_of_kind(kind: str | None) -> str | None:
    """Accept an entity name (`nummeraanduiding`), an element name (`Nummeraanduiding`) or a code (`NUM`)."""
    if kind is None:
        return None
    if kind in SPEC:
        return kind
    entity = KIND_CODES.get(kind.upper()) or ELEMENT_TO_ENTITY.get(kind)
    if entity is None:
        raise ValueError(
            f"unknown BAG object kind {kind!r}; use one of {', '.join(ENTITIES)} or {', '.join(KIND_CODES)}"
        )
    return entity


def entities_of_kinds(kind: str | Iterable[str] | None) -> frozenset[str] | None:
    """One kind or several (names, element names or codes, as `entity_of_kind`) as a set of entities; None for all."""
    if kind is None:
        return None
    kinds = [kind] if isinstance(kind, str) else list(kind)
    return frozenset(entity_of_kind(k) or "" for k in kinds)


@dataclass
class ParseStats:
    """What the parser saw besides the objects: files, namespace versions and element names it does not know."""

    files: list[str] = field(default_factory=list)
    namespace_versions: set[str] = field(default_factory=set)
    unknown_elements: set[tuple[str, str]] = field(default_factory=set)
    files_without_objects: list[str] = field(default_factory=list)
    # Where each file read stands in the delivery's reading order (positions in the sorted folder and zip listings),
    # so the file lists of two processes that read different object types merge into the one-process order.
    file_positions: dict[str, tuple[int, ...]] = field(default_factory=dict)
    # Objects left out because their type was not asked for, in files whose name says another type: a process that
    # reads only some types would not open the file these objects really belong to (see `read_bag`'s fallback).
    skipped_in_named_files: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------------------
# Finding the object files: a folder, a zip, zips inside a zip (Kadaster ships one inner zip per object type).
# ---------------------------------------------------------------------------------------------------------------


def iter_xml_files(
    path: Path,
    *,
    kind: str | Iterable[str] | None = None,
    tmp_dir: Path | None = None,
    include_documents: bool = False,
) -> Iterator[tuple[str, IO[bytes]]]:
    """Yield (name, binary stream) for every object XML file in a folder, a zip (nested zips too) or one file.

    Files whose name says they hold another kind are skipped unopened when `kind` (one or several) is given. The
    delivery document and the GEM-WPL-RELATIE file are skipped unless `include_documents`. Each stream is closed when
    the caller moves on. Streams are guarded (connectors/xml_guard.py): a DTD, a whitespace flood or a zip bomb is
    refused as it is read.
    """
    for _position, name, stream in iter_xml_files_positioned(
        path, kind=kind, tmp_dir=tmp_dir, include_documents=include_documents
    ):
        yield name, stream


def iter_xml_files_positioned(
    path: Path,
    *,
    kind: str | Iterable[str] | None = None,
    tmp_dir: Path | None = None,
    include_documents: bool = False,
) -> Iterator[tuple[tuple[int, ...], str, IO[bytes]]]:
    """`iter_xml_files` with each file's position in the reading order: its index in the sorted folder listing and in
    each zip's sorted member list. Positions do not depend on `kind`, so readers of different kinds can merge what
    they read into one order."""
    path = Path(path)
    entity = entities_of_kinds(kind)
    if path.is_dir():
        for i, p in enumerate(sorted(path.rglob("*"))):
            if p.is_file() and p.suffix.lower() in (".xml", ".zip"):
                for position, name, stream in iter_xml_files_positioned(
                    p, kind=kind, tmp_dir=tmp_dir, include_documents=include_documents
                ):
                    yield (i, *position), name, stream
        return
    if not _wanted(path.name, entity, include_documents):
        return
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                yield from _iter_zip(zf, str(path), entity, tmp_dir, include_documents, depth=1)
        except zipfile.BadZipFile as exc:
            raise DeliveryError(path, "zip directory", f"not a readable zip archive (truncated?): {exc}") from exc
        return
    if path.stat().st_size == 0:
        raise DeliveryError(path, "byte 0", "empty file")
    with open(path, "rb") as f:
        yield (), str(path), GuardedStream(f, str(path))


def _wanted(name: str, entity: frozenset[str] | None, include_documents: bool) -> bool:
    base = Path(name).name
    if _NOT_OBJECTS.match(base):
        return include_documents
    if entity is None:
        return True
    named = kind_from_name(base)
    return named is None or named in entity


def _iter_zip(
    zf: zipfile.ZipFile,
    label: str,
    entity: frozenset[str] | None,
    tmp_dir: Path | None,
    include_documents: bool,
    depth: int,
) -> Iterator[tuple[tuple[int, ...], str, IO[bytes]]]:
    for i, info in enumerate(sorted(zf.infolist(), key=lambda i: i.filename)):
        name = info.filename
        lower = name.lower()
        if info.is_dir() or not lower.endswith((".xml", ".zip")) or not _wanted(name, entity, include_documents):
            continue
        member = f"{label}/{name}"
        if lower.endswith(".zip"):
            if depth >= _MAX_ZIP_DEPTH:
                raise DeliveryError(member, "zip member", f"zips nested deeper than {_MAX_ZIP_DEPTH} levels")
            for position, inner_name, stream in _iter_inner_zip(
                zf, info, member, entity, tmp_dir, include_documents, depth
            ):
                yield (i, *position), inner_name, stream
            continue
        if info.file_size == 0:
            raise DeliveryError(member, "byte 0", "empty file")
        with zf.open(info) as f:
            yield (i,), member, GuardedStream(f, member, info.compress_size)


def _iter_inner_zip(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    member: str,
    entity: frozenset[str] | None,
    tmp_dir: Path | None,
    include_documents: bool,
    depth: int,
) -> Iterator[tuple[tuple[int, ...], str, IO[bytes]]]:
    """Spool an inner zip to a temporary file first: a zip is read from its end, and seeking in a compressed member
    means decompressing it again from the start, once per file inside."""
    with ExitStack() as stack:
        spool = stack.enter_context(tempfile.TemporaryFile(dir=tmp_dir))
        with zf.open(info) as src:
            shutil.copyfileobj(GuardedStream(src, member, info.compress_size, xml=False), spool, 1 << 20)
        spool.seek(0)
        try:
            inner = stack.enter_context(zipfile.ZipFile(spool))
        except zipfile.BadZipFile as exc:
            raise DeliveryError(member, "zip directory", f"not a readable zip archive (truncated?): {exc}") from exc
        yield from _iter_zip(inner, member, entity, tmp_dir, include_documents, depth + 1)


# ---------------------------------------------------------------------------------------------------------------
# Parsing: one bagObject at a time.
# ---------------------------------------------------------------------------------------------------------------


def iter_file_objects(
    stream: IO[bytes], name: str, *, entity: str | Iterable[str] | None = None, stats: ParseStats | None = None
) -> Iterator[dict[str, Any]]:
    """Every object version in one XML file as a dict (`RECORD_KEYS[entity]` plus entity, source_file, record_ref).

    Values are the text as delivered, stripped, None when absent or empty (validation is the caller's), except x/y
    (floats) and voorkomen_id (an int when it is a whole number). Truncated or malformed XML raises DeliveryError
    with the file, line and column.
    """
    stats = stats if stats is not None else ParseStats()
    wanted = entities_of_kinds(entity)
    named_kind = kind_from_name(name)
    count = 0
    first = True
    context = etree.iterparse(
        stream,
        events=("end",),
        tag="{*}bagObject",
        huge_tree=True,  # building outlines can hold very long text nodes
        remove_comments=True,
        remove_pis=True,
        resolve_entities=False,
        no_network=True,
    )
    try:
        for _, el in context:
            for obj in el:
                obj_entity = ELEMENT_TO_ENTITY.get(local_name(obj.tag))
                if obj_entity is None:
                    continue
                if first:  # the file's first object says its namespace, whichever types are read
                    first = False
                    stats.namespace_versions.add(_namespace_version(obj.tag))
                if wanted is not None and obj_entity not in wanted:
                    if named_kind is not None and obj_entity != named_kind:
                        skipped = stats.skipped_in_named_files
                        skipped[obj_entity] = skipped.get(obj_entity, 0) + 1
                    continue
                count += 1
                rec = parse_object(obj, obj_entity, stats)
                rec["source_file"] = name
                rec["record_ref"] = f"line {obj.sourceline}"
                yield rec
            _release(el)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno, 0)
        hint = " (wrong encoding?)" if "encoding" in exc.msg.lower() or "utf-8" in exc.msg.lower() else ""
        raise DeliveryError(
            name, f"line {line}, column {column}", f"malformed or truncated XML: {exc.msg}{hint}"
        ) from exc
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise DeliveryError(name, f"after object {count}", f"damaged zip member: {exc}") from exc
    finally:
        del context
    if count == 0:
        stats.files_without_objects.append(name)


def _release(el: etree._Element) -> None:
    """Clear a finished bagObject and delete what came before it, at its own level and its `sl:stand` wrapper's."""
    el.clear(keep_tail=False)
    node = el
    for _ in range(2):
        parent = node.getparent()
        if parent is None:
            return
        while node.getprevious() is not None:
            del parent[0]
        node = parent


def parse_object(obj: etree._Element, entity: str, stats: ParseStats) -> dict[str, Any]:
    """Flatten one `Objecten:<Kind>` element into a dict with every key of `RECORD_KEYS[entity]`.

    The hot loop of the connector: one dict lookup on the child's full tag picks the action, so no tag is split
    twice (tables fill themselves per namespace on first sight).
    """
    rec = _TEMPLATES[entity].copy()
    for key in _LIST_KEYS_OF[entity]:
        rec[key] = []
    table = _TAG_TABLES[entity]
    for child in obj:
        tag = child.tag
        action_key = table.get(tag)
        if action_key is None:
            action_key = _learn(table, tag, entity)
        action, key = action_key
        if action == "T":
            text = child.text
            rec[key] = (text.strip() or None) if text else None
        elif action == "S":
            continue
        elif action == "V":
            for voorkomen in child:  # Historie:Voorkomen
                for item in voorkomen:
                    vkey = _VOORKOMEN_TAGS.get(item.tag)
                    if vkey is None:
                        vkey = _learn_voorkomen(item.tag)
                    if vkey:
                        text = item.text
                        rec[vkey] = (text.strip() or None) if text else None
        elif action == "R":
            rec[key] = _first_ref(child)
        elif action == "I":
            text = child.text
            rec["id"] = text.strip() if text and not text.isspace() else _lokaal_id(child)
        elif action == "RL":
            rec[key].extend(_refs(child))
        elif action == "L":
            text = child.text
            if text and not text.isspace():
                rec[key].append(text.strip())
        elif action == "G":
            _geometry(child, rec)
        elif action == "K":
            text = next((t.text for t in child.iter("{*}verkorteNaam") if t is not child), None)
            rec[key] = (text.strip() or None) if text else None
        else:
            stats.unknown_elements.add((entity, key))
    vid = rec["voorkomen_id"]
    if vid is not None and vid.isascii() and vid.isdigit():
        rec["voorkomen_id"] = int(vid)
    return rec


def _learn(table: dict[str, tuple[str, str]], tag: Any, entity: str) -> tuple[str, str]:
    """Add a tag seen for the first time to the entity's dispatch table (unknown names as action `?`)."""
    name = local_name(tag)
    action_key = SPEC[entity].get(name, ("?", name))
    if isinstance(tag, str):
        table[tag] = action_key
    return action_key


def _learn_voorkomen(tag: Any) -> str:
    name = local_name(tag)
    key = _VOORKOMEN_KEYS.get(name, "")
    if isinstance(tag, str):
        _VOORKOMEN_TAGS[tag] = key
    return key


def _lokaal_id(el: etree._Element) -> str | None:
    """v20180601: `<Objecten:identificatie><DatatypenNEN3610:namespace/><DatatypenNEN3610:lokaalID>`."""
    for child in el:
        if local_name(child.tag) == "lokaalID" and child.text:
            return child.text.strip()
    return None


def _namespace_version(tag: str) -> str:
    return tag[1:].partition("}")[0].rpartition("/")[2] if tag.startswith("{") else ""


def _ref_value(ref: etree._Element) -> str | None:
    text = ref.text.strip() if ref.text else ""
    if text:
        return text
    href = ref.get(_XLINK_HREF)  # v20180601: xlink:href="NL.IMBAG.NUMMERAANDUIDING.0106200000005333"
    if not href:
        return None
    return href.rpartition(".")[2].strip() or None


def _first_ref(el: etree._Element) -> str | None:
    for ref in el:
        return _ref_value(ref)
    return None


def _refs(el: etree._Element) -> list[str]:
    return [v for v in (_ref_value(ref) for ref in el) if v]


def _geometry(el: etree._Element, rec: dict[str, Any]) -> None:
    """A point (gml:pos, 2 or 3 coordinates) gives x, y; a polygon the mean of its exterior ring's vertices.

    Unreadable coordinates leave `geometrie_error` in the record, for the caller to quarantine.
    """
    for node in el.iter("{*}pos", "{*}posList"):
        text = node.text or ""
        try:
            if local_name(node.tag) == "pos":
                parts = text.split()
                rec["x"], rec["y"] = float(parts[0]), float(parts[1])
            else:
                rec["x"], rec["y"] = ring_centroid(text, _dimension(node))
        except (ValueError, IndexError, ZeroDivisionError):
            rec["geometrie_error"] = text[:200]
        return


def _dimension(poslist: etree._Element) -> int:
    for node in (poslist, *poslist.iterancestors()):
        dim = node.get("srsDimension")
        if dim:
            return int(dim)
    count = poslist.get("count")
    values = len((poslist.text or "").split())
    return values // int(count) if count and int(count) and values % int(count) == 0 else 2


def ring_centroid(poslist: str, dimension: int = 2) -> tuple[float, float]:
    """Mean of a closed ring's vertices (the closing repeat of the first vertex left out).

    Not the area centroid, but inside or very near any berth or pitch, which is all the buurt lookup needs.
    """
    values = [float(v) for v in poslist.split()]
    xs, ys = values[0::dimension], values[1::dimension]
    if len(xs) != len(ys):
        raise ValueError("posList does not hold whole coordinate tuples")
    if len(xs) > 1 and xs[0] == xs[-1] and ys[0] == ys[-1]:
        xs, ys = xs[:-1], ys[:-1]
    return sum(xs) / len(xs), sum(ys) / len(ys)


def iter_bag_objects(
    path: Path,
    kind: str | Iterable[str] | None = None,
    *,
    stats: ParseStats | None = None,
    tmp_dir: Path | None = None,
) -> Iterator[dict[str, Any]]:
    """Every object version (voorkomen) in an extract, as plain dicts, in file order; `kind` limits the types.

    `kind` is an entity name (`nummeraanduiding`), an element name (`Nummeraanduiding`) or a Kadaster code (`NUM`),
    or several of them; None yields all kinds. Files named for another kind are not opened. Superseded versions are
    yielded too: picking the current one is `read_bag`'s job. Pass a `ParseStats` to learn which files were read.
    """
    entity = entities_of_kinds(kind)
    stats = stats if stats is not None else ParseStats()
    for position, name, stream in iter_xml_files_positioned(Path(path), kind=entity, tmp_dir=tmp_dir):
        stats.files.append(name)
        stats.file_positions[name] = position
        yield from iter_file_objects(stream, name, entity=entity, stats=stats)


def read_extract_date(stream: IO[bytes], name: str) -> str | None:
    """The `StandTechnischeDatum` of a delivery document or an object file's `bagInfo` (read up to the first object)."""
    if not isinstance(stream, GuardedStream):
        stream = GuardedStream(stream, name)
    try:
        for _, el in etree.iterparse(stream, events=("end",), resolve_entities=False, no_network=True):
            tag = local_name(el.tag)
            if tag == "StandTechnischeDatum":
                return (el.text or "").strip() or None
            if tag == "bagObject":
                return None
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno, 0)
        raise DeliveryError(name, f"line {line}, column {column}", f"malformed or truncated XML: {exc.msg}") from exc
    return None
