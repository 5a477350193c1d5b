"""Dagster resources: where the zones are. Everything else the assets need comes from the libraries."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from rgw.settings import HubPaths


class HubPathsResource(dg.ConfigurableResource):
    """The hub's data folder; empty means `RGW_DATA` from the environment (the Makefile sets it)."""

    data_dir: str = ""

    def paths(self) -> HubPaths:
        return (HubPaths(Path(self.data_dir).resolve()) if self.data_dir else HubPaths.from_env()).ensure()
