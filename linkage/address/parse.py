"""Parsing Dutch addresses as people write them: street, huisnummer, huisletter, toevoeging, postcode, woonplaats.

"Burg. Roosstr. 12-a 3 hoog, 3074 jb R'dam" becomes street "Burg. Roosstr." (its key "burgemeesterroosstraat", see
normalise.street_keys), number 12, the suffix "-a 3 hoog" (read as letter a on the third floor, or as addition "a3"),
postcode "3074JB" and woonplaats "rotterdam". The parser does not decide what the suffix means: it keeps the text
after the number, and the resolver picks the reading BAG confirms (normalise.suffix_readings).

The house number is the first number that follows some street text and is itself followed only by what can follow a
house number (letters, additions, floor words); `alternative_parses` gives the other readings ("Plein 1940 5": 1940
or 5?) for the resolver to try when the first finds nothing. A woonplaats is recognised after the number or in its
own comma-separated part; the resolver hands the parser the woonplaats names its BAG index knows.

Also read: the number before the street ("5b Putselaan", "225A-02 Slinge": `_number_first`), postcode and number
without a street ("3086WE 97C"), number and street in separate parts ("12-a, Putselaan"), and floors written anywhere
("2e etage Putselaan 3", "Putselaan 1-hoog 3", "hs, Putselaan 3"): `_pull_floors` takes them out first and adds them
to the suffix, as long as a number is left for the house number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache

from linkage.address.normalise import (
    DEFAULT_WOONPLAATSEN,
    FLOOR_WORDS,
    GROUND_WORDS,
    NOISE_WORDS,
    ORDINAL_WORDS,
    ROMAN,
    SEPARATED,
    UP_WORDS,
    WOONPLAATS_ALIASES,
    Reading,
    WoonplaatsNames,
    canonical_addition,
    fold,
    street_keys,
    suffix_readings,
    suffix_tokens,
    woonplaats_key,
)

# "3074 AB", "3074AB" and "3074-AB" (the hyphen as some forms and spreadsheets write it)
_POSTCODE = re.compile(r"(?<![0-9])([1-9][0-9]{3})(?: ?- ?| )?([a-z]{2})(?![a-z])")
_BAG_ID = re.compile(r"(?<![0-9])([0-9]{16})(?![0-9])")
_NUMBER = re.compile(r"(?<![0-9])([0-9]{1,5})(?![0-9])")
_ORDINAL_AFTER = re.compile(r"(e|ste|de)\b")
_SEPARATORS = re.compile(r"[,;\n\r\t|]+")
_SPACES = re.compile(r"\s+")
# A floor written anywhere in the text ("2e etage Putselaan 3", "Putselaan 1-hoog 3", "33 beneden Pleinweg"): taken
# out before the street and number are looked for, and read as part of the suffix. Numeric floors need a floor word
# after them ("3 hoog", "3e verd."), so "2e Middellandstraat" and "12 vd Takstraat" stay as they are.
_FLOOR_PHRASE = re.compile(
    r"(?<![a-z0-9])(?:[0-9]{1,2} ?(?:e|ste|de)?\.? ?-? ?(?:hoog|etage|verdieping|verd)"
    r"|(?:eerste|tweede|derde|vierde|vijfde|zesde) (?:etage|verdieping|verd)"
    r"|begane grond|benedenwoning|bovenwoning|beneden|parterre|souterrain)\.?(?![a-z0-9])"
)
# The short ground-floor and upstairs words, taken out only where no street word can stand: at the start of a part
# before the street ("hs Slaghekstraat 8", "huis, Putselaan 7") or just before the number ("Mijnsherenlaan bg 13").
_SHORT_FLOOR = re.compile(
    r"(?:(?<![^,;(])|(?<=[,;(] )|(?<=^ ))(?:hs|bg|bgg|huis(?! te )|bov|boven(?! de ))\.?(?=,| [a-z])"
    r"|(?<= )(?:hs|bg|bgg|huis|bov|boven)\.?(?= [0-9])"
)
_WORD_OR_NUMBER = re.compile(r"[a-z]+|[0-9]+")
_NUMBER_WORD = re.compile(r"^(?:nr|no|nummer|huisnummer|huisnr)\b[ .:]*")
# Words that may follow a house number without being part of a street name.
SUFFIX_WORDS = (
    GROUND_WORDS | UP_WORDS | FLOOR_WORDS | NOISE_WORDS | set(ROMAN) | set(ORDINAL_WORDS) | {"bis", "kamer", "ter"}
)
DEFAULT_WOONPLAATS_MAP = WoonplaatsNames({w: w for w in DEFAULT_WOONPLAATSEN} | WOONPLAATS_ALIASES)


@dataclass(frozen=True)
class ParsedAddress:
    """An address split into its parts; what was not found stays None.

    `suffix` is the text after the number, with a leading "-" when it was written apart from the number ("12 a",
    "12-a": "-a"; "12a": "a"). `huisletter` and `toevoeging` are its most literal reading (kept for display and for
    callers that want one answer); the resolver reads `suffix` itself. `woonplaats` is a woonplaats key."""

    street: str | None = None
    huisnummer: int | None = None
    huisletter: str | None = None
    toevoeging: str | None = None
    postcode: str | None = None
    woonplaats: str | None = None
    suffix: str | None = None
    bag_id: str | None = None
    text: str | None = None  # the free text it was parsed from, for alternative_parses
    fields: bool = False  # from split fields: huisletter and toevoeging are what their fields said

    @property
    def readings(self) -> tuple[Reading, ...]:
        """The ways to read the letter and addition, most literal first (normalise.suffix_readings). From split
        fields, the fields' own reading (a letter from the letter field, an addition from the addition field) first."""
        if not self.fields and (self.suffix is not None or not (self.huisletter or self.toevoeging)):
            return suffix_readings(self.suffix)
        literal = (self.huisletter, self.toevoeging, "exact")
        return (literal, *(r for r in suffix_readings(self.suffix) if r != literal))

    @property
    def street_key(self) -> str | None:
        keys = street_keys(self.street) if self.street else ()
        return keys[0] if keys else None


