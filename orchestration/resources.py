"""Dagster resources: where the zones are. Everything else the assets need comes from the libraries."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from hubcore.paths import HubPaths
from pseudonymisation.key_source import production_keystore
from pseudonymisation.keys import KeyStore


class HubPathsResource(dg.ConfigurableResource):
    """The hub's data folder; empty means `RGW_DATA` from the environment (the Makefile sets it)."""

    data_dir: str = ""

    def paths(self) -> HubPaths:
        return (HubPaths(Path(self.data_dir).resolve()) if self.data_dir else HubPaths.from_env()).ensure()

    def keystore(self) -> KeyStore:
        """The key store assets pseudonymise and seal with: a managed key (or a demo world's), never a new one.

        A run started from the UI, a sensor or the schedule does not pass `rgw run`'s preflight, so the assets
        refuse here themselves (naming RGW_MASTER_KEY and RGW_KEY_FILE) instead of generating a demo key.
        """
        return production_keystore(self.paths())


class WarehouseResource(dg.ConfigurableResource):
    """Read-only DuckDB connections to the warehouse, for checks and reports that read what dbt built.

    dbt is the only writer of the warehouse file; everything else opens it read-only through this resource.
    """

    hub: HubPathsResource

    def connect(self):
        import duckdb

        return duckdb.connect(str(self.hub.paths().warehouse), read_only=True)
