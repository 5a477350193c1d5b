"""Report desks connector: meldingen (hub JSON/CSV or Signalen API JSON), the case register and rental permits.

The formats are defined in docs/formats.md in the shape of Rotterdam's and Amsterdam's Signalen. Reporters type
addresses as they like, so a missing or wrong postcode is not a reason to refuse a report: the address resolver
deals with it, and `postcode_normalised` is only filled where the postcode is valid. Code lists (desk, status,
subjects, grounds, clusters, interventions, neighbourhoods) are checked; an unknown code is quarantined. Signalen
categories are kept as delivered and counted in `info` as unmapped, since they belong to another city's taxonomy.
A case that bundles a report from an earlier delivery is normal (cases outlive deliveries) and is counted in info.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from connectors.csvfile import HubCsv, load_json, split_list, to_float
from connectors.delivery import DeliveryError, DeliveryResult, EntityCollector, SchemaDrift, Staging
from connectors.identifiers import is_valid_bag_id, normalise_postcode, parse_iso_date

SOURCE = "meldpunten"
BRONNEN = {
    "meldpunt_ongewenst_verhuurgedrag",
    "woonoverlast",
    "huisvesting_arbeidsmigranten",
    "professional",
    "signalen",
}
STATUSSEN = {"openstaand", "in_behandeling", "controle", "afgehandeld", "geannuleerd", "wachten_melder", "pauze"}
ONDERWERPEN = {
    "overbewoning",
    "illegale_kamerverhuur",
    "achterstallig_onderhoud",
    "woonfraude",
    "ondermijning",
    "ongewenst_verhuurgedrag",
    "woonoverlast",
    "huisvesting_arbeidsmigranten",
    "huur_te_hoog",
    "niet_ingeschreven",
}
GRONDEN_WGV = {
    "discriminatie",
    "intimidatie",
    "borg_te_hoog",
    "geen_schriftelijk_contract",
    "informatie_ontbreekt",
    "servicekosten_onredelijk",
    "dubbele_bemiddelingskosten",
    "arbeidsmigrant_apart_contract",
    "arbeidsmigrant_informatie_taal",
}
CLUSTERS = {"Stadsontwikkeling", "Stadsbeheer", "Directie Veiligheid"}
INTERVENTIES = {
    "inspectie",
    "waarschuwing",
    "boete",
    "stopgesprek",
    "integrale_actie",
    "casustafel",
    "last_onder_dwangsom",
    "sluiting",
}
WIJKEN = {"Bloemhof", "Carnisse", "Hillesluis", "Pendrecht-Zuidwijk", "Tarwewijk"}
VERGUNNING_SOORTEN = {"verhuurvergunning", "kamerverhuur", "woningvorming"}
VERGUNNING_STATUSSEN = {"verleend", "ingetrokken", "verlopen"}
_T = [("source_file", pa.string()), ("record_ref", pa.string())]
MELDING_SCHEMA = pa.schema(
    [
        ("melding_id", pa.string()),
        ("bron", pa.string()),
        ("aangemaakt_op", pa.timestamp("us", tz="UTC")),
        ("afgesloten_op", pa.timestamp("us", tz="UTC")),
        ("status", pa.string()),
        ("urgentie", pa.string()),
        ("onderwerpen", pa.list_(pa.string())),
        ("grond_wgv", pa.string()),
        ("omschrijving", pa.string()),
        ("melder_naam", pa.string()),
        ("melder_email", pa.string()),
        ("melder_telefoon", pa.string()),
        ("melder_soort", pa.string()),
        ("verhuurder_genoemd", pa.string()),
        ("adres_tekst", pa.string()),
        ("straatnaam", pa.string()),
        ("huisnummer", pa.string()),
        ("huisnummer_int", pa.int32()),
        ("huisletter", pa.string()),
        ("toevoeging", pa.string()),
        ("postcode", pa.string()),
        ("postcode_normalised", pa.string()),
        ("woonplaats", pa.string()),
        ("wijknaam", pa.string()),
        ("buurtnaam", pa.string()),
        ("lon", pa.float64()),
        ("lat", pa.float64()),
        ("behandelend_cluster", pa.string()),
        *_T,
    ]
)
ZAAK_SCHEMA = pa.schema(
    [
        ("zaak_id", pa.string()),
        ("adres_tekst", pa.string()),
        ("bag_vbo_id", pa.string()),
        ("wijk", pa.string()),
        ("geopend_op", pa.string()),
        ("gesloten_op", pa.string()),
        ("soort", pa.string()),
        ("clusters", pa.list_(pa.string())),
        ("eigenaar_genoemd", pa.string()),
        *_T,
    ]
)
ZAAK_MELDING_SCHEMA = pa.schema([("zaak_id", pa.string()), ("melding_id", pa.string()), *_T])
INTERVENTIE_SCHEMA = pa.schema(
    [("zaak_id", pa.string()), ("volgnummer", pa.int32()), ("soort", pa.string()), ("datum", pa.string()), *_T]
)
VERGUNNING_SCHEMA = pa.schema(
    [
        ("vergunning_id", pa.string()),
        ("bag_vbo_id", pa.string()),
        ("adres_tekst", pa.string()),
        ("soort", pa.string()),
        ("verleend_op", pa.string()),
        ("geldig_tot", pa.string()),
        ("status", pa.string()),
        *_T,
    ]
)
MELDING_CSV = [
    "uuid",
    "bron",
    "aangemaakt_op",
    "afgesloten_op",
    "status",
    "urgentie",
    "onderwerpen",
    "grond_wgv",
    "omschrijving",
    "melder_naam",
    "melder_email",
    "melder_telefoon",
    "melder_soort",
    "verhuurder_genoemd",
    "adres_tekst",
    "straatnaam",
    "huisnummer",
    "huisletter",
    "toevoeging",
    "postcode",
    "wijknaam",
    "buurtnaam",
    "lon",
    "lat",
    "behandelend_cluster",
]
ZAAK_COLUMNS = [
    "zaak_id",
    "melding_uuids",
    "adres_tekst",
    "bag_vbo_id",
    "wijk",
    "geopend_op",
    "gesloten_op",
    "soort",
    "clusters",
    "interventies",
    "eigenaar_genoemd",
]
VERGUNNING_COLUMNS = ["vergunning_id", "bag_vbo_id", "adres_tekst", "soort", "verleend_op", "geldig_tot", "status"]
_LEADING_INT = re.compile(r"^\s*(\d{1,5})")


def _s(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# --- meldingen in the hub's shape and in Signalen's ----------------------------------------------------------------


def _melding_from_hub_json(o: dict[str, Any]) -> dict[str, Any]:
    melder = o.get("melder") or {}
    loc = o.get("locatie") or {}
    coords = ((loc.get("geometrie") or {}).get("coordinates") or [None, None]) + [None, None]
    return {
        "uuid": o.get("uuid"),
        "bron": o.get("bron"),
        "aangemaakt_op": o.get("aangemaakt_op"),
        "afgesloten_op": o.get("afgesloten_op"),
        "status": o.get("status"),
        "urgentie": o.get("urgentie"),
        "onderwerpen": o.get("onderwerpen") or [],
        "grond_wgv": o.get("grond_wgv"),
        "omschrijving": o.get("omschrijving"),
        "melder_naam": melder.get("naam"),
        "melder_email": melder.get("email"),
        "melder_telefoon": melder.get("telefoon"),
        "melder_soort": melder.get("soort"),
        "verhuurder_genoemd": o.get("verhuurder_genoemd"),
        "adres_tekst": loc.get("adres_tekst"),
        "straatnaam": loc.get("straatnaam"),
        "huisnummer": loc.get("huisnummer"),
        "huisletter": loc.get("huisletter"),
        "toevoeging": loc.get("toevoeging"),
        "postcode": loc.get("postcode"),
        "woonplaats": loc.get("woonplaats"),
        "wijknaam": loc.get("wijknaam"),
        "buurtnaam": loc.get("buurtnaam"),
        "lon": coords[0],
        "lat": coords[1],
        "behandelend_cluster": o.get("behandelend_cluster"),
    }


def _melding_from_signalen(o: dict[str, Any], ref: str) -> dict[str, Any]:
    """Map a Signalen API signal (Amsterdam/signals) onto the hub's melding."""
    loc = o.get("location") or {}
    addr = loc.get("address") or {}
    coords = ((loc.get("geometrie") or {}).get("coordinates") or [None, None]) + [None, None]
    cat = o.get("category") or {}
    slug = cat.get("sub") or cat.get("sub_category") or cat.get("main")
    if isinstance(slug, str) and slug.startswith(("/", "http")):
        slug = slug.rstrip("/").rsplit("/", 1)[-1]  # a category URL: its last segment is the slug
    reporter = o.get("reporter") or {}
    return {
        "uuid": o.get("uuid") or o.get("signal_id") or ref,
        "bron": "signalen",
        "aangemaakt_op": o.get("created_at") or o.get("incident_date_start"),  # public submissions lack created_at
        "afgesloten_op": None,
        "status": None,
        "urgentie": None,
        "onderwerpen": [slug] if slug else [],
        "grond_wgv": None,
        "omschrijving": " ".join(t for t in (o.get("text"), o.get("text_extra")) if t) or None,
        "melder_naam": None,
        "melder_email": reporter.get("email"),
        "melder_telefoon": reporter.get("phone"),
        "melder_soort": None,
        "verhuurder_genoemd": None,
        "adres_tekst": " ".join(
            str(v)
            for v in (
                addr.get("openbare_ruimte"),
                addr.get("huisnummer"),
                addr.get("huisletter"),
                addr.get("huisnummer_toevoeging"),
                addr.get("postcode"),
                addr.get("woonplaats"),
            )
            if v
        )
        or None,
        "straatnaam": addr.get("openbare_ruimte"),
        "huisnummer": addr.get("huisnummer"),
        "huisletter": addr.get("huisletter"),
        "toevoeging": addr.get("huisnummer_toevoeging"),
        "postcode": addr.get("postcode"),
        "woonplaats": addr.get("woonplaats"),
        "wijknaam": loc.get("stadsdeel"),
        "buurtnaam": loc.get("buurt_code"),
        "lon": coords[0],
        "lat": coords[1],
        "behandelend_cluster": None,
        "_signalen": True,
    }


