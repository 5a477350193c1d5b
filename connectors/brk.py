"""BRK connector: owners from Haal Centraal BRK-Bevragen JSON (docs/formats.md).

A bulk delivery bundles the API's collections in one HAL `_embedded` object: kadastraal onroerende zaken (with their
addresses, the link to BAG), zakelijk gerechtigden (rights: eigenaar, erfpachter, ... with their share) and personen
(natural persons with a BSN where the user may see it; companies with KvK-nummer and RSIN). A file holds one bundle or
a list of them.

At city scale one bundle is a few hundred megabytes, so the file is walked element by element (`_JsonWalker`)
instead of parsed whole: memory stays bounded by the largest single record. Rights point at objects and persons that
may come later in the file, so they are spooled to an anonymous temporary file and checked after every object and
person has been read; a right pointing outside the delivery (or at a record that went to quarantine) is an orphan.

Kadaster's own `testcases.json` (a list of resource paths for its test environment) is refused with a clear
message: it names test cases, it holds no data.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import pyarrow as pa

from connectors.delivery import DeliveryError, DeliveryResult, EntityCollector, SchemaDrift, Staging
from connectors.identifiers import (
    PartialDate,
    is_valid_bag_id,
    is_valid_bsn,
    is_valid_kvk,
    is_valid_rsin,
    normalise_postcode,
    parse_iso_date,
)
from connectors.snapshots import require_records

SOURCE = "brk"
_T = [("source_file", pa.string()), ("record_ref", pa.string())]
OBJECT_SCHEMA = pa.schema(
    [("kadastraal_object_id", pa.string()), ("kadastrale_aanduiding", pa.string()), ("type", pa.string()), *_T]
)
ADRES_SCHEMA = pa.schema(
    [
        ("kadastraal_object_id", pa.string()),
        ("volgnummer", pa.int32()),  # position in the object's adressen list, from 0
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
COLLECTIONS = ("kadastraalOnroerendeZaken", "zakelijkGerechtigden", "personen")
OBJECT_TYPES = {"perceel", "appartementsrecht"}
# TypeGerechtigdeEnum of the BRK-Bevragen specification (VNG-Realisatie/Haal-Centraal-BRK-bevragen, domain.yaml)
RECHT_TYPES = {
    "beklemrechthouder",
    "eigenaar",
    "erfpachter",
    "gebruik_bewoning",
    "grondrente",
    "opstalhouder",
    "vaderlandsrecht",
    "stadsmeierrecht",
    "vruchtgebruiker",
    "erfpachter_opstalhouder",
    "nutsvoorzieningen",
    "twee_belastingen",
    "belasting_derde",
    "bp_recht",
    "nutsvoorzieningen_gedeelte",
    "artikel5_3b",
}
# v2 names as in docs/formats.md, and the spec's snake_case enum values for Kadaster persons
PERSOON_TYPES = {
    "KadasterNatuurlijkPersoon": "natuurlijk",
    "KadasterNietNatuurlijkPersoon": "niet_natuurlijk",
    "kadaster_natuurlijk_persoon": "natuurlijk",
    "kadaster_niet_natuurlijk_persoon": "niet_natuurlijk",
}
# An "ingeschreven" person's identificatie IS its BSN or RSIN (spec: PersoonBasis.identificatie). Landing it as
# persoon_id would put a BSN in a column the pseudonymisation policy keeps in the clear.
INGESCHREVEN_TYPES = {"ingeschreven_natuurlijk_persoon", "ingeschreven_niet_natuurlijk_persoon"}
DATE_TYPES = {"Datum", "JaarMaandDatum", "JaarDatum", "DatumOnbekend"}
_OBJECT_ID = re.compile(r"^\d{14}$")
_HUISLETTER = re.compile(r"^[A-Za-z]$")
_TOEVOEGING = re.compile(r"^[A-Za-z0-9]{1,4}$")
_WS = re.compile(r"[ \t\r\n]*")
_MAX_RECORD_CHARS = 64 << 20  # one record larger than this is taken as a malformed file, not read further

Problem = tuple[str, str, str]  # (field, reason_code, reason)


# --- walking a large JSON file element by element ------------------------------------------------------------------


class _JsonWalker:
    """Reads one JSON document piecewise: the containers the connector walks, and small values decoded whole.

    Text is decoded from UTF-8 (a BOM is accepted) a megabyte at a time; errors name the line and column.
    """

    def __init__(self, path: Path):
        self.path = path
        self._f = open(path, "rb")  # noqa: SIM115 - closed by close(), the walker outlives one block
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._json = json.JSONDecoder()
        self.buf = ""
        self.pos = 0
        self.eof = False
        self._lines_dropped = 0
        self._line_start_dropped = 0  # chars on the current line dropped with the buffer head
        self._bytes_read = 0
        self.last_text = ""  # the JSON text of the last value() read

    def close(self) -> None:
        self._f.close()

    def where(self, pos: int | None = None) -> str:
        pos = self.pos if pos is None else pos
        line = self._lines_dropped + self.buf.count("\n", 0, pos) + 1
        last = self.buf.rfind("\n", 0, pos)
        column = pos - last if last >= 0 else pos + 1 + self._line_start_dropped
        return f"line {line} column {column}"

    def error(self, message: str, pos: int | None = None) -> DeliveryError:
        return DeliveryError(self.path, self.where(pos), message)

    def _fill(self) -> bool:
        """Append the next block to the buffer (dropping what was consumed); False at the end of the file."""
        if self.eof:
            return False
        dropped = self.buf[: self.pos]
        newlines = dropped.count("\n")
        if newlines:
            self._lines_dropped += newlines
            self._line_start_dropped = len(dropped) - dropped.rfind("\n") - 1
        else:
            self._line_start_dropped += len(dropped)
        self.buf, self.pos = self.buf[self.pos :], 0
        raw = self._f.read(1 << 20)
        try:
            self.buf += self._decoder.decode(raw, final=not raw)
        except UnicodeDecodeError as exc:
            line = self._lines_dropped + self.buf.count("\n") + raw.count(b"\n", 0, max(exc.start, 0)) + 1
            raise DeliveryError(self.path, f"line {line}", "bytes that are not UTF-8: wrong encoding?") from exc
        self._bytes_read += len(raw)
        if not raw:
            self.eof = True
        return True

    def peek(self) -> str:
        """The next non-blank character ('' at the end of the file), without consuming it."""
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()
            if self.pos < len(self.buf) or not self._fill():
                return self.buf[self.pos] if self.pos < len(self.buf) else ""

    def expect(self, char: str, what: str) -> None:
        found = self.peek()
        if found != char:
            shown = repr(found) if found else "the end of the file"
            raise self.error(f"malformed JSON: expected {char!r} {what}, found {shown}")
        self.pos += 1

    def value(self) -> Any:
        """Decode the next complete value (object, list, string, number, literal)."""
        self.peek()
        while True:
            try:
                obj, end = self._json.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if not self.eof and len(self.buf) - self.pos < _MAX_RECORD_CHARS:
                    self._fill()
                    continue
                message = "the file ends inside a value (truncated?)" if self.eof else exc.msg
                raise self.error(f"malformed JSON: {message}", exc.pos) from exc
            except (ValueError, RecursionError) as exc:  # a number of over 4300 digits, nesting too deep
                raise self.error(f"malformed JSON: a value too large or too deep to read ({exc})") from exc
            if end == len(self.buf) and not self.eof:  # a number may go on in the next block
                self._fill()
                continue
            self.last_text = self.buf[self.pos : end]
            self.pos = end
            return obj

    def key(self) -> str:
        k = self.value()
        if not isinstance(k, str):
            raise self.error("malformed JSON: an object key must be a string")
        self.expect(":", "after an object key")
        return k

    def more(self, closing: str) -> bool:
        """After an element: True when a comma follows, False when the container closes."""
        c = self.peek()
        if c == ",":
            self.pos += 1
            return True
        if c == closing:
            self.pos += 1
            return False
        shown = repr(c) if c else "the end of the file"
        raise self.error(f"malformed JSON: expected ',' or {closing!r}, found {shown} (truncated?)")

    def opens(self, char: str) -> bool:
        """Consume an opening bracket; True when the container is not empty."""
        self.expect(char, "")
        closing = "]" if char == "[" else "}"
        if self.peek() == closing:
            self.pos += 1
            return False
        return True

    def finish(self) -> None:
        if self.peek() != "":
            raise self.error("malformed JSON: more data after the end of the document")


def _walk_bundle(w: _JsonWalker, prefix: str, drift: set[str]) -> Iterator[tuple[str, str, Any, str]]:
    """Yield (collection, record_ref, element, its JSON text) for every element of the known collections."""
    if w.peek() != "{":
        raise w.error("not a BRK-Bevragen response: a bundle must be a JSON object with _embedded collections")
    seen_embedded = False
    if w.opens("{"):
        while True:
            k = w.key()
            if k == "_embedded":
                seen_embedded = True
                yield from _walk_embedded(w, prefix, drift)
            else:
                w.value()  # _links and the like: not data
            if not w.more("}"):
                break
    if not seen_embedded:
        raise w.error(f"not a BRK-Bevragen response: {prefix or 'the bundle'} has no _embedded collections")


def _walk_embedded(w: _JsonWalker, prefix: str, drift: set[str]) -> Iterator[tuple[str, str, Any, str]]:
    if w.peek() != "{":
        raise w.error("not a BRK-Bevragen response: _embedded is not an object")
    found = False
    if w.opens("{"):
        while True:
            k = w.key()
            if k in COLLECTIONS:
                found = True
                if w.peek() != "[":
                    raise w.error(f"not a BRK-Bevragen response: _embedded.{k} is not a list")
                i = 0
                if w.opens("["):
                    while True:
                        element = w.value()
                        yield k, f"{prefix}{k}[{i}]", element, w.last_text
                        i += 1
                        if not w.more("]"):
                            break
            else:
                w.value()
                drift.add(k)
            if not w.more("}"):
                break
    if not found:
        raise w.error(f"not a BRK-Bevragen response: _embedded has none of {', '.join(COLLECTIONS)}")


def _walk_file(path: Path, drift: set[str]) -> Iterator[tuple[str, str, Any, str]]:
    """Every record of one file: a single bundle or a list of bundles."""
    if path.stat().st_size == 0:
        raise DeliveryError(path, "byte 0", "empty file")
    w = _JsonWalker(path)
    try:
        first = w.peek()
        if first == "":
            raise DeliveryError(path, "byte 0", "empty file")
        if first == "[":
            if w.opens("["):
                i = 0
                while True:
                    if w.peek() == '"':
                        raise w.error(
                            "not a BRK-Bevragen response: a list of resource paths (like Kadaster's test-case list "
                            "testcases.json), not response data"
                        )
                    yield from _walk_bundle(w, f"[{i}].", drift)
                    i += 1
                    if not w.more("]"):
                        break
        else:
            yield from _walk_bundle(w, "", drift)
        w.finish()
    finally:
        w.close()


# --- checking one record -------------------------------------------------------------------------------------------


def _s(v: Any) -> str | None:
    """A value as a trimmed string, None when absent or empty."""
    if v is None or isinstance(v, (dict, list)):
        return None
    t = str(v).strip()
    return t or None


def _whole(v: Any) -> int | None:
    """A whole number delivered as a JSON number or digit string; ValueError for anything else."""
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        raise ValueError(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str) and v.strip().isdigit():
        return int(v.strip())
    raise ValueError(v)


def _digest(text: str) -> bytes:
    """A fingerprint of a record's JSON text, to tell an identical repeat from a different record with the same id."""
    return hashlib.blake2b(text.encode(), digest_size=12).digest()


