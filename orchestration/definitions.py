"""The hub's Dagster definitions: ingest per source, checks, sensors, schedules and resources in one place."""

from __future__ import annotations

import dagster as dg

from orchestration.assets.ingest import INGEST_ASSETS
from orchestration.assets.landing import LANDING_ASSETS
from orchestration.assets.linkage import LINKAGE_ASSETS
from orchestration.assets.overview import ingest_overview
from orchestration.assets.publication import (
    PUBLICATION_ASSETS,
    privacy_report,
    programme_report,
)
from orchestration.assets.quality import indicator_recall_and_precision
from orchestration.assets.retention import retention, retention_job, retention_schedule
from orchestration.assets.serving import audit_collect_job, audit_collect_schedule, postgres_statements
from orchestration.assets.warehouse import dbt_resource, warehouse_models
from orchestration.jobs import build_ingest_job, downstream_job
from orchestration.resources import HubPathsResource, WarehouseResource
from orchestration.schedules import nightly_downstream_schedule
from orchestration.sensors import DELIVERY_SENSORS, downstream_refresh_sensor

INGEST_JOBS = [
    build_ingest_job(ingest.node_def.name.removeprefix("ingest_"), ingest, land)
    for ingest, land in zip(INGEST_ASSETS, LANDING_ASSETS, strict=True)
]

defs = dg.Definitions(
    assets=[
        *INGEST_ASSETS,
        *LANDING_ASSETS,
        *LINKAGE_ASSETS,
        warehouse_models,
        *PUBLICATION_ASSETS,
        programme_report,
        privacy_report,
        retention,
        postgres_statements,
        ingest_overview,
    ],
    jobs=[*INGEST_JOBS, downstream_job, retention_job, audit_collect_job],
    sensors=[*DELIVERY_SENSORS, downstream_refresh_sensor],
    schedules=[nightly_downstream_schedule, retention_schedule, audit_collect_schedule],
    asset_checks=[indicator_recall_and_precision],
    resources={
        "hub": HubPathsResource(),
        "dbt": dbt_resource(),
        "warehouse": WarehouseResource(hub=HubPathsResource()),
    },
)
