"""Housing corporations connector: VERA JSON (Aedes datastandaarden) or its CSV export (docs/formats.md).

VERA objects arrive as lists (`vera_eenheden.json`, `vera_huurovereenkomsten.json`, `vera_relaties.json`) or, as in
the woningwaardering samples, one eenheid per file. Empty strings mean "not known" in VERA exports and are read as
nulls. Codes (eenheid soort and status) are checked against the VERA reference data shipped in
`connectors/reference/vera_referentiedata.csv` (CC0, Aedes-datastandaarden/vera-referentiedata), so the connector
needs no network and no shared folder. A contract naming a unit or a tenant that is not in the same delivery is an
orphan: the corporation delivers all three together.

The woningwaardering samples carry no `gebruiksoppervlakte` for some units but do carry the BAG area or the measured
rooms; the area is then taken from there, in a fixed order, and `info["gebruiksoppervlakte_bron"]` counts where each
unit's area came from (the landed schema has no column for it, see the policy in pseudonymisation/policy.yaml).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from connectors.csvfile import HubCsv, load_json, split_list, to_float, to_int
from connectors.delivery import DeliveryError, DeliveryResult, EntityCollector, SchemaDrift, Staging
from connectors.identifiers import is_valid_bag_id, is_valid_bsn, is_valid_kvk, normalise_postcode, parse_iso_date
from connectors.snapshots import refuse_empty_snapshot

SOURCE = "corporaties"
REFERENCE = Path(__file__).parent / "reference" / "vera_referentiedata.csv"
_T = [("source_file", pa.string()), ("record_ref", pa.string())]
EENHEID_SCHEMA = pa.schema(
    [
        ("eenheid_id", pa.string()),
        ("code", pa.string()),
        ("soort", pa.string()),
        ("status", pa.string()),
        ("straatnaam", pa.string()),
        ("huisnummer", pa.int32()),
        ("huisletter", pa.string()),
        ("huisnummertoevoeging", pa.string()),
        ("postcode", pa.string()),
        ("woonplaats", pa.string()),
        ("verblijfsobject_id", pa.string()),
        ("gebruiksoppervlakte", pa.float64()),
        ("kamers_aantal", pa.int32()),
        ("brutohuur", pa.float64()),
        ("bouwjaar", pa.int32()),
        *_T,
    ]
)
CONTRACT_SCHEMA = pa.schema(
    [
        ("huurovereenkomst_id", pa.string()),
        ("eenheid_id", pa.string()),
        ("begindatum", pa.string()),
        ("einddatum", pa.string()),
        ("brutohuur", pa.float64()),
        ("soort", pa.string()),
        *_T,
    ]
)
CONTRACT_RELATIE_SCHEMA = pa.schema([("huurovereenkomst_id", pa.string()), ("relatie_id", pa.string()), *_T])
RELATIE_SCHEMA = pa.schema(
    [
        ("relatie_id", pa.string()),
        ("soort", pa.string()),
        ("bsn", pa.string()),
        ("geboortedatum", pa.string()),
        ("geboortedatum_precision", pa.string()),
        ("voornaam", pa.string()),
        ("tussenvoegsels", pa.string()),
        ("achternaam", pa.string()),
        ("kvk_nummer", pa.string()),
        ("naam", pa.string()),
        ("email", pa.string()),
        ("telefoonnummer", pa.string()),
        *_T,
    ]
)
NATUURLIJK, RECHTSPERSOON = "natuurlijk_persoon", "rechtspersoon"
# The formats doc writes the VERA object names; VERA's RELATIESOORT list has the codes NAT and REC.
RELATIE_SOORTEN = {
    "NatuurlijkPersoon": NATUURLIJK,
    "NAT": NATUURLIJK,
    NATUURLIJK: NATUURLIJK,
    "Rechtspersoon": RECHTSPERSOON,
    "REC": RECHTSPERSOON,
    RECHTSPERSOON: RECHTSPERSOON,
}
EENHEDEN_CSV = [
    "id",
    "code",
    "soort",
    "status",
    "straatnaam",
    "huisnummer",
    "huisletter",
    "huisnummertoevoeging",
    "postcode",
    "woonplaats",
    "bag_vbo_id",
    "gebruiksoppervlakte",
    "kamers_aantal",
    "brutohuur",
    "bouwjaar",
]
CONTRACTEN_CSV = ["id", "eenheid_id", "relatie_ids", "begindatum", "einddatum", "brutohuur", "soort"]
RELATIES_CSV = [
    "id",
    "soort",
    "bsn",
    "geboortedatum",
    "voornaam",
    "tussenvoegsels",
    "achternaam",
    "kvk_nummer",
    "naam",
    "email",
    "telefoonnummer",
]
# Rooms that are not the unit's own indoor floor: outdoor space (BTR) and common rooms (GEM) of VERA's RUIMTESOORT.
_NOT_OWN_FLOOR = {"BTR", "GEM"}

Problem = tuple[str, str, str]  # field, reason_code, reason


@dataclass
class Record:
    """One input object, normalised to flat fields, with where it came from and its raw form for quarantine."""

    kind: str
    file: str
    ref: str
    raw: Any
    fields: dict[str, Any]


@cache
def code_list(soort: str) -> frozenset[str]:
    """Codes of one VERA reference list (e.g. EENHEIDSOORT), including codes VERA has since retired.

    Retired codes (OND, VEK for status) stay valid: older units keep them, and refusing them would lose real rows.
    """
    with open(REFERENCE, encoding="utf-8-sig", newline="") as f:
        return frozenset(row["Code"] for row in csv.DictReader(f, delimiter=";") if row["Soort"] == soort)


def _blank(value: Any) -> Any:
    """VERA writes unknown values as empty strings; they are nulls here."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _text(value: Any) -> str | None:
    value = _blank(value)
    return None if value is None else str(value)


