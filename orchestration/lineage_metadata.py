"""Column lineage as Dagster metadata (`dagster/column_lineage`), from the hub's own column lineage graph.

Every asset that writes a table attaches, on each materialisation, which upstream asset columns each of its columns
is made from: landing tables (from the raw delivery, through the pseudonymisation policy), linkage tables, every dbt
model, and each purpose's publication. Open-source Dagster shows it among the materialisation's metadata; the
privacy report and the OpenLineage export carry the same graph with the kind of every step.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from governance.column_lineage import ColumnLineage, Field, current_graph


def _deps(g: ColumnLineage, dataset: str, column: str) -> list[dg.TableColumnDep]:
    return [
        dg.TableColumnDep(asset_key=dg.AssetKey(s.input.dataset.split("/")), column_name=s.input.name)
        for s in g.inputs(Field(dataset, column))
        if s.input is not None
    ]


def column_lineage(*datasets: str) -> dict[str, Any]:
    """`{"dagster/column_lineage": ...}` for the tables an asset writes; with several tables (a purpose's
    publication) each column is named `<table>.<column>`."""
    g = current_graph()
    deps: dict[str, list[dg.TableColumnDep]] = {}
    for dataset in datasets:
        table = dataset.rsplit("/", 1)[-1]
        for column in g.columns.get(dataset, []):
            deps[f"{table}.{column}" if len(datasets) > 1 else column] = _deps(g, dataset, column)
    return {"dagster/column_lineage": dg.TableColumnLineage(deps_by_column=deps)} if deps else {}
