"""The synthetic world's error model: how people, owners and addresses are written where nobody checks them.

One module, used by the generator (synth/write_sources.py, synth/write_reports.py), the tests and the benchmarks, so
the figures they report all rest on the same noise. It is written from what studies of administrative data report,
not from what the hub's parser or linker expect: it imports nothing from `linkage/`, and its address grammar has its
own vocabulary (tests/test_synth_noise.py checks both). Where a rate comes from a publication, RATES says which;
where none was found, the rate is our choice and says so. docs/linkage.md, *The synthetic world's error model*,
lists the sources.

Every function takes the generator's own `random.Random`, so the noise is as deterministic as the world.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

# --- rates -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rates:
    """Per written record (a tenant relation, a named landlord, a reporter), the chance of each kind of error.

    - bsn_missing: the corporations' relation lacks the BSN. No Dutch figure found; Just et al. (2016, Perspect
      Health Inf Manag 13:1e, 398,939 US patient records with confirmed duplicates) found the SSN blank or a default
      in one or both records of 58% of duplicate pairs (36.5% in 2007). We take 0.35 for corporations, which ask for
      the BSN at contract time but not for every co-tenant.
    - birth_date_wrong: Luo et al. (2014, BMC Bioinformatics 15:185) found 1.5% of birth dates wrong in a state-wide
      health data set; Harron et al. (2017, BMC Med Res Methodol 17:23) found 0.11% disagreeing or missing between
      HES and the PDS. We take 0.015, the higher figure, half day/month swapped (when the day is 12 or less), half one
      digit off.
    - birth_date_missing: our choice, 0.01.
    - surname_error, given_error: a name written differently from the BRP. Just et al. (2016) found misspellings to
      be 33.6% of last-name and 53.1% of first-name discrepancies, the rest swaps, different and compound names; we
      take 0.08 for surnames and 0.10 for given names (our choice: the corporations copy from an ID document), split
      by KIND_OF_NAME_ERROR.
    - names_swapped: first and last name in each other's field. Just et al. (2016): swaps ten times as frequent in
      2016 as in 2007; no rate per record given. Our choice: 0.01.
    - initials_only: given names written as initials. Our choice: 0.10 (Dutch administrations often keep
      voorletters).
    - diacritics_lost: a name's diacritics dropped (Wiśniewski -> Wisniewski). Our choice: 0.5 of the names that have
      any; Gimenes et al. (2015, Computational Linguistics 41(1)) found diacritics the main source of typing errors in
      Portuguese.
    - prefix_misplaced: the tussenvoegsel written elsewhere ("Berg, van den", "Vandenberg", left out, or moved into
      the given-name field). Our choice: 0.15 of the names that have one.
    """

    bsn_missing: float = 0.35
    birth_date_wrong: float = 0.015
    birth_date_missing: float = 0.01
    surname_error: float = 0.08
    given_error: float = 0.10
    names_swapped: float = 0.01
    initials_only: float = 0.10
    diacritics_lost: float = 0.5
    prefix_misplaced: float = 0.15


RATES = Rates()
# Of the misspellings: Damerau (1964, CACM 7(3):171-176) found over 80% of misspelt words to hold one insertion,
# omission, substitution or transposition; the rest we write as phonetic respellings (Dutch sounds written another
# way), which Just et al. (2016) count among misspellings too.
KIND_OF_NAME_ERROR = (("keyboard", 0.8), ("phonetic", 0.2))
# Damerau's four single-error classes; the abstracts we read give no split between them, so they weigh equally, and a
# substitution hits a neighbouring key.
KEYBOARD_ERROR = (("substitution", 0.25), ("omission", 0.25), ("insertion", 0.25), ("transposition", 0.25))

# --- keyboard and phonetic errors -----------------------------------------------------------------------------------

# Dutch keyboards are US-International QWERTY: a slip hits a key next to the intended one.
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _neighbours() -> dict[str, str]:
    out: dict[str, str] = {}
    for y, row in enumerate(_ROWS):
        for x, key in enumerate(row):
            near = []
            for dy in (-1, 0, 1):
                if 0 <= y + dy < len(_ROWS):
                    other = _ROWS[y + dy]
                    for dx in (-1, 0, 1) if dy == 0 else (0, 1) if dy < 0 else (-1, 0):
                        if (dx, dy) != (0, 0) and 0 <= x + dx < len(other):
                            near.append(other[x + dx])
            out[key] = "".join(near)
    return out


KEY_NEIGHBOURS = _neighbours()


def _pick(r: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    x = r.random()
    for name, weight in weighted:
        x -= weight
        if x <= 0:
            return name
    return weighted[-1][0]


def _same_case(like: str, char: str) -> str:
    return char.upper() if like.isupper() else char


def keyboard_typo(r: random.Random, text: str) -> str:
    """One of Damerau's single errors, made on a keyboard: a neighbouring key, a key left out, one struck twice or a
    neighbour struck too, or two keys swapped. The first letter stays (people rarely mistype it) and a name of
    fewer than four letters is left alone."""
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if len(text) < 4 or len(letters) < 4:
        return text
    i = r.choice(letters[1:])
    c = text[i]
    kind = _pick(r, KEYBOARD_ERROR)
    if kind == "substitution" and KEY_NEIGHBOURS.get(c.lower()):
        return text[:i] + _same_case(c, r.choice(KEY_NEIGHBOURS[c.lower()])) + text[i + 1 :]
    if kind == "omission":
        return text[:i] + text[i + 1 :]
    if kind == "insertion":
        extra = r.choice([c.lower(), r.choice(KEY_NEIGHBOURS.get(c.lower()) or c.lower())])
        return text[:i] + extra + text[i:]
    if i + 1 < len(text) and text[i + 1].isalpha():
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + text[i + 1 :]


# Dutch sounds and the ways they get written down by ear (both directions listed where both occur).
PHONETIC = (
    ("eij", "ei"),
    ("eij", "ey"),
    ("ij", "y"),
    ("y", "ij"),
    ("ei", "ij"),
    ("ou", "au"),
    ("au", "ou"),
    ("dt", "t"),
    ("ch", "g"),
    ("g", "ch"),
    ("c", "k"),
    ("k", "c"),
    ("ph", "f"),
    ("z", "s"),
    ("v", "f"),
    ("ie", "i"),
    ("oe", "u"),
    ("ss", "s"),
    ("tt", "t"),
    ("kk", "k"),
    ("ae", "a"),
    ("sch", "s"),
    ("uy", "ui"),
    ("ck", "k"),
    ("ou", "oe"),
    ("w", "v"),
)


def phonetic_spelling(r: random.Random, text: str) -> str:
    """The name as someone writes it who heard it: one sound spelt another way (Meijer -> Meyer, Hendriks -> Hendrix
    is left out: x is not a Dutch respelling). The first letter stays; without a matching sound, a keyboard slip."""
    low = text.lower()
    options = [(a, b) for a, b in PHONETIC if a in low[1:]]
    if not options:
        return keyboard_typo(r, text)
    a, b = r.choice(options)
    i = low.index(a, 1)
    replacement = b.upper() if text[i].isupper() else b
    return text[:i] + replacement + text[i + len(a) :]


def misspell(r: random.Random, text: str) -> str:
    """A misspelling of the kind Damerau found most (one keyboard error) or a phonetic respelling."""
    return keyboard_typo(r, text) if _pick(r, KIND_OF_NAME_ERROR) == "keyboard" else phonetic_spelling(r, text)


def without_diacritics(text: str) -> str:
    """Wiśniewski -> Wisniewski, Şahin -> Sahin, Łukasz -> Lukasz: what an ASCII-only system keeps."""
    text = text.replace("ł", "l").replace("Ł", "L").replace("ı", "i").replace("ß", "ss")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def has_diacritics(text: str) -> bool:
    return without_diacritics(text) != text


# --- persons --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrittenPerson:
    """A person as another administration wrote them down: the fields of a VERA relatie."""

    voornaam: str
    tussenvoegsels: str
    achternaam: str
    geboortedatum: str
    bsn: str
    errors: tuple[str, ...]  # what was changed, for the tests and for reading the ground truth


def _initials(given: str) -> str:
    return "".join(f"{part[0].upper()}." for part in given.split())


def birth_date_written(r: random.Random, birth: tuple[int, int | None, int | None], rates: Rates = RATES) -> str:
    """ISO birth date as written by another administration: mostly right, now and then day and month swapped (only
    possible when the day is 12 or less) or one digit off; empty when unknown or left out."""
    y, m, d = birth
    if not d or not m or r.random() < rates.birth_date_missing:
        return ""
    if r.random() < rates.birth_date_wrong:
        if r.random() < 0.5 and d <= 12 and d != m:
            m, d = d, m
        else:
            digits = list(f"{y:04d}{m:02d}{d:02d}")
            for _ in range(20):  # one digit off, and still a date
                k = r.choice([2, 3, 5, 6, 7])
                trial = digits.copy()
                trial[k] = str((int(trial[k]) + r.choice((-1, 1))) % 10)
                ty, tm, td = int("".join(trial[:4])), int("".join(trial[4:6])), int("".join(trial[6:]))
                if 1 <= tm <= 12 and 1 <= td <= 28 and (ty, tm, td) != (y, m, d):
                    y, m, d = ty, tm, td
                    break
    return f"{y:04d}-{m:02d}-{d:02d}"


def written_person(
    r: random.Random,
    given: str,
    prefix: str,
    surname: str,
    birth: tuple[int, int | None, int | None],
    bsn: str,
    rates: Rates = RATES,
) -> WrittenPerson:
    """A person's BRP identity as a corporation's administration holds it, drawn from the error model."""
    errors: list[str] = []
    voornaam = given.split()[0]
    achternaam, tussenvoegsels = surname, prefix
    if r.random() < rates.initials_only:
        voornaam = _initials(given)
        errors.append("initials_only")
    if r.random() < rates.given_error and not voornaam.endswith("."):
        voornaam = misspell(r, voornaam)
        errors.append("given_misspelt")
    if r.random() < rates.surname_error:
        achternaam = misspell(r, achternaam)
        errors.append("surname_misspelt")
    if prefix and r.random() < rates.prefix_misplaced:
        how = r.random()
        if how < 0.4:  # joined to the surname: Vandenberg, Van den Berg in one field
            achternaam = r.choice([f"{prefix} {achternaam}".title(), (prefix + achternaam).replace(" ", "").title()])
        elif how < 0.7:  # left out
            pass
        else:  # after the given name
            voornaam = f"{voornaam} {prefix}"
        tussenvoegsels = ""
        errors.append("prefix_misplaced")
    if has_diacritics(voornaam + achternaam) and r.random() < rates.diacritics_lost:
        voornaam, achternaam = without_diacritics(voornaam), without_diacritics(achternaam)
        errors.append("diacritics_lost")
    if r.random() < rates.names_swapped:
        voornaam, achternaam = achternaam, voornaam
        errors.append("names_swapped")
    datum = birth_date_written(r, birth, rates)
    if datum != (f"{birth[0]:04d}-{birth[1]:02d}-{birth[2]:02d}" if birth[1] and birth[2] else ""):
        errors.append("birth_date_wrong" if datum else "birth_date_missing")
    written_bsn = bsn
    if r.random() < rates.bsn_missing:
        written_bsn = ""
        errors.append("bsn_missing")
    return WrittenPerson(voornaam, tussenvoegsels, achternaam, datum, written_bsn, tuple(errors))


def reporter_name(r: random.Random, given: str, prefix: str, surname: str, rates: Rates = RATES) -> str:
    """A reporter's name as the desk typed it from the phone or a form: initial or first name, sometimes misspelt."""
    first = f"{given[0]}." if r.random() < 0.6 else given.split()[0]
    name = surname if r.random() >= rates.surname_error else misspell(r, surname)
    full = f"{prefix} {name}".strip()
    return f"{first} {full}" if r.random() < 0.8 else f"{name}, {first}{' ' + prefix if prefix else ''}"


