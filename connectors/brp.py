"""BRP connector: the GBA-V persoonslijst CSV (the RvIG test-set layout) and Haal Centraal BRP Personen v2 JSON.

GBA-V CSV: one header row of element codes (`cc.gg.ee`), `;`-separated, UTF-8 with BOM, several rows per person. A
person's block starts at a row whose first column (empty header) holds the persoonslijst id. Within a block each
category fills its columns row by row: the first row with category 08 data is the current address, later rows with
08 data are the history (category 58), most recent first. Columns `cc.H` mark where history follows; this
connector does not need them for 08, because a person has one address at a time. Rows of category 58 marked
onjuist (08.84.10) are corrections, not spells, and are skipped (counted in info).

Haal Centraal: a response `{"type": ..., "personen": [...]}`. The API returns only the fields asked for, so a
person may lack the BSN; without it the record has no key in the hub and goes to quarantine saying so.

Output entities: `persoon` (one row per person) and `verblijfplaats_historie` (one row per address spell,
`volgnummer` 0 for the current address). Nationality is read because it is in the registry, and kept only in the
raw zone: the pseudonymisation policy drops it at the door.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from connectors.delivery import DeliveryError, DeliveryResult, EntityCollector, SchemaDrift, Staging, detect_drift
from connectors.identifiers import (
    PartialDate,
    is_valid_a_nummer,
    is_valid_bag_id,
    is_valid_bsn,
    normalise_postcode,
    parse_gba_date,
    parse_iso_date,
)

SOURCE = "brp"
PERSOON_SCHEMA = pa.schema(
    [
        ("bsn", pa.string()),
        ("a_nummer", pa.string()),
        ("voornamen", pa.string()),
        ("voorvoegsel", pa.string()),
        ("geslachtsnaam", pa.string()),
        ("volledige_naam", pa.string()),
        ("geboortedatum", pa.string()),
        ("geboortedatum_precision", pa.string()),
        ("geslacht", pa.string()),
        ("nationaliteiten", pa.list_(pa.string())),
        ("gemeente_van_inschrijving", pa.string()),
        ("geheimhouding", pa.int8()),
        ("source_file", pa.string()),
        ("record_ref", pa.string()),
    ]
)
VERBLIJF_SCHEMA = pa.schema(
    [
        ("bsn", pa.string()),
        ("a_nummer", pa.string()),
        ("volgnummer", pa.int32()),
        ("is_current", pa.bool_()),
        ("datum_aanvang", pa.string()),
        ("datum_aanvang_precision", pa.string()),
        ("datum_einde", pa.string()),
        ("straatnaam", pa.string()),
        ("naam_openbare_ruimte", pa.string()),
        ("huisnummer", pa.int32()),
        ("huisletter", pa.string()),
        ("huisnummertoevoeging", pa.string()),
        ("aanduiding_bij_huisnummer", pa.string()),
        ("postcode", pa.string()),
        ("woonplaats", pa.string()),
        ("gemeente_code", pa.string()),
        ("verblijfsobject_id", pa.string()),
        ("nummeraanduiding_id", pa.string()),
        ("verblijfplaats_type", pa.string()),
        ("source_file", pa.string()),
        ("record_ref", pa.string()),
    ]
)
REQUIRED_ANY_ID = ("01.01.20", "01.01.10")
REQUIRED = ("01.02.40",)
# The elements this connector reads; any other column of the RvIG layout is allowed and ignored.
USED = [
    "01.01.10",
    "01.01.20",
    "01.02.10",
    "01.02.30",
    "01.02.40",
    "01.03.10",
    "01.04.10",
    "04.05.10",
    "07.70.10",
    "08.09.10",
    "08.10.30",
    "08.11.10",
    "08.11.15",
    "08.11.20",
    "08.11.30",
    "08.11.40",
    "08.11.50",
    "08.11.60",
    "08.11.70",
    "08.11.80",
    "08.11.90",
    "08.12.10",
    "08.13.10",
    "08.84.10",
]
ADDRESS_CODES = [c for c in USED if c.startswith("08.")]


@dataclass
class _Block:
    """The rows of one persoonslijst, collected until the next one starts."""

    pl_id: str
    first_line: int
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


def _decoded_lines(path: Path) -> Iterator[str]:
    """Yield text lines, raising a DeliveryError with the line number on bytes that are not UTF-8."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DeliveryError(
                    path, f"line {number}", f"bytes that are not UTF-8 ({exc.reason}): wrong encoding?"
                ) from exc
            if number == 1:
                text = text.removeprefix("\ufeff")
            yield text