def _timestamp(value: Any):
    from datetime import datetime

    if value in (None, ""):
        return None
    text = str(value).strip().replace("Z", "+00:00")
    ts = datetime.fromisoformat(text)
    if ts.tzinfo is None:
        raise ValueError("timestamp without offset")
    return ts


def _melding_row(
    rec: dict[str, Any], info: dict[str, Any]
) -> tuple[dict[str, Any] | None, tuple[str, str, str] | None]:
    if not _s(rec.get("uuid")):
        return None, ("uuid", "missing_required", "melding without uuid")
    signalen = rec.get("_signalen", False)
    if not signalen:
        for fld, value, allowed in (
            ("bron", rec.get("bron"), BRONNEN),
            ("status", rec.get("status"), STATUSSEN),
            ("grond_wgv", rec.get("grond_wgv"), GRONDEN_WGV),
            ("behandelend_cluster", rec.get("behandelend_cluster"), CLUSTERS),
        ):
            if _s(value) is not None and value not in allowed:
                return None, (fld, "invalid_code", f"{fld} is not in the code list of docs/formats.md")
        if not _s(rec.get("bron")):
            return None, ("bron", "missing_required", "melding without bron (desk)")
        unknown = [o for o in rec["onderwerpen"] if o not in ONDERWERPEN]
        if unknown:
            return None, ("onderwerpen", "invalid_code", "an onderwerp is not in the code list of docs/formats.md")
    else:
        info.setdefault(
            "unmapped_signalen_categories",
            sorted(set(info.get("unmapped_signalen_categories", [])) | set(rec["onderwerpen"])),
        )
    try:
        created, closed = _timestamp(rec.get("aangemaakt_op")), _timestamp(rec.get("afgesloten_op"))
    except ValueError:
        return None, ("aangemaakt_op", "invalid_date", "a timestamp is not ISO 8601 with an offset")
    if created is None:
        return None, ("aangemaakt_op", "missing_required", "melding without creation time")
    try:
        lon, lat = to_float(rec.get("lon")), to_float(rec.get("lat"))
    except ValueError:
        return None, ("lon", "invalid_number", "coordinates are not numbers")
    nr = _s(rec.get("huisnummer"))
    m = _LEADING_INT.match(nr) if nr else None
    postcode = _s(rec.get("postcode"))
    return {
        "melding_id": _s(rec["uuid"]),
        "bron": _s(rec.get("bron")),
        "aangemaakt_op": created,
        "afgesloten_op": closed,
        "status": _s(rec.get("status")),
        "urgentie": _s(rec.get("urgentie")),
        "onderwerpen": rec["onderwerpen"],
        "grond_wgv": _s(rec.get("grond_wgv")),
        "omschrijving": _s(rec.get("omschrijving")),
        "melder_naam": _s(rec.get("melder_naam")),
        "melder_email": _s(rec.get("melder_email")),
        "melder_telefoon": _s(rec.get("melder_telefoon")),
        "melder_soort": _s(rec.get("melder_soort")),
        "verhuurder_genoemd": _s(rec.get("verhuurder_genoemd")),
        "adres_tekst": _s(rec.get("adres_tekst")),
        "straatnaam": _s(rec.get("straatnaam")),
        "huisnummer": nr,
        "huisnummer_int": int(m.group(1)) if m else None,
        "huisletter": _s(rec.get("huisletter")),
        "toevoeging": _s(rec.get("toevoeging")),
        "postcode": postcode,
        "postcode_normalised": normalise_postcode(postcode) if postcode else None,
        "woonplaats": _s(rec.get("woonplaats")),
        "wijknaam": _s(rec.get("wijknaam")),
        "buurtnaam": _s(rec.get("buurtnaam")),
        "lon": lon,
        "lat": lat,
        "behandelend_cluster": _s(rec.get("behandelend_cluster")),
    }, None


