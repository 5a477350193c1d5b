"""Resolving against the address table on disk with only the addresses the input can mean in memory
(linkage/address/subset.py) gives the same answers as the whole table in memory."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.address_messy import messy_addresses
from linkage.address import BagIndex, addresses_from_entities, resolve_addresses
from linkage.address.subset import resolve_with_address_file
from tests.address_forms_bag import bag_entities
from tests.test_address_written_forms import FORMS


def test_subset_answers_like_the_whole_table(tmp_path):
    addresses = addresses_from_entities(bag_entities())
    path = tmp_path / "addresses.parquet"
    pq.write_table(addresses, path)
    texts = [w for w, _ in FORMS] + [w.text for w in messy_addresses(addresses, 1500, seed=8)]
    texts += ["0599200000000005", "Putselaan 5 3074AA 0599200000000001"]  # BAG ids in the text
    table = pa.table({"adres": texts})
    whole = resolve_addresses(table, BagIndex(addresses), text_column="adres")
    subset = resolve_with_address_file(table, path, text_column="adres")
    assert subset.to_pylist() == whole.to_pylist()
    assert sum(v is not None for v in whole["nummeraanduiding_id"].to_pylist()) > 1000


def test_subset_with_a_postcode_column(tmp_path):
    addresses = addresses_from_entities(bag_entities())
    path = tmp_path / "addresses.parquet"
    pq.write_table(addresses, path)
    table = pa.table({"adres": ["97C", "Slinge 97C", "Putselaan 5"], "pc": ["3086WE", "3086WA", None]})
    fields = {"postcode": "pc"}
    whole = resolve_addresses(table, BagIndex(addresses), text_column="adres", fields=fields)
    subset = resolve_with_address_file(table, path, text_column="adres", fields=fields)
    assert subset.to_pylist() == whole.to_pylist()