def _code(value: Any) -> str | None:
    """VERA codes come as {"code": ...} objects in JSON and as plain strings in the CSV export."""
    if isinstance(value, dict):
        return _text(value.get("code"))
    return _text(value)


def _digits(value: Any, width: int) -> str | None:
    """An identifier that JSON may deliver as a number: a number lost its leading zeros, so they are put back."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value).zfill(width)
    return _text(value)


def _int_or_none(value: Any) -> int | None:
    """A whole number where one is only consulted, not landed: anything else counts as absent."""
    try:
        return to_int(_blank(value))
    except (ValueError, TypeError):
        return None


# --- VERA JSON: normalising each object to flat fields ------------------------------------------------------------


def _own_room_areas(o: dict[str, Any]) -> list[Any]:
    """Areas of the unit's own indoor rooms: no outdoor or common rooms, none shared with other units."""
    areas = []
    for ruimte in o.get("ruimten") or []:
        if not isinstance(ruimte, dict) or _code(ruimte.get("soort")) in _NOT_OWN_FLOOR:
            continue
        if (_int_or_none(ruimte.get("gedeeldMetAantalOnzelfstandigeWoonruimten")) or 0) > 1:
            continue
        areas.append(ruimte.get("oppervlakte"))
    return areas


def _declared_area(o: dict[str, Any]) -> tuple[Any, str | None]:
    """The unit's gebruiksoppervlakte as declared: on the unit, from BAG, or as a GBO entry of `oppervlakten`."""
    bag = o.get("adresseerbaarObjectBasisregistratie") or {}
    gbo = next(
        (
            x.get("waarde")
            for x in o.get("oppervlakten") or []
            if isinstance(x, dict) and _code(x.get("soort")) == "GBO"
        ),
        None,
    )
    for bron, value in (
        ("eenheid", o.get("gebruiksoppervlakte")),
        ("bag", bag.get("bagGebruikersOppervlakte") if isinstance(bag, dict) else None),
        ("oppervlakten", gbo),
    ):
        if _blank(value) is not None:
            return value, bron
    return None, None


