"""Report desks connector: meldingen (hub JSON/CSV or Signalen API JSON), the case register and rental permits.

The formats are defined in docs/formats.md in the shape of Rotterdam's and Amsterdam's Signalen. Reporters type
addresses as they like, so a missing or wrong postcode is not a reason to refuse a report: the address resolver
deals with it, and `postcode_normalised` is only filled where the postcode is valid. Code lists (desk, status,
subjects, grounds, clusters, interventions, neighbourhoods, permit kinds) are checked; an unknown code is quarantined.

A Signalen signal (the API's request and response bodies: text, category, location.address, reporter, status.state,
created_at) lands as a melding with bron `signalen`. Its category belongs to another city's taxonomy, so it is kept
in `onderwerpen` as delivered and counted in `info["unmapped_signalen_categories"]`, never refused; its workflow
state is translated to the hub's status where the meaning is the same. A signal without its own uuid (`signal_id`)
gets one derived from its content (uuid5), so reading the same file twice gives the same melding_id.

A case that bundles a report from an earlier delivery is normal (cases outlive deliveries): it is not an orphan,
and it is counted in `info["zaak_meldingen_from_earlier_deliveries"]`; a report of this delivery that went to
quarantine is counted in `info["zaak_meldingen_quarantined_here"]` instead. Django fixture files of category lists
(as in Signalen's and Rotterdam's onderwerpen repositories) beside the reports are reference data: skipped, listed.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
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
}
SIGNALEN_BRON = "signalen"  # what a Signalen signal lands with; not a desk a hub record may claim
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
# Signalen's workflow states (signals/apps/signals/workflow.py; short codes and the newer long names) onto the hub's
# statuses where the meaning is the same. A state not here (gesplitst: split into new signals) is left null, counted.
SIGNALEN_STATUS = {
    "m": "openstaand",
    "gemeld": "openstaand",
    "i": "openstaand",
    "afwachting": "openstaand",
    "reopened": "openstaand",
    "heropend": "openstaand",
    "b": "in_behandeling",
    "in_behandeling": "in_behandeling",
    "ingepland": "in_behandeling",
    "ready to send": "in_behandeling",
    "sent": "in_behandeling",
    "send failed": "in_behandeling",
    "reaction received": "in_behandeling",
    "h": "pauze",
    "on_hold": "pauze",
    "reaction requested": "wachten_melder",
    "closure requested": "controle",
    "verzoek_tot_afhandeling": "controle",
    "reopen requested": "controle",
    "verzoek_tot_heropenen": "controle",
    "done external": "controle",
    "o": "afgehandeld",
    "afgehandeld": "afgehandeld",
    "a": "geannuleerd",
    "geannuleerd": "geannuleerd",
}
SIGNALEN_URGENTIE = {"low": "laag", "normal": "normaal", "high": "hoog"}
SIGNALEN_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/Amsterdam/signals#signal")
_LEADING_INT = re.compile(r"^\s*(\d{1,5})")

Problem = tuple[str, str, str]  # field, reason_code, reason


@dataclass
class Record:
    """One input record: where it came from, its raw form (kept in quarantine) and its flat fields."""

    file: str
    ref: str
    raw: Any
    fields: dict[str, Any]


def _s(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _uuid(value: Any) -> str | None:
    """A report id in canonical uuid form (lower case, dashes) when it is a uuid, else as given."""
    text = _s(value)
    if text is None:
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return text


def _list(value: Any) -> list[str]:
    """A list field as JSON delivers it (an array) or as the CSV export writes it (`|`-separated)."""
    if value is None:
        return []
    if isinstance(value, str):
        return split_list(value)
    if isinstance(value, list):
        return [t for v in value if (t := _s(v))]
    return [str(value)]


# --- meldingen in the hub's shape and in Signalen's ----------------------------------------------------------------


def _coordinates(geometrie: Any) -> tuple[Any, Any]:
    coords = geometrie.get("coordinates") if isinstance(geometrie, dict) else None
    if isinstance(coords, list) and len(coords) >= 2:
        return coords[0], coords[1]
    return None, None


def _melding_from_hub_json(o: dict[str, Any]) -> dict[str, Any]:
    melder = o.get("melder") or {}
    loc = o.get("locatie") or {}
    lon, lat = _coordinates(loc.get("geometrie"))
    return {
        "uuid": o.get("uuid"),
        "bron": o.get("bron"),
        "aangemaakt_op": o.get("aangemaakt_op"),
        "afgesloten_op": o.get("afgesloten_op"),
        "status": o.get("status"),
        "urgentie": o.get("urgentie"),
        "onderwerpen": _list(o.get("onderwerpen")),
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
        "lon": lon,
        "lat": lat,
        "behandelend_cluster": o.get("behandelend_cluster"),
    }


def _signalen_category(category: Any) -> str | None:
    """The most specific category as delivered: a sub-category name, or the slug at the end of its API URL."""
    if not isinstance(category, dict):
        return _s(category)
    slug = _s(category.get("sub") or category.get("sub_category") or category.get("category_url"))
    slug = slug or _s(category.get("main") or category.get("main_slug"))
    if slug and slug.startswith(("/", "http")):
        slug = slug.rstrip("/").rsplit("/", 1)[-1]
    return slug


def _signalen_id(o: dict[str, Any]) -> str:
    """The signal's own uuid, or one derived from its content: stable when the same file is read again."""
    own = _s(o.get("signal_id") or o.get("uuid"))
    if own:
        return own
    return str(uuid.uuid5(SIGNALEN_NAMESPACE, json.dumps(o, sort_keys=True, ensure_ascii=False, default=str)))


