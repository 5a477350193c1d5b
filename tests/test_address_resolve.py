"""Resolving written addresses to BAG on a small Rotterdam-like BAG built here from the BAG connector's schema.

The BAG has what makes resolution hard: streets with titles and abbreviations (Burgemeester, Mr., Dr., Koningin,
Sint, van der), a short name (Sbn Doormanstraat), diacritics, a street with a number in its name (Plein 1940), near
namesakes (Rozenlaan and Rozelaan, 1e and 2e Middellandstraat), one street name in two woonplaatsen (Dorpsstraat in
Pernis and Rozenburg), a postcode shared by two streets, numbers with letters, floors (hs, 1, 2, 3), additions 01-04,
letter plus addition (A 01), bis, a withdrawn address beside its successor, ligplaatsen and nevenadressen.
"""

import random
from collections import Counter

import pyarrow as pa
import pytest

from benchmarks.bench_address import noisy_address, typo
from linkage.address import (
    BagIndex,
    addresses_from_entities,
    parse_address,
    resolve,
    resolve_addresses,
    resolve_parts,
    resolve_text,
)

WOONPLAATSEN = {
    "3086": "Rotterdam",
    "1046": "Hoogvliet Rotterdam",
    "1047": "Pernis Rotterdam",
    "2398": "Rozenburg",
}
# (naam, verkorte naam, woonplaats id, postcode area, highest number)
STREETS = [
    ("Burgemeester Roosstraat", None, "3086", "3074", 40),
    ("Burgemeester van Walsumweg", "Burg. van Walsumweg", "3086", "3063", 30),
    ("Mr. Troelstrastraat", None, "3086", "3073", 30),
    ("Dr. Zamenhofstraat", None, "3086", "3074", 30),
    ("Koningin Julianaplein", None, "3086", "3011", 20),
    ("Koning Willemplein", None, "3086", "3012", 20),
    ("Sint Jacobsplaats", None, "3086", "3011", 20),
    ("Schout bij Nacht Doormanstraat", "Sbn Doormanstraat", "3086", "3022", 30),
    ("Van der Takstraat", None, "3086", "3071", 40),
    ("Van Speijkstraat", None, "3086", "3025", 40),
    ("'s-Gravendijkwal", None, "3086", "3021", 60),
    ("1e Middellandstraat", None, "3086", "3021", 40),
    ("2e Middellandstraat", None, "3086", "3021", 40),
    ("Nieuwe Binnenweg", None, "3086", "3014", 60),
    ("Oude Binnenweg", None, "3086", "3012", 60),
    ("Rozenlaan", None, "3086", "3051", 40),
    ("Rozelaan", None, "3086", "3052", 40),
    ("Putselaan", None, "3086", "3074", 60),
    ("Pleinweg", None, "3086", "3083", 60),
    ("Beijerlandselaan", None, "3086", "3074", 60),
    ("Crooswijkseweg", None, "3086", "3034", 40),
    ("Goudsesingel", None, "3086", "3011", 40),
    ("Weena", None, "3086", "3013", 30),
    ("Lijnbaan", None, "3086", "3012", 30),
    ("Café Noorderplein", None, "3086", "3035", 20),
    ("Plein 1940", None, "3086", "3011", 12),
    ("Boompjeskade", None, "3086", "3011", 20),
    ("Dorpsstraat", None, "1047", "3195", 30),
    ("Dorpsstraat", None, "2398", "3181", 30),
    ("Kerkstraat", None, "1046", "3191", 30),
    ("Kerkstraat", None, "2398", "3181", 30),
    ("Lupinestraat", None, "3086", "3073", 220),
]
PATTERNS = [
    ([(None, None)], 40),
    ([(None, None), ("A", None), ("B", None)], 12),
    ([(None, "hs"), (None, "1"), (None, "2"), (None, "3")], 14),
    ([(None, "01"), (None, "02"), (None, "03"), (None, "04")], 10),
    ([("A", "01"), ("A", "02"), ("B", "01")], 5),
    ([(None, None), (None, "bis")], 4),
    ([("A", None), ("B", None), ("C", None)], 5),
    ([("A", None), (None, "A")], 1),
    ([(None, "HS"), (None, "BV")], 4),
    ([(None, "I"), (None, "II"), (None, "III")], 4),
]


