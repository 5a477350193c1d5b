"""The ingest overview: one table of every landed delivery with its counts, for people and for the demo summary."""

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from connectors.registry import SOURCES
from orchestration.assets.ingest import INGEST_GROUP, raw_key, read_manifests
from orchestration.resources import HubPathsResource


@dg.asset(
    key=["reports", "ingest_overview"],
    group_name=INGEST_GROUP,
    deps=[raw_key(s.name, s.entities[0]) for s in SOURCES.values()],
    owners=["team:rgw-data"],
    kinds={"python", "parquet"},
    description="Per source, delivery and entity: records in, clean, quarantined. Holds counts only, no records.",
)
def ingest_overview(context: dg.AssetExecutionContext, hub: HubPathsResource) -> dg.MaterializeResult:
    paths = hub.paths()
    rows = [
        {
            "source": m["source"],
            "delivery_id": m["delivery_id"],
            "entity": entity,
            "records_in": c["in"],
            "clean": c["clean"],
            "quarantined": c["quarantined"],
            "drift": "; ".join(f"{d['kind']} {d['column']}" for d in m.get("drift", [])),
        }
        for m in read_manifests(paths.raw)
        for entity, c in m["counts"].items()
    ]
    table = pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("source", pa.string()),
                ("delivery_id", pa.string()),
                ("entity", pa.string()),
                ("records_in", pa.int64()),
                ("clean", pa.int64()),
                ("quarantined", pa.int64()),
                ("drift", pa.string()),
            ]
        ),
    )
    out = paths.data / "reports" / "ingest_overview.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    pq.write_table(table, tmp)
    tmp.replace(out)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": table.num_rows,
            "path": dg.MetadataValue.path(str(out)),
            "records_in": sum(r["records_in"] for r in rows),
            "quarantined": sum(r["quarantined"] for r in rows),
        }
    )
