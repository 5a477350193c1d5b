"""Normalising the parts of a Dutch address so that what a person wrote and what BAG registers compare equal.

Street names are reduced to a *key*: folded to lower-case ASCII (diacritics dropped the way unidecode would), the
usual abbreviations expanded ("Burg." Burgemeester, "v." van, "str." straat, "St." Sint, "Kon." Koningin or Koning),
and every space and punctuation mark removed, so that "Burg. v. Walsumwg" and "Burgemeester van
Walsumweg" share the key "burgemeestervanwalsumweg". Both sides of a comparison go through the same function, which
is what makes an abbreviation that BAG itself uses ("Mr.") harmless.

Additions are reduced the same way: "01", "1", "I", "1e etage" and "1 hoog" all become "1"; "hs", "huis", "bg",
"beneden" and "parterre" become "hs"; "bov", "boven" and "bv" become "bv". A written suffix after the house number
can often be read in more than one way ("12 I": letter I or first floor), so `suffix_readings` returns every
reading, most literal first, and the resolver takes the first that BAG confirms.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Characters NFKD does not decompose into a base letter and a combining mark.
_SPECIAL = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ı": "i", "’": "'", "‘": "'"})
_SPECIAL_MULTI = {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ĳ": "ij", "Ĳ": "IJ"}


def fold(text: str) -> str:
    """Lower-case ASCII without diacritics ("Café Ñandú" -> "cafe nandu"); cheap for text that is ASCII already."""
    if text.isascii():
        return text.lower()
    text = text.translate(_SPECIAL)
    for k, v in _SPECIAL_MULTI.items():
        text = text.replace(k, v)
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).encode("ascii", "ignore").decode().lower()


# --- street names ----------------------------------------------------------------------------------------------------

# Whole-token abbreviations; a tuple means "try each" (Kon. is Koningin in one street and Koning in the next).
TOKEN_ABBREVIATIONS: dict[str, str | tuple[str, ...]] = {
    "burg": "burgemeester",
    "burgem": "burgemeester",
    "bgm": "burgemeester",
    "mr": "meester",
    "doctor": "dr",
    "dokter": "dr",
    "professor": "prof",
    "st": "sint",
    "v": "van",
    "vd": "van der",
    "kon": ("koningin", "koning"),
    "pr": "prins",
    "pres": "president",
    "gen": "generaal",
    "adm": "admiraal",
    "l": "lange",
    "gr": "groene",
    "n": "nieuwe",
    "eerste": "1e",
    "tweede": "2e",
    "derde": "3e",
    "vierde": "4e",
    "1ste": "1e",
    "2de": "2e",
    "3de": "3e",
    "4de": "4e",
    "str": "straat",
    "ln": "laan",
    "pl": "plein",
    "wg": "weg",
    "sngl": "singel",
    "kd": "kade",
    "dk": "dijk",
}
# Abbreviated endings glued to a word: "Kerkstr." Kerkstraat, "Rozenln" Rozenlaan.
SUFFIX_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("str", "straat"),
    ("ln", "laan"),
    ("pl", "plein"),
    ("wg", "weg"),
    ("sngl", "singel"),
)
# Words people put between a street and its number: "Putselaan nr. 12".
NUMBER_WORDS = frozenset({"nr", "no", "nummer", "huisnummer", "num"})
_TOKEN = re.compile(r"[a-z0-9]+")


def _expand_token(token: str) -> tuple[str, ...]:
    found = TOKEN_ABBREVIATIONS.get(token)
    if found is not None:
        return found if isinstance(found, tuple) else (found,)
    for short, full in SUFFIX_ABBREVIATIONS:
        if len(token) >= len(short) + 2 and token.endswith(short):
            return (token[: -len(short)] + full,)
    return (token,)


@lru_cache(maxsize=200_000)
def street_keys(name: str) -> tuple[str, ...]:
    """Every lookup key a written street name can stand for, the most likely first (usually just one).

    "Kon. Julianaplein" gives ("koninginjulianaplein", "koningjulianaplein"). Returns () for a name without letters
    or digits."""
    tokens = _TOKEN.findall(fold(name).replace("'", ""))
    while tokens and tokens[-1] in NUMBER_WORDS:
        tokens.pop()
    # "v. d." / "v.d." van der
    joined: list[str] = []
    i = 0
    while i < len(tokens):
        if tokens[i] == "v" and i + 1 < len(tokens) and tokens[i + 1] in ("d", "der", "den"):
            joined.append("van")
            joined.append("der" if tokens[i + 1] in ("d", "der") else "den")
            i += 2
            continue
        joined.append(tokens[i])
        i += 1
    if len(joined) > 1 and joined[0] == "s" and len(joined[1]) > 2:
        joined = joined[1:]  # "'s-Gravendijkwal", "s Gravendijkwal", "Gravendijkwal"
    variants = [""]
    for token in joined:
        expansions = _expand_token(token)
        variants = [v + e.replace(" ", "") for v in variants for e in expansions]
    keys = tuple(dict.fromkeys(v for v in variants if v))
    return keys


def street_key(name: str) -> str:
    """The first (most likely) key of a street name; "" when the name has no letters or digits."""
    keys = street_keys(name)
    return keys[0] if keys else ""


# Words as people abbreviate them, for matching a misspelled abbreviation ("Astertsr" Asterstraat): where they may
# stand in a key (a street type at the end, a title at the start) and their short form.
_CONTRACT_END = (("straat", "str"), ("laan", "ln"), ("plein", "pl"), ("singel", "sngl"), ("weg", "wg"))
_CONTRACT_START = (("burgemeester", "burg"), ("meester", "mr"), ("koningin", "kon"), ("koning", "kon"))


def contracted(key: str) -> str:
    """A street key with its common words abbreviated: "burgemeesterroosstraat" -> "burgroosstr"."""
    for full, short in _CONTRACT_START:
        if key.startswith(full):
            key = short + key[len(full) :]
            break
    for full, short in _CONTRACT_END:
        if key.endswith(full):
            return key[: -len(full)] + short
    return key


_EXPAND_START = (("1e", "eerste"), ("2e", "tweede"), ("3e", "derde"), ("4e", "vierde"), ("dr", "dokter"))


def expanded(key: str) -> str:
    """A street key with a leading ordinal or title written out: "1emiddellandstraat" -> "eerstemiddellandstraat",
    "drzamenhofstraat" -> "dokterzamenhofstraat", for matching a misspelled written-out word ("Eeerste
    Middellandstraat", "Dokterr Zamenhofstraat"). Both sides go through it, so "Drievriendenhof" is harmless."""
    for short, full in _EXPAND_START:
        if key.startswith(short):
            return full + key[len(short) :]
    return key


# --- woonplaats -------------------------------------------------------------------------------------------------------

# Ways of writing a woonplaats that are not its BAG name. Keys and values are woonplaats keys (see woonplaats_key).
WOONPLAATS_ALIASES: dict[str, str] = {
    "rdam": "rotterdam",
    "r dam": "rotterdam",
    "rotterdam centrum": "rotterdam",
    "rotterdam zuid": "rotterdam",
    "rotterdam noord": "rotterdam",
    "rotterdam west": "rotterdam",
    "rotterdam oost": "rotterdam",
    "hoogvliet": "hoogvliet rotterdam",
    "pernis": "pernis rotterdam",
    "den haag": "s gravenhage",
    "the hague": "s gravenhage",
    "den bosch": "s hertogenbosch",
}


class WoonplaatsNames(dict):
    """Written woonplaats keys (names and aliases) -> BAG woonplaats keys, knowing the words a name can end with so
    that the parser only looks closer at text that could end with one."""

    @property
    def last_words(self) -> frozenset[str]:
        found = self.__dict__.get("_last_words")
        if found is None or self.__dict__.get("_size") != len(self):
            found = self.__dict__["_last_words"] = frozenset(k.rsplit(" ", 1)[-1] for k in self)
            self.__dict__["_size"] = len(self)
        return found


# Woonplaatsen the parser recognises when it has no BAG index to ask (the Rotterdam ones).
DEFAULT_WOONPLAATSEN = ("rotterdam", "hoogvliet rotterdam", "pernis rotterdam", "hoek van holland", "rozenburg")


@lru_cache(maxsize=20_000)
def woonplaats_key(name: str) -> str:
    """A woonplaats folded to its words: "'s-Gravenhage" -> "s gravenhage", "R'dam" -> "r dam"."""
    return " ".join(_TOKEN.findall(fold(name).replace("'", " ")))


# --- letters and additions --------------------------------------------------------------------------------------------

GROUND_WORDS = frozenset(
    {"hs", "h", "huis", "beneden", "bg", "bgg", "parterre", "benedenwoning", "begane", "grond", "beg", "souterrain"}
)
UP_WORDS = frozenset({"bov", "boven", "bv", "bovenwoning"})
FLOOR_WORDS = frozenset({"hoog", "hg", "etage", "et", "verdieping", "verd", "vd", "e", "ste", "de", "vloer"})
ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6"}
ORDINAL_WORDS = {"eerste": "1", "tweede": "2", "derde": "3", "vierde": "4", "vijfde": "5", "zesde": "6"}
# Words that say nothing about which address is meant ("app. 3" is addition 3).
NOISE_WORDS = frozenset({"app", "apt", "appartement", "nr", "no", "nummer", "toev", "toevoeging", "huisnr"})
_SUFFIX_TOKEN = re.compile(r"[a-z]+|[0-9]+")
_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")


def suffix_tokens(text: str | None) -> tuple[str, ...]:
    """What follows a house number, as letter runs and digit runs: "A-01" -> ("a", "01"), "3e etage" -> ("3", "e",
    "etage")."""
    if not text:
        return ()
    return tuple(t for t in _SUFFIX_TOKEN.findall(fold(text)) if t not in NOISE_WORDS)


def floor_of(tokens: tuple[str, ...]) -> str | None:
    """The floor a suffix names ("3 hoog", "3e etage", "derde verdieping", "III", "hs", "bov"), or None if it is not
    purely a floor indication. Ground floor is "hs", upstairs without a number "bv"."""
    if not tokens:
        return None
    if all(t in GROUND_WORDS for t in tokens) or (tokens[0] in GROUND_WORDS and set(tokens[1:]) <= FLOOR_WORDS):
        return "hs"
    if all(t in UP_WORDS for t in tokens):
        return "bv"
    first, rest = tokens[0], tokens[1:]
    if not set(rest) <= FLOOR_WORDS:
        return None
    if first.isdigit() and len(first) <= 2:
        return first.lstrip("0") or "0"
    if first in ORDINAL_WORDS:
        return ORDINAL_WORDS[first]
    if first in ROMAN:
        return ROMAN[first]
    return None


def canonical_addition(tokens: tuple[str, ...]) -> str | None:
    """One comparable form of an addition: a floor as its number ("01", "I", "1 hoog" -> "1"), "hs"/"bv" for ground
    floor and upstairs, anything else lower-cased and joined without leading zeros ("A-01" -> "a1", "bis")."""
    if not tokens:
        return None
    floor = floor_of(tokens)
    if floor is not None:
        return floor
    return _LEADING_ZEROS.sub("", "".join(tokens))


@lru_cache(maxsize=4096)
def bag_addition(value: str | None) -> str | None:
    """The comparable form of a BAG huisnummertoevoeging (same rules as what people write)."""
    return canonical_addition(suffix_tokens(value)) if value else None


def bag_letter(value: str | None) -> str | None:
    """BAG huisletters are single letters in either case ("x", "A"); compared lower-case."""
    return value.lower() if value else None


def _how(tokens: tuple[str, ...]) -> str:
    """ "floor" when reading the tokens took a floor word ("3 hoog" -> 3, "beneden" -> hs), else "exact"."""
    if not tokens:
        return "exact"
    return "exact" if canonical_addition(tokens) == _LEADING_ZEROS.sub("", "".join(tokens)) else "floor"


# A reading of a suffix: (huisletter, canonical addition, how it was read). "how" feeds the method and confidence.
Reading = tuple[str | None, str | None, str]


@lru_cache(maxsize=100_000)
def suffix_readings(text: str | None) -> tuple[Reading, ...]:
    """Every way of reading what follows a house number, the most literal first.

    "" -> no letter, no addition. "A" -> letter A, or addition A. "A 2 hoog" -> letter A with floor 2, or addition
    "a2". "I" -> letter I, or floor 1. "3e etage" -> floor 3. The resolver takes the first reading BAG confirms."""
    tokens = suffix_tokens(text)
    if not tokens:
        return ((None, None, "exact"),)
    readings: list[Reading] = []
    first = tokens[0]
    if len(first) == 1 and first.isalpha() and (first != "e" or len(tokens) == 1):
        rest = tokens[1:]
        readings.append((first, canonical_addition(rest), _how(rest)))
        readings.append((None, canonical_addition(tokens), "letter"))
    else:
        readings.append((None, canonical_addition(tokens), _how(tokens)))
    # "12-14b" / "12 b14": a letter written after the addition
    if len(tokens) == 2 and tokens[0].isdigit() and len(tokens[1]) == 1 and tokens[1].isalpha():
        readings.append((tokens[1], tokens[0].lstrip("0") or "0", "letter"))
    return tuple(dict.fromkeys(readings))


def letter_or_addition(text: str | None) -> bool:
    """True when a lone letter was written apart from the number ("12-A", "12 a", "12/A"): it may be the huisletter
    or an addition A, and where BAG has both at one number nothing written tells which. "12A" reads as the letter."""
    if not text or text[0] not in SEPARATED:
        return False
    tokens = suffix_tokens(text)
    return len(tokens) == 1 and len(tokens[0]) == 1 and tokens[0].isalpha()


# The mark the parser puts before a suffix that was written apart from the number ("12 a", "12-a", "12/a").
SEPARATED = "-"


def is_droppable(text: str | None) -> bool:
    """True when the suffix only says which floor or room (nothing BAG would number), so an address without
    addition may be meant: "Putselaan 12 3 hoog" where Putselaan 12 has no additions at all."""
    tokens = suffix_tokens(text)
    if not tokens:
        return True
    if tokens[0] == "kamer":
        return True
    return floor_of(tokens) is not None and not (len(tokens) == 1 and tokens[0].isdigit())
