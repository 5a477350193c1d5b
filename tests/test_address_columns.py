"""The address index in compact columns (linkage/address/columns.py): it holds an address in well under 100 bytes,
whatever the extract, gives the same look-ups when read batch by batch as when read whole, and keeps ids that are
not BAG numbers as they were written. The answers themselves are checked by the written forms, the messy addresses
and the subset tests."""

from __future__ import annotations

import tracemalloc

import pyarrow as pa
import pytest

from linkage.address import BagIndex

STREETS = [f"{name}{kind}" for name in ("Putse", "Slinge", "Pleinweg", "Asters", "Lupine") for kind in ("laan", "weg")]
TOWNS = ["Rotterdam", "Plaats 1", "Plaats 2", "Plaats 3"]


def addresses(n: int) -> pa.Table:
    """n addresses: ten street names repeated in four towns (every town has every name), numbers, letters, floors,
    a postcode per town, street and 20 numbers, and every 50th with an earlier postcode."""
    rows = range(n)
    street = [STREETS[i % len(STREETS)] for i in rows]
    town = [TOWNS[i // len(STREETS) % len(TOWNS)] for i in rows]
    number = [1 + i // (len(STREETS) * len(TOWNS)) % 400 for i in rows]
    block = [i // (len(STREETS) * len(TOWNS) * 400) for i in rows]
    postcode = [
        f"{3000 + (i % len(STREETS)) * 10 + TOWNS.index(t)}{'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[(nr // 20) % 26]}"
        f"{'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[b % 26]}"
        for i, t, nr, b in zip(rows, town, number, block, strict=True)
    ]
    return pa.table(
        {
            "nummeraanduiding_id": [f"0599200000{i:06d}" for i in rows],
            "adresseerbaar_object_id": [f"0599010000{i:06d}" for i in rows],
            "verblijfsobject_id": [f"0599010000{i:06d}" for i in rows],
            "straatnaam": street,
            "verkorte_naam": street,
            "huisnummer": pa.array(number, pa.int32()),
            "huisletter": [None if i % 7 else "A" for i in rows],
            "huisnummertoevoeging": [None if i % 5 else str(1 + i % 3).zfill(2) for i in rows],
            "postcode": postcode,
            "woonplaats": town,
            "status": ["Naamgeving uitgegeven"] * n,
            "hoofdadres": [True] * n,
            "historic_postcodes": [["3999ZZ"] if i % 50 == 0 else [] for i in rows],
            "historic_straatnamen": pa.array([[]] * n, pa.list_(pa.string())),
        }
    )


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return addresses(200_000)


def test_an_address_takes_well_under_100_bytes(table):
    """Held as Python lists and dictionaries an address took some 1,100 bytes (6 GB at the national 9.9 million
    with every street name in several towns); the compact columns hold it in a fraction of that."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        index = BagIndex(table)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert index.size == table.num_rows
    assert held / table.num_rows < 100, f"{held / table.num_rows:.0f} bytes an address"


def test_read_in_batches_the_index_answers_as_read_whole(table):
    small = table.slice(0, 5_000)
    whole, batched = BagIndex(small), BagIndex(small.to_batches(max_chunksize=333))
    for row in range(0, small.num_rows, 7):
        for column in ("nummeraanduiding_id", "verblijfsobject_id", "postcode", "letter", "addition", "woonplaats"):
            assert getattr(whole, column)[row] == getattr(batched, column)[row]
        key = (whole.postcode[row], whole.huisnummer[row])
        assert whole.by_postcode.get(key) == batched.by_postcode.get(key) and row in whole.by_postcode.get(key)
        street_key = (next(iter(whole.street_keysets[whole.row_street[row]])), whole.huisnummer[row])
        assert whole.by_street.get(street_key) == batched.by_street.get(street_key)
        assert row in whole.by_street.get(street_key)
        assert whole.by_id.get(whole.nummeraanduiding_id[row]) == batched.by_id.get(whole.nummeraanduiding_id[row])
    assert whole.by_historic_postcode.get(("3999ZZ", 1)) == batched.by_historic_postcode.get(("3999ZZ", 1))
    assert whole.historic_postcodes.get(0) == ("3999ZZ",) and whole.historic_postcodes.get(1, ()) == ()
    assert whole.by_postcode.get(("9999XX", 1)) is None and whole.by_street.get(("nergensstraat", 1), ()) == ()


def test_ids_that_are_not_bag_numbers_are_kept_as_written():
    """A table whose ids turn from BAG numbers into other text half-way (test tables, a foreign export)."""
    table = addresses(40).set_column(
        0, "nummeraanduiding_id", pa.array([f"0599200000{i:06d}" for i in range(20)] + [f"num-{i}" for i in range(20)])
    )
    index = BagIndex(table.to_batches(max_chunksize=10))
    assert [index.nummeraanduiding_id[r] for r in range(40)] == table["nummeraanduiding_id"].to_pylist()
    assert index.by_id.get("num-3") == 23 and index.by_id.get("0599200000000004") == 4
    assert index.by_id.get("599200000000004") is None  # no leading zeros dropped
    assert index.num_of_vbo.get("0599010000000023") == "num-3"
    # the verblijfsobject id is the object id or empty (one byte an address) until a table says otherwise
    vbo = [None if i % 4 == 0 else f"0599010000{i:06d}" for i in range(30)] + [f"vbo-{i}" for i in range(10)]
    index = BagIndex(table.set_column(2, "verblijfsobject_id", pa.array(vbo)).to_batches(max_chunksize=10))
    assert [index.verblijfsobject_id[r] for r in range(40)] == vbo