def person_variant(
    r: random.Random, given: str, prefix: str, surname: str, company: str | None = None, rates: Rates = RATES
) -> str:
    """A private landlord as tenants and reporters name him: 'J. Bakker', 'Bakker, J.', 'Jan Bakker', 'J. Bakker
    h.o.d.n. ...', with the tussenvoegsel where they put it, misspelt or without diacritics at the model's rates."""
    initial = given[0] + "."
    if r.random() < rates.surname_error:
        surname = misspell(r, surname)
    if r.random() < rates.given_error:
        given = misspell(r, given)
    if (prefix + surname + given) != without_diacritics(
        prefix + surname + given
    ) and r.random() < rates.diacritics_lost:
        given, surname = without_diacritics(given), without_diacritics(surname)
    full = f"{prefix} {surname}".strip()
    if prefix and r.random() < rates.prefix_misplaced:
        full = r.choice([surname, f"{prefix.title()}{surname}".replace(" ", "")])
    choice = r.random()
    if company and choice < 0.3:
        return f"{initial} {full} {r.choice(['h.o.d.n.', 'hodn', 'handelend onder de naam'])} {company}"
    if choice < 0.5:
        return f"{initial} {full}"
    if choice < 0.7:
        return f"{surname}, {initial}{' ' + prefix if prefix else ''}"
    if choice < 0.85:
        return f"{given} {full}"
    return f"{full} {given}" if r.random() < 0.5 else f"{given} {full}".upper()