def _meldingen(path: Path) -> tuple[list[SchemaDrift], Iterator[tuple[str, dict[str, Any]]]]:
    if path.suffix.lower() == ".csv":
        f = HubCsv(path, ["uuid", "bron", "aangemaakt_op"], MELDING_CSV[3:])
        return f.drift, ((f"line {n}", {**r, "onderwerpen": split_list(r.get("onderwerpen"))}) for n, r in f.rows())
    doc = load_json(path)
    items = doc if isinstance(doc, list) else [doc]
    if not all(isinstance(i, dict) for i in items):
        raise DeliveryError(path, "root", "not a melding or a list of meldingen")
    out = []
    for i, o in enumerate(items):
        ref = f"[{i}]" if isinstance(doc, list) else "object"
        if "uuid" in o or "bron" in o:
            out.append((ref, _melding_from_hub_json(o)))
        elif "text" in o and "location" in o:
            out.append((ref, _melding_from_signalen(o, f"{path.stem}-{i}")))
        else:
            raise DeliveryError(path, ref, "neither a hub melding (uuid, bron) nor a Signalen signal (text, location)")
    return [], iter(out)


# --- the case register and the permits ------------------------------------------------------------------------------


def _zaken(path: Path) -> tuple[list[SchemaDrift], Iterator[tuple[str, dict[str, Any]]]]:
    if path.suffix.lower() == ".csv":
        f = HubCsv(path, ["zaak_id"], ZAAK_COLUMNS[1:])
        return f.drift, (
            (
                f"line {n}",
                {
                    **r,
                    "melding_uuids": split_list(r.get("melding_uuids")),
                    "clusters": split_list(r.get("clusters")),
                    "interventies": split_list(r.get("interventies")),
                },
            )
            for n, r in f.rows()
        )
    doc = load_json(path)
    if not isinstance(doc, list):
        raise DeliveryError(path, "root", "zaken.json must be a list of cases")
    return [], (
        (
            f"[{i}]",
            {
                **o,
                "melding_uuids": o.get("melding_uuids") or [],
                "clusters": o.get("clusters") or [],
                "interventies": o.get("interventies") or [],
            },
        )
        for i, o in enumerate(doc)
    )


