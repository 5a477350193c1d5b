"""Resolving parsed addresses to BAG: candidates by postcode and number or by street and number, a fuzzy street
match where the name is misspelled, and a decision between close candidates (12, 12A, 12-2, 12 hs) on the evidence.

A match carries a `confidence` and the `method` that found it. What cannot be decided is not guessed: it gets an
`unresolved_reason` (no_house_number, unknown_street, house_number_not_in_street, ambiguous_candidates,
postcode_mismatch) and goes to the review queue.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
from rapidfuzz import fuzz, process

from linkage.address.parse import ROMAN, ParsedAddress, normalise_addition, parse_address, parsed_from_parts, street_key


@dataclass(frozen=True)
class Candidate:
    nummeraanduiding_id: str
    verblijfsobject_id: str | None
    street_key: str
    huisnummer: int
    huisletter: str | None
    toevoeging: str | None
    postcode: str | None


@dataclass(frozen=True)
class Match:
    nummeraanduiding_id: str | None
    verblijfsobject_id: str | None
    confidence: float
    method: str
    unresolved_reason: str | None


UNRESOLVED = "unresolved"


def _addition_key(letter: str | None, toevoeging: str | None) -> tuple[str | None, str | None]:
    letter2, add = normalise_addition(" ".join(x for x in ((letter or ""), (toevoeging or "")) if x))
    return letter2, add


class BagIndex:
    """Every BAG address, indexed by (postcode, number) and by (street key, number), with the street names."""

    def __init__(self, addresses: pa.Table):
        self.by_postcode: dict[tuple[str, int], list[Candidate]] = {}
        self.by_street: dict[tuple[str, int], list[Candidate]] = {}
        self.streets: dict[str, str] = {}  # street key -> display name
        self.num_of_vbo: dict[str, str] = {}  # verblijfsobject -> its main address (first listed)
        cols = addresses.to_pydict()
        for i in range(addresses.num_rows):
            sk = street_key(cols["straatnaam"][i] or "")
            letter, add = _addition_key(cols["huisletter"][i], cols["huisnummertoevoeging"][i])
            c = Candidate(
                cols["nummeraanduiding_id"][i],
                cols["verblijfsobject_id"][i],
                sk,
                int(cols["huisnummer"][i]),
                letter,
                add,
                cols["postcode"][i],
            )
            if c.postcode:
                self.by_postcode.setdefault((c.postcode, c.huisnummer), []).append(c)
            self.by_street.setdefault((sk, c.huisnummer), []).append(c)
            if c.verblijfsobject_id:
                self.num_of_vbo.setdefault(c.verblijfsobject_id, c.nummeraanduiding_id)
            self.streets.setdefault(sk, cols["straatnaam"][i])
            short = (cols.get("verkorte_naam") or [None] * addresses.num_rows)[i]
            if short and street_key(short) != sk:  # BAG's short name ("Sbn Doormansingel") finds the street too
                self.by_street.setdefault((street_key(short), c.huisnummer), []).append(c)
                self.streets.setdefault(street_key(short), cols["straatnaam"][i])
        self._street_keys = list(self.streets)
        self._fuzzy_cache: dict[str, tuple[str, float] | None] = {}

    def fuzzy_street(self, key: str) -> tuple[str, float] | None:
        if key in self.streets:
            return key, 100.0
        if key not in self._fuzzy_cache:
            found = process.extractOne(key, self._street_keys, scorer=fuzz.ratio, score_cutoff=82)
            self._fuzzy_cache[key] = (found[0], float(found[1])) if found else None
        return self._fuzzy_cache[key]


def _choose(cands: list[Candidate], p: ParsedAddress) -> tuple[Candidate | None, float, str | None]:
    """Pick the candidate whose letter and addition agree with what was written; None with a reason if undecided."""
    if len(cands) == 1:
        c = cands[0]
        agrees = (c.huisletter == p.huisletter or p.huisletter is None) and (
            c.toevoeging == p.toevoeging or p.toevoeging is None
        )
        return c, (1.0 if agrees else 0.85), None
    exact = [c for c in cands if c.huisletter == p.huisletter and c.toevoeging == p.toevoeging]
    if len(exact) == 1:
        return exact[0], 1.0, None
    if p.huisletter in ROMAN and p.toevoeging is None and not any(c.huisletter == p.huisletter for c in cands):
        # "264 I": a roman floor number, not the letter I
        as_floor = ParsedAddress(p.street, p.huisnummer, None, ROMAN[p.huisletter], p.postcode, p.woonplaats)
        return _choose(cands, as_floor)
    # A floor written for a letter (Rotterdam writes 12A for the first floor) or the other way round.
    if p.huisletter and p.toevoeging is None:
        alt = [c for c in cands if c.huisletter is None and c.toevoeging == p.huisletter]
        if len(alt) == 1:
            return alt[0], 0.9, None
    if p.toevoeging and p.huisletter is None:
        by_add = [c for c in cands if c.toevoeging == p.toevoeging]
        if len(by_add) == 1:
            return by_add[0], 0.95, None
        if p.toevoeging.isdigit() and int(p.toevoeging) <= 5:
            letters = sorted({c.huisletter for c in cands if c.huisletter and c.toevoeging is None})
            idx = int(p.toevoeging) - 1
            if letters and 0 <= idx < len(letters) and len(letters) == len(cands) - 1:
                pick = [c for c in cands if c.huisletter == letters[idx] and c.toevoeging is None]
                return pick[0], 0.8, None
    if p.huisletter is None and p.toevoeging is None:
        bare = [c for c in cands if c.huisletter is None and c.toevoeging is None]
        if len(bare) == 1:
            return bare[0], 0.8, None
    return None, 0.0, "ambiguous_candidates"


def resolve(p: ParsedAddress, index: BagIndex) -> Match:
    if p.huisnummer is None:
        return Match(None, None, 0.0, UNRESOLVED, "no_house_number")
    key = p.street_key
    street = index.fuzzy_street(key) if key else None
    by_pc = index.by_postcode.get((p.postcode, p.huisnummer)) if p.postcode else None
    # When the postcode points to another street than the one written, the street decides (below).
    if by_pc and (street is None or any(c.street_key == street[0] for c in by_pc)):
        c, conf, reason = _choose(by_pc, p)
        if c:
            return Match(
                c.nummeraanduiding_id, c.verblijfsobject_id, round(0.99 * conf, 3), "postcode_huisnummer", None
            )
        return Match(None, None, 0.0, UNRESOLVED, reason)
    if street is None:
        return Match(None, None, 0.0, UNRESOLVED, "unknown_street" if key else "no_street")
    cands = index.by_street.get((street[0], p.huisnummer))
    if not cands:
        split = _split_glued_number(p, street[0], index)
        if split is not None:
            return split
        return Match(None, None, 0.0, UNRESOLVED, "house_number_not_in_street")
    c, conf, reason = _choose(cands, p)
    if c is None:
        return Match(None, None, 0.0, UNRESOLVED, reason)
    exact_street = street[1] == 100.0
    method = "street_huisnummer" if exact_street else "street_fuzzy"
    confidence = conf * (0.97 if exact_street else 0.9 * street[1] / 100)
    if by_pc and p.postcode and c.postcode != p.postcode:
        confidence *= 0.95  # resolved on the street, the written postcode was wrong
        method += "_postcode_corrected"
    return Match(c.nummeraanduiding_id, c.verblijfsobject_id, round(confidence, 3), method, None)


def _split_glued_number(p: ParsedAddress, key: str, index: BagIndex) -> Match | None:
    """'302' where the street has no 302 but has 30 with addition 2: people glue the addition to the number.
    Accepted only when exactly one split finds exactly one address with that addition."""
    if p.toevoeging is not None or p.huisletter is not None:
        return None
    digits = str(p.huisnummer)
    found = []
    for cut in range(1, len(digits)):
        head, tail = int(digits[:cut]), digits[cut:].lstrip("0") or "0"
        for c in index.by_street.get((key, head), []):
            if c.toevoeging == tail and c.huisletter is None:
                found.append(c)
    if len(found) != 1:
        return None
    c = found[0]
    return Match(c.nummeraanduiding_id, c.verblijfsobject_id, 0.75, "street_number_split", None)


def resolve_text(text: str | None, index: BagIndex) -> Match:
    return resolve(parse_address(text), index)


def resolve_parts(index: BagIndex, street, huisnummer, huisletter=None, toevoeging=None, postcode=None) -> Match:
    return resolve(parsed_from_parts(street, huisnummer, huisletter, toevoeging, postcode), index)


MATCH_SCHEMA = [
    ("nummeraanduiding_id", pa.string()),
    ("verblijfsobject_id", pa.string()),
    ("confidence", pa.float64()),
    ("method", pa.string()),
    ("unresolved_reason", pa.string()),
]


def matches_to_columns(matches: list[Match]) -> dict[str, pa.Array]:
    return {name: pa.array([getattr(m, name) for m in matches], typ) for name, typ in MATCH_SCHEMA}