def company_variant(r: random.Random, name: str) -> str:
    """Zuidhaven Vastgoed B.V. as reporters and teams write it: BV, B.V, bv, without legal form, Holding, and now and
    then a keyboard slip."""
    base = name
    for form in (" B.V.", " BV", " N.V."):
        base = base.replace(form, "")
    choice = r.random()
    if choice < 0.25:
        out = f"{base} BV"
    elif choice < 0.45:
        out = f"{base} B.V"
    elif choice < 0.6:
        out = base
    elif choice < 0.7:
        out = f"{base.split()[0]} Holding"
    elif choice < 0.8:
        out = f"{base.lower()} bv"
    else:
        out = name
    return keyboard_typo(r, out) if r.random() < RATES.surname_error else out


# --- addresses: a grammar of written forms -------------------------------------------------------------------------
#
# ADDRESS   := LOCATION [SEP POSTCODE] [SEP PLACE]  |  POSTCODE SEP LOCATION [SEP PLACE]
# LOCATION  := STREET NUMBER  |  NUMBER STREET (rare)
# STREET    := the street, each word as written (TITLE_FORMS, TYPE_FORMS), or with a keyboard slip, or lower case
# NUMBER    := [NUMBER_WORD] house number [LETTER] [ADDITION]   (ADDITION: FLOOR_FORMS or the BAG addition)
# POSTCODE  := 1234AB | 1234 AB | 1234ab | 1234-AB | a wrong last letter | left out
# PLACE     := PLACE_FORMS
#
# The word lists below are how people write in Rotterdam, collected for this grammar; they are deliberately not the
# parser's lists (linkage/address/normalise.py), so a form the parser does not know shows up in the figures.