def build_bag_entities(seed: int = 4) -> dict[str, pa.Table]:
    """The BAG connector's entities for the streets above, numbers patterned at random (seeded)."""
    r = random.Random(seed)
    num, vbo, opr, lig = [], [], [], []
    serial = 100_000
    for s, (name, short, wp, area, highest) in enumerate(STREETS):
        opr_id = f"0599300000{s:06d}"
        opr.append({"openbare_ruimte_id": opr_id, "naam": name, "verkorte_naam": short, "woonplaats_id": wp})
        for nr in range(1, highest + 1):
            pattern = r.choices([p for p, _ in PATTERNS], [w for _, w in PATTERNS])[0]
            block = (nr - 1) // 10
            postcode = f"{area}{'ABCDEFGHJKLMNPRSTVWX'[block % 20]}{'ABCDEFGHJKLMNPRSTVWX'[s % 20]}"
            if name == "Lupinestraat" and nr in (21, 210):  # 21-01 and 210-1: "2101" cannot be told
                pattern = [(None, "01"), (None, "02")] if nr == 21 else [(None, "hs"), (None, "1")]
            if name == "Lupinestraat" and nr in (30, 301):  # 30-2 exists, 302 does not
                pattern = [(None, "1"), (None, "2")] if nr == 30 else [(None, None)]
            for letter, addition in pattern:
                serial += 1
                num_id = f"059920000{serial:07d}"
                num.append(
                    {
                        "nummeraanduiding_id": num_id,
                        "huisnummer": nr,
                        "huisletter": letter,
                        "huisnummertoevoeging": addition,
                        "postcode": postcode,
                        "type_adresseerbaar_object": "Verblijfsobject",
                        "openbare_ruimte_id": opr_id,
                        "woonplaats_id": None,
                        "status": "Naamgeving uitgegeven",
                    }
                )
                if name == "Boompjeskade" and nr > 15:
                    lig.append(
                        {"ligplaats_id": f"059902000{serial:07d}", "hoofdadres_id": num_id, "nevenadres_ids": []}
                    )
                else:
                    vbo.append(
                        {"verblijfsobject_id": f"059901000{serial:07d}", "hoofdadres_id": num_id, "nevenadres_ids": []}
                    )
    # A withdrawn address beside the one that replaced it; a side address of a dwelling.
    withdrawn = dict(num[0], nummeraanduiding_id="0599200000999001", status="Naamgeving ingetrokken")
    num.append(withdrawn)
    side = dict(num[1], nummeraanduiding_id="0599200000999002", huisnummer=999, huisletter=None)
    side["huisnummertoevoeging"] = None
    num.append(side)
    vbo[1]["nevenadres_ids"] = ["0599200000999002"]
    # Putselaan and Beijerlandselaan share a postcode at number 7 (a corner).
    shared = [n for n in num if n["openbare_ruimte_id"] in ("0599300000000017", "0599300000000019")]
    for n in shared:
        if n["huisnummer"] == 7:
            n["postcode"] = "3074ZZ"
    woonplaats = [{"woonplaats_id": k, "naam": v} for k, v in WOONPLAATSEN.items()]
    return {
        "nummeraanduiding": pa.Table.from_pylist(num).cast(
            pa.schema(
                [
                    ("nummeraanduiding_id", pa.string()),
                    ("huisnummer", pa.int32()),
                    ("huisletter", pa.string()),
                    ("huisnummertoevoeging", pa.string()),
                    ("postcode", pa.string()),
                    ("type_adresseerbaar_object", pa.string()),
                    ("openbare_ruimte_id", pa.string()),
                    ("woonplaats_id", pa.string()),
                    ("status", pa.string()),
                ]
            )
        ),
        "verblijfsobject": pa.Table.from_pylist(
            vbo,
            pa.schema(
                [
                    ("verblijfsobject_id", pa.string()),
                    ("hoofdadres_id", pa.string()),
                    ("nevenadres_ids", pa.list_(pa.string())),
                ]
            ),
        ),
        "ligplaats": pa.Table.from_pylist(
            lig,
            pa.schema(
                [
                    ("ligplaats_id", pa.string()),
                    ("hoofdadres_id", pa.string()),
                    ("nevenadres_ids", pa.list_(pa.string())),
                ]
            ),
        ),
        "openbare_ruimte": pa.Table.from_pylist(opr),
        "woonplaats": pa.Table.from_pylist(woonplaats),
    }


@pytest.fixture(scope="module")
def addresses() -> pa.Table:
    return addresses_from_entities(build_bag_entities())


@pytest.fixture(scope="module")
def index(addresses) -> BagIndex:
    return BagIndex(addresses)


