"""Parsing Dutch addresses as people write them: street, house number, letter, addition, postcode, woonplaats.

"Burg. Roosstr. 12-a 3 hoog, 3074 jb R'dam" becomes street "burgemeester roosstraat", number 12, letter "a",
addition "3" (a floor), postcode "3074JB". Floor words ("3 hoog", "3e etage", "bov", "beneden", "hs", "II") are
mapped to the additions Rotterdam's BAG uses for floors; everything is folded to lower case without diacritics.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

POSTCODE = re.compile(r"\b([1-9]\d{3})\s?([a-z]{2})\b")
WOONPLAATSEN = ("rotterdam", "r dam", "rdam", "r'dam", "hoogvliet", "pernis", "hoek van holland", "rozenburg")
ABBREVIATIONS = [
    (r"\bburg\b\.?", "burgemeester"),
    (r"\bburgem\b\.?", "burgemeester"),
    (r"\bmr\b\.?", "mr"),
    (r"\bmeester\b", "mr"),
    (r"\bdr\b\.?", "dr"),
    (r"\bprof\b\.?", "prof"),
    (r"\bst\b\.?", "sint"),
    (r"\bv\b\.?", "van"),
    (r"\bl\b\.?", "lange"),
    (r"\bgr\b\.?", "groene"),
    (r"\bkon\b\.?", "koningin"),
    (r"(\w)str\b\.?", r"\1straat"),
    (r"\bstr\b\.?", "straat"),
    (r"(\w)ln\b\.?", r"\1laan"),
    (r"\bln\b\.?", "laan"),
    (r"(\w)pl\b\.?", r"\1plein"),
    (r"(\w)wg\b\.?", r"\1weg"),
]
ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5"}
ORDINAL = {"eerste": "1", "tweede": "2", "derde": "3", "vierde": "4"}
GROUND = {"hs", "huis", "beneden", "bg", "parterre", "benedenwoning", "begane", "grond"}
UP = {"bov", "boven", "bv", "bovenwoning"}
FLOOR_WORDS = {"hoog", "etage", "verdieping", "e", "ste", "de"}


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def street_key(street: str) -> str:
    """A street name reduced for lookup: folded, abbreviations expanded, no spaces or punctuation."""
    s = fold(street)
    s = re.sub(r"[^a-z0-9. ]+", " ", s)
    for pattern, repl in ABBREVIATIONS:
        s = re.sub(pattern, repl, s)
    return re.sub(r"[^a-z0-9]+", "", s)


@dataclass
class ParsedAddress:
    street: str | None = None
    huisnummer: int | None = None
    huisletter: str | None = None
    toevoeging: str | None = None
    postcode: str | None = None
    woonplaats: str | None = None

    @property
    def street_key(self) -> str | None:
        return street_key(self.street) if self.street else None


def normalise_addition(text: str | None) -> tuple[str | None, str | None]:
    """(letter, addition) from what follows the number: 'a', 'A 2', '3 hoog', '3e etage', 'II', 'bis', 'hs', '-01'."""
    if not text:
        return None, None
    t = re.sub(r"[^a-z0-9 ]+", " ", fold(text)).split()
    if not t:
        return None, None
    letter = None
    if len(t[0]) == 1 and t[0].isalpha() and t[0] not in ("e",):
        letter, t = t[0], t[1:]
    elif re.fullmatch(r"[a-z]\d{1,3}", t[0]):  # 12a2 written without a separator
        letter, t = t[0][0], [t[0][1:], *t[1:]]
    if not t:
        return letter, None
    words = set(t)
    if words & GROUND:
        return letter, "hs"
    if words & UP:
        return letter, "bv"
    first = t[0]
    m = re.fullmatch(r"(\d{1,3})(e|ste|de)?", first)
    if m:
        return letter, m.group(1).lstrip("0") or "0"
    if first in ORDINAL:
        return letter, ORDINAL[first]
    if first in ROMAN and (len(t) == 1 or t[1] in FLOOR_WORDS):
        return letter, ROMAN[first]
    if first == "bis":
        return letter, "bis"
    return letter, "".join(t)[:4]


_NUMBER = re.compile(r"(?<![a-z0-9])(\d{1,5})(?![0-9])")


def parse_address(text: str | None) -> ParsedAddress:
    """Split a free-text Dutch address; what cannot be found stays None."""
    out = ParsedAddress()
    if not text or not text.strip():
        return out
    s = fold(text)
    pc = POSTCODE.search(s)
    if pc:
        out.postcode = (pc.group(1) + pc.group(2)).upper()
        s = s[: pc.start()] + " , " + s[pc.end() :]
    for w in WOONPLAATSEN:
        if re.search(rf"(^|[\s,]){re.escape(w)}([\s,]|$)", s):
            out.woonplaats = "rotterdam" if w in ("r dam", "rdam", "r'dam") else w
            s = re.sub(rf"(^|[\s,]){re.escape(w)}([\s,]|$)", " , ", s)
    s = s.replace("’", "'")
    m = _NUMBER.search(s)
    if not m:
        out.street = s.strip(" ,.-") or None
        return out
    street = s[: m.start()].strip(" ,.-")
    out.street = street or None
    out.huisnummer = int(m.group(1))
    rest = s[m.end() :].split(",")[0]
    out.huisletter, out.toevoeging = normalise_addition(rest)
    return out


def parsed_from_parts(
    street: str | None,
    huisnummer: str | int | None,
    huisletter: str | None,
    toevoeging: str | None,
    postcode: str | None,
    woonplaats: str | None = None,
) -> ParsedAddress:
    """The same structure from split fields (a form, a registry), with the same normalisation of the addition."""
    nr = None
    letter_from_nr = None
    if huisnummer is not None:
        m = re.match(r"\s*(\d{1,5})\s*[-/ ]?\s*(.*)$", str(huisnummer))
        if m:
            nr = int(m.group(1))
            letter_from_nr = m.group(2) or None
    extra = " ".join(x for x in (letter_from_nr, huisletter, toevoeging) if x)
    letter, addition = normalise_addition(extra)
    pc = None
    if postcode:
        found = POSTCODE.search(fold(postcode))
        pc = (found.group(1) + found.group(2)).upper() if found else None
    return ParsedAddress(street, nr, letter, addition, pc, fold(woonplaats) if woonplaats else None)
