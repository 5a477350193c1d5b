"""Kept for the callers that import the BAG address table from here; it lives in linkage.address.index."""

from linkage.address.index import addresses_from_entities, bag_address_table, load_bag_addresses

__all__ = ["addresses_from_entities", "bag_address_table", "load_bag_addresses"]