def _date(value: Any) -> tuple[str | None, bool]:
    if _s(value) is None:
        return None, True
    d = parse_iso_date(str(value))
    return (d.iso(), True) if d is not None and d.precision == "day" else (None, False)


def _zaak(rec: dict[str, Any]):
    if not _s(rec.get("zaak_id")):
        return None, ("zaak_id", "missing_required", "zaak without zaak_id")
    if _s(rec.get("wijk")) and rec["wijk"] not in WIJKEN:
        return None, ("wijk", "invalid_code", "wijk is not one of the five focus neighbourhoods")
    if _s(rec.get("soort")) and rec["soort"] not in ("mono", "multi"):
        return None, ("soort", "invalid_code", "soort is not mono or multi")
    if any(c not in CLUSTERS for c in rec["clusters"]):
        return None, ("clusters", "invalid_code", "a cluster is not in the code list")
    if _s(rec.get("bag_vbo_id")) and not is_valid_bag_id(rec["bag_vbo_id"], "verblijfsobject"):
        return None, ("bag_vbo_id", "invalid_bag_id", "bag_vbo_id is not a verblijfsobject id")
    geopend, ok1 = _date(rec.get("geopend_op"))
    gesloten, ok2 = _date(rec.get("gesloten_op"))
    if not (ok1 and ok2):
        return None, ("geopend_op", "invalid_date", "a date is not YYYY-MM-DD")
    interventies = []
    for item in rec["interventies"]:
        soort, _, datum = str(item).partition("@")
        d, ok = _date(datum)
        if soort not in INTERVENTIES:
            return None, ("interventies", "invalid_code", "an intervention is not in the code list")
        if not ok or d is None:
            return None, ("interventies", "invalid_date", "an intervention's date is not YYYY-MM-DD")
        interventies.append((soort, d))
    row = {
        "zaak_id": _s(rec["zaak_id"]),
        "adres_tekst": _s(rec.get("adres_tekst")),
        "bag_vbo_id": _s(rec.get("bag_vbo_id")),
        "wijk": _s(rec.get("wijk")),
        "geopend_op": geopend,
        "gesloten_op": gesloten,
        "soort": _s(rec.get("soort")),
        "clusters": rec["clusters"],
        "eigenaar_genoemd": _s(rec.get("eigenaar_genoemd")),
    }
    return (row, interventies), None


