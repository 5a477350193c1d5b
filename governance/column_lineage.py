"""Column lineage from every published column back to the raw source fields, with the kind of every step.

Open-source Dagster draws asset lineage and dbt's column lineage lives in a paid product, so the hub derives its own,
statically, from the code that moves the data (no data needed, the same on every machine):

- **boundary** (raw -> landing): `pseudonymisation/policy.yaml` says per raw field whether it was copied,
  pseudonymised, encoded or generalised; the `adres_*` columns the boundary adds come from the record's address
  fields, resolved to BAG at the door (*linked*).
- **linkage** (landing -> `linkage/*`): the landing columns each linkage table is computed from, below in
  `LINKAGE_INPUTS` (kept beside the SQL in linkage/entities.py and pseudonymisation/boundary.py; a test checks every
  name against the policy).
- **dbt** (landing and linkage -> warehouse): each model's SQL, rendered with its macros and vars, parsed and
  qualified by sqlglot; every output column's expression is followed back through CTEs and subqueries to the columns
  of the models and sources it reads. The step is *copied* where the expression is a bare column all the way,
  *aggregated* where an aggregate (or window aggregate) is on the path, *derived* otherwise, and *constant* where it
  reads no column at all (a literal or a dbt var).
- **publication** (warehouse -> `published/<purpose>/*`): copied, except pseudonym columns, which are re-keyed
  per purpose (*pseudonymised*).

Datasets are named like the Dagster assets: `raw/<source>/<entity>`, `landing/<source>/<entity>`,
`linkage/<table>`, `warehouse/<model>`, `published/<purpose>/<table>`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import yaml
from sqlglot import exp, parse_one
from sqlglot.lineage import Node, lineage
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import build_scope

from pseudonymisation.policy import _parse, load_policy, output_name

DBT_PROJECT = Path(__file__).resolve().parent.parent / "dbt_project"
KINDS = ("copied", "pseudonymised", "encoded", "generalised", "linked", "derived", "aggregated", "constant")
POLICY_KIND = {
    "keep": "copied",
    "pseudonymise": "pseudonymised",
    "encode": "encoded",
    "generalise": "generalised",
    "keep_legal_person": "copied",
}
ADDRESS_FIELD = re.compile(
    r"(straat|huisnummer|huisletter|toevoeging|postcode|woonplaats|adres|nummeraanduiding_id|verblijfsobject_id)"
)
# Which landing columns each linkage table is computed from (linked), and which it copies.
LINKAGE_INPUTS: dict[str, dict[str, Any]] = {
    "address_links": {
        "copied": {"source": [], "entity": [], "record_key": []},
        # every landing entity with resolved addresses contributes its adres_* columns (filled in from the policy)
        "linked_from_boundary": ["nummeraanduiding_id", "verblijfsobject_id", "confidence", "method",
                                 "unresolved_reason"],
    },
    "entity_links": {
        "copied": {"source": [], "entity": [], "record_key": []},
        "linked": {
            "entity_id": [
                "landing/brp/persoon.bsn_psn", "landing/brp/persoon.voornamen_bf",
                "landing/brp/persoon.geslachtsnaam_bf", "landing/brp/persoon.geboortedatum_bf",
                "landing/brp/verblijfplaats_historie.adres_verblijfsobject_id",
                "landing/brk/persoon.bsn_psn", "landing/brk/persoon.kvk_nummer_psn",
                "landing/brk/persoon.partij_naam_bf", "landing/brk/persoon.voornamen_bf",
                "landing/brk/persoon.geslachtsnaam_bf", "landing/brk/persoon.geboortedatum_bf",
                "landing/corporaties/relatie.bsn_psn", "landing/corporaties/relatie.kvk_nummer_psn",
                "landing/corporaties/relatie.voornaam_bf", "landing/corporaties/relatie.achternaam_bf",
                "landing/corporaties/relatie.geboortedatum_bf", "landing/corporaties/relatie.naam_bf",
                "landing/corporaties/eenheid.adres_verblijfsobject_id",
                "landing/meldpunten/melding.verhuurder_genoemd_bf", "landing/meldpunten/zaak.eigenaar_genoemd_bf",
            ],
        },
        "same_as": {"match_probability": "entity_id", "entity_kind": "entity_id", "method": "entity_id",
                    "evidence": "entity_id", "input_fingerprint": "entity_id"},
    },
    "vbo_buurt": {
        "copied": {"verblijfsobject_id": ["landing/bag/verblijfsobject.verblijfsobject_id"]},
        "linked": {
            "buurtcode": [
                "landing/bag/verblijfsobject.x", "landing/bag/verblijfsobject.y",
                "landing/gebieden/buurt.buurtcode", "landing/gebieden/buurt.geometry_wkt",
            ]
        },
    },
}  # fmt: skip


@dataclass(frozen=True, order=True)
class Field:
    """One column of one dataset."""

    dataset: str
    name: str

    def __str__(self) -> str:
        return f"{self.dataset}.{self.name}"

    @classmethod
    def parse(cls, text: str) -> Field:
        dataset, _, name = text.rpartition(".")
        return cls(dataset, name)


@dataclass(frozen=True)
class Step:
    """`output` is made from `input` by a step of `kind` (one of KINDS)."""

    output: Field
    input: Field | None  # None for a constant
    kind: str
    description: str = ""


@dataclass
class Origin:
    """Where one column comes from: each raw source field, with the kinds of step on the way and the datasets passed."""

    raw_fields: dict[Field, set[str]] = field(default_factory=dict)
    through: set[str] = field(default_factory=set)
    constant: bool = False

    def merge(self, other: Origin, kind: str, dataset: str) -> None:
        for f, kinds in other.raw_fields.items():
            self.raw_fields.setdefault(f, set()).update(kinds | {kind})
        self.through.update(other.through | {dataset})
        self.constant = self.constant or other.constant


@dataclass
class ColumnLineage:
    """Every step of the graph, indexed by output field, and the fields of each dataset in order."""

    steps: dict[Field, list[Step]] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)
    _origins: dict[Field, Origin] = field(default_factory=dict, repr=False)  # `origin`'s memo, cleared by `add`

    def add(self, step: Step) -> None:
        """Add a step; a second path between the same two fields keeps the step of the strongest kind."""
        self._origins.clear()
        steps = self.steps.setdefault(step.output, [])
        for i, known in enumerate(steps):
            if known.input == step.input:
                if KINDS.index(step.kind) > KINDS.index(known.kind):
                    steps[i] = step
                break
        else:
            steps.append(step)
        cols = self.columns.setdefault(step.output.dataset, [])
        if step.output.name not in cols:
            cols.append(step.output.name)

    def inputs(self, f: Field) -> list[Step]:
        return self.steps.get(f, [])

    def datasets(self) -> list[str]:
        return list(self.columns)

    def parents(self, dataset: str) -> list[str]:
        """The datasets any column of `dataset` is made from."""
        found = {
            s.input.dataset
            for name in self.columns.get(dataset, [])
            for s in self.inputs(Field(dataset, name))
            if s.input is not None
        }
        return sorted(found)

    def origin(self, f: Field) -> Origin:
        """The raw fields `f` comes from, with the kinds of the steps between. Memoised over the graph, which is a
        DAG: every field's origin is worked out once, however many published columns it feeds."""
        if f in self._origins:
            return self._origins[f]
        out = Origin()
        self._origins[f] = out  # a revisit during its own walk meets the partial result, never a loop
        if f.dataset.startswith("raw/"):
            out.raw_fields[f] = set()
        elif f.name == "*":  # the rows of a dataset: the rows of every dataset it reads
            for parent in self.parents(f.dataset):
                out.merge(self.origin(Field(parent, "*")), "copied", parent)
        for s in self.inputs(f):
            if s.input is None:
                out.constant = True
            else:
                out.merge(self.origin(s.input), s.kind, s.input.dataset)
        return out