def _geboorte(p: dict[str, Any]) -> tuple[PartialDate | None, bool]:
    """The birth date, possibly partial: v2 `{type, datum | jaar, maand}` or `{datum | jaar, maand, dag}`."""
    node = (p.get("geboorte") or {}).get("datum")
    if not node:
        return None, True
    if not isinstance(node, dict):
        d = parse_iso_date(str(node))
        return d, d is not None
    kind = node.get("type")
    if kind is not None and kind not in DATE_TYPES:
        return None, False
    if kind == "DatumOnbekend":
        return PartialDate(None, None, None), True
    if node.get("datum"):
        d = parse_iso_date(str(node["datum"]))
        return d, d is not None
    try:
        jaar, maand, dag = _whole(node.get("jaar")), _whole(node.get("maand")), _whole(node.get("dag"))
    except ValueError:
        return None, False
    if jaar is None:
        return (PartialDate(None, None, None), True) if kind is None else (None, False)
    text = f"{jaar:04d}" + (f"-{maand:02d}" if maand else "") + (f"-{dag:02d}" if maand and dag else "")
    d = parse_iso_date(text)
    return d, d is not None


def _adres_fields(a: dict[str, Any], prefix: str = "") -> tuple[dict[str, Any] | None, Problem | None]:
    """Street, number, letter, addition, postcode and place of an address, checked as BAG has them."""
    try:
        nr = _whole(a.get("huisnummer"))
    except ValueError:
        return None, (f"{prefix}huisnummer", "invalid_number", "huisnummer is not a whole number")
    if nr is not None and not 1 <= nr <= 99999:
        return None, (f"{prefix}huisnummer", "invalid_number", "huisnummer is outside 1-99999")
    letter, toevoeging = _s(a.get("huisletter")), _s(a.get("huisnummertoevoeging"))
    if letter and not _HUISLETTER.match(letter):
        return None, (f"{prefix}huisletter", "invalid_code", "huisletter is not one letter")
    if toevoeging and not _TOEVOEGING.match(toevoeging):
        return None, (f"{prefix}huisnummertoevoeging", "invalid_code", "huisnummertoevoeging is not 1-4 letters/digits")
    postcode = _s(a.get("postcode"))
    if postcode and normalise_postcode(postcode) is None:
        return None, (f"{prefix}postcode", "invalid_postcode", "postcode is not a Dutch postcode")
    return {
        "straat": _s(a.get("straat")),
        "huisnummer": nr,
        "huisletter": letter,
        "huisnummertoevoeging": toevoeging,
        "postcode": normalise_postcode(postcode) if postcode else None,
        "woonplaats": _s(a.get("woonplaats")),
    }, None


