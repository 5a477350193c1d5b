"""Jobs: one ingest job per source (partitioned per delivery) and the job that refreshes everything downstream."""

from __future__ import annotations

import dagster as dg


def ingest_job_name(source: str) -> str:
    return f"ingest_{source}_job"


def build_ingest_job(source: str, assets_def: dg.AssetsDefinition) -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        ingest_job_name(source),
        selection=dg.AssetSelection.assets(assets_def),
        description=f"Ingest one {source} delivery into the raw zone.",
    )


downstream_job = dg.define_asset_job(
    "downstream_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("ingest")
    | dg.AssetSelection.keys(["reports", "ingest_overview"]),
    description="Everything after ingest: overview, pseudonymisation, linkage, warehouse and publication.",
)