# --- the boundary and linkage steps -----------------------------------------------------------------------------


def boundary_steps(policy: dict[str, Any] | None = None) -> list[Step]:
    """raw -> landing, from the pseudonymisation policy (drops have no output and so no step)."""
    from pseudonymisation.boundary import RECORD_KEYS

    policy = policy or load_policy()
    steps = []
    for source, entities in policy.items():
        if source.startswith("_"):
            continue
        for entity, columns in entities.items():
            raw, landing = f"raw/{source}/{entity}", f"landing/{source}/{entity}"
            for column, spec in columns.items():
                for action, arg in _parse(source, entity, column, spec):
                    out = output_name(column, action, arg)
                    if out:
                        desc = f"{action}:{arg}" if arg else action
                        steps.append(Step(Field(landing, out), Field(raw, column), POLICY_KIND[action], desc))
            if (source, entity) in RECORD_KEYS:
                address = [c for c in columns if ADDRESS_FIELD.search(c)]
                for out in policy.get("_boundary", {}):
                    for column in address:
                        steps.append(Step(Field(landing, out), Field(raw, column), "linked", "address resolved to BAG"))
    return steps


def linkage_steps() -> list[Step]:
    """landing -> linkage tables, from LINKAGE_INPUTS."""
    from pseudonymisation.boundary import RECORD_KEYS

    steps: list[Step] = []
    for table, spec in LINKAGE_INPUTS.items():
        ds = f"linkage/{table}"
        for column, inputs in spec.get("copied", {}).items():
            steps += [Step(Field(ds, column), Field.parse(i), "copied") for i in inputs] or [
                Step(Field(ds, column), None, "constant", "the record's source, entity or key")
            ]
        for column, inputs in spec.get("linked", {}).items():
            steps += [Step(Field(ds, column), Field.parse(i), "linked") for i in inputs]
        for column in spec.get("linked_from_boundary", []):
            for source, entity in RECORD_KEYS:
                landing_column = "adres_" + {"method": "methode", "unresolved_reason": "onopgelost"}.get(column, column)
                steps.append(Step(Field(ds, column), Field(f"landing/{source}/{entity}", landing_column), "linked"))
        for column, like in spec.get("same_as", {}).items():
            steps += [Step(Field(ds, column), s.input, s.kind) for s in steps if s.output == Field(ds, like)]
    return steps