TITLE_FORMS = {
    "Burgemeester": ["Burgemeester", "Burg.", "Burgem.", "Burgm.", "Burg"],
    "Mr.": ["Mr.", "Mr", "mr", "Meester"],
    "Lange": ["Lange", "L."],
    "Groene": ["Groene", "Gr."],
}
TYPE_FORMS = {  # the last part of a street name, as written
    "straat": ["straat", "str.", "str", "straat"],
    "laan": ["laan", "ln.", "ln"],
    "weg": ["weg", "wg."],
    "plein": ["plein", "pln", "pl."],
    "dijk": ["dijk", "dyk"],
    "singel": ["singel", "sngl"],
    "dreef": ["dreef", "drf"],
}
FLOOR_FORMS = {  # the floor of an upstairs dwelling, as written after the number
    "hs": ["huis", "hs", "beneden", "bg", "begane grond", "parterre"],
    "1": ["1 hoog", "1e", "1ste", "1e etage", "eerste", "I", "1-hoog", "1e verd."],
    "2": ["2 hoog", "2e", "2de", "2e etage", "tweede", "II", "2-hoog"],
    "3": ["3 hoog", "3e", "3de", "3e etage", "derde", "III", "3-hoog"],
    "bv": ["boven", "bov", "bv"],
}
NUMBER_WORDS = ["nr", "nr.", "no", "nummer"]
PLACE_FORMS = ["Rotterdam", "ROTTERDAM", "rotterdam", "R'dam", "Rdam", "Rotterdam-Zuid", "Rotterdam Zuid", "Rtm"]
PLACE_WEIGHTS = [0.3, 0.2, 0.2, 0.08, 0.05, 0.07, 0.07, 0.03]  # our choice: abbreviations are the rarer forms
PLACE_KIND = {"R'dam": "place_short", "Rdam": "place_short", "Rtm": "place_short"}
PLACE_KIND |= {"Rotterdam-Zuid": "place_district", "Rotterdam Zuid": "place_district"}
SEPARATORS = [", ", " ", ",", " - "]
SEPARATOR_WEIGHTS = [0.5, 0.3, 0.12, 0.08]  # our choice
SEPARATOR_KIND = {" ": "separator_space", ",": "separator_comma_tight", " - ": "separator_dash"}


