"""Owner and landlord names normalised for comparison: legal forms, punctuation, 'h.o.d.n.' and swapped order.

"Zuidhaven Vastgoed B.V.", "Zuidhaven Vastgoed BV" and "zuidhaven vastgoed b.v" become one string; "J. Bakker
h.o.d.n. Bakker Verhuur" keeps the person ("j bakker"), because the Kadaster registers the person, not the trade name;
"Bakker, J." becomes "j bakker". Both sides of a comparison go through the same function before they are encoded.
"""

from __future__ import annotations

import re
import unicodedata

_HODN = re.compile(r"\b(h\s*\.?\s*o\s*\.?\s*d\s*\.?\s*n\s*\.?|handelend onder de naam|hodn|t\.?h\.?o\.?d\.?n\.?)\b")
_LEGAL = re.compile(r"\b(b\s*\.?\s*v|n\s*\.?\s*v|v\s*\.?\s*o\s*\.?\s*f|c\s*\.?\s*v)\b\.?")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def normalise_party_name(name: str) -> str:
    s = _fold(name).strip()
    m = _HODN.search(s)
    if m:
        s = s[: m.start()]
    if "," in s:  # "bakker, j." -> "j. bakker"
        last, _, first = s.partition(",")
        s = f"{first} {last}"
    s = _LEGAL.sub(" ", s)
    s = re.sub(r"[^a-z0-9 ]+", " ", s)
    return " ".join(s.split())
