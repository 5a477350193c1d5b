"""A small BAG of Rotterdam-Zuid streets, written out by hand, for the table of written forms
(tests/test_address_written_forms.py) and the messy-address measure (benchmarks/address_messy.py).

Every number has a layout that makes a written form easy or hard to decide: one address, floors (hs, 1, 2, 3),
letters (A, B, C, with and without a plain number), additions 01-04, letter plus addition (A-01), bis, a letter A
beside an addition A, HS/BV and roman floors. Some addresses carry a postcode of an earlier version, one street an
earlier name, and one of those earlier names is the current name of another street (an old version must not win).
The postcodes, numbers and histories are made up; the street names are Rotterdam-Zuid's.
"""

from __future__ import annotations

import pyarrow as pa

ROTTERDAM, HOOGVLIET, PERNIS = "3086", "1046", "1047"
WOONPLAATSEN = {ROTTERDAM: "Rotterdam", HOOGVLIET: "Hoogvliet Rotterdam", PERNIS: "Pernis Rotterdam"}

# A unit: (huisletter, huisnummertoevoeging).
ONE = [(None, None)]
FLOORS = [(None, "hs"), (None, "1"), (None, "2"), (None, "3")]
LETTERS = [(None, None), ("A", None), ("B", None)]

# street -> (woonplaats id, earlier names, [(huisnummer, units, postcode, earlier postcodes)])
STREETS: dict[tuple[str, str], tuple[list[str], list[tuple[int, list, str, list[str]]]]] = {
    ("Putselaan", ROTTERDAM): (
        [],
        [
            (1, ONE, "3074AA", []),
            (3, FLOORS, "3074AA", []),
            (5, LETTERS, "3074AA", []),
            (7, [("A", None), ("B", None), ("C", None)], "3074AA", []),
            (9, [(None, "01"), (None, "02"), (None, "03"), (None, "04")], "3074AA", []),
            (11, [("A", "01"), ("A", "02"), ("B", "01")], "3074AA", []),
            (13, [(None, None), (None, "bis")], "3074AA", []),
            (15, [("A", None), (None, "A")], "3074AA", []),
            (17, [(None, "HS"), (None, "BV")], "3074AA", []),
            (19, [(None, "I"), (None, "II"), (None, "III")], "3074AA", []),
            (22, ONE, "3074AB", []),
            (24, [(None, "1"), (None, "2")], "3074AB", []),
        ],
    ),
    ("Slinge", ROTTERDAM): (
        [],
        [
            (97, [(None, None), ("A", None), ("B", None), ("C", None)], "3086WE", ["3086WA"]),
            (99, ONE, "3086WE", []),
            (159, [("A", "01"), ("A", "02"), ("A", "03"), ("B", "01")], "3085SG", []),
            (161, [(None, "01"), (None, "02"), (None, "03")], "3085SG", []),
            (225, [("A", "01"), ("A", "02"), ("B", None)], "3085SH", []),
            (227, [(None, "hs"), (None, "1"), (None, "2")], "3085SH", []),
        ],
    ),
    ("Lange Hilleweg", ROTTERDAM): (
        [],
        [
            (111, LETTERS, "3073BA", []),
            (113, [(None, "1"), (None, "2"), (None, "3")], "3073BA", []),
            (115, ONE, "3073BA", []),
        ],
    ),
    ("Pleinweg", ROTTERDAM): (
        [],
        [
            (33, [(None, "hs"), (None, "1"), (None, "2")], "3083AB", []),
            (35, ONE, "3083AB", []),
            (201, [("A", None), ("B", None)], "3083AE", []),
        ],
    ),
    ("Beijerlandselaan", ROTTERDAM): (
        [],
        [
            (1, ONE, "3074EA", ["3074AA"]),  # an earlier postcode that is Putselaan 1's now
            (3, ONE, "3074EA", ["3074ZX"]),
            (5, [(None, "hs"), (None, "1")], "3074EA", []),
        ],
    ),
    ("Groene Hilledijk", ROTTERDAM): (
        ["Bloemhofdijk", "Hilledijk"],  # "Hilledijk" is another street's current name
        [(10, ONE, "3073AC", []), (12, [("A", None), ("B", None)], "3073AC", [])],
    ),
    ("Hilledijk", ROTTERDAM): ([], [(10, ONE, "3074LA", []), (14, ONE, "3074LA", [])]),
    ("Burgemeester Roosstraat", ROTTERDAM): (
        [],
        [
            (2, ONE, "3074HA", []),
            (4, [("A", None), ("B", None)], "3074HA", []),
            (6, [(None, "hs"), (None, "1")], "3074HA", []),
        ],
    ),
    ("Mr. Wilhelmina Rosestraat", ROTTERDAM): (
        [],
        [(8, ONE, "3084AB", []), (10, [(None, "01"), (None, "02")], "3084AB", [])],
    ),
    ("Katendrechtse Lagedijk", ROTTERDAM): ([], [(300, ONE, "3082AA", []), (302, [("A", None)], "3082AA", [])]),
    ("Zuidwijkdreef", ROTTERDAM): (
        ["Zuidwijkerdreef"],
        [(40, ONE, "3085AA", []), (42, [(None, "1"), (None, "2")], "3085AA", [])],
    ),
    ("Tarwestraat", ROTTERDAM): ([], [(5, ONE, "3083TA", []), (7, [("A", None)], "3083TA", [])]),
    ("Lupinestraat", ROTTERDAM): (
        [],
        [
            (21, [(None, "01"), (None, "02")], "3073FA", []),
            (177, [(None, "hs"), (None, "1"), (None, "2")], "3073FK", []),
        ],
    ),
    ("Dorpsstraat", PERNIS): ([], [(4, ONE, "3195BA", [])]),
    ("Dorpsstraat", HOOGVLIET): ([], [(4, ONE, "3191DA", [])]),
    ("Kerkstraat", HOOGVLIET): ([], [(8, ONE, "3191KA", [])]),
}


