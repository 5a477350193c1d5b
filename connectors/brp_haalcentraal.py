"""Haal Centraal BRP Personen v2 responses: `{"type": "RaadpleegMetBurgerservicenummer", "personen": [...]}`.

Every query type (RaadpleegMetBurgerservicenummer, ZoekMetPostcodeEnHuisnummer, ...) answers with a `personen` list,
so the type is not checked. The API returns only the fields a client asked for (doelbinding), so any field may be
absent; absent means unknown, never "no": a missing `geheimhoudingPersoonsgegevens` lands as null, not as 0.

The BSN: a person needs a BSN or an A-nummer, as in the GBA-V extract. A response whose field selection left out
both (the Nijmegen sample `999999333-response_01.json`) describes someone the hub cannot key or link, and landing it
would add an anonymous resident to an address; it goes to quarantine (missing_required) with a reason that says so,
and the query should be repeated with `burgerservicenummer` among the fields. The BSN is not taken from the file
name: that would be a guess.

A request body saved beside its responses (`fields`, no `personen`) is skipped and listed in info; an API error
response (problem+json with `status`) is an unreadable delivery.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connectors.brp_types import BrpSink, Problem, check_bag_ids, check_house_number
from connectors.csvfile import load_json
from connectors.delivery import DeliveryError
from connectors.identifiers import PartialDate, normalise_postcode, parse_iso_date

_VERBLIJFPLAATS_TYPES = {
    "Adres": "Adres",
    "VerblijfplaatsBuitenland": "Buitenland",
    "VerblijfplaatsOnbekend": "Onbekend",
    "Locatie": "Locatie",
}
_INVALID = ("invalid", "invalid")


def _date(node: Any) -> tuple[str | None, str]:
    """A Haal Centraal date {type: Datum | JaarMaandDatum | JaarDatum | DatumOnbekend, ...} as (ISO, precision)."""
    if not node:
        return None, "unknown"
    if not isinstance(node, dict):
        return _INVALID
    kind, jaar, maand = node.get("type"), node.get("jaar"), node.get("maand")
    parsed: PartialDate | None = None
    if kind == "DatumOnbekend":
        return None, "unknown"
    if kind == "JaarDatum":
        parsed = PartialDate(jaar, None, None) if _whole(jaar, 1, 9999) else None
    elif kind == "JaarMaandDatum":
        parsed = PartialDate(jaar, maand, None) if _whole(jaar, 1, 9999) and _whole(maand, 1, 12) else None
    elif isinstance(node.get("datum"), str):
        parsed = parse_iso_date(node["datum"])
    return _INVALID if parsed is None else (parsed.iso(), parsed.precision)


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _geheimhouding(value: Any) -> int | None:
    """v2 gives a boolean; a GBA-style code 0-7 is taken as is; absent or anything else is unknown (null)."""
    if isinstance(value, bool):
        return int(value)
    return value if _whole(value, 0, 7) else None


def _code(node: Any) -> str | None:
    """The code of a Haal Centraal waardetabel value {code, omschrijving}; a bare string is taken as the code."""
    if isinstance(node, dict):
        node = node.get("code")
    return str(node) if node not in (None, "") else None


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def _nationalities(person: dict[str, Any]) -> list[str]:
    """Codes of the nationalities; BehandeldAlsNederlander and VastgesteldNietNederlander carry none."""
    codes: list[str] = []
    for entry in person.get("nationaliteiten") or []:
        code = _code(entry.get("nationaliteit")) if isinstance(entry, dict) else None
        if code and code not in codes:
            codes.append(code)
    return codes


def _spell(vp: dict[str, Any], gemeente: str | None) -> tuple[tuple, Problem | None]:
    """The address columns of the current verblijfplaats (straatnaam .. verblijfplaats_type), or its problem."""
    start = _date(vp.get("datumVan"))
    if start is _INVALID:
        return (), Problem("verblijfplaats.datumVan", "invalid_date", "datumVan is no valid (partial) date")
    adres = vp.get("verblijfadres") if isinstance(vp.get("verblijfadres"), dict) else {}
    huisnummer, problem = check_house_number(adres.get("huisnummer"))
    if problem is not None:
        return (), Problem("verblijfplaats.verblijfadres.huisnummer", problem.code, problem.reason)
    postcode = None
    if adres.get("postcode"):
        postcode = normalise_postcode(str(adres["postcode"]))
        if postcode is None:
            return (), Problem("verblijfplaats.verblijfadres.postcode", "invalid_postcode", "not a Dutch postcode")
    vbo, num = _text(vp.get("adresseerbaarObjectIdentificatie")), _text(vp.get("nummeraanduidingIdentificatie"))
    problem = check_bag_ids(
        vbo, num, "verblijfplaats.adresseerbaarObjectIdentificatie", "verblijfplaats.nummeraanduidingIdentificatie"
    )
    if problem is not None:
        return (), problem
    kind = _VERBLIJFPLAATS_TYPES.get(vp.get("type"), _text(vp.get("type")))
    return (
        start,
        _text(adres.get("korteStraatnaam")) or _text(adres.get("officieleStraatnaam")),
        _text(adres.get("officieleStraatnaam")),
        huisnummer,
        _text(adres.get("huisletter")),
        _text(adres.get("huisnummertoevoeging")),
        _code(adres.get("aanduidingBijHuisnummer")),
        postcode,
        _text(adres.get("woonplaats")),
        gemeente,
        vbo,
        num,
        kind,
    ), None


def _person(file: str, ref: str, p: dict[str, Any], sink: BrpSink) -> None:
    bsn, anr = _text(p.get("burgerservicenummer")), _text(p.get("aNummer"))
    problem = sink.check_person(bsn, anr, "burgerservicenummer", "aNummer")
    if problem is not None and problem.code == "missing_required":
        problem = Problem(
            "burgerservicenummer",
            "missing_required",
            "no burgerservicenummer (nor aNummer): the query's field selection left it out, and without it the "
            "person cannot be keyed or linked; ask for the field",
        )
    geboorte = _date((p.get("geboorte") or {}).get("datum"))
    if problem is None and geboorte is _INVALID:
        problem = Problem("geboorte.datum", "invalid_date", "geboortedatum is no valid (partial) date")
    vp = p.get("verblijfplaats") if isinstance(p.get("verblijfplaats"), dict) else None
    spell_ref = f"{ref}.verblijfplaats"
    if problem is not None:
        sink.reject_person(file, ref, problem, p, [(spell_ref, vp)] if vp else [])
        return
    naam = p.get("naam") or {}
    gemeente = _code(p.get("gemeenteVanInschrijving"))
    sink.add_person(
        (
            bsn,
            anr,
            _text(naam.get("voornamen")),
            _text(naam.get("voorvoegsel")),
            _text(naam.get("geslachtsnaam")),
            _text(naam.get("volledigeNaam")),
            geboorte[0],
            geboorte[1],
            _code(p.get("geslacht")),
            _nationalities(p),
            gemeente,
            _geheimhouding(p.get("geheimhoudingPersoonsgegevens")),
            file,
            ref,
        )
    )
    if vp:
        row, problem = _spell(vp, gemeente)
        if problem is not None:
            sink.reject_spell(file, spell_ref, problem, vp)
            return
        (start_iso, precision), rest = row[0], row[1:]
        sink.add_spell((bsn, anr, 0, True, start_iso, precision, None, *rest, file, spell_ref))


def read_haal_centraal(path: Path, sink: BrpSink) -> None:
    """Read one Haal Centraal BRP Personen response into the sink (only the current address: v2 has no history)."""
    try:
        doc = load_json(path)
    except DeliveryError as exc:  # re-raised unchained: the runner reports the root cause, which must name the file
        raise DeliveryError(exc.file, exc.place, exc.message, exc.field) from None
    if isinstance(doc, dict) and "personen" not in doc:
        if "fields" in doc:
            sink.info["requests_skipped"].append(path.name)  # a request saved beside its response: nothing to land
            return
        if "status" in doc and "title" in doc:
            raise DeliveryError(path, "root", f"an API error response (status {doc['status']}), not persons")
    if not isinstance(doc, dict) or not isinstance(doc.get("personen"), list):
        raise DeliveryError(path, "root", "not a Haal Centraal BRP Personen response: no 'personen' list")
    file = str(path)
    for i, person in enumerate(doc["personen"]):
        if not isinstance(person, dict):
            raise DeliveryError(path, f"personen[{i}]", "a person is not a JSON object")
        _person(file, f"personen[{i}]", person, sink)