# Two letters after a four-digit number that are more likely a house number's suffix than a postcode's letters.
_SUFFIX_PAIRS = frozenset({"hs", "bg", "bv", "ii", "iv", "vi", "hg", "et", "de", "ste"})


def _postcode_in(s: str) -> re.Match | None:
    """The postcode in a folded address text. With several candidates the last ("Kastanjelaan 1071 hs, 3054 AD":
    1071 is the house number); a single one that is the only number and reads as number and suffix ("Delfthof 1054
    hs") is not a postcode."""
    found = list(_POSTCODE.finditer(s))
    if not found:
        return None
    if len(found) > 1:
        return found[-1]
    m = found[0]
    other_numbers = _NUMBER.search(s[: m.start()]) or _NUMBER.search(s[m.end() :])
    if not other_numbers and m.group(2) in _SUFFIX_PAIRS and any(c.isalpha() for c in s[: m.start()]):
        return None
    return m


def normalise_postcode(text: str | None) -> str | None:
    """ "3074 jb" -> "3074JB"; None when the text holds no Dutch postcode."""
    if not text:
        return None
    found = _POSTCODE.search(fold(str(text)))
    return (found.group(1) + found.group(2)).upper() if found else None


def _literal(suffix: str | None) -> tuple[str | None, str | None]:
    letter, addition, _ = suffix_readings(suffix)[0]
    return letter, addition


def _strip_woonplaats(words: list[str], woonplaatsen: Mapping[str, str]) -> tuple[list[str], str | None]:
    """Remove a woonplaats written at the end of the words ("... 152 rotterdam"), longest name first."""
    if len(words) < 2 or words[-1][-1:].isdigit():
        return words, None
    last_words = getattr(woonplaatsen, "last_words", None)
    if last_words is not None and woonplaats_key(words[-1]).rsplit(" ", 1)[-1] not in last_words:
        return words, None
    for k in (4, 3, 2, 1):
        if len(words) > k:
            key = woonplaats_key(" ".join(words[-k:]))
            if key in woonplaatsen:
                return words[:-k], woonplaatsen[key]
    return words, None


@lru_cache(maxsize=50_000)
def _unknown_words(rest: str) -> int:
    """How many words in the text could not follow a house number (street words, not floors or additions)."""
    return sum(1 for t in suffix_tokens(rest) if t.isalpha() and len(t) >= 3 and t not in SUFFIX_WORDS)


def _pull_floors(s: str) -> tuple[str, list[str]]:
    """Take the floors out of a folded text wherever they stand, as long as a number is left for the house number
    ("Putselaan 12 hoog" keeps its 12)."""
    pulled: list[str] = []
    for pattern in (_FLOOR_PHRASE, _SHORT_FLOOR):
        for m in reversed(list(pattern.finditer(s))):
            rest = s[: m.start()] + " " + s[m.end() :]
            if _NUMBER.search(rest):
                s = rest
                pulled.insert(0, m.group(0).strip(" ."))
    return s, pulled