def _melding_from_signalen(o: dict[str, Any]) -> dict[str, Any]:
    """Map a Signalen API signal (Amsterdam/signals) onto the hub's melding.

    Signalen's stadsdeel and buurt_code are Amsterdam's area codes, not names in the hub's sense; they are left out
    rather than put in wijknaam/buurtnaam, where they would read as Rotterdam neighbourhoods.
    """
    loc = o.get("location") or {}
    addr = loc.get("address") or {}
    lon, lat = _coordinates(loc.get("geometrie"))
    reporter = o.get("reporter") or {}
    status = o.get("status") or {}
    state = _s(status.get("state")) if isinstance(status, dict) else None
    hub_status = SIGNALEN_STATUS.get(state) if state else None
    priority = o.get("priority") or {}
    street, nr = _s(addr.get("openbare_ruimte")), _s(addr.get("huisnummer"))
    number = "".join(x for x in (nr, _s(addr.get("huisletter"))) if x)
    toevoeging = _s(addr.get("huisnummer_toevoeging"))
    first = " ".join(x for x in (street, number + (f"-{toevoeging}" if toevoeging and number else "")) if x)
    last = " ".join(x for x in (_s(addr.get("postcode")), _s(addr.get("woonplaats"))) if x)
    category = _signalen_category(o.get("category"))
    return {
        "uuid": _signalen_id(o),
        "bron": SIGNALEN_BRON,
        "aangemaakt_op": o.get("created_at") or o.get("incident_date_start"),  # public submissions lack created_at
        "afgesloten_op": status.get("created_at") if hub_status in ("afgehandeld", "geannuleerd") else None,
        "status": hub_status,
        "urgentie": SIGNALEN_URGENTIE.get(priority.get("priority")) if isinstance(priority, dict) else None,
        "onderwerpen": [category] if category else [],
        "grond_wgv": None,
        "omschrijving": " ".join(t for t in (_s(o.get("text")), _s(o.get("text_extra"))) if t) or None,
        "melder_naam": None,
        "melder_email": reporter.get("email"),
        "melder_telefoon": reporter.get("phone"),
        "melder_soort": None,
        "verhuurder_genoemd": None,
        "adres_tekst": ", ".join(x for x in (first, last) if x) or None,
        "straatnaam": street,
        "huisnummer": nr,
        "huisletter": addr.get("huisletter"),
        "toevoeging": toevoeging,
        "postcode": addr.get("postcode"),
        "woonplaats": addr.get("woonplaats"),
        "wijknaam": None,
        "buurtnaam": None,
        "lon": lon,
        "lat": lat,
        "behandelend_cluster": None,
        "_signalen": True,
        "_signalen_state": state,
    }