def _eenheid_from_json(o: dict[str, Any]) -> dict[str, Any]:
    adres = o.get("adres") or {}
    bag = o.get("adresseerbaarObjectBasisregistratie") or {}
    woonplaats = adres.get("woonplaats")
    area, bron = _declared_area(o)
    return {
        "id": _text(o.get("id")),
        "code": _text(o.get("code")),
        "soort": _code(o.get("soort")),
        "status": _code(o.get("status")),
        "straatnaam": _text(adres.get("straatnaam")),
        "huisnummer": _blank(adres.get("huisnummer")),
        "huisletter": _text(adres.get("huisletter")),
        "huisnummertoevoeging": _text(adres.get("huisnummerToevoeging")),
        "postcode": _text(adres.get("postcode")),
        "woonplaats": _text(woonplaats.get("naam") if isinstance(woonplaats, dict) else woonplaats),
        "bag_vbo_id": _digits(bag.get("bagIdentificatie"), 16) if isinstance(bag, dict) else None,
        "gebruiksoppervlakte": area,
        "gebruiksoppervlakte_bron": bron,
        "ruimten_oppervlakten": _own_room_areas(o) if bron is None else [],
        "kamers_aantal": _blank(o.get("kamersAantal")),
        "brutohuur": _blank(o.get("brutohuur")),
        "bouwjaar": _blank(o.get("bouwjaar")),
    }


def _ids(items: Any) -> list[str]:
    """Ids of the referenced objects ([{"id": ...}] in VERA), without repeats, in delivered order."""
    out: list[str] = []
    for item in items or []:
        ident = _text(item.get("id")) if isinstance(item, dict) else _text(item)
        if ident and ident not in out:
            out.append(ident)
    return out


def _contract_from_json(o: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": _text(o.get("id")),
        "eenheid_ids": _ids(o.get("eenheden")),
        "relatie_ids": _ids(o.get("relaties")),
        "begindatum": _text(o.get("begindatum")),
        "einddatum": _text(o.get("einddatum")),
        "brutohuur": _blank(o.get("brutohuur")),
        "soort": _code(o.get("soort")),
    }


def _relatie_from_json(o: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": _text(o.get("id")),
        "soort": _code(o.get("soort")),
        "bsn": _digits(o.get("bsn"), 9),
        "kvk_nummer": _digits(o.get("kvkNummer"), 8),
        **{
            k: _text(o.get(k))
            for k in ("geboortedatum", "voornaam", "tussenvoegsels", "achternaam", "naam", "email", "telefoonnummer")
        },
    }


_FROM_JSON = {"eenheid": _eenheid_from_json, "huurovereenkomst": _contract_from_json, "relatie": _relatie_from_json}


def _json_kind(path: Path, items: list[dict[str, Any]]) -> str | None:
    """Which VERA object a file holds: by its name, else by the keys its objects carry; None for an empty list."""
    name = path.name.lower()
    for kind, words in (("huurovereenkomst", ("huurovereenkomst", "contract")), ("relatie", ("relatie",))):
        if any(w in name for w in words):
            return kind
    if "eenheden" in name or "eenheid" in name:
        return "eenheid"
    keys = set().union(*(i.keys() for i in items))
    if "begindatum" in keys and keys & {"eenheden", "relaties"}:
        return "huurovereenkomst"
    if keys & {"bsn", "achternaam", "voornaam", "kvkNummer", "geboortedatum"}:
        return "relatie"
    if keys & {"adres", "adresseerbaarObjectBasisregistratie", "ruimten", "gebruiksoppervlakte"}:
        return "eenheid"
    if not items:
        return None
    raise DeliveryError(path, "root", "neither a VERA eenheid, huurovereenkomst nor relatie (by file name or keys)")


def _json_records(path: Path) -> tuple[str | None, Iterator[Record]]:
    """The kind of VERA object a JSON file holds and its records, normalised one at a time as they are landed."""
    doc = load_json(path)
    items = doc if isinstance(doc, list) else [doc]
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise DeliveryError(path, f"[{i}]" if isinstance(doc, list) else "root", "not a VERA object")
    kind = _json_kind(path, items)
    if kind is None:
        return None, iter(())
    refs = [f"[{i}]" for i in range(len(items))] if isinstance(doc, list) else ["object"]
    return kind, (_json_record(path, kind, ref, o) for ref, o in zip(refs, items, strict=True))