def find(addresses: pa.Table, street: str, nr: int, letter=None, addition=None, woonplaats=None) -> dict:
    rows = [
        r
        for r in addresses.to_pylist()
        if r["straatnaam"] == street
        and r["huisnummer"] == nr
        and r["huisletter"] == letter
        and r["huisnummertoevoeging"] == addition
        and (woonplaats is None or r["woonplaats"] == woonplaats)
        and r["status"] == "Naamgeving uitgegeven"
    ]
    assert len(rows) == 1, (street, nr, letter, addition, rows)
    return rows[0]


def numbers_with(addresses: pa.Table, street: str, pattern: set) -> list[int]:
    """The numbers of a street whose addresses are exactly the (letter, addition) pairs of the pattern."""
    by_nr: dict[int, set] = {}
    for r in addresses.to_pylist():
        if r["straatnaam"] == street and r["status"] == "Naamgeving uitgegeven":
            by_nr.setdefault(r["huisnummer"], set()).add((r["huisletter"], r["huisnummertoevoeging"]))
    return sorted(nr for nr, got in by_nr.items() if got == pattern)


# --- the address table ------------------------------------------------------------------------------------------------


def test_address_table_joins_street_woonplaats_and_object(addresses):
    assert addresses.column_names[:11] == [
        "nummeraanduiding_id",
        "adresseerbaar_object_id",
        "verblijfsobject_id",
        "straatnaam",
        "verkorte_naam",
        "huisnummer",
        "huisletter",
        "huisnummertoevoeging",
        "postcode",
        "woonplaats",
        "status",
    ]
    rows = {r["nummeraanduiding_id"]: r for r in addresses.to_pylist()}
    side = rows["0599200000999002"]  # a nevenadres: the dwelling whose side address it is
    assert side["verblijfsobject_id"] is not None and side["hoofdadres"] is False
    berth = [r for r in rows.values() if r["straatnaam"] == "Boompjeskade" and r["huisnummer"] == 16][0]
    assert berth["adresseerbaar_object_id"].startswith("059902") and berth["verblijfsobject_id"] is None
    # woonplaats from the openbare ruimte when the nummeraanduiding has no ligtIn
    assert {r["woonplaats"] for r in rows.values() if r["straatnaam"] == "Dorpsstraat"} == {
        "Pernis Rotterdam",
        "Rozenburg",
    }


def test_index_knows_woonplaats_aliases(index):
    assert index.woonplaats_of("hoogvliet") == "hoogvliet rotterdam"
    assert index.woonplaats_of("rdam") == index.woonplaats_of("r dam") == "rotterdam"
    assert index.woonplaats_of("amsterdam") is None


# --- deciding between close candidates ------------------------------------------------------------------------------


def test_letters_written_every_way(index, addresses):
    nr = numbers_with(addresses, "Putselaan", {(None, None), ("A", None), ("B", None)})[0]
    want = find(addresses, "Putselaan", nr, "A")["nummeraanduiding_id"]
    for written in (f"{nr}A", f"{nr}a", f"{nr} A", f"{nr}-a", f"{nr}-A", f"{nr} a bov"):
        m = resolve_text(f"Putselaan {written}, Rotterdam", index)
        assert m.nummeraanduiding_id == want, written
    bare = find(addresses, "Putselaan", nr)["nummeraanduiding_id"]
    assert resolve_text(f"Putselaan {nr}", index).nummeraanduiding_id == bare
    assert resolve_text(f"Putselaan {nr}C", index).unresolved_reason == "addition_not_in_bag"


def test_letter_with_addition_and_bis(index, addresses):
    nr = numbers_with(addresses, "Pleinweg", {("A", "01"), ("A", "02"), ("B", "01")})[0]
    want = find(addresses, "Pleinweg", nr, "A", "02")["nummeraanduiding_id"]
    for written in (f"{nr} A 02", f"{nr}A-2", f"{nr}a2", f"{nr}-A 2 hoog", f"{nr} a/02"):
        assert resolve_text(f"Pleinweg {written}", index).nummeraanduiding_id == want, written
    assert resolve_text(f"Pleinweg {nr}A", index).unresolved_reason == "ambiguous_candidates"
    nr = numbers_with(addresses, "Pleinweg", {(None, None), (None, "bis")})[0]
    assert (
        resolve_text(f"Pleinweg {nr} bis", index).nummeraanduiding_id
        == find(addresses, "Pleinweg", nr, None, "bis")["nummeraanduiding_id"]
    )
    assert (
        resolve_text(f"Pleinweg {nr}", index).nummeraanduiding_id
        == find(addresses, "Pleinweg", nr)["nummeraanduiding_id"]
    )


