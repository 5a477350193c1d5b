"""Sensors: one per source that notices deliveries dropped into `incoming/<source>/` and asks for an ingest run, and
one that refreshes what lies downstream of whatever landed.

New delivery ids become dynamic partitions; a corrected re-delivery under the same id (another fingerprint) is
ingested again, and a delivery the instance already holds under the same fingerprint is not (even with an empty
cursor: orchestration/incremental.py asks the instance). The cursor keeps the fingerprints already looked at, so a
tick is cheap and idempotent.

The downstream sensor makes published data follow without a person: once no ingest run is queued or running, it
asks for a run of `downstream_job` limited to the assets whose inputs changed (and everything below them), so a new
meldpunten delivery re-runs only what depends on meldpunten.
"""

import json
import os

import dagster as dg

from connectors.incoming import discover_deliveries
from connectors.registry import SOURCES, SourceSpec
from hubcore.paths import HubPaths
from orchestration.assets.ingest import delivery_partitions
from orchestration.incremental import Work, downstream_plan, landing_keys, work_for
from orchestration.jobs import downstream_job, ingest_job_name

SETTLE_SECONDS = float(os.environ.get("RGW_SETTLE_SECONDS", "30"))
_BUSY = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING]
_BUSY += [dg.DagsterRunStatus.STARTED]


def build_delivery_sensor(spec: SourceSpec) -> dg.SensorDefinition:
    partitions = delivery_partitions(spec.name)

    @dg.sensor(
        name=f"{spec.name}_delivery_sensor",
        job_name=ingest_job_name(spec.name),
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=f"Starts an ingest run for each new or corrected {spec.title} delivery in incoming/{spec.name}/.",
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        paths = HubPaths.from_env()
        seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        existing = set(context.instance.get_dynamic_partitions(partitions.name))
        new_partitions, requests = [], []
        for d in discover_deliveries(paths.incoming, spec.name):
            if seen.get(d.delivery_id) == d.fingerprint or not d.is_settled(SETTLE_SECONDS):
                continue
            seen[d.delivery_id] = d.fingerprint
            work = work_for(context.instance, paths, d) if d.delivery_id in existing else Work.INGEST
            if work is Work.CURRENT:
                continue  # landed before under this fingerprint: never read again
            if d.delivery_id not in existing:
                new_partitions.append(d.delivery_id)
            requests.append(
                dg.RunRequest(
                    partition_key=d.delivery_id,
                    run_key=f"{spec.name}:{d.delivery_id}:{d.fingerprint}:{work.value}",
                    tags={"source": spec.name, "delivery": d.delivery_id},
                    asset_selection=landing_keys(spec.name) if work is Work.LAND else None,
                )
            )
        if not requests:
            return dg.SensorResult(skip_reason=f"no new {spec.name} deliveries", cursor=json.dumps(seen))
        return dg.SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=[partitions.build_add_request(new_partitions)] if new_partitions else [],
            cursor=json.dumps(seen),
        )

    return _sensor


DELIVERY_SENSORS = [build_delivery_sensor(spec) for spec in SOURCES.values()]


@dg.sensor(
    name="downstream_refresh_sensor",
    job=downstream_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Once deliveries have landed and no ingest run is busy, refreshes the downstream assets whose "
    "inputs changed (linkage, warehouse, publication), so published data follows without a person.",
)
def downstream_refresh_sensor(context: dg.SensorEvaluationContext):
    from orchestration.definitions import defs  # the definitions hold this sensor: resolved at tick time

    busy = context.instance.get_runs(filters=dg.RunsFilter(statuses=_BUSY), limit=1)
    if busy:
        return dg.SkipReason(f"run {busy[0].run_id} ({busy[0].job_name}) is busy: waiting until it ends")
    plan = downstream_plan(context.instance, defs, downstream_job.name)
    if not plan.keys:
        return dg.SkipReason("every downstream asset is current")
    return dg.RunRequest(
        run_key=f"downstream:{plan.newest_input}",
        asset_selection=None if plan.everything else sorted(plan.keys, key=lambda k: k.to_user_string()),
        tags={"launched_by": "downstream_refresh_sensor", "stale": str(len(plan.stale))},
    )
