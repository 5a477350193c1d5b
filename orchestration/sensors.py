"""One sensor per source: it notices deliveries dropped into `incoming/<source>/` and asks for an ingest run.

New delivery ids become dynamic partitions; a corrected re-delivery under the same id (another fingerprint) is
ingested again. The cursor keeps the fingerprints already requested, so a tick is cheap and idempotent.
"""

import json
import os

import dagster as dg

from connectors.incoming import discover_deliveries
from connectors.registry import SOURCES, SourceSpec
from hubcore.paths import HubPaths
from orchestration.assets.ingest import delivery_partitions
from orchestration.jobs import ingest_job_name

SETTLE_SECONDS = float(os.environ.get("RGW_SETTLE_SECONDS", "30"))


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
            if d.delivery_id not in existing:
                new_partitions.append(d.delivery_id)
            requests.append(
                dg.RunRequest(
                    partition_key=d.delivery_id,
                    run_key=f"{spec.name}:{d.delivery_id}:{d.fingerprint}",
                    tags={"source": spec.name, "delivery": d.delivery_id},
                )
            )
            seen[d.delivery_id] = d.fingerprint
        if not requests:
            return dg.SensorResult(skip_reason=f"no new {spec.name} deliveries", cursor=json.dumps(seen))
        return dg.SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=[partitions.build_add_request(new_partitions)] if new_partitions else [],
            cursor=json.dumps(seen),
        )

    return _sensor


DELIVERY_SENSORS = [build_delivery_sensor(spec) for spec in SOURCES.values()]