def test_floor_indications_map_to_the_addition(index, addresses):
    nr = numbers_with(addresses, "Beijerlandselaan", {(None, "hs"), (None, "1"), (None, "2"), (None, "3")})[0]
    ids = {a: find(addresses, "Beijerlandselaan", nr, None, a)["nummeraanduiding_id"] for a in ("hs", "1", "2", "3")}
    cases = {
        "3 hoog": "3",
        "3e etage": "3",
        "-3": "3",
        "3-hoog": "3",
        "III": "3",
        "derde verdieping": "3",
        "2": "2",
        "/2": "2",
        "II": "2",
        "2e verd.": "2",
        "I": "1",
        "1e": "1",
        "hs": "hs",
        "huis": "hs",
        "beneden": "hs",
        "bg": "hs",
        "parterre": "hs",
        "-HS": "hs",
    }
    for written, addition in cases.items():
        m = resolve_text(f"Beijerlandselaan {nr} {written}, 3074", index)
        assert m.nummeraanduiding_id == ids[addition], written
    # nothing written where every address at the number has an addition: not a guess
    assert resolve_text(f"Beijerlandselaan {nr}", index).unresolved_reason == "ambiguous_candidates"
    assert resolve_text(f"Beijerlandselaan {nr} 4 hoog", index).unresolved_reason == "addition_not_in_bag"


def test_zero_padded_roman_and_bov_additions(index, addresses):
    nr = numbers_with(addresses, "Putselaan", {(None, "01"), (None, "02"), (None, "03"), (None, "04")})[0]
    want = find(addresses, "Putselaan", nr, None, "02")["nummeraanduiding_id"]
    for written in ("-02", "-2", " 2 hoog", " II", "/2", " 02"):
        assert resolve_text(f"Putselaan {nr}{written}", index).nummeraanduiding_id == want, written
    nr = numbers_with(addresses, "Nieuwe Binnenweg", {(None, "HS"), (None, "BV")})[0]
    up = find(addresses, "Nieuwe Binnenweg", nr, None, "BV")["nummeraanduiding_id"]
    for written in ("bov", "boven", "BV", "bovenwoning"):
        assert resolve_text(f"N. Binnenweg {nr} {written}", index).nummeraanduiding_id == up, written
    streets = [s for s, *_ in STREETS]
    street, nr = next(
        (s, numbers_with(addresses, s, {(None, "I"), (None, "II"), (None, "III")}))
        for s in streets
        if numbers_with(addresses, s, {(None, "I"), (None, "II"), (None, "III")})
    )
    nr = nr[0]
    want = find(addresses, street, nr, None, "II")["nummeraanduiding_id"]
    for written in ("II", "2", "2 hoog", "2e etage", "-02"):
        assert resolve_text(f"{street} {nr} {written}", index).nummeraanduiding_id == want, written


def test_letter_and_addition_a_are_told_apart(index, addresses):
    street = next(s for s, *_ in STREETS if numbers_with(addresses, s, {("A", None), (None, "A")}))
    nr = numbers_with(addresses, street, {("A", None), (None, "A")})[0]
    letter = find(addresses, street, nr, "A")["nummeraanduiding_id"]
    # "12A" is read literally as the letter; the addition A needs to be written as one
    assert resolve_text(f"{street} {nr}A", index).nummeraanduiding_id == letter


# --- streets ---------------------------------------------------------------------------------------------------------


