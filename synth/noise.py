"""How people write addresses and names when nobody checks them: the noise of free-text sources.

Every function takes the generator's own `random.Random`, so the noise is as deterministic as the world.
"""

from __future__ import annotations

import random

ABBREVIATIONS = {
    "Burgemeester": ["Burg.", "Burgem.", "Burg"],
    "Mr.": ["Mr", "Meester", "mr."],
    "laan": ["ln", "ln."],
    "straat": ["str", "str."],
    "plein": ["pl", "pl."],
    "weg": ["wg"],
    "Lange": ["L."],
    "Groene": ["Gr."],
    "van": ["v."],
}
FLOORS = {
    "1": ["1 hoog", "1e etage", "1-hoog", "eerste verdieping", "I"],
    "2": ["2 hoog", "2e etage", "2-hoog", "II"],
    "3": ["3 hoog", "3e etage", "3-hoog", "III"],
    "hs": ["huis", "beneden", "bg", "hs", "parterre"],
    "bv": ["bov", "boven", "bv"],
}


def typo(r: random.Random, text: str) -> str:
    """One keyboard slip: a swapped, dropped or doubled letter."""
    if len(text) < 5:
        return text
    i = r.randrange(1, len(text) - 2)
    kind = r.random()
    if kind < 0.4:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind < 0.7:
        return text[:i] + text[i + 1 :]
    return text[:i] + text[i] + text[i:]


def abbreviate(r: random.Random, street: str) -> str:
    for full, shorts in ABBREVIATIONS.items():
        if full in street and r.random() < 0.6:
            return street.replace(full, r.choice(shorts), 1)
    return street


def house_part(r: random.Random, huisnummer: int, huisletter: str | None, toevoeging: str | None) -> str:
    """'12A-2' written as people write it: 12a, 12 A, 12-a, 12A 2 hoog, 12-2, 12 II, 12 bis..."""
    nr = str(huisnummer)
    if huisletter:
        letter = r.choice([huisletter, huisletter.lower()])
        nr = r.choice([f"{nr}{letter}", f"{nr} {letter}", f"{nr}-{letter}"])
    if toevoeging:
        floor = FLOORS.get(toevoeging.lower())
        if floor and r.random() < 0.6:
            nr = f"{nr} {r.choice(floor)}"
        else:
            ways = [f"{nr}-{toevoeging}", f"{nr} {toevoeging}", f"{nr}/{toevoeging}"]
            if huisletter or not toevoeging[0].isdigit():
                ways.append(f"{nr}{toevoeging}")  # 12A01, 12bis; never 1 + 03 as "103", which is another house
            nr = r.choice(ways)
    return nr


def written_address(
    r: random.Random,
    street: str,
    huisnummer: int,
    huisletter: str | None,
    toevoeging: str | None,
    postcode: str,
    woonplaats: str = "Rotterdam",
    sloppiness: float = 0.5,
) -> str:
    """An address as a reporter types it; `sloppiness` 0 gives the clean form, 1 every kind of noise."""
    s = street
    if r.random() < sloppiness * 0.6:
        s = abbreviate(r, s)
    if r.random() < sloppiness * 0.25:
        s = typo(r, s)
    if r.random() < sloppiness * 0.3:
        s = s.lower()
    nr = house_part(r, huisnummer, huisletter, toevoeging)
    parts = [f"{s} {nr}"]
    roll = r.random()
    if roll < sloppiness * 0.3:
        pass  # no postcode
    elif roll < sloppiness * 0.4:
        wrong = postcode[:4] + r.choice("ABCDEFGHJKLMNPRSTVWXZ") + postcode[5]
        parts.append(wrong)  # a wrong postcode letter
    else:
        parts.append(r.choice([postcode, f"{postcode[:4]} {postcode[4:]}", postcode.lower()]))
    if r.random() < 0.7:
        parts.append(
            r.choice([woonplaats, woonplaats.upper(), "R'dam", "Rdam"]) if r.random() < sloppiness else woonplaats
        )
    sep = r.choice([", ", " ", ", "])
    return sep.join(parts)


def company_variant(r: random.Random, name: str) -> str:
    """Zuidhaven Vastgoed B.V. as reporters and teams write it: BV, B.V, bv, without legal form, Holding."""
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
    return typo(r, out) if r.random() < 0.1 else out


def person_variant(r: random.Random, given: str, prefix: str, surname: str, company: str | None = None) -> str:
    """A private landlord as people write him: 'J. Bakker', 'Bakker, J.', 'Jan Bakker', 'J. Bakker h.o.d.n. ...'."""
    initial = given[0] + "."
    full = f"{prefix} {surname}".strip()
    choice = r.random()
    if company and choice < 0.3:
        return f"{initial} {full} {r.choice(['h.o.d.n.', 'hodn', 'handelend onder de naam'])} {company}"
    if choice < 0.5:
        return f"{initial} {full}"
    if choice < 0.7:
        return f"{surname}, {initial}{' ' + prefix if prefix else ''}"
    if choice < 0.85:
        return f"{given} {full}"
    return typo(r, f"{given} {full}")
