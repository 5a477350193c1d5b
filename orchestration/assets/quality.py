"""Indicator quality against the synthetic ground truth, as an asset check on the indicator mart."""

import dagster as dg

from governance.indicator_quality import GOALS, evaluate, meets_goals
from orchestration.resources import HubPathsResource, WarehouseResource


@dg.asset_check(
    asset=dg.AssetKey(["warehouse", "woning_indicatoren"]),
    name="indicator_recall_and_precision",
    description=f"On the synthetic Rotterdam: each indicator's recall >= {GOALS['recall']} and precision >= "
    f"{GOALS['precision']} against the planted abuses (skipped on real data).",
)
def indicator_recall_and_precision(hub: HubPathsResource, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    paths = hub.paths()
    if not (paths.ground_truth / "abuses.parquet").exists():
        return dg.AssetCheckResult(passed=True, metadata={"skipped": "no ground truth (real data)"})
    with warehouse.connect() as con:  # the same file dbt built, opened read-only
        (rows,) = con.execute("select count(*) from woning_indicatoren").fetchall()[0]
    result = evaluate(paths.warehouse, paths.ground_truth, paths.incoming)
    return dg.AssetCheckResult(
        passed=meets_goals(result), metadata={"dwellings": rows, "per_indicator": dg.MetadataValue.json(result)}
    )