def _adres(oid: str, i: int, a: Any) -> tuple[dict[str, Any] | None, Problem | None, bool]:
    """One object address; the bool says the adresseerbaar object is a ligplaats or standplaats, not a VBO."""
    if not isinstance(a, dict):
        return None, ("adressen", "invalid_code", "an address is not a JSON object"), False
    ao, num = _s(a.get("adresseerbaarObjectIdentificatie")), _s(a.get("nummeraanduidingIdentificatie"))
    if ao and not any(is_valid_bag_id(ao, k) for k in ("verblijfsobject", "ligplaats", "standplaats")):
        return (
            None,
            ("adresseerbaarObjectIdentificatie", "invalid_bag_id", "not a VBO, ligplaats or standplaats id"),
            False,
        )
    if num and not is_valid_bag_id(num, "nummeraanduiding"):
        return None, ("nummeraanduidingIdentificatie", "invalid_bag_id", "not a nummeraanduiding id (type 20)"), False
    fields, problem = _adres_fields(a)
    if problem:
        return None, problem, False
    is_vbo = bool(ao) and is_valid_bag_id(ao, "verblijfsobject")
    return (
        {
            "kadastraal_object_id": oid,
            "volgnummer": i,
            **fields,
            "verblijfsobject_id": ao if is_vbo else None,
            "nummeraanduiding_id": num,
        },
        None,
        bool(ao) and not is_vbo,
    )


