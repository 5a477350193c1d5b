"""Resolving parsed addresses to BAG: candidates by postcode and huisnummer or by street and huisnummer within the
woonplaats, a fuzzy street match where the name is misspelled, and a decision between close candidates (12, 12A,
12-a, 12 A 01, 12-2, 12 hs, 12 bis) on the evidence.

Routes, in order of trust, with the `method` each gives:
- `bag_id`: the input carries a BAG id (nummeraanduiding, verblijfsobject, ligplaats or standplaats) the index knows.
- `postcode_huisnummer_*`: postcode and number find the address and the written street agrees (or none was written).
- `street_*`: the street (exact key, or short name) and number within the woonplaats; a wrong postcode is overruled.
- `street_fuzzy`: as above with a misspelled street, matched with rapidfuzz.
- `number_split`: "Lupinestraat 2101" for 21-01, an addition glued to the number, accepted only when one split fits.
- `historic_postcode_*`, `historic_street_*`: a postcode or street name the address had in an earlier BAG version
  (the connector's historic_postcodes / historic_names), tried only when no current one fits.
A street route's method ends in `_postcode_overruled` when a written postcode belonged to another address and the
street was followed, or in `_historic_postcode` when the written postcode was the address's before.
The suffix after the number decides between the candidates at one number; the method's ending says how: `_exact` (as
written), `_letter` (a letter read as an addition or the other way round), `_floor` (a floor word mapped to BAG's
addition: "3 hoog" -> 3, "beneden" -> hs), `_only` (the only address at that number, nothing or only a floor written).

A match has a `confidence` in 0..1: the product of the route's and the decision's factors below, set so that the
share of correct matches on the noisy synthetic addresses at each level is at least that level (see
benchmarks/bench_address.py). What cannot be decided is never guessed: ids stay empty, `method` is "unresolved" and
`unresolved_reason` says why (no_address, no_house_number, no_street, po_box, unknown_bag_id, unknown_street,
house_number_not_in_street, house_number_not_in_postcode, postcode_mismatch, addition_not_in_bag,
ambiguous_candidates, ambiguous_street, ambiguous_woonplaats); those rows form the review queue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import pyarrow as pa
import pyarrow.compute as pc

from linkage.address.index import BagIndex
from linkage.address.normalise import (
    fold,
    is_droppable,
    letter_or_addition,
    street_keys,
    suffix_tokens,
    woonplaats_key,
)
from linkage.address.parse import (
    ParsedAddress,
    alternative_parses,
    normalise_postcode,
    parse_address,
    parsed_from_parts,
)


@dataclass(frozen=True)
class Match:
    nummeraanduiding_id: str | None
    verblijfsobject_id: str | None
    confidence: float
    method: str
    unresolved_reason: str | None

    @property
    def resolved(self) -> bool:
        return self.nummeraanduiding_id is not None


UNRESOLVED = "unresolved"
ROUTE_CONFIDENCE = {
    "postcode_huisnummer": 0.99,  # postcode, number and street agree
    "postcode_only": 0.97,  # postcode and number, no street written
    "postcode_similar": 0.9,  # postcode and number, street written unlike BAG's but close
    "street": 0.97,
    "street_fuzzy": 0.9,
    "number_split": 0.75,
}
DECISION_CONFIDENCE = {"exact": 1.0, "letter": 0.96, "floor": 0.96, "only": 0.88}
POSTCODE_CONTRADICTED = 0.92  # the written postcode belongs to another address
WOONPLAATS_CONTRADICTED = 0.9
HISTORIC = 0.98  # a postcode or street name the address had in an earlier version
GLUED_DOUBT = 0.9  # "152" where 15-2 exists too
FUZZY_CLOSE = 3.0  # two streets within this many points of each other are too close to choose between


def unresolved(reason: str) -> Match:
    return Match(None, None, 0.0, UNRESOLVED, reason)


def _match(index: BagIndex, row: int, confidence: float, method: str) -> Match:
    return Match(
        index.nummeraanduiding_id[row], index.verblijfsobject_id[row], round(min(confidence, 1.0), 3), method, None
    )


# --- deciding between the addresses at one number ---------------------------------------------------------------------


def _prefer(index: BagIndex, hits: list[int], written: str | None) -> list[int]:
    """Break a tie between equal-looking candidates: an address in use before a withdrawn one, then BAG's own
    spelling of the addition ("01" vs "1" at one number)."""
    active = [r for r in hits if index.active[r]]
    if len(active) == 1:
        return active
    hits = active or hits
    if written is not None:
        tokens = set(suffix_tokens(written))
        literal = [r for r in hits if fold(index.addition_raw[r] or "") in tokens]
        if len(literal) == 1:
            return literal
    return hits


def decide(index: BagIndex, rows: list[int], p: ParsedAddress) -> tuple[int | None, str]:
    """The one candidate the written letter and addition point to, with how it was read; or None and the reason."""
    for letter, addition, how in p.readings:
        hits = index.rows_with_addition(rows, letter, addition)
        if len(hits) > 1:
            hits = _prefer(index, hits, p.suffix)
        separated_letter = letter is not None and addition is None and not p.fields and letter_or_addition(p.suffix)
        if hits and separated_letter and index.rows_with_addition(rows, None, letter):
            return None, "ambiguous_candidates"  # "12-A" where both 12A and 12-A exist
        if len(hits) == 1:
            return hits[0], how
        if hits:
            return None, "ambiguous_candidates"
    written = p.suffix if p.suffix is not None else " ".join(x for x in (p.huisletter, p.toevoeging) if x)
    tokens = suffix_tokens(written)
    if not tokens:
        live = _prefer(index, rows, None) if len(rows) > 1 else rows
        return (live[0], "only") if len(live) == 1 else (None, "ambiguous_candidates")
    # "12 3 hoog" where 12 is the only address at the number; "12A bov" where 12A is the only A and has no addition
    letter, rest = (tokens[0], tokens[1:]) if len(tokens[0]) == 1 and tokens[0].isalpha() else (None, tokens)
    if rest and is_droppable(" ".join(rest)):
        same = [r for r in rows if index.letter[r] == letter]
        if len(same) == 1 and index.addition[same[0]] is None and (letter is not None or len(rows) == 1):
            return same[0], "only"
    if letter is not None and not rest and sum(index.letter[r] == letter for r in rows) > 1:
        return None, "ambiguous_candidates"  # "12A" where 12 A-01 and 12 A-02 exist
    return None, "addition_not_in_bag"


# --- routes -----------------------------------------------------------------------------------------------------------


def _postcode_factor(index: BagIndex, row: int, p: ParsedAddress) -> float:
    if not p.postcode or index.postcode[row] == p.postcode:
        return 1.0
    if p.postcode in index.historic_postcodes.get(row, ()):
        return HISTORIC
    same_area = (index.postcode[row] or "")[:4] == p.postcode[:4]
    return POSTCODE_CONTRADICTED if same_area else POSTCODE_CONTRADICTED * 0.95


def _in_woonplaats(index: BagIndex, rows: list[int], wp: str | None, p: ParsedAddress) -> tuple[list[int], float, str]:
    """Narrow the candidates to the written woonplaats (a preference: people write Rotterdam for Hoogvliet), else to
    the written postcode area; candidates in several woonplaatsen with nothing to choose are ambiguous."""
    if wp:
        inside = [r for r in rows if index.woonplaats[r] == wp]
        if inside:
            return inside, 1.0, ""
        factor = WOONPLAATS_CONTRADICTED
    else:
        factor = 1.0
    places = {index.woonplaats[r] for r in rows}
    if len(places) > 1 and p.postcode:
        area = [r for r in rows if (index.postcode[r] or "")[:4] == p.postcode[:4]]
        if area and len({index.woonplaats[r] for r in area}) == 1:
            return area, factor, ""
    if len(places) > 1:
        decided = {}
        for place in places:
            row, _ = decide(index, [r for r in rows if index.woonplaats[r] == place], p)
            if row is not None:
                decided[place] = row
        if len(decided) != 1:
            return [], 0.0, "ambiguous_woonplaats"
        place = next(iter(decided))
        return [r for r in rows if index.woonplaats[r] == place], factor, ""
    return rows, factor, ""


def _split_glued(index: BagIndex, p: ParsedAddress, keys: Sequence[str]) -> int | None:
    """ "2101" for 21-01: the one (number, addition) split of the written number that the street (or the postcode)
    has, with no letter and no suffix written. None when no split or more than one fits."""
    if p.suffix or p.huisletter or p.toevoeging or p.huisnummer is None or p.huisnummer < 10:
        return None
    digits = str(p.huisnummer)
    found = set()
    for cut in range(1, len(digits)):
        head, tail = int(digits[:cut]), digits[cut:].lstrip("0") or "0"
        rows = [r for k in keys for r in index.by_street.get((k, head), ())]
        if p.postcode:
            rows += index.by_postcode.get((p.postcode, head), [])
        found.update((r, digits[cut:]) for r in rows if index.letter[r] is None and index.addition[r] == tail)
    if p.postcode and len(found) > 1:
        found = {(r, t) for r, t in found if index.postcode[r] == p.postcode} or found
    if len(found) > 1:  # "5001": 50-01 as BAG writes it rather than 5-01 with a zero too many
        found = {(r, t) for r, t in found if index.addition_raw[r] == t} or found
    return next(iter(found))[0] if len(found) == 1 else None


def _glued_alternative_exists(index: BagIndex, p: ParsedAddress, row: int) -> bool:
    """True when "152" could also be 15-2 on the same street: the match is then a little less certain."""
    if p.suffix or p.huisnummer is None or p.huisnummer < 10 or index.addition[row] is not None:
        return False
    digits = str(p.huisnummer)
    keys = index.street_keysets[index.row_street[row]]
    for cut in range(1, len(digits)):
        head, tail = int(digits[:cut]), digits[cut:].lstrip("0") or "0"
        for k in keys:
            for r in index.by_street.get((k, head), ()):
                if index.addition[r] == tail and index.letter[r] is None:
                    return True
    return False


def _postcode_said(index: BagIndex, row: int, p: ParsedAddress, method: str) -> str:
    """The method, saying what became of a written postcode that is not the address's: an earlier postcode of it
    (`_historic_postcode`), or overruled by the street (`_postcode_overruled`)."""
    if not p.postcode or index.postcode[row] == p.postcode:
        return method
    if p.postcode in index.historic_postcodes.get(row, ()):
        return f"{method}_historic_postcode"
    return f"{method}_postcode_overruled"


def _decide_in_woonplaats(
    index: BagIndex, rows: list[int], wp: str | None, p: ParsedAddress
) -> tuple[int, str, float] | Match:
    """The one address among a street's `rows` in the written woonplaats: (row, how it was decided, the woonplaats
    factor of the confidence), or the refusal as an unresolved Match. Shared by the current and the historic street."""
    rows, wp_factor, reason = _in_woonplaats(index, rows, wp, p)
    if not rows:
        return unresolved(reason)
    row, how = decide(index, rows, p)
    if row is None:
        return unresolved(how)
    return row, how, wp_factor


def _historic_street(index: BagIndex, p: ParsedAddress, wp: str | None) -> Match | None:
    """The street written as it was once named ("historic_street_*"); None when no street had that name."""
    keys = street_keys(p.street) if p.street else ()
    rows = index.historic_street_rows(keys, p.huisnummer) if keys else []
    if not rows:
        return None
    decided = _decide_in_woonplaats(index, rows, wp, p)
    if isinstance(decided, Match):
        return decided
    row, how, wp_factor = decided
    confidence = ROUTE_CONFIDENCE["street"] * HISTORIC * DECISION_CONFIDENCE[how] * wp_factor
    confidence *= _postcode_factor(index, row, p)
    return _match(index, row, confidence, _postcode_said(index, row, p, f"historic_street_{how}"))


def _street_route(index: BagIndex, p: ParsedAddress, wp: str | None, pc_rows: list[int] | None) -> Match:
    """Candidates by street and number within the woonplaats; the written postcode only breaks ties. A street
    written exactly as it was once named is recognised (`historic_street_*`) before a fuzzy match to a current one."""
    nr = p.huisnummer
    matches = index.street_matches(p.street, wp) if p.street else ()
    if index.historic_sids_of_key and (not matches or matches[0][1] < 100):
        historic = _historic_street(index, p, wp)
        if historic is not None and (historic.resolved or not matches):
            return historic
    if not matches:
        if pc_rows:
            return unresolved("postcode_mismatch")
        return unresolved("unknown_street" if p.street and street_keys(p.street) else "no_street")
    with_number = [(k, s, index.by_street.get((k, nr))) for k, s in matches]
    with_number = [(k, s, rows) for k, s, rows in with_number if rows]
    if not with_number:
        row = _split_glued(index, p, [k for k, _ in matches[:1]])
        if row is not None:
            confidence = ROUTE_CONFIDENCE["number_split"] * _postcode_factor(index, row, p)
            return _match(index, row, confidence, "number_split")
        return unresolved("postcode_mismatch" if pc_rows else "house_number_not_in_street")
    best_score = with_number[0][1]
    close = [(k, s, rows) for k, s, rows in with_number if s >= best_score - FUZZY_CLOSE]
    rows = sorted({r for _, _, rs in close for r in rs})
    if len({k for k, _, _ in close}) > 1 and len({index.row_street[r] for r in rows}) > 1:
        # two streets fit the writing about equally (or Kon. as Koning and Koningin): the postcode may tell
        if p.postcode:
            rows = [r for r in rows if index.postcode[r] == p.postcode] or [
                r for r in rows if (index.postcode[r] or "")[:4] == p.postcode[:4]
            ]
        if len({index.row_street[r] for r in rows}) != 1 and best_score < 100:
            return unresolved("ambiguous_street")
    decided = _decide_in_woonplaats(index, rows, wp, p)
    if isinstance(decided, Match):
        return decided
    row, how, wp_factor = decided
    if best_score >= 100:
        route, base = f"street_{how}", ROUTE_CONFIDENCE["street"]
    else:
        route = "street_fuzzy"
        base = ROUTE_CONFIDENCE["street_fuzzy"] * (1 - (100 - best_score) / 60)
    confidence = base * DECISION_CONFIDENCE[how] * wp_factor * _postcode_factor(index, row, p)
    if how == "exact" and _glued_alternative_exists(index, p, row):
        confidence *= GLUED_DOUBT
    return _match(index, row, confidence, _postcode_said(index, row, p, route))


def _postcode_route(
    index: BagIndex, p: ParsedAddress, pc_rows: list[int], keys: tuple[str, ...], prefix: str = "postcode_huisnummer"
) -> Match | None:
    """Candidates by postcode and number; None when the written street points elsewhere (the street route decides).
    A street written as it was once named is recognised (`historic_street_*`) when no current name fits and the
    writing is no current street's name."""
    if not keys:
        rows, base = pc_rows, ROUTE_CONFIDENCE["postcode_only"]
    else:
        rows = index.rows_on_street(pc_rows, keys)
        base = ROUTE_CONFIDENCE["postcode_huisnummer"]
        if not rows:
            rows = index.rows_on_historic_street(pc_rows, keys)
            if not rows or any(k in index.street_display for k in keys):
                return None
            prefix, base = "historic_street", base * HISTORIC
    if prefix == "historic_postcode":
        base *= HISTORIC
    row, how = decide(index, rows, p)
    if row is None:
        return unresolved(how)
    confidence = base * DECISION_CONFIDENCE[how]
    if how == "exact" and _glued_alternative_exists(index, p, row):
        confidence *= GLUED_DOUBT
    return _match(index, row, confidence, f"{prefix}_{how}")