def bag_entities() -> dict[str, pa.Table]:
    """The BAG connector's entity tables (the columns the address table reads) for the streets above."""
    num, vbo, opr = [], [], []
    serial = 0
    for s, ((name, wp), (earlier_names, numbers)) in enumerate(STREETS.items()):
        opr_id = f"0599300000{s:06d}"
        opr.append(
            {"openbare_ruimte_id": opr_id, "naam": name, "verkorte_naam": None, "woonplaats_id": wp}
            | {"historic_names": earlier_names}
        )
        for nr, units, postcode, earlier in numbers:
            for letter, addition in units:
                serial += 1
                num_id = f"05992000{serial:08d}"
                num.append(
                    {
                        "nummeraanduiding_id": num_id,
                        "huisnummer": nr,
                        "huisletter": letter,
                        "huisnummertoevoeging": addition,
                        "postcode": postcode,
                        "openbare_ruimte_id": opr_id,
                        "woonplaats_id": None,
                        "status": "Naamgeving uitgegeven",
                        "historic_postcodes": earlier,
                    }
                )
                vbo.append(
                    {"verblijfsobject_id": f"05990100{serial:08d}", "hoofdadres_id": num_id, "nevenadres_ids": []}
                )
    text, texts = pa.string(), pa.list_(pa.string())
    return {
        "nummeraanduiding": pa.Table.from_pylist(
            num,
            pa.schema(
                [("nummeraanduiding_id", text), ("huisnummer", pa.int32()), ("huisletter", text)]
                + [("huisnummertoevoeging", text), ("postcode", text), ("openbare_ruimte_id", text)]
                + [("woonplaats_id", text), ("status", text), ("historic_postcodes", texts)]
            ),
        ),
        "verblijfsobject": pa.Table.from_pylist(
            vbo, pa.schema([("verblijfsobject_id", text), ("hoofdadres_id", text), ("nevenadres_ids", texts)])
        ),
        "openbare_ruimte": pa.Table.from_pylist(
            opr,
            pa.schema(
                [("openbare_ruimte_id", text), ("naam", text), ("verkorte_naam", text), ("woonplaats_id", text)]
                + [("historic_names", texts)]
            ),
        ),
        "woonplaats": pa.Table.from_pylist([{"woonplaats_id": k, "naam": v} for k, v in WOONPLAATSEN.items()]),
    }


def address_key(row: dict) -> tuple:
    """(straatnaam, woonplaats, huisnummer, huisletter, toevoeging) of an address table row."""
    return (row["straatnaam"], row["woonplaats"], row["huisnummer"], row["huisletter"], row["huisnummertoevoeging"])