def _object(o: dict[str, Any]) -> tuple[dict[str, Any] | None, Problem | None]:
    oid = _s(o.get("identificatie"))
    if not oid:
        return None, ("identificatie", "missing_required", "kadastraal object without identificatie")
    if not _OBJECT_ID.match(oid):
        return None, ("identificatie", "invalid_code", "kadastraal object identificatie is not 14 digits")
    kind = _s(o.get("type"))
    if kind and kind not in OBJECT_TYPES:
        return None, ("type", "invalid_code", "type is not perceel or appartementsrecht")
    if o.get("adressen") is not None and not isinstance(o["adressen"], list):
        return None, ("adressen", "invalid_code", "adressen is not a list")
    return {"kadastraal_object_id": oid, "kadastrale_aanduiding": _s(o.get("kadastraleAanduiding")), "type": kind}, None


def _persoon(p: dict[str, Any]) -> tuple[dict[str, Any] | None, Problem | None]:
    pid = _s(p.get("identificatie"))
    if not pid:
        return None, ("identificatie", "missing_required", "persoon without identificatie")
    raw_type = _s(p.get("type")) or ""
    if raw_type in INGESCHREVEN_TYPES:
        return None, ("type", "invalid_code", "an ingeschreven persoon's identificatie is a BSN/RSIN: not accepted")
    ptype = PERSOON_TYPES.get(raw_type)
    if ptype is None:
        return None, ("type", "invalid_code", "type is not KadasterNatuurlijkPersoon or KadasterNietNatuurlijkPersoon")
    bsn, kvk, rsin = _s(p.get("burgerservicenummer")), _s(p.get("kvkNummer")), _s(p.get("rsin"))
    if ptype == "niet_natuurlijk" and bsn:
        return None, ("burgerservicenummer", "inconsistent", "a niet-natuurlijk persoon with a BSN")
    if ptype == "natuurlijk" and (rsin or _s(p.get("statutaireNaam"))):
        return None, ("rsin", "inconsistent", "a natuurlijk persoon with an RSIN or statutaire naam")
    if bsn and not is_valid_bsn(bsn):
        return None, ("burgerservicenummer", "invalid_bsn", "BSN is not nine digits passing the 11-proef")
    if kvk and not is_valid_kvk(kvk):
        return None, ("kvkNummer", "invalid_number", "KvK-nummer is not eight digits")
    if rsin and not is_valid_rsin(rsin):
        return None, ("rsin", "invalid_number", "RSIN is not nine digits passing the 11-proef")
    geboorte, ok = _geboorte(p)
    if not ok:
        return None, ("geboorte.datum", "invalid_date", "geboortedatum is not a valid (partial) date")
    naam = p.get("naam") if isinstance(p.get("naam"), dict) else {}
    woon_raw = p.get("woonadres") if isinstance(p.get("woonadres"), dict) else {}
    woon, problem = _adres_fields(woon_raw, "woonadres.")
    if problem:
        return None, problem
    return {
        "persoon_id": pid,
        "persoon_type": ptype,
        "bsn": bsn,
        "geslachtsnaam": _s(naam.get("geslachtsnaam")),
        "voorvoegsel": _s(naam.get("voorvoegsel")),
        "voornamen": _s(naam.get("voornamen")),
        "geboortedatum": geboorte.iso() if geboorte else None,
        "geboortedatum_precision": geboorte.precision if geboorte else "unknown",
        "woon_straat": woon["straat"],
        "woon_huisnummer": woon["huisnummer"],
        "woon_postcode": woon["postcode"],
        "woon_woonplaats": woon["woonplaats"],
        "statutaire_naam": _s(p.get("statutaireNaam")),
        "statutaire_zetel": _s(p.get("statutaireZetel")),
        "rechtsvorm": _s(p.get("rechtsvorm")),
        "kvk_nummer": kvk,
        "rsin": rsin,
    }, None