def test_abbreviated_titles_and_street_types(index, addresses):
    cases = [
        ("Burg. Roosstr. {nr}", "Burgemeester Roosstraat"),
        ("Burgem. v. Walsumwg {nr}", "Burgemeester van Walsumweg"),
        ("Burg. van Walsumweg {nr}", "Burgemeester van Walsumweg"),  # BAG's own short name
        ("Meester Troelstrastraat {nr}", "Mr. Troelstrastraat"),
        ("mr troelstrastr {nr}", "Mr. Troelstrastraat"),
        ("Dokter Zamenhofstraat {nr}", "Dr. Zamenhofstraat"),
        ("Kon. Julianapl. {nr}", "Koningin Julianaplein"),
        ("Kon Willemplein {nr}", "Koning Willemplein"),
        ("St. Jacobsplaats {nr}", "Sint Jacobsplaats"),
        ("Sbn Doormanstraat {nr}", "Schout bij Nacht Doormanstraat"),
        ("Schout-bij-Nacht Doormanstr. {nr}", "Schout bij Nacht Doormanstraat"),
        ("v.d. Takstraat {nr}", "Van der Takstraat"),
        ("Gravendijkwal {nr}", "'s-Gravendijkwal"),
        ("s Gravendijkwal {nr}", "'s-Gravendijkwal"),
        ("Eerste Middellandstraat {nr}", "1e Middellandstraat"),
        ("2de Middellandstr {nr}", "2e Middellandstraat"),
        ("Cafe Noorderplein {nr}", "Café Noorderplein"),
        ("CAFÉ NOORDERPL. {nr}", "Café Noorderplein"),
        ("goudse sngl {nr}", "Goudsesingel"),
    ]
    for written, street in cases:
        nr = numbers_with(addresses, street, {(None, None)})[0]
        want = find(addresses, street, nr)["nummeraanduiding_id"]
        m = resolve_text(written.format(nr=nr), index)
        assert m.nummeraanduiding_id == want, written
        assert m.method.startswith("street_") and m.confidence >= 0.9, (written, m)


def test_misspelled_streets_are_matched_fuzzily_but_not_between_namesakes(index, addresses):
    nr = numbers_with(addresses, "Crooswijkseweg", {(None, None)})[0]
    want = find(addresses, "Crooswijkseweg", nr)["nummeraanduiding_id"]
    for written in ("Croowsijkseweg", "Crooswijksweg", "Crooswijkseeweg", "Crooswyjkseweg", "Croswijksewg"):
        m = resolve_text(f"{written} {nr}", index)
        assert (m.nummeraanduiding_id, m.method) == (want, "street_fuzzy"), written
        assert 0.5 <= m.confidence < 0.9
    # "Rozenlan" is one letter from Rozenlaan and two from Rozelaan
    both = sorted(
        set(numbers_with(addresses, "Rozenlaan", {(None, None)}))
        & set(numbers_with(addresses, "Rozelaan", {(None, None)}))
    )
    nr = both[0]
    assert (
        resolve_text(f"Rozenlan {nr}", index).nummeraanduiding_id
        == find(addresses, "Rozenlaan", nr)["nummeraanduiding_id"]
    )
    # "Rozemlaan" is one letter from both: not a guess ... unless the postcode says which
    assert resolve_text(f"Rozemlaan {nr}", index).unresolved_reason == "ambiguous_street"
    pc = find(addresses, "Rozelaan", nr)["postcode"]
    assert (
        resolve_text(f"Rozemlaan {nr}, {pc}", index).nummeraanduiding_id
        == find(addresses, "Rozelaan", nr)["nummeraanduiding_id"]
    )
    # 3e Middellandstraat does not exist and is as close to the 1e as to the 2e
    nr = sorted(
        set(numbers_with(addresses, "1e Middellandstraat", {(None, None)}))
        & set(numbers_with(addresses, "2e Middellandstraat", {(None, None)}))
    )
    if nr:
        assert resolve_text(f"3e Middellandstraat {nr[0]}", index).unresolved_reason == "ambiguous_street"
    # short names are matched exactly only
    assert resolve_text("Wena 3", index).unresolved_reason == "unknown_street"


def test_street_with_a_number_in_its_name(index, addresses):
    nr = numbers_with(addresses, "Plein 1940", {(None, None)})[0]
    m = resolve_text(f"Plein 1940 {nr}, Rotterdam", index)
    assert m.nummeraanduiding_id == find(addresses, "Plein 1940", nr)["nummeraanduiding_id"]


def test_glued_addition_is_split_only_when_one_split_fits(index, addresses):
    want = find(addresses, "Lupinestraat", 30, None, "2")["nummeraanduiding_id"]
    m = resolve_text("Lupinestraat 302", index)
    assert (m.nummeraanduiding_id, m.method) == (want, "number_split")
    assert m.confidence <= 0.75
    assert resolve_text("Lupinestraat 2101", index).nummeraanduiding_id is None  # 21-01 or 210-1


# --- postcode and woonplaats ----------------------------------------------------------------------------------------