@dataclass(frozen=True)
class AddressRates:
    """How often each part of the grammar deviates from the clean form, at sloppiness 1 (scaled down linearly).

    No published rates for Dutch free-text addresses were found; Harron et al. (2017) found the postcode wrong or
    missing in 53% of hospital records against the patient register, which is the order of magnitude of the
    `postcode_missing` + `postcode_wrong` we use at full sloppiness. The rest is our choice.
    """

    short_name: float = 0.3
    title_written: float = 0.6
    type_written: float = 0.3
    street_typo: float = 0.25
    lower_case: float = 0.3
    number_word: float = 0.1
    number_first: float = 0.03
    postcode_missing: float = 0.3
    postcode_wrong: float = 0.1
    postcode_first: float = 0.05
    floor_written: float = 0.6
    place_written: float = 0.7


ADDRESS_RATES = AddressRates()


def _street_as_written(
    r: random.Random, street: str, s: float, rates: AddressRates, kinds: list[str], short: str | None = None
) -> str:
    words = street.split()
    if short and short != street and r.random() < s * rates.short_name:
        words = short.split()
        kinds.append("short_name")
    out = []
    for k, word in enumerate(words):
        if word in TITLE_FORMS and r.random() < s * rates.title_written:
            written = r.choice(TITLE_FORMS[word])
            kinds.extend(["title_abbreviated"] if written != word else [])
            word = written
        elif k == len(words) - 1 and r.random() < s * rates.type_written:
            for full, forms in TYPE_FORMS.items():
                if word.lower().endswith(full) and len(word) > len(full):
                    written = word[: -len(full)] + r.choice(forms)
                    kinds.extend(["type_abbreviated"] if written != word else [])
                    word = written
                    break
        out.append(word)
    text = " ".join(out)
    if r.random() < s * rates.street_typo:
        text = keyboard_typo(r, text)
        kinds.append("typo")
    if r.random() < s * rates.lower_case:
        text = text.lower()
        kinds.append("case")
    if "-" in text and r.random() < s * rates.lower_case:
        text = text.replace("-", " ")
    return text


def house_part(
    r: random.Random,
    huisnummer: int,
    huisletter: str | None,
    toevoeging: str | None,
    s: float = 0.5,
    rates: AddressRates = ADDRESS_RATES,
    kinds: list[str] | None = None,
) -> str:
    """'12A-2' written as people write it: 12a, 12 A, 12-a, 12A 2 hoog, 12-2, 12 II, 12 bis, nr 12..."""
    kinds = [] if kinds is None else kinds
    nr = str(huisnummer)
    if r.random() < s * rates.number_word:
        nr = f"{r.choice(NUMBER_WORDS)} {nr}"
        kinds.append("number_word")
    if huisletter:
        letter = r.choice([huisletter, huisletter.lower()])
        nr = r.choice([f"{nr}{letter}", f"{nr} {letter}", f"{nr}-{letter}"])
        kinds.append("letter_variant")
    if toevoeging:
        floor = FLOOR_FORMS.get(toevoeging.lstrip("0").lower() or toevoeging.lower())
        if floor and r.random() < rates.floor_written:
            nr = f"{nr} {r.choice(floor)}"
            kinds.append("floor")
        else:
            ways = [f"{nr}-{toevoeging}", f"{nr} {toevoeging}", f"{nr}/{toevoeging}"]
            if huisletter or len(toevoeging) > 1 and not toevoeging[0].isdigit():
                # 12A01, 12bis; never 1 + 03 as "103" or addition A as "12A": those are other addresses
                ways.append(f"{nr}{toevoeging}")
            nr = r.choice(ways)
            kinds.append("addition_variant")
    return nr


