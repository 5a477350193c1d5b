"""Jobs: per source, one partitioned job that ingests a delivery and carries it across the privacy boundary; and the
job that refreshes everything downstream (linkage, warehouse, publication, reports)."""

from __future__ import annotations

import dagster as dg


def ingest_job_name(source: str) -> str:
    return f"ingest_{source}_job"


def build_ingest_job(source: str, *assets_defs: dg.AssetsDefinition) -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        ingest_job_name(source),
        selection=dg.AssetSelection.assets(*assets_defs),
        description=f"Ingest one {source} delivery into the raw zone and pseudonymise it into the landing zone.",
    )


downstream_job = dg.define_asset_job(
    "downstream_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("ingest", "landing", "governance")
    | dg.AssetSelection.keys(["reports", "ingest_overview"]),
    description="Everything after the boundary: overview, linkage, warehouse and publication.",
)