def _postcode_fuzzy_street(
    index: BagIndex, p: ParsedAddress, pc_rows: list[int], keys: tuple[str, ...]
) -> Match | None:
    """Postcode and number exist and the written street is a misspelling of the postcode's street (within the typos
    the fuzzy match allows). None when no street of the postcode is that close."""
    close = index.close_streets(keys, pc_rows)
    if not close or (len(close) > 1 and close[1][1] >= close[0][1] - FUZZY_CLOSE):
        return None
    sid, score = close[0]
    row, how = decide(index, [r for r in pc_rows if index.row_street[r] == sid], p)
    if row is None:
        return unresolved(how)
    confidence = ROUTE_CONFIDENCE["postcode_huisnummer"] * (1 - (100 - score) / 200) * DECISION_CONFIDENCE[how]
    return _match(index, row, confidence, f"postcode_huisnummer_{how}")


def _similar_postcode_street(index: BagIndex, p: ParsedAddress, pc_rows: list[int], keys: tuple[str, ...]) -> Match:
    """The street is written unlike any BAG street, but postcode and number exist: accept the postcode's street when
    the writing is close to it (a typo plus an abbreviation the normaliser does not know)."""
    from rapidfuzz import fuzz

    best, best_rows = 0.0, []
    for sid in {index.row_street[r] for r in pc_rows}:
        score = max((fuzz.ratio(k, s) for k in keys for s in index.street_keysets[sid]), default=0.0)
        rows = [r for r in pc_rows if index.row_street[r] == sid]
        if score > best + FUZZY_CLOSE:
            best, best_rows = score, rows
        elif score >= best - FUZZY_CLOSE:
            best, best_rows = max(best, score), best_rows + rows
    if best < 75 or len({index.row_street[r] for r in best_rows}) != 1:
        return unresolved("postcode_mismatch")
    row, how = decide(index, best_rows, p)
    if row is None:
        return unresolved(how)
    confidence = ROUTE_CONFIDENCE["postcode_similar"] * (1 - (100 - best) / 60) * DECISION_CONFIDENCE[how]
    return _match(index, row, confidence, f"postcode_huisnummer_{how}")