def _number_first(segment: str) -> tuple[str, int, str] | None:
    """ "5b Putselaan", "225A-02 Slinge", "111-a Lange Hilleweg", "33 hs Pleinweg": the number before the street.
    What follows the number is its suffix as long as it reads as one (a letter, digits, floor and addition words);
    the rest is the street, which must hold a word that is no suffix. None when the segment does not read so."""
    text = _NUMBER_WORD.sub("", segment.lstrip())
    m = _NUMBER.match(text)
    if not m or _ORDINAL_AFTER.match(text[m.end() :]):
        return None
    rest = text[m.end() :]
    cut = 0
    for t in _WORD_OR_NUMBER.finditer(rest):
        token, after = t.group(0), rest[t.end() : t.end() + 1]
        if token.isdigit():
            if len(token) > 4 or after.isalpha():  # "1 2e Middellandstraat": an ordinal starts the street
                break
        elif len(token) == 1:
            if after in (".", "'") or (token == "s" and after == "-"):  # an initial, "'s-Gravendijkwal"
                break
        elif token not in SUFFIX_WORDS or token in ("e", "ste", "de"):
            break
        cut = t.end()
    street = rest[cut:].strip(" .,-/#:")
    if not _unknown_words(street):
        return None
    suffix = rest[:cut].strip(" .,-/#:")
    if suffix and rest[:1] in " .,-/#:":
        suffix = SEPARATED + suffix
    return street, int(m.group(1)), suffix


def _number_readings(segment: str, first_only: bool = False) -> list[tuple[str, int, str]]:
    """(street, huisnummer, suffix) for each number in the segment that could be the house number, best first
    (only the best with `first_only`)."""
    good, doubtful = [], []
    for m in _NUMBER.finditer(segment):
        street = segment[: m.start()].strip(" .,-/#:")
        rest = segment[m.end() :]
        if not any(c.isalpha() for c in street) or (street[:1].isdigit() and not _unknown_words(street)):
            continue  # "11a-01": a number and its suffix, no street before the second number
        if _ORDINAL_AFTER.match(rest) and _unknown_words(rest):  # "Rotterdam 2e Middellandstraat 12"
            continue
        suffix = rest.strip(" .,-/#:")
        if suffix and rest[:1] in " .,-/#:":
            suffix = SEPARATED + suffix  # "12 a" / "12-a", apart from the number; "12a" glued to it
        reading = (street, int(m.group(1)), suffix)
        if _unknown_words(rest):
            doubtful.append(reading)
        elif first_only:
            return [reading]
        else:
            good.append(reading)
    if not good:
        first = _number_first(segment)  # "12 Putselaan": number first, before any doubtful reading
        if first is not None:
            doubtful.insert(0, first)
    return good + doubtful


def parse_address(text: str | None, woonplaatsen: Mapping[str, str] | None = None) -> ParsedAddress:
    """Split a free-text Dutch address. `woonplaatsen` maps woonplaats keys and aliases to BAG woonplaats keys (a
    BagIndex has one); without it the Rotterdam woonplaatsen are recognised."""
    parsed = _parse(text, woonplaatsen, first_only=True)
    return parsed[0] if parsed else ParsedAddress()


def alternative_parses(p: ParsedAddress, woonplaatsen: Mapping[str, str] | None = None) -> list[ParsedAddress]:
    """The other readings of the text `p` came from, another number taken as the house number ("Laan 1940-1945
    12": 12 after 1940), for when the first reading finds nothing."""
    if not p.text:
        return []
    return [q for q in _parse(p.text, woonplaatsen, first_only=False) if q.huisnummer != p.huisnummer][:3]


