"""Addresses as people write them, one row per written form, with the answer a person checking would expect.

The BAG is tests/address_forms_bag.py (Rotterdam-Zuid streets, laid out by hand). An answer is (street, number,
letter, addition) of the one address meant, optionally with the start of the method it must come by; a refusal is
the reason the resolver must give. The forms are this file's own: postcode and number without a street, the number
before the street, floors in every position, earlier postcodes and street names, and the ambiguous ones that must
stay unanswered.
"""

from __future__ import annotations

import pytest

from linkage.address import BagIndex, addresses_from_entities, resolve_text
from tests.address_forms_bag import address_key, bag_entities

R = "Rotterdam"
PUT, SLI, LHW, PLW, BEI = "Putselaan", "Slinge", "Lange Hilleweg", "Pleinweg", "Beijerlandselaan"
LUP, GHD, HLD, BRS = "Lupinestraat", "Groene Hilledijk", "Hilledijk", "Burgemeester Roosstraat"

# (written, expected): expected is (street, nr, letter, addition[, woonplaats][, method prefix]) or a refusal reason.
FORMS: list[tuple[str, tuple | str]] = [
    # --- postcode and number, no street ---------------------------------------------------------------------------
    ("3074AA 1", (PUT, 1, None, None, R, "postcode_huisnummer")),
    ("3074 AA 1", (PUT, 1, None, None)),
    ("3074aa 1", (PUT, 1, None, None)),
    ("3074AA 3 hs", (PUT, 3, None, "hs")),
    ("3074AA 3-1", (PUT, 3, None, "1")),
    ("3074AA 3 2 hoog", (PUT, 3, None, "2")),
    ("3074AA 3 3e etage", (PUT, 3, None, "3")),
    ("3074AA 3 1-hoog", (PUT, 3, None, "1")),
    ("3074AA 3 beneden", (PUT, 3, None, "hs")),
    ("3074AA 5", (PUT, 5, None, None)),
    ("3074AA 5A", (PUT, 5, "A", None)),
    ("3074AA 5 b", (PUT, 5, "B", None)),
    ("3074AA 5-a", (PUT, 5, "A", None)),
    ("3074AA 7B", (PUT, 7, "B", None)),
    ("3074AA 9-02", (PUT, 9, None, "02")),
    ("3074AA 9 2", (PUT, 9, None, "02")),
    ("3074AA 9-4", (PUT, 9, None, "04")),
    ("3074AA 11A-01", (PUT, 11, "A", "01")),
    ("3074AA 11 A 02", (PUT, 11, "A", "02")),
    ("3074AA 13 bis", (PUT, 13, None, "bis")),
    ("3074AA 13", (PUT, 13, None, None)),
    ("3074AA 17 hs", (PUT, 17, None, "HS")),
    ("3074AA 17 bov", (PUT, 17, None, "BV")),
    ("3074AA 17 boven", (PUT, 17, None, "BV")),
    ("3074AA 19 II", (PUT, 19, None, "II")),
    ("3074AB 22", (PUT, 22, None, None)),
    ("3074AB 24 1", (PUT, 24, None, "1")),
    ("3074AB 24-2", (PUT, 24, None, "2")),
    ("3086WE 97C", (SLI, 97, "C", None)),
    ("3086 WE 97 c", (SLI, 97, "C", None)),
    ("97C 3086WE", (SLI, 97, "C", None)),
    ("3086WE 99", (SLI, 99, None, None)),
    ("3086-WE 97C", (SLI, 97, "C", None)),  # the postcode with a hyphen, as some forms and spreadsheets write it
    ("Slinge 97C, 3086-we Rotterdam", (SLI, 97, "C", None)),
    ("3085SG 159a 03", (SLI, 159, "A", "03")),
    ("3085SG 159 A-01", (SLI, 159, "A", "01")),
    ("3085SG 159B 1", (SLI, 159, "B", "01")),
    ("3085SG 161 2", (SLI, 161, None, "02")),
    ("3085SG 161-03", (SLI, 161, None, "03")),
    ("3073FK 177 1-hoog", (LUP, 177, None, "1")),
    ("3073FK 177 hs", (LUP, 177, None, "hs")),
    ("3073FK 177, 2e verd.", (LUP, 177, None, "2")),
    ("3083AB 33 beneden", (PLW, 33, None, "hs")),
    ("3083AB 35", (PLW, 35, None, None)),
    ("postcode 3074HA huisnummer 2", (BRS, 2, None, None)),
    ("3074 HA, nr. 4a", (BRS, 4, "A", None)),
    ("3084AB 10-01", ("Mr. Wilhelmina Rosestraat", 10, None, "01")),
    ("3082 AA 302 A", ("Katendrechtse Lagedijk", 302, "A", None)),
    ("3074EA 5 1 hoog", (BEI, 5, None, "1")),
    ("3195BA 4", ("Dorpsstraat", 4, None, None, "Pernis Rotterdam")),
    ("3191DA 4", ("Dorpsstraat", 4, None, None, "Hoogvliet Rotterdam")),
    ("3191 KA 8, Hoogvliet", ("Kerkstraat", 8, None, None, "Hoogvliet Rotterdam")),
    # --- the number before the street -----------------------------------------------------------------------------
    ("5b Putselaan, Rotterdam", (PUT, 5, "B", None, R, "street")),
    ("5 Putselaan", (PUT, 5, None, None)),
    ("5A Putselaan 3074AA", (PUT, 5, "A", None)),
    ("5-a Putselaan", (PUT, 5, "A", None)),
    ("5 a Putselaan", (PUT, 5, "A", None)),
    ("7 C Putselaan Rotterdam", (PUT, 7, "C", None)),
    ("9-03 Putselaan", (PUT, 9, None, "03")),
    ("9 01 Putselaan", (PUT, 9, None, "01")),
    ("11A-02 Putselaan", (PUT, 11, "A", "02")),
    ("13 bis Putselaan", (PUT, 13, None, "bis")),
    ("17 hs Putselaan", (PUT, 17, None, "HS")),
    ("17 bov. Putselaan", (PUT, 17, None, "BV")),
    ("19 III Putselaan", (PUT, 19, None, "III")),
    ("225A-02 Slinge", (SLI, 225, "A", "02")),
    ("225 B Slinge", (SLI, 225, "B", None)),
    ("227 hs Slinge", (SLI, 227, None, "hs")),
    ("227-2 Slinge, Rotterdam", (SLI, 227, None, "2")),
    ("97C Slinge", (SLI, 97, "C", None)),
    ("111-a Lange Hilleweg", (LHW, 111, "A", None)),
    ("111 Lange Hilleweg", (LHW, 111, None, None)),
    ("113-3 Lange Hilleweg", (LHW, 113, None, "3")),
    ("115 Lange Hilleweg 3073BA", (LHW, 115, None, None)),
    ("33 beneden Pleinweg", (PLW, 33, None, "hs")),
    ("33 1 hoog Pleinweg", (PLW, 33, None, "1")),
    ("201 B Pleinweg", (PLW, 201, "B", None)),
    ("4 A Burgemeester Roosstraat", (BRS, 4, "A", None)),
    ("6 hs Burg. Roosstraat", (BRS, 6, None, "hs")),
    ("8 Mr. Wilhelmina Rosestraat", ("Mr. Wilhelmina Rosestraat", 8, None, None)),
    ("300 Katendrechtse Lagedijk", ("Katendrechtse Lagedijk", 300, None, None)),
    ("42-2 Zuidwijkdreef", ("Zuidwijkdreef", 42, None, "2")),
    ("5 Tarwestraat", ("Tarwestraat", 5, None, None)),
    ("7a Tarwestraat", ("Tarwestraat", 7, "A", None)),
    ("8 Kerkstraat Hoogvliet", ("Kerkstraat", 8, None, None, "Hoogvliet Rotterdam")),
    ("4 Dorpsstraat, Pernis", ("Dorpsstraat", 4, None, None, "Pernis Rotterdam")),
    ("nr 22 Putselaan", (PUT, 22, None, None)),
    # --- floors in every position ---------------------------------------------------------------------------------
    ("Putselaan 3 1-hoog", (PUT, 3, None, "1")),
    ("Putselaan 3, 2 hoog", (PUT, 3, None, "2")),
    ("Putselaan 3 3e etage", (PUT, 3, None, "3")),
    ("Putselaan 3 derde verdieping", (PUT, 3, None, "3")),
    ("Putselaan 3 1e verd.", (PUT, 3, None, "1")),
    ("Putselaan 3 2e verd", (PUT, 3, None, "2")),
    ("Putselaan 3 beneden", (PUT, 3, None, "hs")),
    ("Putselaan 3 begane grond", (PUT, 3, None, "hs")),
    ("Putselaan 3 parterre", (PUT, 3, None, "hs")),
    ("2e etage Putselaan 3", (PUT, 3, None, "2")),
    ("3e verd. Putselaan 3", (PUT, 3, None, "3")),
    ("1-hoog Putselaan 3", (PUT, 3, None, "1")),
    ("beneden Putselaan 3", (PUT, 3, None, "hs")),
    ("Putselaan 2e etage 3", (PUT, 3, None, "2")),
    ("Putselaan 1-hoog 3, Rotterdam", (PUT, 3, None, "1")),
    ("Putselaan 3 (2e etage)", (PUT, 3, None, "2")),
    ("Putselaan 3, 3 hoog, 3074AA", (PUT, 3, None, "3")),
    ("Putselaan 3 II", (PUT, 3, None, "2")),
    ("Putselaan 9 2e etage", (PUT, 9, None, "02")),
    ("Putselaan 9, 1 hoog", (PUT, 9, None, "01")),
    ("Putselaan 17 beneden", (PUT, 17, None, "HS")),
    ("Putselaan 17 boven", (PUT, 17, None, "BV")),
    ("Putselaan 17 bovenwoning", (PUT, 17, None, "BV")),
    ("Putselaan 1 2 hoog", (PUT, 1, None, None)),
    ("Putselaan 22 3e etage", (PUT, 22, None, None)),
    ("Slinge 227 1e etage", (SLI, 227, None, "1")),
    ("Slinge 227 beneden", (SLI, 227, None, "hs")),
    ("Slinge 161 3 hoog", (SLI, 161, None, "03")),
    ("1e etage Slinge 161", (SLI, 161, None, "01")),
    ("Lange Hilleweg 113 2-hoog", (LHW, 113, None, "2")),
    ("Pleinweg 33 2e etage", (PLW, 33, None, "2")),
    ("Pleinweg 33 bg", (PLW, 33, None, "hs")),
    ("Beijerlandselaan 5 1e verdieping", (BEI, 5, None, "1")),
    ("Beijerlandselaan 5, beneden", (BEI, 5, None, "hs")),
    ("Lupinestraat 177 2 hoog", (LUP, 177, None, "2")),
    ("tweede verdieping Lupinestraat 177", (LUP, 177, None, "2")),
    ("3e etage, 3074AA 3", (PUT, 3, None, "3")),
    ("Zuidwijkdreef 42, 1-hoog, 3085 AA", ("Zuidwijkdreef", 42, None, "1")),
    # --- as written every day -------------------------------------------------------------------------------------
    ("Putselaan 5B, 3074 AA Rotterdam", (PUT, 5, "B", None, R, "postcode_huisnummer")),
    ("PUTSELAAN 7A", (PUT, 7, "A", None)),
    ("putselaan 13bis", (PUT, 13, None, "bis")),
    ("Putselaan 11 A-02", (PUT, 11, "A", "02")),
    ("Burg. Roosstraat 4b", (BRS, 4, "B", None)),
    ("Burgemeester Roosstraat 2, R'dam", (BRS, 2, None, None)),
    ("Mr. W. Rosestraat 8, 3084AB", ("Mr. Wilhelmina Rosestraat", 8, None, None)),
    ("Katendrechtse Lagedijk 302a", ("Katendrechtse Lagedijk", 302, "A", None)),
    ("Zuidwijkdreef 42 1", ("Zuidwijkdreef", 42, None, "1")),
    ("Tarwestraat 7 A", ("Tarwestraat", 7, "A", None)),
    ("Slinge 97 C", (SLI, 97, "C", None)),
    ("Slinge 159 A 2", (SLI, 159, "A", "02")),
    ("Lange Hilelweg 115", (LHW, 115, None, None, R, "street_fuzzy")),
    ("Putslaan 22", (PUT, 22, None, None, R, "street_fuzzy")),
    ("Groene Hilledijk 12b", (GHD, 12, "B", None)),
    ("Hilledijk 14", (HLD, 14, None, None)),
    ("Lupinestraat 2101", (LUP, 21, None, "01", R, "number_split")),
    # --- earlier postcodes and street names -----------------------------------------------------------------------
    ("Slinge 97C, 3086WA", (SLI, 97, "C", None, R, "historic_postcode")),
    ("3086WA 97C", (SLI, 97, "C", None, R, "historic_postcode")),
    ("3086 wa 97", (SLI, 97, None, None, R, "historic_postcode")),
    ("3074ZX 3", (BEI, 3, None, None, R, "historic_postcode")),
    ("Beijerlandselaan 1, 3074AA", (BEI, 1, None, None, R, "street_exact_historic_postcode")),
    ("3074AA 1, Rotterdam", (PUT, 1, None, None, R, "postcode_huisnummer")),  # the current postcode wins
    ("Bloemhofdijk 10", (GHD, 10, None, None, R, "historic_street")),
    ("Bloemhofdijk 12 A", (GHD, 12, "A", None, R, "historic_street")),
    ("Bloemhofdijk 10, 3073AC", (GHD, 10, None, None, R, "historic_street")),
    ("Hilledijk 10", (HLD, 10, None, None, R, "street_exact")),  # the current name wins
    ("Zuidwijkerdreef 40", ("Zuidwijkdreef", 40, None, None, R, "historic_street")),
    ("3085AA 42-1, Zuidwijkerdreef", ("Zuidwijkdreef", 42, None, "1", R, "historic_street")),
    # --- postcode and street disagree: the street is followed, and the method says so ------------------------------
    ("Putselaan 5, 3083AB", (PUT, 5, None, None, R, "street_exact_postcode_overruled")),
    ("Pleinweg 35, 3074AA", (PLW, 35, None, None, R, "street_exact_postcode_overruled")),
    ("Putselaan 1, 3074EA", (PUT, 1, None, None, R, "street_exact_postcode_overruled")),
    ("Slinge 99, 3085SG", (SLI, 99, None, None, R, "street_exact_postcode_overruled")),
    ("Xyzstraat 5, 3074AA", "postcode_mismatch"),
    # --- no single answer: refused --------------------------------------------------------------------------------
    ("Putselaan 7", "ambiguous_candidates"),
    ("3074AA 7", "ambiguous_candidates"),
    ("7 Putselaan", "ambiguous_candidates"),
    ("Putselaan 9", "ambiguous_candidates"),
    ("Putselaan 11A", "ambiguous_candidates"),
    ("Putselaan 15-A", "ambiguous_candidates"),
    ("Putselaan 15 a", "ambiguous_candidates"),
    ("15-a Putselaan", "ambiguous_candidates"),
    ("Putselaan 3", "ambiguous_candidates"),
    ("3074AA 3", "ambiguous_candidates"),
    ("Putselaan 19", "ambiguous_candidates"),
    ("Slinge 159", "ambiguous_candidates"),
    ("Slinge 159A", "ambiguous_candidates"),
    ("3085SG 159", "ambiguous_candidates"),
    ("3085SG 159 a", "ambiguous_candidates"),
    ("159A Slinge", "ambiguous_candidates"),
    ("Slinge 161", "ambiguous_candidates"),
    ("161 Slinge", "ambiguous_candidates"),
    ("Lupinestraat 177", "ambiguous_candidates"),
    ("3073FK 177", "ambiguous_candidates"),
    ("Pleinweg 33", "ambiguous_candidates"),
    ("33 Pleinweg", "ambiguous_candidates"),
    ("Dorpsstraat 4", "ambiguous_woonplaats"),
    ("Putselaan 5 2 hoog", "addition_not_in_bag"),  # 5, 5A or 5B: which one is upstairs?
    # --- nothing to find ------------------------------------------------------------------------------------------
    ("Putselaan 5C", "addition_not_in_bag"),
    ("5 c Putselaan", "addition_not_in_bag"),
    ("Putselaan 99", "house_number_not_in_street"),
    ("99 Putselaan", "house_number_not_in_street"),
    ("3074AA 99", "house_number_not_in_postcode"),
    ("3086WA 99", "house_number_not_in_postcode"),
    ("Xyzstraat 5", "unknown_street"),
    ("Postbus 1234, 3000 AA Rotterdam", "po_box"),
    ("Putselaan", "no_house_number"),
    ("3074AA", "no_house_number"),
    ("", "no_address"),
]


@pytest.fixture(scope="module")
def bag() -> tuple[BagIndex, dict[tuple, str]]:
    addresses = addresses_from_entities(bag_entities())
    ids = {address_key(r): r["nummeraanduiding_id"] for r in addresses.to_pylist()}
    return BagIndex(addresses), ids


def test_the_table_is_long_enough_and_has_no_repeats():
    written = [w for w, _ in FORMS]
    assert len(written) >= 150 and len(set(written)) == len(written)


@pytest.mark.parametrize(("written", "expected"), FORMS, ids=[w or "<empty>" for w, _ in FORMS])
def test_written_form(bag, written, expected):
    index, ids = bag
    m = resolve_text(written, index)
    if isinstance(expected, str):
        assert (m.nummeraanduiding_id, m.unresolved_reason) == (None, expected)
        return
    street, nr, letter, addition, *rest = expected
    woonplaats = rest[0] if rest else R
    want = ids[(street, woonplaats, nr, letter, addition)]
    assert m.nummeraanduiding_id == want, (m.method, m.unresolved_reason)
    if len(rest) > 1:
        assert m.method.startswith(rest[1]), m.method