def _recht(z: dict[str, Any]) -> tuple[dict[str, Any] | None, Problem | None]:
    zid = _s(z.get("identificatie"))
    if not zid:
        return None, ("identificatie", "missing_required", "zakelijk gerechtigde without identificatie")
    kind = _s(z.get("type"))
    if not kind:
        return None, ("type", "missing_required", "zakelijk gerechtigde without type")
    if kind not in RECHT_TYPES:
        return None, ("type", "invalid_code", "type is not in the BRK list of zakelijk gerechtigden (TypeGerechtigde)")
    oid, pid = _s(z.get("kadastraalOnroerendeZaakIdentificatie")), _s(z.get("persoonIdentificatie"))
    if not oid:
        return None, ("kadastraalOnroerendeZaakIdentificatie", "missing_required", "the right names no object")
    if not pid:
        return None, ("persoonIdentificatie", "missing_required", "the right names no persoon")
    begin = _s(z.get("aanvangsdatum"))
    d = parse_iso_date(begin) if begin else None
    if begin and d is None:
        return None, ("aanvangsdatum", "invalid_date", "aanvangsdatum is not a date")
    tenaamstelling = z.get("tenaamstelling") if isinstance(z.get("tenaamstelling"), dict) else {}
    aandeel = tenaamstelling.get("aandeel") if isinstance(tenaamstelling.get("aandeel"), dict) else {}
    try:
        teller, noemer = _whole(aandeel.get("teller")), _whole(aandeel.get("noemer"))
    except ValueError:
        return None, ("tenaamstelling.aandeel", "invalid_number", "aandeel is not a fraction of whole numbers")
    if (teller is None) != (noemer is None):
        return None, ("tenaamstelling.aandeel", "inconsistent", "aandeel has a teller without noemer or vice versa")
    if noemer is not None and not (1 <= noemer <= 99_999_999 and teller is not None and 1 <= teller <= noemer):
        return None, ("tenaamstelling.aandeel", "inconsistent", "aandeel is not a share between 0 and 1")
    return {
        "zakelijk_gerechtigde_id": zid,
        "kadastraal_object_id": oid,
        "persoon_id": pid,
        "type": kind,
        "aanvangsdatum": d.iso() if d else None,
        "aandeel_teller": teller,
        "aandeel_noemer": noemer,
    }, None