def test_postcode_and_number_with_or_without_street(index, addresses):
    nr = numbers_with(addresses, "Weena", {(None, None)})[0]
    row = find(addresses, "Weena", nr)
    m = resolve_text(f"Weena {nr}, {row['postcode'][:4]} {row['postcode'][4:].lower()} Rotterdam", index)
    assert (m.nummeraanduiding_id, m.method, m.confidence) == (
        row["nummeraanduiding_id"],
        "postcode_huisnummer_exact",
        0.99,
    )
    m = resolve_parts(index, None, nr, postcode=row["postcode"])
    assert (m.nummeraanduiding_id, m.method) == (row["nummeraanduiding_id"], "postcode_huisnummer_exact")
    assert m.confidence < 0.99


def test_a_postcode_shared_by_two_streets_goes_by_the_street(index, addresses):
    for street in ("Putselaan", "Beijerlandselaan"):
        rows = [r for r in addresses.to_pylist() if r["straatnaam"] == street and r["huisnummer"] == 7]
        assert rows and {r["postcode"] for r in rows} == {"3074ZZ"}
        row = rows[0]
        suffix = " ".join(x for x in (row["huisletter"], row["huisnummertoevoeging"]) if x)
        m = resolve_text(f"{street} 7 {suffix}, 3074ZZ", index)
        assert m.nummeraanduiding_id == row["nummeraanduiding_id"], street


def test_a_wrong_postcode_is_overruled_by_the_street_with_less_confidence(index, addresses):
    nr = numbers_with(addresses, "Van Speijkstraat", {(None, None)})[0]
    row = find(addresses, "Van Speijkstraat", nr)
    wrong = row["postcode"][:5] + ("Z" if row["postcode"][5] != "Z" else "Y")
    m = resolve_text(f"Van Speijkstraat {nr}, {wrong}", index)
    assert m.nummeraanduiding_id == row["nummeraanduiding_id"] and m.method == "street_exact_postcode_overruled"
    assert m.confidence < resolve_text(f"Van Speijkstraat {nr}, {row['postcode']}", index).confidence
    # a postcode of another street, and a street unlike any: not a guess
    other = find(addresses, "Weena", numbers_with(addresses, "Weena", {(None, None)})[0])
    assert (
        resolve_text(f"Xyzzystraat {other['huisnummer']}, {other['postcode']}", index).unresolved_reason
        == "postcode_mismatch"
    )


def test_one_street_name_in_two_woonplaatsen(index, addresses):
    nr = sorted(
        set(numbers_with(addresses, "Dorpsstraat", {(None, None)}))
        & {
            r["huisnummer"]
            for r in addresses.to_pylist()
            if r["straatnaam"] == "Dorpsstraat" and r["woonplaats"] == "Rozenburg"
        }
    )
    both = [
        n
        for n in nr
        if len(
            {
                r["woonplaats"]
                for r in addresses.to_pylist()
                if r["straatnaam"] == "Dorpsstraat" and r["huisnummer"] == n
            }
        )
        == 2
    ]
    assert both
    nr = both[0]
    pernis = [
        r
        for r in addresses.to_pylist()
        if r["straatnaam"] == "Dorpsstraat" and r["huisnummer"] == nr and r["woonplaats"] == "Pernis Rotterdam"
    ]
    if len(pernis) == 1 and pernis[0]["huisletter"] is None and pernis[0]["huisnummertoevoeging"] is None:
        assert resolve_text(f"Dorpsstraat {nr} Pernis", index).nummeraanduiding_id == pernis[0]["nummeraanduiding_id"]
        assert (
            resolve_text(f"Dorpsstraat {nr}, Pernis Rotterdam", index).nummeraanduiding_id
            == pernis[0]["nummeraanduiding_id"]
        )
        assert resolve_text(f"Dorpsstraat {nr}, {pernis[0]['postcode'][:4]}", index).nummeraanduiding_id in (
            None,
            pernis[0]["nummeraanduiding_id"],
        )
    assert resolve_text(f"Dorpsstraat {nr}", index).unresolved_reason == "ambiguous_woonplaats"


# --- what is not resolved, and why ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Nergensstraat 12", "unknown_street"),
        ("Putselaan", "no_house_number"),
        ("Putselaan 9999", "house_number_not_in_street"),
        ("Postbus 1234, 3000 AB Rotterdam", "po_box"),
        ("", "no_address"),
        (None, "no_address"),
        ("0599200000000000", "unknown_bag_id"),
    ],
)
def test_unresolved_reasons(index, text, reason):
    m = resolve_text(text, index)
    assert (m.nummeraanduiding_id, m.verblijfsobject_id, m.method, m.unresolved_reason) == (
        None,
        None,
        "unresolved",
        reason,
    )
    assert m.confidence == 0.0