def _timestamp(value: Any) -> datetime | None:
    """An ISO 8601 timestamp with its offset; a timestamp without one is ambiguous and refused."""
    if _s(value) is None:
        return None
    ts = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    if ts.tzinfo is None:
        raise ValueError("timestamp without offset")
    return ts


def _check_codes(rec: dict[str, Any]) -> Problem | None:
    """The hub's code lists (docs/formats.md). A Signalen signal's bron and status were set here, and its category
    is another city's: it is checked only on the codes the hub shares with it."""
    signalen = rec.get("_signalen", False)
    checks = [
        ("status", rec.get("status"), STATUSSEN),
        ("grond_wgv", rec.get("grond_wgv"), GRONDEN_WGV),
        ("behandelend_cluster", rec.get("behandelend_cluster"), CLUSTERS),
    ]
    if not signalen:
        checks.insert(0, ("bron", rec.get("bron"), BRONNEN))
    for fld, value, allowed in checks:
        if _s(value) is not None and _s(value) not in allowed:
            return fld, "invalid_code", f"{fld} is not in the code list of docs/formats.md"
    if not _s(rec.get("bron")):
        return "bron", "missing_required", "melding without bron (desk)"
    if not signalen and any(o not in ONDERWERPEN for o in rec["onderwerpen"]):
        return "onderwerpen", "invalid_code", "an onderwerp is not in the code list of docs/formats.md"
    return None