def _json_record(path: Path, kind: str, ref: str, o: dict[str, Any]) -> Record:
    """One object normalised; an object whose nesting is not VERA's (a text where an object belongs) is unreadable."""
    try:
        return Record(kind, str(path), ref, o, _FROM_JSON[kind](o))
    except (AttributeError, TypeError) as exc:
        raise DeliveryError(path, ref, f"not a VERA {kind}: a value where an object belongs, or the reverse") from exc


# --- the CSV export -----------------------------------------------------------------------------------------------


def _csv_kind(path: Path) -> str | None:
    name = path.name.lower()
    for prefix, kind in (("eenheden", "eenheid"), ("huurovereenkomsten", "huurovereenkomst"), ("relaties", "relatie")):
        if name.startswith(prefix):
            return kind
    return None


def _csv_records(path: Path, kind: str) -> tuple[list[SchemaDrift], Iterator[Record]]:
    if kind == "eenheid":
        f = HubCsv(path, ["id"], EENHEDEN_CSV[1:])

        def convert(r: dict[str, Any]) -> dict[str, Any]:
            return {**r, "gebruiksoppervlakte_bron": "eenheid" if r.get("gebruiksoppervlakte") else None}

    elif kind == "huurovereenkomst":
        f = HubCsv(path, ["id", "eenheid_id"], CONTRACTEN_CSV[2:])

        def convert(r: dict[str, Any]) -> dict[str, Any]:
            return {
                **r,
                "eenheid_ids": [r["eenheid_id"]] if r.get("eenheid_id") else [],
                "relatie_ids": list(dict.fromkeys(split_list(r.get("relatie_ids")))),
            }

    else:
        f = HubCsv(path, ["id", "soort"], RELATIES_CSV[2:])

        def convert(r: dict[str, Any]) -> dict[str, Any]:
            return dict(r)

    return f.drift, (Record(kind, str(path), f"line {n}", r, convert(r)) for n, r in f.rows())


# --- validation: each returns a clean row or the problem ------------------------------------------------------------


def _numbers(rec: dict[str, Any], kinds: dict[str, str]) -> tuple[dict[str, Any], Problem | None]:
    """Parse number fields; the problem names the first field that is not a number of its kind."""
    out: dict[str, Any] = {}
    for fld, kind in kinds.items():
        try:
            out[fld] = to_float(rec.get(fld)) if kind == "float" else to_int(rec.get(fld))
        except (ValueError, TypeError):
            return out, (fld, "invalid_number", f"{fld} is not a {'number' if kind == 'float' else 'whole number'}")
    return out, None


def _area(rec: dict[str, Any], declared: float | None) -> tuple[float | None, str | None]:
    """The declared area, else the sum of the unit's own rooms (woningwaardering samples measure every room)."""
    if declared is not None:
        return declared, rec.get("gebruiksoppervlakte_bron")
    areas = [to_float(a) for a in rec.get("ruimten_oppervlakten") or [] if _blank(a) is not None]
    if not areas:
        return None, None
    return round(sum(areas), 2), "ruimten"