def test_bag_ids_written_or_given_resolve_directly(index, addresses):
    row = find(addresses, "Weena", numbers_with(addresses, "Weena", {(None, None)})[0])
    m = resolve_text(f"pand {row['nummeraanduiding_id']}", index)
    assert (m.nummeraanduiding_id, m.method, m.confidence) == (row["nummeraanduiding_id"], "bag_id", 1.0)
    m = resolve_text(row["verblijfsobject_id"], index)  # a verblijfsobject id finds its main address
    assert (m.nummeraanduiding_id, m.verblijfsobject_id) == (row["nummeraanduiding_id"], row["verblijfsobject_id"])


def test_a_withdrawn_address_does_not_compete_with_its_successor(index, addresses):
    active = addresses.to_pylist()[0]
    withdrawn = [r for r in addresses.to_pylist() if r["nummeraanduiding_id"] == "0599200000999001"][0]
    assert (withdrawn["postcode"], withdrawn["huisnummer"]) == (active["postcode"], active["huisnummer"])
    suffix = " ".join(x for x in (active["huisletter"], active["huisnummertoevoeging"]) if x)
    m = resolve_text(f"{active['straatnaam']} {active['huisnummer']} {suffix}, {active['postcode']}", index)
    assert m.nummeraanduiding_id == active["nummeraanduiding_id"]


# --- whole tables ----------------------------------------------------------------------------------------------------


def test_resolve_addresses_from_text_keeps_every_column(index, addresses):
    nr = numbers_with(addresses, "Weena", {(None, None)})[0]
    row = find(addresses, "Weena", nr)
    table = pa.table(
        {
            "id": [1, 2, 3, 4],
            "adres": [f"Weena {nr}", f"Weena {nr}", "Nergensstraat 1", None],
            "postcode": [row["postcode"], None, None, None],
            "method": ["a", "b", "c", "d"],  # an input column with an output column's name
        }
    )
    out = resolve_addresses(table, index, text_column="adres", fields={"postcode": "postcode"})
    assert out.column_names == [
        "id",
        "adres",
        "postcode",
        "input_method",
        "nummeraanduiding_id",
        "verblijfsobject_id",
        "confidence",
        "method",
        "unresolved_reason",
    ]
    got = out.to_pylist()
    assert [r["nummeraanduiding_id"] for r in got] == [row["nummeraanduiding_id"]] * 2 + [None, None]
    assert got[0]["method"] == "postcode_huisnummer_exact" and got[1]["method"] == "street_exact"
    assert [r["unresolved_reason"] for r in got] == [None, None, "unknown_street", "no_address"]
    assert [r["input_method"] for r in got] == ["a", "b", "c", "d"]


def test_resolve_addresses_from_split_fields(index, addresses):
    nr = numbers_with(addresses, "Pleinweg", {("A", "01"), ("A", "02"), ("B", "01")})[0]
    want = find(addresses, "Pleinweg", nr, "B", "01")
    table = pa.table(
        {
            "straat": ["Pleinweg", "pleinwg", "Pleinweg", None],
            "nr": [str(nr), f"{nr}B", str(nr), None],
            "letter": ["b", None, None, None],
            "toev": ["1", "01", "b 1", None],
            "pc": [None, want["postcode"], None, None],
            "plaats": ["Rotterdam", None, "R'dam", None],
            "bag": [None, None, None, want["verblijfsobject_id"]],
        }
    )
    fields = {
        "straatnaam": "straat",
        "huisnummer": "nr",
        "huisletter": "letter",
        "toevoeging": "toev",
        "postcode": "pc",
        "woonplaats": "plaats",
        "verblijfsobject_id": "bag",
    }
    out = resolve_addresses(table, index, fields=fields).to_pylist()
    assert [r["nummeraanduiding_id"] for r in out] == [want["nummeraanduiding_id"]] * 4
    assert out[3]["method"] == "bag_id"
    with pytest.raises(ValueError, match="unknown address field roles"):
        resolve_addresses(table, index, fields={"street": "straat"})
    with pytest.raises(ValueError, match="no column"):
        resolve_addresses(table, index, text_column="adres")


def test_text_falls_back_to_the_form_fields(index, addresses):
    nr = numbers_with(addresses, "Weena", {(None, None)})[0]
    row = find(addresses, "Weena", nr)
    table = pa.table({"adres": ["bij de bakker om de hoek"], "straat": ["Weena"], "nr": [str(nr)]})
    out = resolve_addresses(table, index, text_column="adres", fields={"straatnaam": "straat", "huisnummer": "nr"})
    assert out["nummeraanduiding_id"].to_pylist() == [row["nummeraanduiding_id"]]