# --- the delivery ---------------------------------------------------------------------------------------------------


@dataclass
class _Seen:
    """Ids landed clean (with where and what), and ids that went to quarantine, for duplicates and orphans."""

    clean: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # id -> (record_ref, digest)
    quarantined: set[str] = field(default_factory=set)

    def duplicate(self, key: str, text: str) -> Problem | None:
        first = self.clean.get(key)
        if first is None:
            return None
        ref, digest = first
        same = "an identical repeat" if digest == _digest(text) else "a different record"
        return ("identificatie", "duplicate", f"{same} with the identificatie of {ref}")


class _Reader:
    """One delivery being read: the collectors, what has been seen, and the counts that go into `info`."""

    def __init__(self, staging_dir: Path):
        self.c = {
            "kadastraal_object": EntityCollector("kadastraal_object", OBJECT_SCHEMA, staging_dir),
            "kadastraal_object_adres": EntityCollector("kadastraal_object_adres", ADRES_SCHEMA, staging_dir),
            "zakelijk_gerechtigde": EntityCollector("zakelijk_gerechtigde", RECHT_SCHEMA, staging_dir),
            "persoon": EntityCollector("persoon", PERSOON_SCHEMA, staging_dir),
        }
        self.objects, self.persons, self.rights = _Seen(), _Seen(), _Seen()
        self.listed_rights: dict[str, set[str]] = {}  # object id -> zakelijkGerechtigdeIdentificaties
        self.shares: dict[str, list[Fraction | None]] = {}  # object id -> eigenaar shares
        self.info: Counter[str] = Counter()
        self.types: dict[str, Counter[str]] = {"persoon_type": Counter(), "recht_type": Counter()}

    def quarantine(self, entity: str, file: str, ref: str, problem: Problem, raw: Any) -> None:
        fld, code, reason = problem
        self.c[entity].quarantine(file=file, record_ref=ref, field=fld, reason_code=code, reason=reason, raw=raw)

    def land(self, entity: str, row: dict[str, Any], file: str, ref: str, raw: Any) -> None:
        self.c[entity].add({**row, "source_file": file, "record_ref": ref}, file=file, record_ref=ref, raw=raw)

    def not_an_object(self, entity: str, file: str, ref: str, element: Any) -> bool:
        if isinstance(element, dict):
            return False
        self.quarantine(entity, file, ref, ("(record)", "invalid_code", "the record is not a JSON object"), element)
        return True

    def read_object(self, file: str, ref: str, o: Any, text: str) -> None:
        if self.not_an_object("kadastraal_object", file, ref, o):
            return
        row, problem = _object(o)
        oid = row["kadastraal_object_id"] if row else _s(o.get("identificatie"))
        if problem is None and oid is not None:
            problem = self.objects.duplicate(oid, text)
        adressen = o.get("adressen") if isinstance(o.get("adressen"), list) else []
        if problem:
            self.quarantine("kadastraal_object", file, ref, problem, o)
            if oid and problem[1] != "duplicate":
                self.objects.quarantined.add(oid)
            code = "duplicate" if problem[1] == "duplicate" else "orphan"
            for j, a in enumerate(adressen):
                why = f"its kadastraal object ({ref}) went to quarantine: {problem[1]}"
                self.quarantine("kadastraal_object_adres", file, f"{ref}.adressen[{j}]", ("adressen", code, why), a)
            return
        self.land("kadastraal_object", row, file, ref, o)
        self.objects.clean[oid] = (ref, _digest(text))
        listed = o.get("zakelijkGerechtigdeIdentificaties")
        if isinstance(listed, list):
            self.listed_rights[oid] = {str(x) for x in listed}
        for j, a in enumerate(adressen):
            aref = f"{ref}.adressen[{j}]"
            arow, aproblem, other_kind = _adres(oid, j, a)
            if aproblem:
                self.quarantine("kadastraal_object_adres", file, aref, aproblem, a)
            else:
                self.land("kadastraal_object_adres", arow, file, aref, a)
                self.info["adres_ligplaats_of_standplaats"] += other_kind

    def read_persoon(self, file: str, ref: str, p: Any, text: str) -> None:
        if self.not_an_object("persoon", file, ref, p):
            return
        row, problem = _persoon(p)
        pid = row["persoon_id"] if row else _s(p.get("identificatie"))
        if problem is None and pid is not None:
            problem = self.persons.duplicate(pid, text)
        if problem:
            self.quarantine("persoon", file, ref, problem, p)
            if pid and problem[1] != "duplicate":
                self.persons.quarantined.add(pid)
            return
        self.land("persoon", row, file, ref, p)
        self.persons.clean[pid] = (ref, _digest(text))
        self.types["persoon_type"][row["persoon_type"]] += 1

    def read_recht(self, file: str, ref: str, z: Any, text: str) -> None:
        if self.not_an_object("zakelijk_gerechtigde", file, ref, z):
            return
        row, problem = _recht(z)
        if problem is None:
            problem = self.rights.duplicate(row["zakelijk_gerechtigde_id"], text) or self._orphan(row)
        if problem:
            self.quarantine("zakelijk_gerechtigde", file, ref, problem, z)
            return
        self.land("zakelijk_gerechtigde", row, file, ref, z)
        self.rights.clean[row["zakelijk_gerechtigde_id"]] = (ref, _digest(text))
        self.types["recht_type"][row["type"]] += 1
        listed = self.listed_rights.get(row["kadastraal_object_id"])
        if listed is not None and row["zakelijk_gerechtigde_id"] not in listed:
            self.info["recht_niet_genoemd_door_object"] += 1
        if row["type"] == "eigenaar":
            share = Fraction(row["aandeel_teller"], row["aandeel_noemer"]) if row["aandeel_noemer"] else None
            self.shares.setdefault(row["kadastraal_object_id"], []).append(share)

    def _orphan(self, row: dict[str, Any]) -> Problem | None:
        for key, seen, fld, what in (
            ("kadastraal_object_id", self.objects, "kadastraalOnroerendeZaakIdentificatie", "kadastraal object"),
            ("persoon_id", self.persons, "persoonIdentificatie", "persoon"),
        ):
            if row[key] not in seen.clean:
                where = "went to quarantine" if row[key] in seen.quarantined else "is not in this delivery"
                return (fld, "orphan", f"the {what} of this right {where}")
        return None

    def summary(self) -> dict[str, Any]:
        """Checks across records that do not make one record wrong: reported, not quarantined."""
        not_whole = sum(1 for shares in self.shares.values() if None not in shares and sum(shares, Fraction(0)) != 1)
        delivered = self.rights.clean.keys()
        listed_missing = sum(1 for ids in self.listed_rights.values() for i in ids if i not in delivered)
        return {
            **{k: dict(v) for k, v in self.types.items()},
            "objecten_eigendom_niet_geheel": not_whole,
            "genoemde_rechten_niet_geleverd": listed_missing,
            "recht_niet_genoemd_door_object": self.info["recht_niet_genoemd_door_object"],
            "adres_ligplaats_of_standplaats": self.info["adres_ligplaats_of_standplaats"],
        }

    def abort(self) -> None:
        for col in self.c.values():
            col.abort()