def _melding_row(rec: dict[str, Any]) -> tuple[dict[str, Any] | None, Problem | None]:
    if not _s(rec.get("uuid")):
        return None, ("uuid", "missing_required", "melding without uuid")
    problem = _check_codes(rec)
    if problem:
        return None, problem
    times = {}
    for fld in ("aangemaakt_op", "afgesloten_op"):
        try:
            times[fld] = _timestamp(rec.get(fld))
        except ValueError:
            return None, (fld, "invalid_date", f"{fld} is not an ISO 8601 timestamp with an offset")
    if times["aangemaakt_op"] is None:
        return None, ("aangemaakt_op", "missing_required", "melding without creation time")
    if times["afgesloten_op"] is not None and times["afgesloten_op"] < times["aangemaakt_op"]:
        return None, ("afgesloten_op", "inconsistent", "afgesloten_op lies before aangemaakt_op")
    try:
        lon, lat = to_float(rec.get("lon")), to_float(rec.get("lat"))
    except (ValueError, TypeError):
        return None, ("lon", "invalid_number", "coordinates are not numbers")
    nr = _s(rec.get("huisnummer"))
    m = _LEADING_INT.match(nr) if nr else None
    postcode = _s(rec.get("postcode"))
    return {
        "melding_id": _uuid(rec["uuid"]),
        "bron": _s(rec.get("bron")),
        "aangemaakt_op": times["aangemaakt_op"],
        "afgesloten_op": times["afgesloten_op"],
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
        "huisnummer_int": int(m.group(1)) if m and int(m.group(1)) > 0 else None,
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


def _is_fixture(doc: Any) -> bool:
    """A Django fixture (a list of {"model", "pk", "fields"}): the category lists of Signalen and Rotterdam."""
    return (
        isinstance(doc, list) and bool(doc) and all(isinstance(i, dict) and "model" in i and "fields" in i for i in doc)
    )


def _json_items(path: Path, doc: Any) -> list[tuple[str, Any]]:
    """The objects of a JSON file: a list, a single object, or a paginated API page ({"results": [...]})."""
    if isinstance(doc, dict) and isinstance(doc.get("results"), list):
        return [(f"results[{i}]", o) for i, o in enumerate(doc["results"])]
    if isinstance(doc, list):
        return [(f"[{i}]", o) for i, o in enumerate(doc)]
    return [("object", doc)]


def _meldingen(path: Path) -> tuple[list[SchemaDrift], Iterator[Record]] | None:
    """The file's meldingen, or None when it is a category list (a Django fixture) that came with the reports."""
    if path.suffix.lower() == ".csv":
        f = HubCsv(path, ["uuid", "bron", "aangemaakt_op"], MELDING_CSV[3:])
        return f.drift, (
            Record(str(path), f"line {n}", r, {**r, "onderwerpen": split_list(r.get("onderwerpen"))})
            for n, r in f.rows()
        )
    doc = load_json(path)
    if _is_fixture(doc):
        return None
    out = []
    for ref, o in _json_items(path, doc):
        if not isinstance(o, dict):
            raise DeliveryError(path, ref, "not a melding object")
        if "uuid" in o or "bron" in o or "locatie" in o:
            convert = _melding_from_hub_json
        elif "text" in o and ("location" in o or "category" in o):
            convert = _melding_from_signalen
        else:
            raise DeliveryError(path, ref, "neither a hub melding (uuid, bron) nor a Signalen signal (text, location)")
        try:
            out.append(Record(str(path), ref, o, convert(o)))
        except (AttributeError, TypeError) as exc:
            raise DeliveryError(
                path, ref, "a value where an object belongs (melder, locatie, location), or the reverse"
            ) from exc
    return [], iter(out)


# --- the case register and the permits ------------------------------------------------------------------------------


def _interventies(value: Any) -> list[tuple[str, str]]:
    """Interventions as `soort@YYYY-MM-DD` strings (CSV, JSON) or as {"soort", "datum"} objects (JSON)."""
    items = value if isinstance(value, list) else split_list(value if isinstance(value, str) else None)
    out = []
    for item in items:
        if isinstance(item, dict):
            out.append((_s(item.get("soort")) or "", _s(item.get("datum")) or ""))
        else:
            soort, _, datum = str(item).partition("@")
            out.append((soort.strip(), datum.strip()))
    return out


def _zaak_fields(r: dict[str, Any]) -> dict[str, Any]:
    return {
        **r,
        "melding_uuids": list(dict.fromkeys(u for v in _list(r.get("melding_uuids")) if (u := _uuid(v)))),
        "clusters": _list(r.get("clusters")),
        "interventies": _interventies(r.get("interventies")),
    }


def _json_list(path: Path, what: str) -> list[tuple[str, dict[str, Any]]]:
    items = _json_items(path, load_json(path))
    for ref, o in items:
        if not isinstance(o, dict):
            raise DeliveryError(path, ref, f"not a {what} object")
    return items


def _zaken(path: Path) -> tuple[list[SchemaDrift], Iterator[Record]]:
    if path.suffix.lower() == ".csv":
        f = HubCsv(path, ["zaak_id"], ZAAK_COLUMNS[1:])
        return f.drift, (Record(str(path), f"line {n}", r, _zaak_fields(r)) for n, r in f.rows())
    items = _json_list(path, "zaak")
    for ref, o in items:
        if "zaak_id" not in o:
            raise DeliveryError(path, ref, "required key 'zaak_id' is missing", "zaak_id")
    return [], iter(Record(str(path), ref, o, _zaak_fields(o)) for ref, o in items)


def _date(value: Any) -> tuple[str | None, bool]:
    """A full ISO date, or None when empty; the flag is False when a value was there but is not such a date."""
    if _s(value) is None:
        return None, True
    d = parse_iso_date(str(value))
    return (d.iso(), True) if d is not None and d.precision == "day" else (None, False)


def _dates(rec: dict[str, Any], start: str, end: str) -> tuple[dict[str, str | None], Problem | None]:
    out: dict[str, str | None] = {}
    for fld in (start, end):
        out[fld], ok = _date(rec.get(fld))
        if not ok:
            return out, (fld, "invalid_date", f"{fld} is not a date YYYY-MM-DD")
    if out[start] and out[end] and out[end] < out[start]:
        return out, (end, "inconsistent", f"{end} lies before {start}")
    return out, None


def _zaak(rec: dict[str, Any]) -> tuple[tuple[dict[str, Any], list[tuple[str, str]]] | None, Problem | None]:
    if not _s(rec.get("zaak_id")):
        return None, ("zaak_id", "missing_required", "zaak without zaak_id")
    if _s(rec.get("wijk")) and _s(rec["wijk"]) not in WIJKEN:
        return None, ("wijk", "invalid_code", "wijk is not one of the five focus neighbourhoods")
    if _s(rec.get("soort")) and _s(rec["soort"]) not in ("mono", "multi"):
        return None, ("soort", "invalid_code", "soort is not mono or multi")
    if any(c not in CLUSTERS for c in rec["clusters"]):
        return None, ("clusters", "invalid_code", "a cluster is not in the code list")
    if _s(rec.get("bag_vbo_id")) and not is_valid_bag_id(_s(rec["bag_vbo_id"]), "verblijfsobject"):
        return None, ("bag_vbo_id", "invalid_bag_id", "bag_vbo_id is not a verblijfsobject id")
    dates, problem = _dates(rec, "geopend_op", "gesloten_op")
    if problem:
        return None, problem
    interventies = []
    for soort, datum in rec["interventies"]:
        if soort not in INTERVENTIES:
            return None, ("interventies", "invalid_code", "an intervention is not in the code list")
        d, ok = _date(datum)
        if not ok or d is None:
            return None, ("interventies", "invalid_date", "an intervention's date is not YYYY-MM-DD")
        interventies.append((soort, d))
    row = {
        "zaak_id": _s(rec["zaak_id"]),
        "adres_tekst": _s(rec.get("adres_tekst")),
        "bag_vbo_id": _s(rec.get("bag_vbo_id")),
        "wijk": _s(rec.get("wijk")),
        "soort": _s(rec.get("soort")),
        "clusters": rec["clusters"],
        "eigenaar_genoemd": _s(rec.get("eigenaar_genoemd")),
        **dates,
    }
    return (row, interventies), None


def _vergunningen(path: Path) -> tuple[list[SchemaDrift], Iterator[Record]]:
    if path.suffix.lower() == ".csv":
        f = HubCsv(path, ["vergunning_id"], VERGUNNING_COLUMNS[1:])
        return f.drift, (Record(str(path), f"line {n}", r, r) for n, r in f.rows())
    items = _json_list(path, "vergunning")
    return [], iter(Record(str(path), ref, o, o) for ref, o in items)


def _vergunning(rec: dict[str, Any]) -> tuple[dict[str, Any] | None, Problem | None]:
    if not _s(rec.get("vergunning_id")):
        return None, ("vergunning_id", "missing_required", "vergunning without id")
    if _s(rec.get("soort")) and _s(rec["soort"]) not in VERGUNNING_SOORTEN:
        return None, ("soort", "invalid_code", "soort is not a permit kind of docs/formats.md")
    if _s(rec.get("status")) and _s(rec["status"]) not in VERGUNNING_STATUSSEN:
        return None, ("status", "invalid_code", "status is not verleend, ingetrokken or verlopen")
    if _s(rec.get("bag_vbo_id")) and not is_valid_bag_id(_s(rec["bag_vbo_id"]), "verblijfsobject"):
        return None, ("bag_vbo_id", "invalid_bag_id", "bag_vbo_id is not a verblijfsobject id")
    dates, problem = _dates(rec, "verleend_op", "geldig_tot")
    if problem:
        return None, problem
    return {
        "vergunning_id": _s(rec["vergunning_id"]),
        "bag_vbo_id": _s(rec.get("bag_vbo_id")),
        "adres_tekst": _s(rec.get("adres_tekst")),
        "soort": _s(rec.get("soort")),
        "status": _s(rec.get("status")),
        **dates,
    }, None


# --- the delivery ---------------------------------------------------------------------------------------------------


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    if path.suffix.lower() not in (".json", ".csv"):
        return None
    for kind in ("meldingen", "zaken", "vergunningen"):
        if name.startswith(kind):
            return kind
    if path.suffix.lower() == ".json":
        return "meldingen"  # Signalen exports and single signals; refused with a clear error if they are not
    return None


def _land(c: EntityCollector, rec: Record, row: dict[str, Any] | None, problem: Problem | None) -> bool:
    """Land a row or quarantine its record; True when the row landed clean (not a duplicate)."""
    if problem:
        fld, code, reason = problem
        c.quarantine(file=rec.file, record_ref=rec.ref, field=fld, reason_code=code, reason=reason, raw=rec.raw)
        return False
    assert row is not None
    row_out = {**row, "source_file": rec.file, "record_ref": rec.ref}
    return c.add(row_out, file=rec.file, record_ref=rec.ref, raw=rec.raw)


def _sort_files(files: list[Path], info: dict[str, Any]) -> dict[str, list[Path]]:
    """The delivery's files by kind; files that are not reports, cases or permits are listed in info, not read."""
    by_kind: dict[str, list[Path]] = {"meldingen": [], "zaken": [], "vergunningen": []}
    for f in files:
        kind = _kind(f)
        if kind is None:
            info["skipped_files"].append(f.name)
            continue
        if f.stat().st_size == 0:
            raise DeliveryError(f, "byte 0", "empty file")
        by_kind[kind].append(f)
    return by_kind


def _read_meldingen(f: Path, c: EntityCollector, state: dict[str, Any]) -> list[SchemaDrift] | None:
    """Land one file of meldingen; None when it holds a category list instead. Signalen's codes go to `state`."""
    read = _meldingen(f)
    if read is None:
        return None
    drift, records = read
    for rec in records:
        row, problem = _melding_row(rec.fields)
        state["delivered_ids"].add(_uuid(rec.fields.get("uuid")))
        if not _land(c, rec, row, problem):
            continue
        state["melding_ids"].add(row["melding_id"])
        if rec.fields.get("_signalen"):
            state["categories"].update(row["onderwerpen"])
            signal_state = rec.fields.get("_signalen_state")
            if signal_state and signal_state not in SIGNALEN_STATUS:
                state["states"][signal_state] += 1
    return drift


def _read_zaken(
    f: Path, c: dict[str, EntityCollector], state: dict[str, Any], info: dict[str, Any]
) -> list[SchemaDrift]:
    """Land one case file with its reports and interventions, the links only for cases that landed clean.

    A report the case names that is not in this delivery came earlier; one that is here but was quarantined is
    counted apart, so the two figures say different things (normal history versus a problem in this delivery).
    """
    drift, records = _zaken(f)
    for rec in records:
        result, problem = _zaak(rec.fields)
        row, interventies = result or (None, [])
        if not _land(c["zaak"], rec, row, problem):
            continue
        for mid in rec.fields["melding_uuids"]:
            info["zaak_meldingen_from_earlier_deliveries"] += mid not in state["delivered_ids"]
            info["zaak_meldingen_quarantined_here"] += mid in state["delivered_ids"] and mid not in state["melding_ids"]
            c["zaak_melding"].add(
                {
                    "zaak_id": row["zaak_id"],
                    "melding_id": mid,
                    "source_file": rec.file,
                    "record_ref": f"{rec.ref}.melding_uuids[{mid}]",
                }
            )
        for i, (soort, datum) in enumerate(interventies, start=1):
            c["zaak_interventie"].add(
                {
                    "zaak_id": row["zaak_id"],
                    "volgnummer": i,
                    "soort": soort,
                    "datum": datum,
                    "source_file": rec.file,
                    "record_ref": f"{rec.ref}.interventies[{i}]",
                }
            )
    return drift


def read_meldpunten(path: Path, *, delivery_id: str | None = None, staging_root: Path | None = None) -> DeliveryResult:
    """Read a report-desk delivery: meldingen, optionally the case register and the rental permits."""
    path = Path(path)
    if not path.exists():
        raise DeliveryError(path, "path", "no such file or folder")
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    info: dict[str, Any] = {
        "skipped_files": [],
        "zaak_meldingen_from_earlier_deliveries": 0,
        "zaak_meldingen_quarantined_here": 0,
        "unmapped_signalen_categories": {},
        "unmapped_signalen_states": {},
    }
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
            by_kind = _sort_files(files, info)
            state: dict[str, Any] = {
                "melding_ids": set(),  # landed clean
                "delivered_ids": set(),  # in this delivery, clean or quarantined
                "categories": Counter(),
                "states": Counter(),
            }
            for f in by_kind["meldingen"]:
                dr = _read_meldingen(f, c["melding"], state)
                if dr is None:
                    info["skipped_files"].append(f.name)  # reference data beside the reports, not reports
                    continue
                drift += dr
                used.append(str(f))
            for f in by_kind["zaken"]:
                drift += _read_zaken(f, c, state, info)
                used.append(str(f))
            for f in by_kind["vergunningen"]:
                dr, records = _vergunningen(f)
                drift += dr
                for rec in records:
                    _land(c["vergunning"], rec, *_vergunning(rec.fields))
                used.append(str(f))
            info["unmapped_signalen_categories"] = dict(sorted(state["categories"].items()))
            info["unmapped_signalen_states"] = dict(sorted(state["states"].items()))
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