def _eenheid_row(rec: dict[str, Any]) -> tuple[dict[str, Any] | None, Problem | None]:
    if not rec.get("id"):
        return None, ("id", "missing_required", "eenheid without id")
    if rec.get("soort") and rec["soort"] not in code_list("EENHEIDSOORT"):
        return None, ("soort", "invalid_code", "soort is not a VERA EENHEIDSOORT code")
    if rec.get("status") and rec["status"] not in code_list("EENHEIDSTATUS"):
        return None, ("status", "invalid_code", "status is not a VERA EENHEIDSTATUS code")
    if rec.get("bag_vbo_id") and not is_valid_bag_id(rec["bag_vbo_id"], "verblijfsobject"):
        return None, ("bag_vbo_id", "invalid_bag_id", "bagIdentificatie is not a verblijfsobject id (16 digits, 01)")
    postcode = rec.get("postcode")
    if postcode and normalise_postcode(postcode) is None:
        return None, ("postcode", "invalid_postcode", "postcode is not a Dutch postcode")
    nums, problem = _numbers(
        rec,
        {
            "huisnummer": "int",
            "gebruiksoppervlakte": "float",
            "kamers_aantal": "int",
            "brutohuur": "float",
            "bouwjaar": "int",
        },
    )
    if problem:
        return None, problem
    if nums["huisnummer"] is not None and not 1 <= nums["huisnummer"] <= 99999:
        return None, ("huisnummer", "invalid_number", "huisnummer is not between 1 and 99999")
    try:
        area, bron = _area(rec, nums["gebruiksoppervlakte"])
    except (ValueError, TypeError):
        return None, ("ruimten", "invalid_number", "a room's oppervlakte is not a number")
    return {
        "eenheid_id": rec["id"],
        "code": rec.get("code"),
        "soort": rec.get("soort"),
        "status": rec.get("status"),
        "straatnaam": rec.get("straatnaam"),
        "huisnummer": nums["huisnummer"],
        "huisletter": rec.get("huisletter"),
        "huisnummertoevoeging": rec.get("huisnummertoevoeging"),
        "postcode": normalise_postcode(postcode) if postcode else None,
        "woonplaats": rec.get("woonplaats"),
        "verblijfsobject_id": rec.get("bag_vbo_id"),
        "gebruiksoppervlakte": area,
        "kamers_aantal": nums["kamers_aantal"],
        "brutohuur": nums["brutohuur"],
        "bouwjaar": nums["bouwjaar"],
        "_bron": bron,
    }, None


def _relatie_soort(rec: dict[str, Any]) -> str | None:
    """The relatie's soort; without one, what its fields show (a BSN or a name: a person; a KvK number: a company)."""
    if rec.get("soort"):
        return RELATIE_SOORTEN.get(rec["soort"])
    if any(rec.get(k) for k in ("bsn", "voornaam", "achternaam", "geboortedatum")):
        return NATUURLIJK
    if rec.get("kvk_nummer"):
        return RECHTSPERSOON
    return None


def _relatie_row(rec: dict[str, Any]) -> tuple[dict[str, Any] | None, Problem | None]:
    if not rec.get("id"):
        return None, ("id", "missing_required", "relatie without id")
    soort = _relatie_soort(rec)
    if soort is None:
        if rec.get("soort"):
            return None, ("soort", "invalid_code", "soort is not NatuurlijkPersoon (NAT) or Rechtspersoon (REC)")
        return None, ("soort", "missing_required", "relatie without soort and without fields that show it")
    if rec.get("bsn") and not is_valid_bsn(rec["bsn"]):
        return None, ("bsn", "invalid_bsn", "BSN is not nine digits passing the 11-proef")
    if rec.get("kvk_nummer") and not is_valid_kvk(rec["kvk_nummer"]):
        return None, ("kvk_nummer", "invalid_number", "KvK-nummer is not eight digits")
    geboorte = parse_iso_date(rec["geboortedatum"]) if rec.get("geboortedatum") else None
    if rec.get("geboortedatum") and geboorte is None:
        return None, ("geboortedatum", "invalid_date", "geboortedatum is not an ISO date (YYYY-MM-DD, YYYY-MM, YYYY)")
    return {
        "relatie_id": rec["id"],
        "soort": soort,
        "bsn": rec.get("bsn"),
        "geboortedatum": geboorte.iso() if geboorte else None,
        "geboortedatum_precision": geboorte.precision if geboorte else "unknown",
        "voornaam": rec.get("voornaam"),
        "tussenvoegsels": rec.get("tussenvoegsels"),
        "achternaam": rec.get("achternaam"),
        "kvk_nummer": rec.get("kvk_nummer"),
        "naam": rec.get("naam"),
        "email": rec.get("email"),
        "telefoonnummer": rec.get("telefoonnummer"),
    }, None