def brk_files(path: Path) -> list[Path]:
    """The *.json files of a delivery folder, or the one file given."""
    return sorted(p for p in path.glob("*.json") if p.is_file()) if path.is_dir() else [path]


def read_brk(path: Path, *, delivery_id: str | None = None, staging_root: Path | None = None) -> DeliveryResult:
    """Read a BRK-Bevragen bulk delivery: objects with their BAG addresses, rights and persons."""
    path = Path(path)
    if not path.exists():
        raise DeliveryError(path, "path", "no such file or folder")
    files = brk_files(path)
    drift_keys: set[str] = set()
    with Staging(staging_root) as staging_dir:
        reader = _Reader(staging_dir)
        try:
            # Rights are spooled (they may precede their objects and persons in the file) to an anonymous file in
            # the restricted staging area; it disappears when closed.
            with tempfile.TemporaryFile("w+", encoding="utf-8", dir=staging_dir) as spool:
                for f in files:
                    for collection, ref, element, text in _walk_file(f, drift_keys):
                        if collection == "kadastraalOnroerendeZaken":
                            reader.read_object(str(f), ref, element, text)
                        elif collection == "personen":
                            reader.read_persoon(str(f), ref, element, text)
                        else:  # raw newlines in JSON text are whitespace between tokens, never inside a string
                            spool.write(json.dumps([str(f), ref]) + "\t" + text.replace("\n", " ") + "\n")
                spool.seek(0)
                for line in spool:
                    where, text = line.rstrip("\n").split("\t", 1)
                    reader.read_recht(*json.loads(where), json.loads(text), text)
        except BaseException:
            reader.abort()
            raise
        entities = {n: col.finish() for n, col in reader.c.items()}
        # A BRK bulk delivery is a full snapshot of the parcels, rights and persons: without a single record it is
        # a failed export, and landing it would leave every dwelling without an owner downstream.
        require_records(
            sum(e.records_in for e in entities.values()), path, files, "_embedded", "no object, right or person"
        )
        return DeliveryResult(
            source=SOURCE,
            delivery_id=delivery_id or (path.name if path.is_dir() else path.stem),
            files=[str(f) for f in files],
            entities=entities,
            drift=[SchemaDrift("extra", f"_embedded.{k}", "collection not read") for k in sorted(drift_keys)],
            staging_dir=staging_dir,
            info=reader.summary(),
        )
