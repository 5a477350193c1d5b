"""BRK connector: owners from Haal Centraal BRK-Bevragen v2 JSON (docs/formats.md).

A bulk delivery bundles the API's three collections in one HAL `_embedded` object: kadastraal onroerende zaken (with
their addresses, the link to BAG), zakelijk gerechtigden (rights: eigenaar, erfpachter, ... with their share) and
personen (natural persons with BSN where the user may see it; companies with KvK and RSIN). A right pointing to an
object or person outside the delivery is an orphan. Kadaster's own `testcases.json` (a list of resource paths for
the test environment) is refused with a clear message: it names test cases, it holds no data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from connectors.csvfile import load_json, to_int
from connectors.delivery import DeliveryError, DeliveryResult, EntityCollector, Staging
from connectors.identifiers import (
    is_valid_bag_id,
    is_valid_bsn,
    is_valid_kvk,
    is_valid_rsin,
    normalise_postcode,
    parse_iso_date,
)

SOURCE = "brk"
_T = [("source_file", pa.string()), ("record_ref", pa.string())]
OBJECT_SCHEMA = pa.schema(
    [("kadastraal_object_id", pa.string()), ("kadastrale_aanduiding", pa.string()), ("type", pa.string()), *_T]
)
ADRES_SCHEMA = pa.schema(
    [
        ("kadastraal_object_id", pa.string()),
        ("volgnummer", pa.int32()),
        ("straat", pa.string()),
        ("huisnummer", pa.int32()),
        ("huisletter", pa.string()),
        ("huisnummertoevoeging", pa.string()),
        ("postcode", pa.string()),
        ("woonplaats", pa.string()),
        ("verblijfsobject_id", pa.string()),
        ("nummeraanduiding_id", pa.string()),
        *_T,
    ]
)
RECHT_SCHEMA = pa.schema(
    [
        ("zakelijk_gerechtigde_id", pa.string()),
        ("kadastraal_object_id", pa.string()),
        ("persoon_id", pa.string()),
        ("type", pa.string()),
        ("aanvangsdatum", pa.string()),
        ("aandeel_teller", pa.int32()),
        ("aandeel_noemer", pa.int32()),
        *_T,
    ]
)
PERSOON_SCHEMA = pa.schema(
    [
        ("persoon_id", pa.string()),
        ("persoon_type", pa.string()),
        ("bsn", pa.string()),
        ("geslachtsnaam", pa.string()),
        ("voorvoegsel", pa.string()),
        ("voornamen", pa.string()),
        ("geboortedatum", pa.string()),
        ("geboortedatum_precision", pa.string()),
        ("woon_straat", pa.string()),
        ("woon_huisnummer", pa.int32()),
        ("woon_postcode", pa.string()),
        ("woon_woonplaats", pa.string()),
        ("statutaire_naam", pa.string()),
        ("statutaire_zetel", pa.string()),
        ("rechtsvorm", pa.string()),
        ("kvk_nummer", pa.string()),
        ("rsin", pa.string()),
        *_T,
    ]
)
RECHT_TYPES = {"eigenaar", "erfpachter", "vruchtgebruiker", "opstaller", "gebruiker", "appartementseigenaar"}
PERSOON_TYPES = {"KadasterNatuurlijkPersoon": "natuurlijk", "KadasterNietNatuurlijkPersoon": "niet_natuurlijk"}


def _s(v: Any) -> str | None:
    if v is None:
        return None
    t = str(v).strip()
    return t or None


def _bundles(path: Path) -> list[tuple[str, dict[str, Any]]]:
    doc = load_json(path)
    items = doc if isinstance(doc, list) else [doc]
    if items and all(isinstance(i, str) for i in items):
        raise DeliveryError(path, "root", "not a BRK-Bevragen response: a list of resource paths (a test-case list?)")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("_embedded"), dict):
            raise DeliveryError(path, f"[{i}]", "not a BRK-Bevragen response: no _embedded collections")
        out.append((f"[{i}]" if isinstance(doc, list) else "", item["_embedded"]))
    return out


def _geboorte(p: dict[str, Any]) -> tuple[Any, bool]:
    node = (p.get("geboorte") or {}).get("datum")
    if not node:
        return None, True
    kind = node.get("type")
    if kind == "DatumOnbekend":
        from connectors.identifiers import PartialDate

        return PartialDate(None, None, None), True
    value = node.get("datum") or "-".join(str(node[k]) for k in ("jaar", "maand") if node.get(k))
    d = parse_iso_date(value)
    return d, d is not None


def _persoon(p: dict[str, Any]) -> tuple[dict[str, Any] | None, tuple[str, str, str] | None]:
    pid = _s(p.get("identificatie"))
    if not pid:
        return None, ("identificatie", "missing_required", "persoon without identificatie")
    ptype = PERSOON_TYPES.get(p.get("type") or "")
    if ptype is None:
        return None, ("type", "invalid_code", "type is not KadasterNatuurlijkPersoon or KadasterNietNatuurlijkPersoon")
    bsn, kvk, rsin = _s(p.get("burgerservicenummer")), _s(p.get("kvkNummer")), _s(p.get("rsin"))
    if bsn and not is_valid_bsn(bsn):
        return None, ("burgerservicenummer", "invalid_bsn", "BSN fails the 11-proef")
    if kvk and not is_valid_kvk(kvk):
        return None, ("kvkNummer", "invalid_number", "KvK-nummer is not eight digits")
    if rsin and not is_valid_rsin(rsin):
        return None, ("rsin", "invalid_bsn", "RSIN fails the 11-proef")
    geboorte, ok = _geboorte(p)
    if not ok:
        return None, ("geboorte.datum", "invalid_date", "geboortedatum is not a valid date")
    naam = p.get("naam") or {}
    woon = p.get("woonadres") or {}
    try:
        woon_nr = to_int(woon.get("huisnummer"))
    except ValueError:
        return None, ("woonadres.huisnummer", "invalid_number", "huisnummer is not a number")
    return {
        "persoon_id": pid,
        "persoon_type": ptype,
        "bsn": bsn,
        "geslachtsnaam": _s(naam.get("geslachtsnaam")),
        "voorvoegsel": _s(naam.get("voorvoegsel")),
        "voornamen": _s(naam.get("voornamen")),
        "geboortedatum": geboorte.iso() if geboorte else None,
        "geboortedatum_precision": geboorte.precision if geboorte else "unknown",
        "woon_straat": _s(woon.get("straat")),
        "woon_huisnummer": woon_nr,
        "woon_postcode": normalise_postcode(woon.get("postcode")) if woon.get("postcode") else None,
        "woon_woonplaats": _s(woon.get("woonplaats")),
        "statutaire_naam": _s(p.get("statutaireNaam")),
        "statutaire_zetel": _s(p.get("statutaireZetel")),
        "rechtsvorm": _s(p.get("rechtsvorm")),
        "kvk_nummer": kvk,
        "rsin": rsin,
    }, None


def _adres(oid: str, i: int, a: dict[str, Any]) -> tuple[dict[str, Any] | None, tuple[str, str, str] | None]:
    vbo, num = _s(a.get("adresseerbaarObjectIdentificatie")), _s(a.get("nummeraanduidingIdentificatie"))
    if vbo and not is_valid_bag_id(vbo):
        return None, ("adresseerbaarObjectIdentificatie", "invalid_bag_id", "not a BAG object id")
    if num and not is_valid_bag_id(num, "nummeraanduiding"):
        return None, ("nummeraanduidingIdentificatie", "invalid_bag_id", "not a nummeraanduiding id")
    if a.get("postcode") and normalise_postcode(a["postcode"]) is None:
        return None, ("postcode", "invalid_postcode", "postcode is not a Dutch postcode")
    try:
        nr = to_int(a.get("huisnummer"))
    except ValueError:
        return None, ("huisnummer", "invalid_number", "huisnummer is not a number")
    return {
        "kadastraal_object_id": oid,
        "volgnummer": i,
        "straat": _s(a.get("straat")),
        "huisnummer": nr,
        "huisletter": _s(a.get("huisletter")),
        "huisnummertoevoeging": _s(a.get("huisnummertoevoeging")),
        "postcode": normalise_postcode(a["postcode"]) if a.get("postcode") else None,
        "woonplaats": _s(a.get("woonplaats")),
        "verblijfsobject_id": vbo,
        "nummeraanduiding_id": num,
    }, None


def _recht(z: dict[str, Any]) -> tuple[dict[str, Any] | None, tuple[str, str, str] | None]:
    zid = _s(z.get("identificatie"))
    if not zid:
        return None, ("identificatie", "missing_required", "zakelijk gerechtigde without identificatie")
    if _s(z.get("type")) not in RECHT_TYPES:
        return None, ("type", "invalid_code", "type is not a kind of zakelijk recht")
    d = parse_iso_date(z["aanvangsdatum"]) if z.get("aanvangsdatum") else None
    if z.get("aanvangsdatum") and d is None:
        return None, ("aanvangsdatum", "invalid_date", "aanvangsdatum is not a date")
    aandeel = (z.get("tenaamstelling") or {}).get("aandeel") or {}
    try:
        teller, noemer = to_int(aandeel.get("teller")), to_int(aandeel.get("noemer"))
    except ValueError:
        return None, ("tenaamstelling.aandeel", "invalid_number", "aandeel is not a fraction of whole numbers")
    if noemer == 0 or (teller is not None and noemer is not None and teller > noemer):
        return None, ("tenaamstelling.aandeel", "inconsistent", "aandeel teller exceeds noemer or noemer is 0")
    return {
        "zakelijk_gerechtigde_id": zid,
        "kadastraal_object_id": _s(z.get("kadastraalOnroerendeZaakIdentificatie")),
        "persoon_id": _s(z.get("persoonIdentificatie")),
        "type": _s(z.get("type")),
        "aanvangsdatum": d.iso() if d else None,
        "aandeel_teller": teller,
        "aandeel_noemer": noemer,
    }, None


def read_brk(path: Path, *, delivery_id: str | None = None, staging_root: Path | None = None) -> DeliveryResult:
    """Read a BRK-Bevragen bulk delivery: objects with their BAG addresses, rights and persons."""
    path = Path(path)
    if not path.exists():
        raise DeliveryError(path, "path", "no such file or folder")
    files = sorted(p for p in path.glob("*.json")) if path.is_dir() else [path]
    with Staging(staging_root) as d:
        c = {
            "kadastraal_object": EntityCollector(
                "kadastraal_object", OBJECT_SCHEMA, d, key_fields=("kadastraal_object_id",)
            ),
            "kadastraal_object_adres": EntityCollector("kadastraal_object_adres", ADRES_SCHEMA, d),
            "zakelijk_gerechtigde": EntityCollector(
                "zakelijk_gerechtigde", RECHT_SCHEMA, d, key_fields=("zakelijk_gerechtigde_id",)
            ),
            "persoon": EntityCollector("persoon", PERSOON_SCHEMA, d, key_fields=("persoon_id",)),
        }

        def q(entity: str, file: str, ref: str, problem: tuple[str, str, str], raw: Any) -> None:
            fld, code, reason = problem
            c[entity].quarantine(file=file, record_ref=ref, field=fld, reason_code=code, reason=reason, raw=raw)

        try:
            bundles = [(str(f), prefix, emb) for f in files for prefix, emb in _bundles(f)]
            objects: set[str] = set()
            persons: set[str] = set()
            for file, prefix, emb in bundles:
                for i, o in enumerate(emb.get("kadastraalOnroerendeZaken") or []):
                    ref = f"{prefix}kadastraalOnroerendeZaken[{i}]"
                    oid = _s(o.get("identificatie"))
                    if not oid:
                        q("kadastraal_object", file, ref, ("identificatie", "missing_required", "object without id"), o)
                        continue
                    if not c["kadastraal_object"].add(
                        {
                            "kadastraal_object_id": oid,
                            "kadastrale_aanduiding": _s(o.get("kadastraleAanduiding")),
                            "type": _s(o.get("type")),
                            "source_file": file,
                            "record_ref": ref,
                        },
                        file=file,
                        record_ref=ref,
                        raw=o,
                    ):
                        continue
                    objects.add(oid)
                    for j, a in enumerate(o.get("adressen") or []):
                        row, problem = _adres(oid, j, a)
                        aref = f"{ref}.adressen[{j}]"
                        if problem:
                            q("kadastraal_object_adres", file, aref, problem, a)
                        else:
                            c["kadastraal_object_adres"].add({**row, "source_file": file, "record_ref": aref})
                for i, p in enumerate(emb.get("personen") or []):
                    ref = f"{prefix}personen[{i}]"
                    row, problem = _persoon(p)
                    if problem:
                        q("persoon", file, ref, problem, p)
                    elif c["persoon"].add(
                        {**row, "source_file": file, "record_ref": ref}, file=file, record_ref=ref, raw=p
                    ):
                        persons.add(row["persoon_id"])
            for file, prefix, emb in bundles:
                for i, z in enumerate(emb.get("zakelijkGerechtigden") or []):
                    ref = f"{prefix}zakelijkGerechtigden[{i}]"
                    row, problem = _recht(z)
                    if problem is None and row["kadastraal_object_id"] not in objects:
                        problem = ("kadastraalOnroerendeZaakIdentificatie", "orphan", "object not in this delivery")
                    if problem is None and row["persoon_id"] not in persons:
                        problem = ("persoonIdentificatie", "orphan", "persoon not in this delivery")
                    if problem:
                        q("zakelijk_gerechtigde", file, ref, problem, z)
                    else:
                        c["zakelijk_gerechtigde"].add(
                            {**row, "source_file": file, "record_ref": ref}, file=file, record_ref=ref, raw=z
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
            drift=[],
            staging_dir=d,
            info={},
        )