def _resolve_one(p: ParsedAddress, index: BagIndex) -> Match:
    keys = street_keys(p.street) if p.street else ()
    if keys and keys[0].startswith(("postbus", "antwoordnummer")):
        return unresolved("po_box")
    wp = index.woonplaats_of(p.woonplaats)
    pc_rows = index.by_postcode.get((p.postcode, p.huisnummer)) if p.postcode else None
    if not pc_rows and p.postcode:  # a postcode the address had before: only when no current address has it
        old_rows = index.by_historic_postcode.get((p.postcode, p.huisnummer))
        found = _postcode_route(index, p, old_rows, keys, "historic_postcode") if old_rows else None
        if found is not None and (found.resolved or not keys):  # with no street to go by, its reason stands
            return found
    if pc_rows:
        found = _postcode_route(index, p, pc_rows, keys)
        if found is not None:
            return found
        # The written street is not the postcode's: misspelled, or the postcode is wrong. Both are tried; where
        # each finds another address ("Rozelaan 5, <postcode of Rozenlaan 5>") nothing tells which error was made.
        by_postcode = _postcode_fuzzy_street(index, p, pc_rows, keys)
        if by_postcode is not None and by_postcode.resolved:
            if any(k in index.street_display for k in keys):  # the writing is exactly another street
                street = _street_route(index, p, wp, pc_rows)
                if street.resolved and street.nummeraanduiding_id != by_postcode.nummeraanduiding_id:
                    return unresolved("postcode_mismatch")
            return by_postcode
        street = _street_route(index, p, wp, pc_rows)
        if street.resolved:
            return street
        if by_postcode is not None:  # the postcode's street, but its letter or addition is not there
            return by_postcode
        if street.unresolved_reason not in ("postcode_mismatch", "unknown_street"):
            return street
        return _similar_postcode_street(index, p, pc_rows, keys)
    if not keys:
        return unresolved("house_number_not_in_postcode" if p.postcode else "no_street")
    found = _street_route(index, p, wp, None)
    if not found.resolved and found.unresolved_reason == "house_number_not_in_street" and p.postcode:
        row = _split_glued(index, p, keys)
        if row is not None:
            return _match(index, row, ROUTE_CONFIDENCE["number_split"], "number_split")
    return found