def _vergunningen(path: Path) -> tuple[list[SchemaDrift], Iterator[tuple[str, dict[str, Any]]]]:
    f = HubCsv(path, ["vergunning_id"], VERGUNNING_COLUMNS[1:])
    return f.drift, ((f"line {n}", r) for n, r in f.rows())


def _vergunning(rec: dict[str, Any]):
    if not _s(rec.get("vergunning_id")):
        return None, ("vergunning_id", "missing_required", "vergunning without id")
    if _s(rec.get("soort")) and rec["soort"] not in VERGUNNING_SOORTEN:
        return None, ("soort", "invalid_code", "soort is not a permit kind of docs/formats.md")
    if _s(rec.get("status")) and rec["status"] not in VERGUNNING_STATUSSEN:
        return None, ("status", "invalid_code", "status is not verleend, ingetrokken or verlopen")
    if _s(rec.get("bag_vbo_id")) and not is_valid_bag_id(rec["bag_vbo_id"], "verblijfsobject"):
        return None, ("bag_vbo_id", "invalid_bag_id", "bag_vbo_id is not a verblijfsobject id")
    verleend, ok1 = _date(rec.get("verleend_op"))
    geldig, ok2 = _date(rec.get("geldig_tot"))
    if not (ok1 and ok2):
        return None, ("verleend_op", "invalid_date", "a date is not YYYY-MM-DD")
    return {
        "vergunning_id": rec["vergunning_id"],
        "bag_vbo_id": _s(rec.get("bag_vbo_id")),
        "adres_tekst": _s(rec.get("adres_tekst")),
        "soort": _s(rec.get("soort")),
        "verleend_op": verleend,
        "geldig_tot": geldig,
        "status": _s(rec.get("status")),
    }, None


# --- the delivery ---------------------------------------------------------------------------------------------------


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    for kind in ("meldingen", "zaken", "vergunningen"):
        if name.startswith(kind):
            return kind
    if path.suffix.lower() == ".json":
        return "meldingen"  # Signalen exports and single signals; refused with a clear error if they are not
    return None


def _quarantine(c: EntityCollector, file: str, ref: str, problem: tuple[str, str, str], raw: Any) -> None:
    fld, code, reason = problem
    c.quarantine(file=file, record_ref=ref, field=fld, reason_code=code, reason=reason, raw=raw)