def _contract_row(
    rec: dict[str, Any], eenheden: dict[str, str | None], relaties: set[str]
) -> tuple[dict[str, Any] | None, Problem | None]:
    """A contract whose units and tenants are in this delivery; `eenheden` maps each landed unit to its soort."""
    if not rec.get("id"):
        return None, ("id", "missing_required", "huurovereenkomst without id")
    if not rec.get("eenheid_ids"):
        return None, ("eenheden", "missing_required", "huurovereenkomst without eenheid")
    if any(e not in eenheden for e in rec["eenheid_ids"]):
        return None, ("eenheden", "orphan", "names an eenheid that is not (clean) in this delivery")
    if any(r not in relaties for r in rec["relatie_ids"]):
        return None, ("relaties", "orphan", "names a relatie that is not (clean) in this delivery")
    dates = {}
    for k in ("begindatum", "einddatum"):
        d = parse_iso_date(rec[k]) if rec.get(k) else None
        if rec.get(k) and (d is None or d.precision != "day"):
            return None, (k, "invalid_date", f"{k} is not an ISO date YYYY-MM-DD")
        dates[k] = d.iso() if d else None
    if dates["begindatum"] and dates["einddatum"] and dates["einddatum"] < dates["begindatum"]:
        return None, ("einddatum", "inconsistent", "einddatum lies before begindatum")
    nums, problem = _numbers(rec, {"brutohuur": "float"})
    if problem:
        return None, problem
    # A contract can cover a dwelling and a parking place; the dwelling is the unit the hub follows.
    primary = next((e for e in rec["eenheid_ids"] if eenheden[e] == "WOO"), rec["eenheid_ids"][0])
    return {
        "huurovereenkomst_id": rec["id"],
        "eenheid_id": primary,
        "brutohuur": nums["brutohuur"],
        "soort": rec.get("soort"),
        **dates,
    }, None


# --- the delivery -------------------------------------------------------------------------------------------------


def _delivery_files(path: Path, info: dict[str, Any]) -> list[Path]:
    """The delivery's VERA JSON and CSV-export files; anything else (the code list, a README) is listed in info."""
    candidates = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    files = []
    for f in candidates:
        suffix = f.suffix.lower()
        if suffix == ".json" or (suffix == ".csv" and _csv_kind(f) is not None):
            if f.stat().st_size == 0:
                raise DeliveryError(f, "byte 0", "empty file")
            files.append(f)
        else:
            info["skipped_files"].append(str(f.relative_to(path)) if path.is_dir() else f.name)
    return files


def _land(
    c: EntityCollector, rec: Record, row: dict[str, Any] | None, problem: Problem | None
) -> dict[str, Any] | None:
    """Land a row or quarantine its record; returns the row when it landed clean (not a duplicate)."""
    if problem:
        fld, code, reason = problem
        c.quarantine(file=rec.file, record_ref=rec.ref, field=fld, reason_code=code, reason=reason, raw=rec.raw)
        return None
    assert row is not None
    clean = {k: v for k, v in row.items() if not k.startswith("_")}
    row_out = {**clean, "source_file": rec.file, "record_ref": rec.ref}
    return row if c.add(row_out, file=rec.file, record_ref=rec.ref, raw=rec.raw) else None