def _header(path: Path, header: list[str]) -> dict[str, int]:
    if len(header) < 5:
        sample = ",".join(header)[:60]
        guess = "tab" if "\t" in sample else "comma" if "," in sample else "another character"
        raise DeliveryError(
            path, "line 1", f"the header does not split on ';' (it looks {guess}-separated): wrong delimiter?"
        )
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        index.setdefault(name.strip(), i)
    if not any(c in index for c in REQUIRED_ANY_ID):
        raise DeliveryError(
            path, "line 1", "required column 01.01.20 (BSN) or 01.01.10 (A-nummer) is missing", "01.01.20"
        )
    for c in REQUIRED:
        if c not in index:
            raise DeliveryError(path, "line 1", f"required column {c} (geslachtsnaam) is missing", c)
    return index


def _blocks(path: Path) -> tuple[dict[str, int], list[SchemaDrift], Iterator[_Block]]:
    lines = _decoded_lines(path)
    reader = csv.reader(lines, delimiter=";")
    try:
        header = next(reader)
    except StopIteration:
        raise DeliveryError(path, "line 1", "empty file: no header") from None
    index = _header(path, header)
    drift = [d for d in detect_drift(index, USED) if d.kind == "missing" and d.column not in REQUIRED]

    def gen() -> Iterator[_Block]:
        block: _Block | None = None
        width = len(header)
        for row in reader:
            line = reader.line_num
            if not row or row == [""]:
                continue  # a blank line
            if len(row) != width:
                raise DeliveryError(
                    path, f"line {line}", f"row has {len(row)} fields where the header has {width}: truncated row?"
                )
            if row[0].strip():
                if block is not None:
                    yield block
                block = _Block(row[0].strip(), line)
            elif block is None:
                raise DeliveryError(path, f"line {line}", "data before the first persoonslijst id (column 1)")
            block.rows.append((line, row))
        if block is not None:
            yield block

    return index, drift, gen()


_GBA_UNKNOWN_IDS = {"0000000000000000"}  # the GBA standard value for "not known" in 08.11.80 and 08.11.90


def _get(row: list[str], index: dict[str, int], code: str) -> str | None:
    i = index.get(code)
    if i is None:
        return None
    v = row[i].strip()
    if v in _GBA_UNKNOWN_IDS:
        return None
    return v or None


def _date(value: str | None) -> tuple[PartialDate | None, bool]:
    """Parse a GBA date; returns (date, ok) where ok is False only for a present but invalid value."""
    if value is None:
        return None, True
    parsed = parse_gba_date(value)
    return parsed, parsed is not None


class _Reader:
    """Shared state of one BRP read: the collectors, the BSNs seen, the counts for info."""

    def __init__(self, staging_dir: Path):
        self.persons = EntityCollector("persoon", PERSOON_SCHEMA, staging_dir)
        self.spells = EntityCollector("verblijfplaats_historie", VERBLIJF_SCHEMA, staging_dir)
        self.seen: set[str] = set()
        self.info: dict[str, Any] = {"onjuist_skipped": 0, "requests_skipped": []}

    def reject(self, file: str, ref: str, fld: str, code: str, reason: str, raw: Any, spells: list[Any]) -> None:
        self.persons.quarantine(file=file, record_ref=ref, field=fld, reason_code=code, reason=reason, raw=raw)
        for sref, sraw in spells:
            self.spells.quarantine(
                file=file,
                record_ref=sref,
                field=fld,
                reason_code=code,
                reason=f"the person of this address ({ref}) was quarantined: {reason}",
                raw=sraw,
            )

    def check_ids(self, bsn: str | None, anr: str | None) -> tuple[str, str, str] | None:
        if bsn is None and anr is None:
            return ("burgerservicenummer", "missing_required", "neither BSN nor A-nummer")
        if bsn is not None and not is_valid_bsn(bsn):
            return ("burgerservicenummer", "invalid_bsn", "BSN fails the 11-proef")
        if anr is not None and not is_valid_a_nummer(anr):
            return ("a_nummer", "invalid_a_nummer", "A-nummer fails the GBA checks")
        if bsn is not None and bsn in self.seen:
            return ("burgerservicenummer", "duplicate", "this BSN already appeared in the delivery")
        return None