# --- dbt ----------------------------------------------------------------------------------------------------------


def _relation(dataset: str) -> str:
    """The table name a dataset has in rendered SQL."""
    return dataset.replace("/", "__")


def _dataset(relation: str, models: set[str]) -> str:
    if relation in models:
        return f"warehouse/{relation}"
    parts = relation.split("__")
    return "/".join(parts)


def _node_dataset(manifest: dict[str, Any], node_id: str) -> str:
    """The dataset name of a dbt model or source node."""
    if node_id in manifest.get("sources", {}):
        src = manifest["sources"][node_id]
        return (
            f"linkage/{src['name']}"
            if src["source_name"] == "linkage"
            else f"landing/{src['source_name']}/{src['name']}"
        )
    return f"warehouse/{manifest['nodes'][node_id]['name']}"


def render_sql(raw_code: str, variables: dict[str, Any]) -> str:
    """A model's SQL with refs and sources as plain table names, vars filled in and the project's macros available."""
    macros = "".join(p.read_text(encoding="utf-8") for p in sorted((DBT_PROJECT / "macros").glob("*.sql")))

    def source(name: str, table: str) -> str:
        return _relation(f"linkage/{table}" if name == "linkage" else f"landing/{name}/{table}")

    env = jinja2.Environment(extensions=["jinja2.ext.do"], undefined=jinja2.StrictUndefined)
    return env.from_string(macros + raw_code).render(
        ref=lambda name: name,
        source=source,
        var=lambda name, default=None: variables.get(name, default),
        config=lambda **_: "",
        is_incremental=lambda: False,
    )


def _path_kind(path: list[Node]) -> str:
    kinds = set()
    for node in path:
        e = node.expression
        if isinstance(e, exp.Table):
            continue
        inner = e.this if isinstance(e, exp.Alias) else e
        if inner.find(exp.AggFunc):
            kinds.add("aggregated")
        elif not isinstance(inner, exp.Column):
            kinds.add("derived")
    return "aggregated" if "aggregated" in kinds else ("derived" if kinds else "copied")


def _leaves(node: Node, path: list[Node]) -> Iterable[tuple[Node, list[Node]]]:
    if not node.downstream:
        yield node, path + [node]
    for child in node.downstream:
        yield from _leaves(child, path + [node])