def resolve(p: ParsedAddress, index: BagIndex) -> Match:
    """The BAG address a parsed address means, or the reason it cannot be told."""
    if p.bag_id:
        row = index.by_id.get(p.bag_id)
        if row is not None:
            return _match(index, row, 1.0, "bag_id")
        if p.huisnummer is None:
            return unresolved("unknown_bag_id")
    if p.huisnummer is None:
        return unresolved("no_house_number" if p.street or p.postcode else "no_address")
    found = _resolve_one(p, index)
    if not found.resolved:
        for alternative in alternative_parses(p, index.woonplaatsen):  # another number may be the house number
            again = _resolve_one(alternative, index)
            if again.resolved:
                return replace(again, confidence=round(again.confidence * 0.9, 3))
    return found


def resolve_text(text: str | None, index: BagIndex) -> Match:
    """Resolve one free-text address."""
    return resolve(parse_address(text, index.woonplaatsen), index)


def resolve_parts(
    index: BagIndex,
    street: str | None,
    huisnummer: str | int | None,
    huisletter: str | None = None,
    toevoeging: str | None = None,
    postcode: str | None = None,
    woonplaats: str | None = None,
) -> Match:
    """Resolve one address given as split fields."""
    return resolve(
        parsed_from_parts(street, huisnummer, huisletter, toevoeging, postcode, woonplaats, index.woonplaatsen), index
    )


