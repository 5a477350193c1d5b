"""Housing corporations connector: VERA JSON (Aedes datastandaarden) or its CSV export (docs/formats.md).

VERA objects arrive as lists (`vera_eenheden.json`, `vera_huurovereenkomsten.json`, `vera_relaties.json`) or, as in
the woningwaardering samples, one eenheid per file. Empty strings mean "not known" in VERA exports and are read as
nulls. Codes (eenheid soort and status) are checked against the VERA reference data shipped in
`connectors/reference/vera_referentiedata.csv` (CC0, Aedes-datastandaarden/vera-referentiedata). A contract naming a
unit or a tenant that is not in the same delivery is an orphan: the corporation delivers all three together.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from connectors.csvfile import HubCsv, load_json, split_list, to_float, to_int
from connectors.delivery import DeliveryError, DeliveryResult, EntityCollector, SchemaDrift, Staging
from connectors.identifiers import is_valid_bag_id, is_valid_bsn, is_valid_kvk, normalise_postcode, parse_iso_date

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
RELATIE_SOORTEN = {"NatuurlijkPersoon": "natuurlijk_persoon", "Rechtspersoon": "rechtspersoon"}
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


@cache
def code_list(soort: str) -> frozenset[str]:
    """Codes of one VERA reference list (e.g. EENHEIDSOORT)."""
    with open(REFERENCE, encoding="utf-8-sig", newline="") as f:
        return frozenset(row["Code"] for row in csv.DictReader(f, delimiter=";") if row["Soort"] == soort)


def _blank(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _code(value: Any) -> str | None:
    """VERA codes come as {"code": ...} objects in JSON and as plain strings in the CSV export."""
    if isinstance(value, dict):
        return _blank(value.get("code"))
    return _blank(value)


# --- normalising both shapes into one record per object ---------------------------------------------------------


def _eenheid_from_json(o: dict[str, Any]) -> dict[str, Any]:
    adres = o.get("adres") or {}
    bag = o.get("adresseerbaarObjectBasisregistratie") or {}
    woonplaats = adres.get("woonplaats")
    return {
        "id": _blank(str(o["id"])) if o.get("id") is not None else None,
        "code": _blank(o.get("code")),
        "soort": _code(o.get("soort")),
        "status": _code(o.get("status")),
        "straatnaam": _blank(adres.get("straatnaam")),
        "huisnummer": _blank(adres.get("huisnummer")),
        "huisletter": _blank(adres.get("huisletter")),
        "huisnummertoevoeging": _blank(adres.get("huisnummerToevoeging")),
        "postcode": _blank(adres.get("postcode")),
        "woonplaats": _blank(woonplaats.get("naam") if isinstance(woonplaats, dict) else woonplaats),
        "bag_vbo_id": _blank(bag.get("bagIdentificatie")),
        "gebruiksoppervlakte": _blank(o.get("gebruiksoppervlakte")) or _blank(bag.get("bagGebruikersOppervlakte")),
        "kamers_aantal": _blank(o.get("kamersAantal")),
        "brutohuur": _blank(o.get("brutohuur")),
        "bouwjaar": _blank(o.get("bouwjaar")),
    }


def _contract_from_json(o: dict[str, Any]) -> dict[str, Any]:
    eenheden = [str(e.get("id")) for e in o.get("eenheden") or [] if isinstance(e, dict) and e.get("id")]
    return {
        "id": _blank(str(o.get("id"))) if o.get("id") is not None else None,
        "eenheid_ids": eenheden,
        "relatie_ids": [str(r.get("id")) for r in o.get("relaties") or [] if isinstance(r, dict) and r.get("id")],
        "begindatum": _blank(o.get("begindatum")),
        "einddatum": _blank(o.get("einddatum")),
        "brutohuur": _blank(o.get("brutohuur")),
        "soort": _code(o.get("soort")),
    }


def _relatie_from_json(o: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": _blank(str(o.get("id"))) if o.get("id") is not None else None,
        "soort": _code(o.get("soort")),
        **{
            k: _blank(o.get(k))
            for k in (
                "bsn",
                "geboortedatum",
                "voornaam",
                "tussenvoegsels",
                "achternaam",
                "naam",
                "email",
                "telefoonnummer",
            )
        },
        "kvk_nummer": _blank(o.get("kvkNummer")),
    }


def _json_records(path: Path) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    """Which kind of VERA object a JSON file holds, and its records with a reference each."""
    doc = load_json(path)
    items = doc if isinstance(doc, list) else [doc]
    if not all(isinstance(i, dict) for i in items):
        raise DeliveryError(path, "root", "not a VERA object or list of objects")
    name = path.name.lower()
    if "huurovereenkomst" in name or (items and "eenheden" in items[0] and "begindatum" in items[0]):
        kind, convert = "huurovereenkomst", _contract_from_json
    elif "relatie" in name or (items and "achternaam" in items[0]):
        kind, convert = "relatie", _relatie_from_json
    elif all("adres" in i or "adresseerbaarObjectBasisregistratie" in i for i in items):
        kind, convert = "eenheid", _eenheid_from_json
    else:
        raise DeliveryError(path, "root", "not a VERA eenheid, huurovereenkomst or relatie")
    refs = [f"[{i}]" for i in range(len(items))] if isinstance(doc, list) else ["object"]
    return kind, [(ref, convert(o)) for ref, o in zip(refs, items, strict=True)]


def _csv_records(path: Path) -> tuple[str, list[SchemaDrift], Iterator[tuple[str, dict[str, Any]]]]:
    name = path.name.lower()
    if name.startswith("eenheden"):
        f = HubCsv(path, ["id"], EENHEDEN_CSV[1:])
        return "eenheid", f.drift, ((f"line {n}", r) for n, r in f.rows())
    if name.startswith("huurovereenkomsten"):
        f = HubCsv(path, ["id", "eenheid_id"], CONTRACTEN_CSV[2:])

        def contracts():
            for n, r in f.rows():
                yield (
                    f"line {n}",
                    {
                        **r,
                        "eenheid_ids": [r["eenheid_id"]] if r.get("eenheid_id") else [],
                        "relatie_ids": split_list(r.get("relatie_ids")),
                    },
                )

        return "huurovereenkomst", f.drift, contracts()
    if name.startswith("relaties"):
        f = HubCsv(path, ["id", "soort"], RELATIES_CSV[2:])
        return "relatie", f.drift, ((f"line {n}", r) for n, r in f.rows())
    raise DeliveryError(
        path, "file name", "unknown CSV in a corporation delivery (expected eenheden, huurovereenkomsten or relaties)"
    )


# --- validation ------------------------------------------------------------------------------------------------


def _eenheid_row(rec: dict[str, Any]) -> tuple[dict[str, Any] | None, tuple[str, str, str] | None]:
    if not rec.get("id"):
        return None, ("id", "missing_required", "eenheid without id")
    if rec.get("soort") and rec["soort"] not in code_list("EENHEIDSOORT"):
        return None, ("soort", "invalid_code", "soort is not a VERA EENHEIDSOORT code")
    if rec.get("status") and rec["status"] not in code_list("EENHEIDSTATUS"):
        return None, ("status", "invalid_code", "status is not a VERA EENHEIDSTATUS code")
    if rec.get("bag_vbo_id") and not is_valid_bag_id(str(rec["bag_vbo_id"]), "verblijfsobject"):
        return None, ("bagIdentificatie", "invalid_bag_id", "bagIdentificatie is not a verblijfsobject id")
    postcode = rec.get("postcode")
    if postcode and normalise_postcode(str(postcode)) is None:
        return None, ("postcode", "invalid_postcode", "postcode is not a Dutch postcode")
    try:
        nr = to_int(rec.get("huisnummer"))
        if nr is not None and not 1 <= nr <= 99999:
            raise ValueError(nr)
        numbers = {k: to_float(rec.get(k)) for k in ("gebruiksoppervlakte", "brutohuur")}
        kamers, bouwjaar = to_int(rec.get("kamers_aantal")), to_int(rec.get("bouwjaar"))
    except ValueError:
        return None, (
            "huisnummer",
            "invalid_number",
            "a number field (huisnummer, oppervlakte, huur, kamers, bouwjaar) does not hold a number",
        )
    return {
        "eenheid_id": rec["id"],
        "code": rec.get("code"),
        "soort": rec.get("soort"),
        "status": rec.get("status"),
        "straatnaam": rec.get("straatnaam"),
        "huisnummer": nr,
        "huisletter": rec.get("huisletter"),
        "huisnummertoevoeging": rec.get("huisnummertoevoeging"),
        "postcode": normalise_postcode(str(postcode)) if postcode else None,
        "woonplaats": rec.get("woonplaats"),
        "verblijfsobject_id": rec.get("bag_vbo_id"),
        "kamers_aantal": kamers,
        "bouwjaar": bouwjaar,
        **numbers,
    }, None


def _relatie_row(rec: dict[str, Any]) -> tuple[dict[str, Any] | None, tuple[str, str, str] | None]:
    if not rec.get("id"):
        return None, ("id", "missing_required", "relatie without id")
    soort = RELATIE_SOORTEN.get(rec.get("soort") or "", rec.get("soort"))
    if soort not in RELATIE_SOORTEN.values():
        return None, ("soort", "invalid_code", "soort is not NatuurlijkPersoon or Rechtspersoon")
    if rec.get("bsn") and not is_valid_bsn(rec["bsn"]):
        return None, ("bsn", "invalid_bsn", "BSN fails the 11-proef")
    if rec.get("kvk_nummer") and not is_valid_kvk(rec["kvk_nummer"]):
        return None, ("kvkNummer", "invalid_number", "KvK-nummer is not eight digits")
    geboorte = parse_iso_date(rec["geboortedatum"]) if rec.get("geboortedatum") else None
    if rec.get("geboortedatum") and geboorte is None:
        return None, ("geboortedatum", "invalid_date", "geboortedatum is not an ISO date")
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


def _contract_row(rec: dict[str, Any], eenheden: set[str], relaties: set[str]):
    if not rec.get("id"):
        return None, ("id", "missing_required", "huurovereenkomst without id")
    if not rec.get("eenheid_ids"):
        return None, ("eenheden", "missing_required", "huurovereenkomst without eenheid")
    missing_unit = [e for e in rec["eenheid_ids"] if e not in eenheden]
    if missing_unit:
        return None, ("eenheden", "orphan", "names an eenheid that is not in this delivery")
    if any(r not in relaties for r in rec["relatie_ids"]):
        return None, ("relaties", "orphan", "names a relatie that is not in this delivery")
    dates = {}
    for k in ("begindatum", "einddatum"):
        d = parse_iso_date(rec[k]) if rec.get(k) else None
        if rec.get(k) and (d is None or d.precision != "day"):
            return None, (k, "invalid_date", f"{k} is not an ISO date")
        dates[k] = d.iso() if d else None
    try:
        huur = to_float(rec.get("brutohuur"))
    except ValueError:
        return None, ("brutohuur", "invalid_number", "brutohuur is not a number")
    return {
        "huurovereenkomst_id": rec["id"],
        "eenheid_id": rec["eenheid_ids"][0],
        "brutohuur": huur,
        "soort": rec.get("soort"),
        **dates,
    }, None


def corporatie_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".json", ".csv"))
    return [path]


def read_corporaties(path: Path, *, delivery_id: str | None = None, staging_root: Path | None = None) -> DeliveryResult:
    """Read a corporation delivery (VERA JSON or CSV export): units, contracts with their tenants, and relaties."""
    path = Path(path)
    if not path.exists():
        raise DeliveryError(path, "path", "no such file or folder")
    files = corporatie_files(path)
    with Staging(staging_root) as staging_dir:
        c = {
            "eenheid": EntityCollector("eenheid", EENHEID_SCHEMA, staging_dir, key_fields=("eenheid_id",)),
            "huurovereenkomst": EntityCollector(
                "huurovereenkomst", CONTRACT_SCHEMA, staging_dir, key_fields=("huurovereenkomst_id",)
            ),
            "huurovereenkomst_relatie": EntityCollector(
                "huurovereenkomst_relatie", CONTRACT_RELATIE_SCHEMA, staging_dir
            ),
            "relatie": EntityCollector("relatie", RELATIE_SCHEMA, staging_dir, key_fields=("relatie_id",)),
        }
        drift: list[SchemaDrift] = []
        try:
            grouped: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
                "eenheid": [],
                "relatie": [],
                "huurovereenkomst": [],
            }
            for f in files:
                if f.stat().st_size == 0:
                    raise DeliveryError(f, "byte 0", "empty file")
                if f.suffix.lower() == ".json":
                    kind, records = _json_records(f)
                else:
                    kind, d, records = _csv_records(f)
                    drift += d
                grouped[kind].extend((str(f), ref, rec) for ref, rec in records)
            seen = {"eenheid": set(), "relatie": set()}
            for kind, make in (("eenheid", _eenheid_row), ("relatie", _relatie_row)):
                for file, ref, rec in grouped[kind]:
                    row, problem = make(rec)
                    if problem:
                        fld, code, reason = problem
                        c[kind].quarantine(
                            file=file, record_ref=ref, field=fld, reason_code=code, reason=reason, raw=rec
                        )
                    elif c[kind].add(
                        {**row, "source_file": file, "record_ref": ref}, file=file, record_ref=ref, raw=rec
                    ):
                        seen[kind].add(row[f"{kind}_id"])
            for file, ref, rec in grouped["huurovereenkomst"]:
                row, problem = _contract_row(rec, seen["eenheid"], seen["relatie"])
                if problem:
                    fld, code, reason = problem
                    c["huurovereenkomst"].quarantine(
                        file=file, record_ref=ref, field=fld, reason_code=code, reason=reason, raw=rec
                    )
                    continue
                if c["huurovereenkomst"].add(
                    {**row, "source_file": file, "record_ref": ref}, file=file, record_ref=ref, raw=rec
                ):
                    for rid in rec["relatie_ids"]:
                        c["huurovereenkomst_relatie"].add(
                            {
                                "huurovereenkomst_id": row["huurovereenkomst_id"],
                                "relatie_id": rid,
                                "source_file": file,
                                "record_ref": f"{ref}.relaties[{rid}]",
                            }
                        )
        except BaseException:
            for col in c.values():
                col.abort()
            raise
        entities = {n: col.finish() for n, col in c.items()}
        return DeliveryResult(
            source=SOURCE,
            delivery_id=delivery_id or path.stem,
            files=[str(f) for f in files],
            entities=entities,
            drift=drift,
            staging_dir=staging_dir,
            info={},
        )
