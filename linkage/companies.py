"""Owner and landlord names, normalised for comparison: legal forms, descriptors, punctuation, "h.o.d.n.", initials
and swapped order.

Reporters and case workers write the landlord as they know him: "Zuidhaven Vastgoed B.V.", "Zuidhaven Vastgoed BV",
"zuidhaven vastgoed b.v", "Zuidhaven Holding"; "J. Bakker", "Bakker, J.", "Jan Bakker", "J. Bakker h.o.d.n. Bakker
Verhuur". The Kadaster registers the legal person: the company by its statutory name, the sole trader as the person
(a trade name is no legal person). So:

- legal forms (B.V., BV, N.V., V.O.F., C.V., i.o. and written out) are dropped wherever they stand: they carry no
  identity;
- "h.o.d.n." / "hodn" / "handelend onder de naam" / "t.h.o.d.n." splits a person from the trade name; the person is
  who owns, the trade name is kept beside it;
- "Bakker, J." becomes "j bakker"; forms of address (dhr., mevr., fam., de heer) are dropped;
- descriptors (Holding, Beheer, Vastgoed, Verhuur, Onroerend Goed, Invest, ...) stay in the name, because "Zuidhaven
  Holding B.V." and "Zuidhaven Vastgoed B.V." can be two legal persons, but are also split off into `core`, so that
  a comparison or a blocking key can treat "Zuidhaven Holding" as close to "Zuidhaven Vastgoed".

`normalise_party_name` is what the privacy boundary applies to both sides before it encodes a name (Kadaster
statutory names and person names, landlords named in reports and cases, corporation relations), so both sides of
every comparison went through the same function.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_HODN = re.compile(
    r"\b(?:t\s*\.?\s*)?h\s*\.?\s*o\s*\.?\s*d\s*\.?\s*n\b\.?|\bhandelend\s+onder\s+de\s+na(?:a)?m\b|\bhodn\b"
)
_LEGAL_FORMS = [
    ("bv", r"b\s*\.?\s*v\b\.?|besloten\s+vennootschap(?:\s+met\s+beperkte\s+aansprakelijkheid)?"),
    ("nv", r"n\s*\.?\s*v\b\.?|naamloze\s+vennootschap"),
    ("vof", r"v\s*\.?\s*o\s*\.?\s*f\b\.?|vennootschap\s+onder\s+firma"),
    ("cv", r"c\s*\.?\s*v\b\.?|commanditaire\s+vennootschap"),
    ("io", r"i\s*\.\s*o\b\.?|in\s+oprichting"),
]
_LEGAL = re.compile(r"(?<![a-z0-9])(?:" + "|".join(f"(?P<{k}>{p})" for k, p in _LEGAL_FORMS) + r")(?![a-z0-9])")
DESCRIPTORS = (
    "holding",
    "beheer",
    "vastgoed",
    "verhuur",
    "onroerend goed",
    "onroerende goederen",
    "invest",
    "investments",
    "beleggingen",
    "exploitatie",
    "projecten",
    "properties",
    "real estate",
    "groep",
    "group",
    "management",
)
_DESCRIPTOR = re.compile(r"\b(?:" + "|".join(re.escape(d) for d in sorted(DESCRIPTORS, key=len, reverse=True)) + r")\b")
_ORGANISATIONS = re.compile(r"\b(?:stichting|vereniging|cooperatie|woonstichting|woningcorporatie|gemeente)\b")
_TITLES = re.compile(r"^(?:(?:dhr|mevr|mw|mr|dr|drs|ir|ing|fam|de\s+heer|mevrouw|familie|heer)\b\.?\s*)+")
_NON_ALNUM = re.compile(r"[^a-z0-9 ]+")
_PREFIXES = {"van", "de", "der", "den", "het", "ter", "ten", "te", "in", "'t", "t", "op", "la", "le", "du", "da", "el"}


@dataclass(frozen=True)
class PartyName:
    """A written party name taken apart. `name` is what comparisons use (see normalise_party_name)."""

    name: str  # the owner as the Kadaster would register it, normalised ("" if nothing is left)
    kind: str  # "company" (a legal form, descriptor or stichting seen), "person" (initials, h.o.d.n.), or "unknown"
    core: str  # name without descriptors: "zuidhaven" for "Zuidhaven Vastgoed B.V."
    legal_form: str | None = None  # bv, nv, vof, cv, io
    descriptors: tuple[str, ...] = ()
    trade_name: str | None = None  # after h.o.d.n.
    initials: str = ""  # "j" of "J. Bakker" or "Jan Bakker"
    surname: str = ""  # the last word(s) of a person's name, with prefix: "de vries"


def fold(text: str) -> str:
    """Lower case, diacritics dropped (ł and ß too), whitespace collapsed; punctuation kept for the parsing."""
    text = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L").replace("ß", "ss"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).lower().split())


def _clean(text: str) -> str:
    return " ".join(_NON_ALNUM.sub(" ", text).split())


def _person_parts(name: str) -> tuple[str, str]:
    """(initials, surname with prefix) of a person's normalised name: 'j de vries' -> ('j', 'de vries')."""
    words = name.split()
    if not words:
        return "", ""
    i = len(words) - 1
    while i > 0 and words[i - 1] in _PREFIXES:
        i -= 1
    given = words[:i]
    return "".join(w[0] for w in given), " ".join(words[i:])


def parse_party_name(text: str | None) -> PartyName:
    """A written owner or landlord name taken apart: legal form, descriptors, person and trade name."""
    s = fold(text or "")
    trade = None
    m = _HODN.search(s)
    if m:
        s, trade = s[: m.start()], _clean(_LEGAL.sub(" ", s[m.end() :])) or None
    legal = None
    for lm in _LEGAL.finditer(s):
        legal = legal or next(k for k, v in lm.groupdict().items() if v)
    s = _LEGAL.sub(" ", s)
    s = _TITLES.sub("", s.strip())
    if "," in s:  # "bakker, j." -> "j. bakker"; "vries, j. de" -> "j. de vries"
        last, _, first = s.partition(",")
        s = f"{first} {last}"
    had_initial = bool(re.search(r"\b[a-z]\.", s)) or bool(re.match(r"^[a-z](?:\s|$)", _clean(s)))
    name = _clean(s)
    descriptors = tuple(d.group(0) for d in _DESCRIPTOR.finditer(name))
    core = _clean(_DESCRIPTOR.sub(" ", name)) or name
    if legal or descriptors or _ORGANISATIONS.search(name):
        kind = "company"
    elif trade or had_initial:
        kind = "person"
    else:
        kind = "unknown"
    initials, surname = _person_parts(name) if kind != "company" else ("", "")
    return PartyName(name, kind, core, legal, descriptors, trade, initials, surname)


@lru_cache(maxsize=262_144)  # the boundary calls it per row; owners and landlords repeat
def normalise_party_name(text: str | None) -> str:
    """The comparable form of an owner or landlord name: folded, legal form and punctuation dropped, the person
    before a "h.o.d.n.", "Surname, I." turned round. "Zuidhaven Vastgoed B.V." -> "zuidhaven vastgoed";
    "J. Bakker h.o.d.n. Bakker Verhuur" -> "j bakker"; "Bakker, J." -> "j bakker"."""
    return parse_party_name(text).name


def person_key(text: str | None) -> str:
    """A blocking key for persons written loosely: surname and first initial ("bakker j"), '' for companies."""
    p = parse_party_name(text)
    if p.kind == "company" or not p.surname:
        return ""
    return f"{p.surname} {p.initials[:1]}".strip()