# --- whole tables -----------------------------------------------------------------------------------------------------

MATCH_SCHEMA = [
    ("nummeraanduiding_id", pa.string()),
    ("verblijfsobject_id", pa.string()),
    ("confidence", pa.float64()),
    ("method", pa.string()),
    ("unresolved_reason", pa.string()),
]
FIELD_ROLES = (
    "straatnaam",
    "huisnummer",
    "huisletter",
    "toevoeging",
    "postcode",
    "woonplaats",
    "nummeraanduiding_id",
    "verblijfsobject_id",
)


def matches_to_columns(matches: Sequence[Match]) -> dict[str, pa.Array]:
    return {name: pa.array([getattr(m, name) for m in matches], typ) for name, typ in MATCH_SCHEMA}


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _resolve_row(index: BagIndex, text: str | None, fields: dict[str, str | None]) -> Match:
    """One row: the free text first, completed by the split fields (postcode, woonplaats, a BAG id); the split
    fields alone where there is no text or the text did not resolve."""
    bag_id = fields.get("nummeraanduiding_id") or fields.get("verblijfsobject_id")
    found = None
    if text is not None:
        p = parse_address(text, index.woonplaatsen)
        written_wp = fields.get("woonplaats")
        if (fields.get("postcode") and not p.postcode) or (written_wp and not p.woonplaats) or bag_id:
            p = replace(
                p,
                postcode=p.postcode or normalise_postcode(fields.get("postcode")),
                woonplaats=p.woonplaats or (index.woonplaats_of(woonplaats_key(written_wp)) if written_wp else None),
                bag_id=p.bag_id or bag_id,
            )
        found = resolve(p, index)
        if found.resolved or not (fields.get("huisnummer") or fields.get("straatnaam")):
            return found
    p = parsed_from_parts(
        fields.get("straatnaam"),
        fields.get("huisnummer"),
        fields.get("huisletter"),
        fields.get("toevoeging"),
        fields.get("postcode"),
        fields.get("woonplaats"),
        index.woonplaatsen,
    )
    alone = resolve(replace(p, bag_id=bag_id) if bag_id else p, index)
    return alone if found is None or alone.resolved else found


