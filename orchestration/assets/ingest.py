"""Ingest assets: one multi-asset per source, partitioned per delivery, each table with a freshness policy.

Each run reads one delivery with the source's connector and lands it in the restricted raw zone in one rename. The
multi-asset yields one asset per entity (`raw/<source>/<entity>`) so the UI shows each table's row count and column
schema, plus `quarantine/<source>` with every rejected record and its reason. The checks run inside the same step:
counts reconcile (records in = clean + quarantined, per entity, recounted from the landed files) and schema drift.
"""

import json
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq

from connectors.delivery import DeliveryResult, land_delivery
from connectors.incoming import find_delivery
from connectors.registry import SOURCES, SourceSpec
from orchestration.resources import HubPathsResource

INGEST_GROUP = "ingest"


def delivery_partitions(source: str) -> dg.DynamicPartitionsDefinition:
    return dg.DynamicPartitionsDefinition(name=f"{source}_deliveries")


def raw_key(source: str, entity: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source, entity])


def quarantine_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["quarantine", source])


def table_schema(schema) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(f.name, str(f.type)) for f in schema])


def _source_tags(spec: SourceSpec) -> dict[str, str]:
    return {"source": spec.name, "zone": "raw", "privacy": "restricted"}


def _landed_rows(path: Path) -> int:
    return pq.ParquetFile(path).metadata.num_rows if path.exists() else 0


def reconcile(result: DeliveryResult) -> dict[str, dict[str, int]]:
    """Counts per entity, with clean and quarantined rows recounted from the landed Parquet footers."""
    out = {}
    for name, batch in result.entities.items():
        clean = _landed_rows(batch.clean_path)
        quarantined = _landed_rows(batch.quarantine_path)
        out[name] = {
            "records_in": batch.records_in,
            "clean": clean,
            "quarantined": quarantined,
            "balance": batch.records_in - clean - quarantined,
        }
    return out


def build_ingest_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    """The multi-asset that ingests one delivery of `spec`'s source."""
    entity_specs = [
        dg.AssetSpec(
            raw_key(spec.name, entity),
            description=f"{spec.title}: `{entity}` rows that passed validation, plaintext (restricted raw zone).",
            group_name=INGEST_GROUP,
            owners=[spec.owner],
            kinds={"python", "parquet"},
            tags=_source_tags(spec),
            metadata={"source": spec.supplier, "format": spec.formats, "entity": entity},
            freshness_policy=dg.FreshnessPolicy.time_window(
                warn_window=spec.expected_every, fail_window=2 * spec.expected_every
            ),
        )
        for entity in spec.entities
    ]
    q_spec = dg.AssetSpec(
        quarantine_key(spec.name),
        description=f"{spec.title}: every rejected record with file, record, field and reason (restricted).",
        group_name=INGEST_GROUP,
        owners=[spec.owner],
        kinds={"python", "parquet"},
        tags=_source_tags(spec),
        metadata={"source": spec.supplier},
    )
    first_key = raw_key(spec.name, spec.entities[0])
    checks = [
        dg.AssetCheckSpec(
            "counts_reconcile",
            asset=first_key,
            description="Every record read landed clean or in quarantine: in = clean + quarantined, per entity.",
        ),
        dg.AssetCheckSpec(
            "schema_as_expected",
            asset=first_key,
            description="The delivery has the columns the connector expects (renamed, missing, extra reported).",
        ),
    ]

    @dg.multi_asset(
        name=f"ingest_{spec.name}",
        specs=[*entity_specs, q_spec],
        check_specs=checks,
        partitions_def=delivery_partitions(spec.name),
        description=f"Reads one {spec.title} delivery ({spec.formats}) and lands it in the raw zone.",
        can_subset=False,
    )
    def _ingest(context: dg.AssetExecutionContext, hub: HubPathsResource):
        paths = hub.paths()
        delivery = find_delivery(paths.incoming, spec.name, context.partition_key)
        context.log.info(f"reading {spec.name} delivery {delivery.delivery_id} from {delivery.path}")
        result = spec.read(delivery.path, delivery_id=delivery.delivery_id, staging_root=paths.staging)
        missing = set(spec.entities) - set(result.entities)
        if missing:
            raise RuntimeError(f"connector for {spec.name} did not return entities {sorted(missing)}")
        target = land_delivery(result, paths.raw)
        counts = reconcile(result)
        for entity in spec.entities:
            batch = result.entities[entity]
            yield dg.MaterializeResult(
                asset_key=raw_key(spec.name, entity),
                metadata={
                    "delivery": delivery.delivery_id,
                    "path": dg.MetadataValue.path(str(batch.clean_path)),
                    "dagster/row_count": counts[entity]["clean"],
                    "records_in": counts[entity]["records_in"],
                    "quarantined": counts[entity]["quarantined"],
                    "dagster/column_schema": table_schema(batch.schema),
                    "fingerprint": delivery.fingerprint,
                },
            )
        quarantined = sum(c["quarantined"] for c in counts.values())
        yield dg.MaterializeResult(
            asset_key=quarantine_key(spec.name),
            metadata={
                "delivery": delivery.delivery_id,
                "path": dg.MetadataValue.path(str(target)),
                "dagster/row_count": quarantined,
                "by_entity": dg.MetadataValue.json({e: c["quarantined"] for e, c in counts.items()}),
                "reasons": dg.MetadataValue.json(_reason_counts(result)),
            },
        )
        balanced = all(c["balance"] == 0 for c in counts.values())
        yield dg.AssetCheckResult(
            check_name="counts_reconcile",
            asset_key=first_key,
            passed=balanced,
            metadata={"counts": dg.MetadataValue.json(counts)},
        )
        yield dg.AssetCheckResult(
            check_name="schema_as_expected",
            asset_key=first_key,
            passed=not result.drift,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"drift": dg.MetadataValue.json([str(d) for d in result.drift])},
        )

    return _ingest


def _reason_counts(result: DeliveryResult) -> dict[str, int]:
    reasons: dict[str, int] = {}
    for batch in result.entities.values():
        if batch.quarantined_rows == 0:
            continue
        table = pq.read_table(batch.quarantine_path, columns=["reason_code"])
        for code in table.column("reason_code").to_pylist():
            key = f"{batch.name}:{code}"
            reasons[key] = reasons.get(key, 0) + 1
    return reasons


INGEST_ASSETS = [build_ingest_asset(spec) for spec in SOURCES.values()]


def read_manifests(raw_zone: Path) -> list[dict]:
    """The manifests of every landed delivery, for overviews and the demo summary."""
    return [json.loads(p.read_text()) for p in sorted(raw_zone.glob("*/*/_manifest.json"))]