class _Delivery:
    """One delivery being landed: the collectors, and the ids that contracts are checked against.

    Units and relaties land file by file as they are read; contracts wait until every unit and relatie is in, since
    a contract is an orphan only if its unit or tenant is nowhere in the delivery.
    """

    def __init__(self, staging_dir: Path, info: dict[str, Any]):
        self.info = info
        self.c = {
            "eenheid": EntityCollector("eenheid", EENHEID_SCHEMA, staging_dir, key_fields=("eenheid_id",)),
            "huurovereenkomst": EntityCollector(
                "huurovereenkomst", CONTRACT_SCHEMA, staging_dir, key_fields=("huurovereenkomst_id",)
            ),
            "huurovereenkomst_relatie": EntityCollector(
                "huurovereenkomst_relatie",
                CONTRACT_RELATIE_SCHEMA,
                staging_dir,
                key_fields=("huurovereenkomst_id", "relatie_id"),
            ),
            "relatie": EntityCollector("relatie", RELATIE_SCHEMA, staging_dir, key_fields=("relatie_id",)),
        }
        self.eenheden: dict[str, str | None] = {}  # landed unit -> its soort
        self.relaties: set[str] = set()
        self.area_source: Counter[str] = Counter()

    def eenheid(self, rec: Record) -> None:
        row = _land(self.c["eenheid"], rec, *_eenheid_row(rec.fields))
        if row:
            self.eenheden[row["eenheid_id"]] = row["soort"]
            self.area_source[row["_bron"] or "onbekend"] += 1

    def relatie(self, rec: Record) -> None:
        row = _land(self.c["relatie"], rec, *_relatie_row(rec.fields))
        if row:
            self.relaties.add(row["relatie_id"])

    def huurovereenkomst(self, rec: Record) -> None:
        row = _land(self.c["huurovereenkomst"], rec, *_contract_row(rec.fields, self.eenheden, self.relaties))
        if not row:
            return
        self.info["huurovereenkomsten_met_meerdere_eenheden"] += len(rec.fields["eenheid_ids"]) > 1
        self.info["huurovereenkomsten_zonder_relatie"] += not rec.fields["relatie_ids"]
        for rid in rec.fields["relatie_ids"]:
            link = {
                "huurovereenkomst_id": row["huurovereenkomst_id"],
                "relatie_id": rid,
                "source_file": rec.file,
                "record_ref": f"{rec.ref}.relaties[{rid}]",
            }
            self.c["huurovereenkomst_relatie"].add(link, file=rec.file, record_ref=rec.ref)


def _counted(records: Iterator[Record], file: Path, per_file: Counter[Path]) -> Iterator[Record]:
    """The records of one file, counted as they are landed (contracts are landed last, after every unit)."""
    for rec in records:
        per_file[file] += 1
        yield rec


def read_corporaties(path: Path, *, delivery_id: str | None = None, staging_root: Path | None = None) -> DeliveryResult:
    """Read a corporation delivery (VERA JSON or CSV export): units, contracts with their tenants, and relaties."""
    path = Path(path)
    if not path.exists():
        raise DeliveryError(path, "path", "no such file or folder")
    info: dict[str, Any] = {
        "skipped_files": [],
        "gebruiksoppervlakte_bron": {},
        "huurovereenkomsten_met_meerdere_eenheden": 0,
        "huurovereenkomsten_zonder_relatie": 0,
    }
    with Staging(staging_root) as staging_dir:
        delivery = _Delivery(staging_dir, info)
        drift: list[SchemaDrift] = []
        try:
            files = _delivery_files(path, info)
            contracts: list[Iterator[Record]] = []
            per_file: Counter[Path] = Counter()
            for f in files:
                if f.suffix.lower() == ".json":
                    kind, records = _json_records(f)
                else:
                    kind = _csv_kind(f)
                    file_drift, records = _csv_records(f, kind)
                    drift += file_drift
                records = _counted(records, f, per_file)
                if kind == "huurovereenkomst":
                    contracts.append(records)
                    continue
                land = delivery.eenheid if kind == "eenheid" else delivery.relatie
                for rec in records:
                    land(rec)
            for records in contracts:
                for rec in records:
                    delivery.huurovereenkomst(rec)
            for f in files:  # each file is a full snapshot of one table of one corporation
                if not per_file[f]:
                    place, what = (
                        ("root", "the JSON list is empty")
                        if f.suffix.lower() == ".json"
                        else ("line 2", "the CSV export has a header but no rows")
                    )
                    refuse_empty_snapshot(f, place, what)
            info["gebruiksoppervlakte_bron"] = dict(sorted(delivery.area_source.items()))
        except BaseException:
            for col in delivery.c.values():
                col.abort()
            raise
        entities = {n: col.finish() for n, col in delivery.c.items()}
        return DeliveryResult(
            source=SOURCE,
            delivery_id=delivery_id or path.stem,
            files=[str(f) for f in files],
            entities=entities,
            drift=drift,
            staging_dir=staging_dir,
            info=info,
        )