def read_meldpunten(path: Path, *, delivery_id: str | None = None, staging_root: Path | None = None) -> DeliveryResult:
    """Read a report-desk delivery: meldingen, optionally the case register and the rental permits."""
    path = Path(path)
    if not path.exists():
        raise DeliveryError(path, "path", "no such file or folder")
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    info: dict[str, Any] = {"skipped_files": [], "zaak_meldingen_from_earlier_deliveries": 0}
    with Staging(staging_root) as d:
        c = {
            "melding": EntityCollector("melding", MELDING_SCHEMA, d, key_fields=("melding_id",)),
            "zaak": EntityCollector("zaak", ZAAK_SCHEMA, d, key_fields=("zaak_id",)),
            "zaak_melding": EntityCollector("zaak_melding", ZAAK_MELDING_SCHEMA, d),
            "zaak_interventie": EntityCollector("zaak_interventie", INTERVENTIE_SCHEMA, d),
            "vergunning": EntityCollector("vergunning", VERGUNNING_SCHEMA, d, key_fields=("vergunning_id",)),
        }
        drift: list[SchemaDrift] = []
        used: list[str] = []
        try:
            by_kind: dict[str, list[Path]] = {"meldingen": [], "zaken": [], "vergunningen": []}
            for f in files:
                kind = _kind(f)
                if kind is None:
                    info["skipped_files"].append(f.name)
                    continue
                if f.stat().st_size == 0:
                    raise DeliveryError(f, "byte 0", "empty file")
                by_kind[kind].append(f)
                used.append(str(f))
            melding_ids: set[str] = set()
            for f in by_kind["meldingen"]:
                dr, records = _meldingen(f)
                drift += dr
                for ref, rec in records:
                    row, problem = _melding_row(rec, info)
                    raw = {k: v for k, v in rec.items() if not k.startswith("_")}
                    if problem:
                        _quarantine(c["melding"], str(f), ref, problem, raw)
                    elif c["melding"].add(
                        {**row, "source_file": str(f), "record_ref": ref}, file=str(f), record_ref=ref, raw=raw
                    ):
                        melding_ids.add(row["melding_id"])
            for f in by_kind["zaken"]:
                dr, records = _zaken(f)
                drift += dr
                for ref, rec in records:
                    result, problem = _zaak(rec)
                    if problem:
                        _quarantine(c["zaak"], str(f), ref, problem, rec)
                        continue
                    row, interventies = result
                    if not c["zaak"].add(
                        {**row, "source_file": str(f), "record_ref": ref}, file=str(f), record_ref=ref, raw=rec
                    ):
                        continue
                    for uuid in rec["melding_uuids"]:
                        info["zaak_meldingen_from_earlier_deliveries"] += uuid not in melding_ids
                        c["zaak_melding"].add(
                            {
                                "zaak_id": row["zaak_id"],
                                "melding_id": uuid,
                                "source_file": str(f),
                                "record_ref": f"{ref}.melding_uuids[{uuid}]",
                            }
                        )
                    for i, (soort, datum) in enumerate(interventies, start=1):
                        c["zaak_interventie"].add(
                            {
                                "zaak_id": row["zaak_id"],
                                "volgnummer": i,
                                "soort": soort,
                                "datum": datum,
                                "source_file": str(f),
                                "record_ref": f"{ref}.interventies[{i}]",
                            }
                        )
            for f in by_kind["vergunningen"]:
                dr, records = _vergunningen(f)
                drift += dr
                for ref, rec in records:
                    row, problem = _vergunning(rec)
                    if problem:
                        _quarantine(c["vergunning"], str(f), ref, problem, rec)
                    else:
                        c["vergunning"].add(
                            {**row, "source_file": str(f), "record_ref": ref}, file=str(f), record_ref=ref, raw=rec
                        )
        except BaseException:
            for col in c.values():
                col.abort()
            raise
        entities = {n: col.finish() for n, col in c.items()}
        return DeliveryResult(
            source=SOURCE,
            delivery_id=delivery_id or path.stem,
            files=used,
            entities=entities,
            drift=drift,
            staging_dir=d,
            info=info,
        )
