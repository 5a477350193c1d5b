"""What needs to run: a delivery is ingested once per fingerprint, landed once per boundary context, and only the
downstream assets whose inputs changed are refreshed.

Shared by `rgw run` (orchestration/runner.py) and the sensors (orchestration/sensors.py), so a delivery already
landed is never read again by either of them unless it changed. Everything is decided from the Dagster instance:

- ingest: the latest materialisation of the delivery's first raw table records the fingerprint (names, sizes,
  modification times) it was read from; the same fingerprint means the raw zone already holds it.
- landing: the landing materialisation records the boundary context it was made under (key version, BAG delivery
  its addresses were resolved against, erased persons); a changed context lands the raw delivery again, without
  reading the incoming files.
- downstream: an asset of the downstream job is stale when it was never materialised or when an ingest or landing
  asset upstream of it materialised after it did; the stale assets and everything below them are refreshed, the
  rest keeps its data. A failed refresh leaves its assets stale, so the next run picks them up again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import dagster as dg

from connectors.incoming import Delivery
from connectors.registry import SOURCES
from hubcore.paths import HubPaths
from orchestration.assets.ingest import INGEST_GROUP, raw_key
from orchestration.assets.landing import BOUNDARY_CONTEXT, LANDING_GROUP, boundary_context, landing_key


class Work(Enum):
    INGEST = "ingest"  # new or changed files: read, land raw, pseudonymise
    LAND = "land"  # raw delivery current, but landed under another boundary context: pseudonymise again
    CURRENT = "current"  # nothing to do


def _latest(instance: dg.DagsterInstance, key: dg.AssetKey, partition: str) -> dg.EventLogRecord | None:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition]), limit=1
    ).records
    return records[0] if records else None


def _meta(record: dg.EventLogRecord, name: str):
    value = record.asset_materialization.metadata.get(name) if record.asset_materialization else None
    return getattr(value, "value", value)


def work_for(instance: dg.DagsterInstance, paths: HubPaths, delivery: Delivery) -> Work:
    """Whether one delivery must be ingested, only landed again, or is current."""
    spec = SOURCES[delivery.source]
    first = spec.entities[0]
    ingested = _latest(instance, raw_key(spec.name, first), delivery.delivery_id)
    raw_dir = paths.raw / spec.name / delivery.delivery_id
    if ingested is None or _meta(ingested, "fingerprint") != delivery.fingerprint or not raw_dir.is_dir():
        return Work.INGEST
    landed = _latest(instance, landing_key(spec.name, first), delivery.delivery_id)
    if (
        landed is None
        or landed.storage_id < ingested.storage_id
        or _meta(landed, BOUNDARY_CONTEXT) != boundary_context(paths, spec.name)
        or not (paths.landing / spec.name / delivery.delivery_id).is_dir()
    ):
        return Work.LAND
    return Work.CURRENT


def landing_keys(source: str) -> list[dg.AssetKey]:
    return [landing_key(source, e) for e in SOURCES[source].entities]


@dataclass(frozen=True)
class DownstreamPlan:
    """The downstream assets to refresh (empty: everything is current) and why."""

    keys: frozenset[dg.AssetKey]
    stale: frozenset[dg.AssetKey]  # the assets whose inputs changed; `keys` adds everything below them
    total: int  # assets in the downstream job
    newest_input: int  # storage id of the newest ingest or landing materialisation: names the refresh it asks for

    @property
    def everything(self) -> bool:
        return len(self.keys) == self.total


def downstream_plan(instance: dg.DagsterInstance, defs: dg.Definitions, job_name: str) -> DownstreamPlan:
    """The assets of `job_name` that are stale (see the module docstring), plus everything downstream of them."""
    graph = defs.resolve_asset_graph()
    job_keys = set(defs.resolve_job_def(job_name).asset_layer.selected_asset_keys)
    boundary = dg.AssetSelection.groups(INGEST_GROUP, LANDING_GROUP).resolve(graph)
    relevant = job_keys | boundary
    last = {
        r.asset_entry.asset_key: r.asset_entry.last_materialization_record.storage_id
        for r in instance.get_asset_records(list(relevant))
        if r.asset_entry.last_materialization_record is not None
    }
    stale = set()
    for key in job_keys:
        if key not in last:
            stale.add(key)
            continue
        upstream = dg.AssetSelection.assets(key).upstream().resolve(graph) & boundary
        if any(last.get(u, -1) > last[key] for u in upstream):
            stale.add(key)
    keys = dg.AssetSelection.assets(*stale).downstream().resolve(graph) & job_keys if stale else set()
    newest = max((last[k] for k in boundary if k in last), default=0)
    return DownstreamPlan(frozenset(keys), frozenset(stale), len(job_keys), newest)