POSTCODE_FORMS = (  # (kind, form)
    ("postcode", "{digits}{letters}"),
    ("postcode_space", "{digits} {letters}"),
    ("postcode_lower", "{digits}{lower}"),
    ("postcode_hyphen", "{digits}-{letters}"),
)


POSTCODE_WEIGHTS = (0.5, 0.3, 0.15, 0.05)  # our choice: the hyphen is rare


def _postcode_as_written(r: random.Random, postcode: str, kinds: list[str]) -> str:
    kind, form = r.choices(POSTCODE_FORMS, weights=POSTCODE_WEIGHTS)[0]
    kinds.extend([kind] if kind != "postcode" else [])
    return form.format(digits=postcode[:4], letters=postcode[4:], lower=postcode[4:].lower())


def written_address_and_kinds(
    r: random.Random,
    street: str,
    huisnummer: int,
    huisletter: str | None,
    toevoeging: str | None,
    postcode: str | None,
    woonplaats: str = "Rotterdam",
    sloppiness: float = 0.5,
    rates: AddressRates = ADDRESS_RATES,
    short: str | None = None,
) -> tuple[str, list[str]]:
    """An address drawn from the grammar above, and the kinds of deviation it holds (for per-kind figures)."""
    s = sloppiness
    kinds: list[str] = []
    street_text = _street_as_written(r, street, s, rates, kinds, short)
    number = house_part(r, huisnummer, huisletter, toevoeging, s, rates, kinds)
    if r.random() < s * rates.number_first:
        location = f"{number} {street_text}"
        kinds.append("number_first")
    else:
        location = f"{street_text} {number}"
    roll = r.random()
    code: str | None = None
    if not postcode:
        pass
    elif roll < s * rates.postcode_missing:
        kinds.append("no_postcode")
    elif roll < s * (rates.postcode_missing + rates.postcode_wrong):
        code = postcode[:4] + r.choice([c for c in "ABCDEFGHJKLMNPRSTVWXZ" if c != postcode[4]]) + postcode[5]
        kinds.append("wrong_postcode")
    else:
        code = _postcode_as_written(r, postcode, kinds)
    place = None
    if woonplaats and r.random() < rates.place_written:
        if r.random() < s:
            place = (
                r.choices(PLACE_FORMS, weights=PLACE_WEIGHTS)[0]
                if woonplaats == "Rotterdam"
                else r.choice([woonplaats, woonplaats.upper()])
            )
            kinds.append(PLACE_KIND.get(place, "place_case"))
        else:
            place = woonplaats
    else:
        kinds.append("no_woonplaats")
    sep = r.choices(SEPARATORS, weights=SEPARATOR_WEIGHTS)[0] if r.random() < s else ", "
    kinds.extend([SEPARATOR_KIND[sep]] if sep != ", " else [])
    if code and r.random() < s * rates.postcode_first:
        parts = [code, location] + ([place] if place else [])
        kinds.append("postcode_first")
    else:
        parts = [location] + ([code] if code else []) + ([place] if place else [])
    return sep.join(parts), kinds


def written_address(
    r: random.Random,
    street: str,
    huisnummer: int,
    huisletter: str | None,
    toevoeging: str | None,
    postcode: str,
    woonplaats: str = "Rotterdam",
    sloppiness: float = 0.5,
    rates: AddressRates = ADDRESS_RATES,
) -> str:
    """An address as a reporter types it, drawn from the grammar above; `sloppiness` 0 gives the clean form (street,
    number, postcode, place), 1 every kind of deviation at the rates of AddressRates."""
    text, _ = written_address_and_kinds(
        r, street, huisnummer, huisletter, toevoeging, postcode, woonplaats, sloppiness, rates
    )
    return text


def noisy_bag_address(r: random.Random, row: dict, sloppiness: float = 1.0) -> tuple[str, list[str]]:
    """One BAG address (a row of the hub's address table) written from the grammar, and its kinds of deviation: what
    the address benchmark and tests resolve. The BAG's short street name (verkorte_naam) is one of the written forms;
    a woonplaats other than Rotterdam is written as it is or in capitals."""
    return written_address_and_kinds(
        r,
        row["straatnaam"],
        row["huisnummer"],
        row["huisletter"],
        row["huisnummertoevoeging"],
        row.get("postcode"),
        row.get("woonplaats") or "",
        sloppiness,
        short=row.get("verkorte_naam"),
    )