def _spell_from_gba(row: list[str], index: dict[str, int]) -> dict[str, Any]:
    g = {c: _get(row, index, c) for c in ADDRESS_CODES}
    if g["08.13.10"]:
        kind = "Buitenland"
    elif g["08.12.10"] and not g["08.11.20"]:
        kind = "Locatie"
    elif g["08.11.20"] or g["08.11.10"]:
        kind = "Adres"
    else:
        kind = "Onbekend"
    return {"g": g, "verblijfplaats_type": kind}


def _check_spell(g: dict[str, str | None]) -> tuple[str, str, str] | None:
    _, ok = _date(g["08.10.30"])
    if not ok:
        return ("08.10.30", "invalid_date", "datum aanvang adreshouding is not a (partial) GBA date")
    if g["08.11.20"] is not None and not (g["08.11.20"].isdigit() and 1 <= int(g["08.11.20"]) <= 99999):
        return ("08.11.20", "invalid_number", "huisnummer is not a number in 1-99999")
    if g["08.11.60"] is not None and normalise_postcode(g["08.11.60"]) is None:
        return ("08.11.60", "invalid_postcode", "postcode does not match [1-9][0-9]{3}[A-Z]{2}")
    if g["08.11.80"] is not None and not is_valid_bag_id(g["08.11.80"]):
        return ("08.11.80", "invalid_bag_id", "identificatiecode verblijfplaats is not a BAG id")
    if g["08.11.90"] is not None and not is_valid_bag_id(g["08.11.90"], "nummeraanduiding"):
        return ("08.11.90", "invalid_bag_id", "identificatiecode nummeraanduiding is not a nummeraanduiding id")
    return None


def _read_gba(path: Path, r: _Reader) -> list[SchemaDrift]:
    index, drift, blocks = _blocks(path)
    file = str(path)
    for block in blocks:
        first = block.rows[0][1]
        bsn, anr = _get(first, index, "01.01.20"), _get(first, index, "01.01.10")
        ref = f"line {block.first_line} ({block.pl_id})"
        spells_raw = []
        for line, row in block.rows:
            if not any(_get(row, index, c) for c in ADDRESS_CODES):
                continue
            if _get(row, index, "08.84.10") and spells_raw:
                r.info["onjuist_skipped"] += 1
                continue
            spells_raw.append((f"line {line} ({block.pl_id}, categorie {'08' if not spells_raw else '58'})", row))
        raw_person = {
            k: v
            for k, v in zip(["pl_id", *index], [block.pl_id, *[first[i] for i in index.values()]], strict=False)
            if v
        }
        problem = r.check_ids(bsn, anr)
        geboorte, ok = _date(_get(first, index, "01.03.10"))
        if problem is None and not ok:
            problem = ("01.03.10", "invalid_date", "geboortedatum is not a (partial) GBA date")
        spell_refs = [(sref, {c: _get(row, index, c) for c in ADDRESS_CODES}) for sref, row in spells_raw]
        if problem:
            r.reject(file, ref, *problem, raw=raw_person, spells=spell_refs)
            continue
        if bsn:
            r.seen.add(bsn)
        nationaliteiten = sorted({v for _, row in block.rows if (v := _get(row, index, "04.05.10"))})
        r.persons.add(
            {
                "bsn": bsn,
                "a_nummer": anr,
                "voornamen": _get(first, index, "01.02.10"),
                "voorvoegsel": _get(first, index, "01.02.30"),
                "geslachtsnaam": _get(first, index, "01.02.40"),
                "volledige_naam": None,
                "geboortedatum": geboorte.iso() if geboorte else None,
                "geboortedatum_precision": geboorte.precision if geboorte else "unknown",
                "geslacht": _get(first, index, "01.04.10"),
                "nationaliteiten": nationaliteiten,
                "gemeente_van_inschrijving": _get(first, index, "08.09.10"),
                "geheimhouding": int(_get(first, index, "07.70.10") or 0),
                "source_file": file,
                "record_ref": ref,
            },
            record_ref=ref,
        )
        previous_start: str | None = None
        for volgnummer, (sref, row) in enumerate(spells_raw):
            spell = _spell_from_gba(row, index)
            g = spell["g"]
            start, _ = _date(g["08.10.30"])
            spell_problem = _check_spell(g)
            if spell_problem:
                # One bad address line costs that spell, not the person: the rest of the history still lands.
                fld, code, reason = spell_problem
                r.spells.quarantine(
                    file=file,
                    record_ref=sref,
                    field=fld,
                    reason_code=code,
                    reason=reason,
                    raw={k: v for k, v in g.items() if v},
                )
                previous_start = start.iso() if start else previous_start
                continue
            postcode = normalise_postcode(g["08.11.60"]) if g["08.11.60"] else None
            r.spells.add(
                {
                    "bsn": bsn,
                    "a_nummer": anr,
                    "volgnummer": volgnummer,
                    "is_current": volgnummer == 0,
                    "datum_aanvang": start.iso() if start else None,
                    "datum_aanvang_precision": start.precision if start else "unknown",
                    "datum_einde": previous_start,
                    "straatnaam": g["08.11.10"],
                    "naam_openbare_ruimte": g["08.11.15"],
                    "huisnummer": int(g["08.11.20"]) if g["08.11.20"] else None,
                    "huisletter": g["08.11.30"],
                    "huisnummertoevoeging": g["08.11.40"],
                    "aanduiding_bij_huisnummer": g["08.11.50"],
                    "postcode": postcode,
                    "woonplaats": g["08.11.70"],
                    "gemeente_code": g["08.09.10"],
                    "verblijfsobject_id": g["08.11.80"],
                    "nummeraanduiding_id": g["08.11.90"],
                    "verblijfplaats_type": spell["verblijfplaats_type"],
                    "source_file": file,
                    "record_ref": sref,
                },
                record_ref=sref,
            )
            previous_start = start.iso() if start else None
    return drift