# --- quality on noisy writing ---------------------------------------------------------------------------------------


HANDED_OVER: set[str] = set()  # every written form of the grammar is read (issue #11)


def test_precision_and_recall_on_noisy_addresses(index, addresses):
    """Every active address written three times with noise (typos, abbreviations, floors, letter and addition
    variants, wrong or missing postcode, missing or aliased woonplaats). Goals: precision >= 0.99 among the
    resolved, recall >= 0.95; and per kind of noise recall >= 0.9."""
    r = random.Random(11)
    rows = [row for row in addresses.to_pylist() if row["status"] == "Naamgeving uitgegeven" and row["straatnaam"]]
    written = [(noisy_address(r, row), row["nummeraanduiding_id"]) for row in rows for _ in range(3)]
    # written forms of the synthetic world's grammar (synth/noise.py) the parser does not read yet: issue #11
    written = [w for w in written if not HANDED_OVER & set(w[0][1])]
    table = pa.table({"adres": [text for (text, _), _ in written]})
    out = resolve_addresses(table, index, text_column="adres").to_pylist()
    resolved = [(o, want) for o, (_, want) in zip(out, written, strict=True) if o["nummeraanduiding_id"]]
    correct = sum(o["nummeraanduiding_id"] == want for o, want in resolved)
    precision, recall = correct / len(resolved), correct / len(written)
    wrong = [(o["adres"], o["method"]) for o, want in resolved if o["nummeraanduiding_id"] != want]
    assert precision >= 0.99, (precision, wrong[:10])
    assert recall >= 0.95, (recall, Counter(o["unresolved_reason"] for o in out))
    per_kind: dict[str, list[int]] = {}
    for o, ((_, kinds), want) in zip(out, written, strict=True):
        for kind in kinds:
            stats = per_kind.setdefault(kind, [0, 0])
            stats[0] += 1
            stats[1] += o["nummeraanduiding_id"] == want
    low = {k: round(ok / n, 3) for k, (n, ok) in per_kind.items() if ok / n < 0.9}
    assert not low, low
    # confidence means something: the wrong ones (if any) are less confident than the typical right one
    confidences = sorted(o["confidence"] for o, want in resolved if o["nummeraanduiding_id"] == want)
    assert all(
        o["confidence"] <= confidences[len(confidences) // 2]
        for o, want in resolved
        if o["nummeraanduiding_id"] != want
    )
    print(f"noisy: {len(written)} addresses, precision {precision:.4f}, recall {recall:.4f}")


def test_noisy_split_fields(index, addresses):
    """Split fields as a form or a registry fills them: street with typos and abbreviations, the letter in the number
    field or the addition field, the postcode sometimes missing."""
    r = random.Random(5)
    rows = [row for row in addresses.to_pylist() if row["status"] == "Naamgeving uitgegeven" and row["straatnaam"]]
    fields = {"straatnaam": [], "huisnummer": [], "huisletter": [], "toevoeging": [], "postcode": []}
    for row in rows:
        street = row["straatnaam"] if r.random() < 0.7 else typo(r, row["straatnaam"]).lower()
        number, letter = str(row["huisnummer"]), row["huisletter"]
        if letter and r.random() < 0.4:
            number, letter = number + letter, None
        fields["straatnaam"].append(street)
        fields["huisnummer"].append(number)
        fields["huisletter"].append(letter)
        fields["toevoeging"].append(row["huisnummertoevoeging"])
        fields["postcode"].append(row["postcode"] if r.random() < 0.7 else None)
    out = resolve_addresses(pa.table(fields), index, fields={k: k for k in fields}).to_pylist()
    got = [o["nummeraanduiding_id"] for o in out]
    want = [row["nummeraanduiding_id"] for row in rows]
    resolved = [(g, w) for g, w in zip(got, want, strict=True) if g]
    assert sum(g == w for g, w in resolved) / len(resolved) >= 0.995
    assert sum(g == w for g, w in resolved) / len(want) >= 0.97


def test_parse_then_resolve_is_what_resolve_text_does(index):
    p = parse_address("Putselaan 7, 3074ZZ", index.woonplaatsen)
    assert resolve(p, index) == resolve_text("Putselaan 7, 3074ZZ", index)