def _parse(text: str | None, woonplaatsen: Mapping[str, str] | None, first_only: bool) -> list[ParsedAddress]:
    if not text or not str(text).strip():
        return []
    wp_map = woonplaatsen if woonplaatsen is not None else DEFAULT_WOONPLAATS_MAP
    s = fold(str(text))
    bag_id = None
    found = _BAG_ID.search(s) if len(s) >= 16 else None
    if found:
        bag_id = found.group(1)
        s = s[: found.start()] + "," + s[found.end() :]
    postcode = None
    found = _postcode_in(s)
    if found:
        postcode = (found.group(1) + found.group(2)).upper()
        s = s[: found.start()] + "," + s[found.end() :]
    s, floors = _pull_floors(s)
    segments = [_SPACES.sub(" ", seg).strip(" .-") for seg in _SEPARATORS.split(s)]
    segments = [seg for seg in segments if seg]
    woonplaats = None
    readings: list[tuple[str, int, str]] = []
    number_at = -1
    for i, seg in enumerate(segments):
        words, wp = _strip_woonplaats(seg.split(" "), wp_map)
        found_readings = _number_readings(" ".join(words) if wp else seg, first_only)
        if found_readings:
            readings, number_at = found_readings, i
            woonplaats = wp or woonplaats
            break
    extra_suffix = []
    for i, seg in enumerate(segments):
        if i == number_at:
            continue
        key = woonplaats_key(seg)
        if key in wp_map:
            woonplaats = wp_map[key]
        elif seg.isdigit() and len(seg) == 4:
            continue  # a postcode area without its letters ("..., 3074 Rotterdam")
        elif number_at >= 0 and i > number_at and not _unknown_words(seg) and len(seg) <= 20:
            extra_suffix.append(seg)  # "Putselaan 12, bov"
        elif woonplaats is None and not any(c.isdigit() for c in seg) and (number_at >= 0 and i > number_at):
            woonplaats = key  # a woonplaats BAG may not know; the resolver ignores what its index does not know
    extra_suffix += floors
    if not readings:  # "3074 JB 12-a": postcode and number, no street; "12-a, Putselaan": apart
        for i, seg in enumerate(segments):
            m = _NUMBER.match(seg)
            if m and not _unknown_words(seg[m.end() :]):
                others = (x for j, x in enumerate(segments) if j != i and woonplaats_key(x) not in wp_map)
                street = next((x for x in others if _unknown_words(x) and not any(c.isdigit() for c in x)), None)
                if street is None and not postcode:
                    break
                extra_suffix += [x for j, x in enumerate(segments) if j != i and x != street and not _unknown_words(x)]
                extra_suffix = [x for x in extra_suffix if woonplaats_key(x) not in wp_map and not x.isdigit()]
                suffix = seg[m.end() :].strip(" .,-/#:")
                if suffix and seg[m.end() : m.end() + 1] in " .,-/#:":
                    suffix = SEPARATED + suffix
                if extra_suffix:
                    suffix = (suffix + " " if suffix else SEPARATED) + " ".join(extra_suffix)
                letter, addition = _literal(suffix or None)
                number = int(m.group(1))
                return [
                    ParsedAddress(street, number, letter, addition, postcode, woonplaats, suffix or None, bag_id, text)
                ]
    if not readings:
        street = segments[0] if segments else None
        if street and woonplaats_key(street) in wp_map:
            street = None
        return [ParsedAddress(street=street, postcode=postcode, woonplaats=woonplaats, bag_id=bag_id, text=text)]
    parsed = []
    for street, number, suffix in readings:
        if extra_suffix:
            suffix = (suffix + " " if suffix else SEPARATED) + " ".join(extra_suffix)
        letter, addition = _literal(suffix or None)
        parsed.append(
            ParsedAddress(street, number, letter, addition, postcode, woonplaats, suffix or None, bag_id, text)
        )
    return parsed


_NUMBER_FIELD = re.compile(r"\s*([0-9]{1,5})(?:\.0+)?\s*[-/ ]?\s*(.*)$")


def parsed_from_parts(
    street: str | None,
    huisnummer: str | int | None,
    huisletter: str | None = None,
    toevoeging: str | None = None,
    postcode: str | None = None,
    woonplaats: str | None = None,
    woonplaatsen: Mapping[str, str] | None = None,
) -> ParsedAddress:
    """The same structure from split fields (a form, a registry). A huisnummer field holding "12A-2" is split; a
    street field holding the whole address ("Putselaan 12") is parsed when the number field is empty."""
    wp_map = woonplaatsen if woonplaatsen is not None else DEFAULT_WOONPLAATS_MAP
    wp = None
    if woonplaats:
        key = woonplaats_key(str(woonplaats))
        wp = wp_map.get(key, key)
    pc = normalise_postcode(postcode)
    number = None
    from_number = None
    if huisnummer is not None and str(huisnummer).strip():
        m = _NUMBER_FIELD.match(str(huisnummer))
        if m:
            number = int(m.group(1))
            from_number = m.group(2).strip() or None
    if number is None and street and any(c.isdigit() for c in str(street)):
        p = parse_address(str(street), wp_map)
        return replace(p, postcode=p.postcode or pc, woonplaats=p.woonplaats or wp)
    suffix = " ".join(str(x).strip() for x in (from_number, huisletter, toevoeging) if x and str(x).strip()) or None
    if from_number:  # "12A-2" in the number field: read like free text
        letter, addition = _literal(suffix)
    else:
        letter = fold(str(huisletter)).strip() or None if huisletter else None
        addition = canonical_addition(suffix_tokens(str(toevoeging))) if toevoeging else None
        if letter is not None and (len(letter) != 1 or not letter.isalpha()):
            letter, addition = _literal(suffix)  # a letter field holding more than a letter
    return ParsedAddress(str(street) if street else None, number, letter, addition, pc, wp, suffix, fields=True)