def _hc_date(node: dict[str, Any] | None) -> tuple[PartialDate | None, bool]:
    """Haal Centraal dates: {type: Datum|JaarMaandDatum|JaarDatum|DatumOnbekend, datum|jaar|maand}."""
    if not node:
        return None, True
    kind = node.get("type")
    if kind == "DatumOnbekend":
        return PartialDate(None, None, None), True
    if kind == "JaarDatum":
        return (PartialDate(int(node["jaar"]), None, None), True) if node.get("jaar") else (None, False)
    if kind == "JaarMaandDatum":
        if node.get("jaar") and node.get("maand"):
            return PartialDate(int(node["jaar"]), int(node["maand"]), None), True
        return None, False
    parsed = parse_iso_date(node.get("datum"))
    return parsed, parsed is not None


def _read_haal_centraal(path: Path, r: _Reader) -> None:
    file = str(path)
    text = path.read_bytes()
    if not text.strip():
        raise DeliveryError(path, "byte 0", "empty file")
    try:
        doc = json.loads(text.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DeliveryError(path, f"byte {exc.start}", "bytes that are not UTF-8: wrong encoding?") from exc
    except json.JSONDecodeError as exc:
        raise DeliveryError(path, f"line {exc.lineno} column {exc.colno}", f"malformed JSON ({exc.msg})") from exc
    if isinstance(doc, dict) and "personen" not in doc and ("fields" in doc or "burgerservicenummer" in doc):
        r.info["requests_skipped"].append(path.name)  # a request beside its response: nothing to land
        return
    if not isinstance(doc, dict) or not isinstance(doc.get("personen"), list):
        raise DeliveryError(path, "root", "not a Haal Centraal BRP Personen response: no 'personen' list")
    for n, p in enumerate(doc["personen"], start=1):
        ref = f"personen[{n - 1}]"
        bsn = p.get("burgerservicenummer")
        naam = p.get("naam") or {}
        problem = r.check_ids(bsn, p.get("aNummer"))
        if problem and problem[1] == "missing_required":
            problem = (
                "burgerservicenummer",
                "missing_required",
                "no burgerservicenummer: the request's field selection left it out, and the hub keys persons on it",
            )
        geboorte, ok = _hc_date((p.get("geboorte") or {}).get("datum"))
        if problem is None and not ok:
            problem = ("geboorte.datum", "invalid_date", "geboortedatum is not a valid date")
        vp = p.get("verblijfplaats") or {}
        adres = vp.get("verblijfadres") or {}
        postcode = adres.get("postcode")
        if problem is None and postcode and normalise_postcode(postcode) is None:
            problem = ("verblijfplaats.verblijfadres.postcode", "invalid_postcode", "postcode is not valid")
        if problem:
            r.reject(file, ref, *problem, raw=p, spells=[(f"{ref}.verblijfplaats", vp)] if vp else [])
            continue
        r.seen.add(bsn)
        r.persons.add(
            {
                "bsn": bsn,
                "a_nummer": p.get("aNummer"),
                "voornamen": naam.get("voornamen"),
                "voorvoegsel": naam.get("voorvoegsel"),
                "geslachtsnaam": naam.get("geslachtsnaam"),
                "volledige_naam": naam.get("volledigeNaam"),
                "geboortedatum": geboorte.iso() if geboorte else None,
                "geboortedatum_precision": geboorte.precision if geboorte else "unknown",
                "geslacht": (p.get("geslacht") or {}).get("code"),
                "nationaliteiten": [
                    str((x.get("nationaliteit") or {}).get("code"))
                    for x in p.get("nationaliteiten") or []
                    if (x.get("nationaliteit") or {}).get("code")
                ],
                "gemeente_van_inschrijving": (p.get("gemeenteVanInschrijving") or {}).get("code"),
                "geheimhouding": int(bool(p.get("geheimhoudingPersoonsgegevens"))),
                "source_file": file,
                "record_ref": ref,
            },
            record_ref=ref,
        )
        if vp:
            start, _ = _hc_date(vp.get("datumVan"))
            r.spells.add(
                {
                    "bsn": bsn,
                    "a_nummer": p.get("aNummer"),
                    "volgnummer": 0,
                    "is_current": True,
                    "datum_aanvang": start.iso() if start else None,
                    "datum_aanvang_precision": start.precision if start else "unknown",
                    "datum_einde": None,
                    "straatnaam": adres.get("korteStraatnaam") or adres.get("officieleStraatnaam"),
                    "naam_openbare_ruimte": adres.get("officieleStraatnaam"),
                    "huisnummer": adres.get("huisnummer"),
                    "huisletter": adres.get("huisletter"),
                    "huisnummertoevoeging": adres.get("huisnummertoevoeging"),
                    "aanduiding_bij_huisnummer": adres.get("aanduidingBijHuisnummer"),
                    "postcode": normalise_postcode(postcode) if postcode else None,
                    "woonplaats": adres.get("woonplaats"),
                    "gemeente_code": (p.get("gemeenteVanInschrijving") or {}).get("code"),
                    "verblijfsobject_id": vp.get("adresseerbaarObjectIdentificatie"),
                    "nummeraanduiding_id": vp.get("nummeraanduidingIdentificatie"),
                    "verblijfplaats_type": {
                        "VerblijfplaatsBuitenland": "Buitenland",
                        "VerblijfplaatsOnbekend": "Onbekend",
                    }.get(vp.get("type"), vp.get("type")),
                    "source_file": file,
                    "record_ref": f"{ref}.verblijfplaats",
                },
                record_ref=f"{ref}.verblijfplaats",
            )


def brp_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".json"))
    return [path]


def read_brp(path: Path, *, delivery_id: str | None = None, staging_root: Path | None = None) -> DeliveryResult:
    """Read a BRP delivery: GBA-V CSV files and/or Haal Centraal JSON responses in a folder, or one file."""
    path = Path(path)
    if not path.exists():
        raise DeliveryError(path, "path", "no such file or folder")
    files = brp_files(path)
    with Staging(staging_root) as staging_dir:
        r = _Reader(staging_dir)
        drift: list[SchemaDrift] = []
        try:
            for f in files:
                if f.stat().st_size == 0:
                    raise DeliveryError(f, "byte 0", "empty file")
                if f.suffix.lower() == ".csv":
                    drift.extend(_read_gba(f, r))
                else:
                    _read_haal_centraal(f, r)
        except BaseException:
            r.persons.abort()
            r.spells.abort()
            raise
        entities = {"persoon": r.persons.finish(), "verblijfplaats_historie": r.spells.finish()}
        return DeliveryResult(
            source=SOURCE,
            delivery_id=delivery_id or path.stem,
            files=[str(f) for f in files],
            entities=entities,
            drift=drift,
            staging_dir=staging_dir,
            info=r.info,
        )