def _unique_name(table: pa.Table, name: str) -> str:
    """A free column name for an input column that has the name of an output column ("input_<name>")."""
    candidate = f"input_{name}"
    while candidate in table.column_names:
        candidate = f"input_{candidate}"
    return candidate


def resolve_addresses(
    table: pa.Table,
    index: BagIndex,
    text_column: str | None = None,
    fields: Mapping[str, str] | None = None,
) -> pa.Table:
    """Every row of `table` with nummeraanduiding_id, verblijfsobject_id, confidence, method and unresolved_reason.

    `text_column` holds the address as written; `fields` maps roles (FIELD_ROLES: straatnaam, huisnummer,
    huisletter, toevoeging, postcode, woonplaats, nummeraanduiding_id, verblijfsobject_id) to columns. Either or both:
    with both, the text is read first and the fields complete it (a postcode column) or stand in where the text has
    no house number. Each distinct input is resolved once. Input columns are all kept; one that has the name of an
    output column is kept as `input_<name>`."""
    fields = dict(fields or {})
    unknown = [r for r in fields if r not in FIELD_ROLES]
    if unknown:
        raise ValueError(f"unknown address field roles {unknown}; known: {', '.join(FIELD_ROLES)}")
    wanted = ([text_column] if text_column else []) + list(fields.values())
    missing = [c for c in wanted if c not in table.column_names]
    if missing:
        raise ValueError(f"the table has no column {', '.join(missing)}; it has {', '.join(table.column_names)}")
    if not wanted:
        raise ValueError("give a text column, address fields, or both")
    columns = [
        table.column(c).cast(pa.string()).to_pylist()
        if not pa.types.is_string(table.column(c).type)
        else table.column(c).to_pylist()
        for c in wanted
    ]
    roles = (["_text"] if text_column else []) + list(fields)
    cache: dict = {}
    matches: list[Match] = []
    if not fields:  # the common case, one text column: no per-row dictionaries
        woonplaatsen = index.woonplaatsen
        for value in columns[0]:
            found = cache.get(value)
            if found is None:
                text = _text(value)
                found = resolve(parse_address(text, woonplaatsen), index) if text else unresolved("no_address")
                cache[value] = found
            matches.append(found)
    for values in zip(*columns, strict=True) if fields else ():
        found = cache.get(values)
        if found is None:
            row = dict(zip(roles, (_text(v) for v in values), strict=True))
            found = _resolve_row(index, row.pop("_text", None), row)
            cache[values] = found
        matches.append(found)
    out = table
    for name, array in matches_to_columns(matches).items():
        if name in out.column_names:
            out = out.rename_columns([_unique_name(out, name) if c == name else c for c in out.column_names])
        out = out.append_column(name, array)
    return out


def summary(table: pa.Table) -> dict[str, object]:
    """Counts of a resolved table: resolved, unresolved per reason, per method."""
    resolved = int(pc.sum(pc.is_valid(table["nummeraanduiding_id"])).as_py() or 0)
    reasons = pc.value_counts(pc.drop_null(table["unresolved_reason"])).to_pylist()
    methods = pc.value_counts(table["method"]).to_pylist()
    return {
        "rows": table.num_rows,
        "resolved": resolved,
        "unresolved": table.num_rows - resolved,
        "reasons": {r["values"]: r["counts"] for r in reasons},
        "methods": {m["values"]: m["counts"] for m in methods},
    }