def dbt_steps(manifest: dict[str, Any], source_columns: dict[str, list[str]]) -> list[Step]:
    """warehouse/<model> <- its models and sources, column by column, from each model's SQL (see the docstring)."""
    variables = yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text(encoding="utf-8")).get("vars", {})
    models = {n: v for n, v in manifest["nodes"].items() if v.get("resource_type") == "model"}
    names = {v["name"] for v in models.values()}
    schema: dict[str, dict[str, str]] = {
        _relation(ds): {c: "VARCHAR" for c in cols} for ds, cols in source_columns.items()
    }
    order: list[str] = []

    def visit(node_id: str) -> None:
        if node_id in order:
            return
        for dep in models[node_id]["depends_on"]["nodes"]:
            if dep in models:
                visit(dep)
        order.append(node_id)

    for node_id in sorted(models):
        visit(node_id)
    steps: list[Step] = []
    for node_id in order:
        model = models[node_id]
        name, ds = model["name"], f"warehouse/{model['name']}"
        parents = [_node_dataset(manifest, d) for d in model["depends_on"]["nodes"]]
        sql = render_sql(model["raw_code"], variables)
        tree = qualify(
            parse_one(sql, dialect="duckdb"), schema=schema, dialect="duckdb", validate_qualify_columns=False
        )
        scope = build_scope(tree)
        outputs = list(tree.named_selects)
        schema[name] = {c: "VARCHAR" for c in outputs}
        for column in outputs:
            out = Field(ds, column)
            root = lineage(column, tree, schema=schema, dialect="duckdb", scope=scope, copy=False)
            for leaf, path in _leaves(root, []):
                kind = _path_kind(path)
                if isinstance(leaf.expression, exp.Table) and "." in leaf.name:
                    col = leaf.name.rpartition(".")[2].strip('"')
                    steps.append(Step(out, Field(_dataset(leaf.expression.name, names), col), kind))
                elif kind == "aggregated":  # count(*): the rows of the model's inputs
                    steps += [Step(out, Field(p, "*"), kind, "counts rows") for p in parents]
                else:  # a literal or a var
                    steps.append(Step(out, None, "constant", "a literal or a dbt var in the model's SQL"))
    return steps


# --- publication and the whole graph ------------------------------------------------------------------------------


def publication_steps(manifest: dict[str, Any]) -> list[Step]:
    """published/<purpose>/<table> <- warehouse/<table>: what each purpose may see, per the dbt column tags."""
    from governance.publish import column_tags
    from governance.purposes import load

    tags = column_tags(manifest)
    steps = []
    for purpose in load().purposes.values():
        for table in purpose.tables:
            for column, meta in tags.get(table, {}).items():
                if purpose.id not in meta.get("purposes", []):
                    continue
                pseudonym = meta.get("privacy_class") == "pseudonym"
                steps.append(
                    Step(
                        Field(f"published/{purpose.id}/{table}", column),
                        Field(f"warehouse/{table}", column),
                        "pseudonymised" if pseudonym else "copied",
                        f"re-keyed for purpose {purpose.id}" if pseudonym else "",
                    )
                )
    return steps


def landing_columns(steps: Iterable[Step]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for s in steps:
        if s.output.dataset.startswith(("landing/", "linkage/")):
            cols = out.setdefault(s.output.dataset, [])
            if s.output.name not in cols:
                cols.append(s.output.name)
    for cols in out.values():
        cols.append("filename")  # read_parquet(..., filename = true) in the sources
    return out


def build(manifest: dict[str, Any], policy: dict[str, Any] | None = None) -> ColumnLineage:
    """The whole graph: boundary, linkage, dbt and publication steps (`policy`: the pseudonymisation policy, by
    default policy.yaml)."""
    graph = ColumnLineage()
    upstream = boundary_steps(policy) + linkage_steps()
    sources = landing_columns(upstream)
    delivery = [
        Step(Field(ds, "filename"), None, "constant", "the delivery's folder in the landing zone") for ds in sources
    ]
    for s in upstream + delivery + dbt_steps(manifest, sources) + publication_steps(manifest):
        graph.add(s)
    return graph


def protected_inputs(graph: ColumnLineage, f: Field) -> list[Field]:
    """The raw fields holding a protected trait (nationality, sex, country of birth, ...) that `f` is made from."""
    from governance.lineage import PROTECTED

    return sorted(raw for raw in graph.origin(f).raw_fields if PROTECTED.search(raw.name))


@cache
def _cached(manifest_json: str) -> ColumnLineage:
    return build(json.loads(manifest_json))


def for_manifest(manifest: dict[str, Any]) -> ColumnLineage:
    """`build`, once per manifest content (the dbt graph takes a couple of seconds to parse)."""
    return _cached(json.dumps(manifest, sort_keys=True))
