"""Address resolution to BAG: parse a Dutch address as written, find its nummeraanduiding and verblijfsobject.

    from linkage.address import BagIndex, load_bag_addresses, resolve_addresses
    index = BagIndex(load_bag_addresses(Path("lvbag.zip")))
    out = resolve_addresses(table, index, text_column="adres")

Modules: normalise (folding, street keys, additions), parse (free text and split fields), index (the BAG address
table and its look-ups), resolve (deciding, confidence, method, the reasons for the review queue).
"""

from linkage.address.index import BagIndex, addresses_from_entities, bag_address_table, load_bag_addresses
from linkage.address.parse import ParsedAddress, parse_address, parsed_from_parts
from linkage.address.resolve import Match, resolve, resolve_addresses, resolve_parts, resolve_text

__all__ = [
    "BagIndex",
    "Match",
    "ParsedAddress",
    "addresses_from_entities",
    "bag_address_table",
    "load_bag_addresses",
    "parse_address",
    "parsed_from_parts",
    "resolve",
    "resolve_addresses",
    "resolve_parts",
    "resolve_text",
]
