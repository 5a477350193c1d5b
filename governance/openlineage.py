"""The hub's column lineage as OpenLineage events (JSON lines), for Marquez, DataHub or OpenMetadata.

One COMPLETE run event per dataset the hub produces (landing, linkage, warehouse and published tables), in dependency
order: the job is the step that writes the dataset, the inputs are the datasets it reads, and the output carries
three dataset facets of the OpenLineage spec:

- `schema`: the dataset's columns;
- `columnLineage` (spec 1-2-0): per column its input fields, each with a transformation: DIRECT/IDENTITY for a
  copy, DIRECT/TRANSFORMATION for a derivation, DIRECT/AGGREGATION for an aggregate, and `masking: true` where the
  step hides the value (pseudonymised, encoded, generalised); and the fields that decide which rows the column has:
  INDIRECT/JOIN, INDIRECT/FILTER, INDIRECT/GROUP_BY. Its `dataset` part lists the fields that decide the rows of the
  whole dataset (a model's inner joins, filters and groupings);
- `tags`: the purposes of the dataset, and per column its privacy class and purposes (from dbt's column meta) or,
  at the boundary, the action the pseudonymisation policy took.

`validate()` checks every event against `openlineage_event.schema.json`: the parts of the OpenLineage 2-0-2 RunEvent
and of the three facets' schemas that these events use, written out here because no package on PyPI ships the
spec's schema files and CI has no other network. It is strict where the spec is (required fields, enums, UUID,
date-time and URI formats).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from governance.column_lineage import INDIRECT_KINDS, ColumnLineage, Field, Step

NAMESPACE = "rgw"
PRODUCER = "urn:gemeente-rotterdam:rgw-datahub"
SPEC = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
FACET_URLS = {
    "schema": "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
    "columnLineage": "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json"
    "#/$defs/ColumnLineageDatasetFacet",
    "tags": "https://openlineage.io/spec/facets/1-0-0/TagsDatasetFacet.json#/$defs/TagsDatasetFacet",
}
SCHEMA_FILE = Path(__file__).with_name("openlineage_event.schema.json")
SUBTYPE = {
    "copied": "IDENTITY",
    "aggregated": "AGGREGATION",
    "joined": "JOIN",
    "filtered": "FILTER",
    "grouped": "GROUP_BY",
}
MASKING = {"pseudonymised", "encoded", "generalised"}


def _facet(name: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": FACET_URLS[name], **body}


def _transformation(step: Step) -> dict[str, Any]:
    return {
        "type": "INDIRECT" if step.kind in INDIRECT_KINDS else "DIRECT",
        "subtype": SUBTYPE.get(step.kind, "TRANSFORMATION"),
        "description": step.kind + (f": {step.description}" if step.description else ""),
        "masking": step.kind in MASKING,
    }


def _input_fields(graph: ColumnLineage, f: Field) -> list[dict[str, Any]]:
    out = []
    for s in graph.inputs(f):
        if s.input is not None:
            field = {"namespace": NAMESPACE, "name": s.input.dataset, "field": s.input.name}
            out.append({**field, "transformations": [_transformation(s)]})
    return out


def _column_tags(dataset: str, column: str, graph: ColumnLineage, tags: dict[str, dict[str, Any]]) -> list[dict]:
    out = []
    zone, _, rest = dataset.partition("/")
    table = rest.rsplit("/", 1)[-1]
    meta = tags.get(table, {}).get(column) if zone in ("warehouse", "published") else None
    if meta:
        out.append({"key": "privacy_class", "value": str(meta.get("privacy_class")), "source": "DBT", "field": column})
        for purpose in meta.get("purposes", []):
            out.append({"key": "purpose", "value": purpose, "source": "DBT", "field": column})
    if zone == "landing":
        for step in graph.inputs(Field(dataset, column)):
            out.append({"key": "boundary", "value": step.description or step.kind, "source": "RGW", "field": column})
    return out


def events(graph: ColumnLineage, tags: dict[str, dict[str, Any]], at: datetime | None = None) -> list[dict[str, Any]]:
    """One RunEvent per produced dataset; `tags` is `governance.publish.column_tags(manifest)`."""
    at = at or datetime.now(UTC)
    out = []
    for dataset in graph.datasets():
        if dataset.startswith("raw/"):
            continue
        columns = graph.columns[dataset]
        lineage = {column: {"inputFields": _input_fields(graph, Field(dataset, column))} for column in columns}
        dataset_tags = [{"key": "zone", "value": dataset.split("/")[0], "source": "RGW"}]
        if dataset.startswith("published/"):
            dataset_tags.append({"key": "purpose", "value": dataset.split("/")[1], "source": "RGW"})
        for column in columns:
            dataset_tags += _column_tags(dataset, column, graph, tags)
        out.append(
            {
                "eventType": "COMPLETE",
                "eventTime": at.isoformat(timespec="seconds"),
                "producer": PRODUCER,
                "schemaURL": SPEC,
                "run": {"runId": str(uuid.uuid4())},
                "job": {"namespace": NAMESPACE, "name": dataset},
                "inputs": [{"namespace": NAMESPACE, "name": p} for p in graph.parents(dataset)],
                "outputs": [
                    {
                        "namespace": NAMESPACE,
                        "name": dataset,
                        "facets": {
                            "schema": _facet("schema", {"fields": [{"name": c} for c in columns]}),
                            "columnLineage": _facet(
                                "columnLineage",
                                {"fields": lineage, "dataset": _input_fields(graph, Field(dataset, "*"))},
                            ),
                            "tags": _facet("tags", {"tags": dataset_tags}),
                        },
                    }
                ],
            }
        )
    return out


def write(path: Path, items: list[dict[str, Any]]) -> Path:
    """JSON lines, one event per line, written whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in items), encoding="utf-8")
    tmp.replace(path)
    return path


def validate(items: list[dict[str, Any]]) -> list[str]:
    """Every violation of the event schema, as `event <n> (<job>): <path>: <message>`; empty when all are valid."""
    from jsonschema import Draft202012Validator

    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    problems = []
    for n, event in enumerate(items):
        for error in validator.iter_errors(event):
            where = "/".join(str(p) for p in error.absolute_path)
            problems.append(f"event {n} ({event.get('job', {}).get('name')}): {where}: {error.message}")
    return problems
