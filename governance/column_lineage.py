"""Column lineage from every published column back to the raw source fields, with the kind of every step.

Open-source Dagster draws asset lineage and dbt's column lineage lives in a paid product, so the hub derives its own,
statically, from the code that moves the data (no data needed, the same on every machine):

- **boundary** (raw -> landing): `pseudonymisation/policy.yaml` says per raw field whether it was copied,
  pseudonymised, encoded or generalised; the `adres_*` columns the boundary adds come from the record's address
  fields, resolved to BAG at the door (*linked*).
- **linkage** (landing -> `linkage/*`): the landing columns each linkage table is computed from, below in
  `LINKAGE_INPUTS` (kept beside the SQL in linkage/entities.py and pseudonymisation/boundary.py; a test checks every
  name against the policy).
- **dbt** (landing and linkage -> warehouse): each model's SQL as dbt compiled it (the manifest's `compiled_code`,
  see orchestration/dbt_manifest.py), parsed and qualified by sqlglot; every output column is followed back through
  CTEs, subqueries, unions and unnest to the columns of the models and sources it reads. The step is *copied* where
  the expression is a bare column all the way, *aggregated* where an aggregate (or window aggregate) is on the path,
  *derived* otherwise, and *constant* where it reads no column at all (a literal or a dbt var). A column also depends
  on the fields that decide which rows it has (OpenLineage INDIRECT): inner join keys (*joined*), where/having/qualify
  conditions (*filtered*) and group by columns (*grouped*) of every query on its way; a left join decides only the
  columns it brings. `count(*)` traces to the rows (`*`) of the tables it counts, and `<model>.*` to the fields that
  decide the model's rows.
- **publication** (warehouse -> `published/<purpose>/*`): copied, except pseudonym columns, which are re-keyed
  per purpose (*pseudonymised*).

Datasets are named like the Dagster assets: `raw/<source>/<entity>`, `landing/<source>/<entity>`,
`linkage/<table>`, `warehouse/<model>`, `published/<purpose>/<table>`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlglot import exp, parse_one
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope

from connectors.registry import address_columns, entities_with_addresses
from governance.column_lineage_cache import kept
from hubcore.dbt_manifest import ensure_manifest
from pseudonymisation.policy import _parse, load_policy, output_name

# Indirect kinds (a field that decides which rows a column has, OpenLineage's INDIRECT) come first: where a field is
# both, the direct step is kept.
INDIRECT_KINDS = ("joined", "filtered", "grouped")
KINDS = (*INDIRECT_KINDS, "copied", "pseudonymised", "encoded", "generalised", "linked", "derived", "aggregated",
         "constant")  # fmt: skip
POLICY_KIND = {
    "keep": "copied",
    "pseudonymise": "pseudonymised",
    "encode": "encoded",
    "generalise": "generalised",
    "keep_legal_person": "copied",
}
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
    """Where one column comes from: each raw source field it is made from (`raw_fields`) and each that decides which
    rows it has (`indirect_fields`: joined on, filtered on, grouped by, on any step of the way), with the kinds of
    step on the way, and the datasets passed."""

    raw_fields: dict[Field, set[str]] = field(default_factory=dict)
    indirect_fields: dict[Field, set[str]] = field(default_factory=dict)
    through: set[str] = field(default_factory=set)
    constant: bool = False

    def merge(self, other: Origin, kind: str, dataset: str) -> None:
        if kind in INDIRECT_KINDS:
            for f, kinds in [*other.raw_fields.items(), *other.indirect_fields.items()]:
                self.indirect_fields.setdefault(f, set()).update(kinds | {kind})
        else:
            for f, kinds in other.raw_fields.items():
                self.raw_fields.setdefault(f, set()).update(kinds | {kind})
            for f, kinds in other.indirect_fields.items():
                self.indirect_fields.setdefault(f, set()).update(kinds | {kind})
            self.constant = self.constant or other.constant
        self.through.update(other.through | {dataset})

    def all_fields(self) -> list[Field]:
        """Every raw field the column depends on, directly or not."""
        return sorted(self.raw_fields.keys() | self.indirect_fields.keys())

    def sources(self) -> list[str]:
        """The source registries its value is made from (the `sources` of a column; rows decided elsewhere aside)."""
        return sorted({f.dataset.split("/")[1] for f in self.raw_fields})


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
        if step.output.name != "*" and step.output.name not in cols:  # `*`: the rows, not a column
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
            declared = address_columns(source, entity)
            if declared is not None:
                address = [c for c in declared.columns if c in columns]
                for out in policy.get("_boundary", {}):
                    for column in address:
                        steps.append(Step(Field(landing, out), Field(raw, column), "linked", "address resolved to BAG"))
    return steps


def linkage_steps() -> list[Step]:
    """landing -> linkage tables, from LINKAGE_INPUTS."""
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
            for source, entity, _ in entities_with_addresses():
                landing_column = "adres_" + {"method": "methode", "unresolved_reason": "onopgelost"}.get(column, column)
                steps.append(Step(Field(ds, column), Field(f"landing/{source}/{entity}", landing_column), "linked"))
        for column, like in spec.get("same_as", {}).items():
            steps += [Step(Field(ds, column), s.input, s.kind) for s in steps if s.output == Field(ds, like)]
    return steps


# --- dbt ----------------------------------------------------------------------------------------------------------

DIRECT_RANK = ("copied", "derived", "aggregated")
CLAUSES = (("joins", "joined"), ("where", "filtered"), ("having", "filtered"), ("qualify", "filtered"),
           ("group", "grouped"))  # fmt: skip


def _relation(dataset: str) -> str:
    """The plain table name a dataset gets in the SQL we parse."""
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


def compiled_sql(manifest: dict[str, Any], node_id: str) -> str:
    """The model's SQL as dbt compiled it (`compiled_code`), with every relation dbt wrote into it (a model's
    `"db"."main"."name"`, a source's `read_parquet(...)`) replaced by a plain table name we can map back to a dataset.
    dbt does the Jinja (refs, sources, vars, macros); we only read the result."""
    node = manifest["nodes"][node_id]
    sql = node.get("compiled_code")
    if not sql:
        raise ValueError(
            f"the dbt manifest has no compiled SQL for {node_id}: prepare the project with `dbt compile` "
            "(make install, or dagster-dbt project prepare-and-package --file orchestration/dbt_manifest.py)"
        )
    relations = {
        n["relation_name"]: _relation(_node_dataset(manifest, n_id) if n_id in manifest["sources"] else n["name"])
        for n_id, n in [*manifest["nodes"].items(), *manifest["sources"].items()]
        if n.get("relation_name")
    }
    for relation in sorted(relations, key=len, reverse=True):
        sql = sql.replace(relation, relations[relation])
    return sql


def _columns(e: exp.Expression) -> list[exp.Column]:
    """The columns of `e` itself, not those of a subquery inside it (those belong to the subquery's scope)."""
    found, stack = [], [e]
    while stack:
        node = stack.pop()
        if isinstance(node, exp.Column):
            found.append(node)
            continue
        for child in node.iter_expressions():
            if not isinstance(child, (exp.Subquery, exp.Select)):
                stack.append(child)
    return found


def _stronger(kind: str, other: str) -> str:
    return max(kind, other, key=DIRECT_RANK.index)


@dataclass
class _Trace:
    """Within one model: the fields of its parents a column is made from (direct, with the kind of step) and the
    fields that decide which rows it has (indirect: joined on, filtered on, grouped by), and whether it is a
    constant."""

    direct: dict[Field, str] = field(default_factory=dict)
    indirect: dict[Field, str] = field(default_factory=dict)
    constant: bool = False

    def add_direct(self, other: _Trace, kind: str) -> None:
        for f, k in other.direct.items():
            self.direct[f] = _stronger(self.direct.get(f, kind), _stronger(k, kind))
        self.add_indirect_only(other)
        self.constant = self.constant or other.constant

    def add_indirect_only(self, other: _Trace) -> None:
        for f, k in other.indirect.items():
            self.indirect.setdefault(f, k)

    def add_as_indirect(self, other: _Trace, kind: str) -> None:
        """`other` decides rows here: its direct fields become indirect of `kind`; its indirect ones stay so."""
        for f in other.direct:
            self.indirect.setdefault(f, kind)
        self.add_indirect_only(other)


class _ModelTracer:
    """Follows each output column of one model through its CTEs, subqueries and unions to the tables it reads."""

    def __init__(self, tree: exp.Expression, models: set[str]) -> None:
        self.root = build_scope(tree)
        self.models = models
        self._columns: dict[tuple[int, str], _Trace] = {}
        self._rows: dict[int, _Trace] = {}
        self._left: dict[tuple[str, int], dict[str, _Trace]] = {}

    def output(self, column: str) -> _Trace:
        return self.column(self.root, column)

    def rows(self, scope: Scope) -> _Trace:
        """What decides the rows of `scope`: its inner join keys, filters and groupings, and those of every scope it
        reads from or inner-joins. A left join decides only the columns taken from its right side (`joined`)."""
        key = id(scope)
        if key in self._rows:
            return self._rows[key]
        out = self._rows[key] = _Trace()
        if isinstance(scope.expression, exp.SetOperation):
            for branch in scope.set_operation_scopes:
                out.add_indirect_only(self.rows(branch))
            return out
        select = scope.expression
        left = self.left_joined(scope)
        for arg, kind in CLAUSES:
            clauses = select.args.get(arg) or []
            for clause in clauses if isinstance(clauses, list) else [clauses]:
                if arg == "joins" and clause.alias_or_name in left:
                    continue
                parts = [clause.args.get("on"), *(clause.args.get("using") or [])] if arg == "joins" else [clause]
                for part in filter(None, parts):
                    for col in _columns(part):
                        out.add_as_indirect(self.reference(scope, col), kind)
        for alias, (_, source) in scope.selected_sources.items():
            if isinstance(source, Scope) and alias not in left:
                out.add_indirect_only(self.rows(source))
        for sub in scope.subquery_scopes:  # where x in (select ...), exists (...)
            for name in sub.expression.named_selects:
                out.add_as_indirect(self.column(sub, name), "filtered")
            out.add_indirect_only(self.rows(sub))
        return out

    def left_joined(self, scope: Scope) -> dict[str, _Trace]:
        """Per source left-joined in `scope`: its join condition and what decides its own rows."""
        key = ("left", id(scope))
        if key in self._left:
            return self._left[key]
        out: dict[str, _Trace] = {}
        self._left[key] = out
        for join in scope.expression.args.get("joins") or []:
            if join.side != "LEFT":
                continue
            alias, trace = join.alias_or_name, _Trace()
            out[alias] = trace
            for col in _columns(join.args.get("on") or exp.true()):
                trace.add_as_indirect(self.resolve(scope, col), "joined")
            source = scope.selected_sources.get(alias, (None, None))[1]
            if isinstance(source, Scope):
                trace.add_indirect_only(self.rows(source))
        return out

    def reference(self, scope: Scope, col: exp.Column) -> _Trace:
        """A column reference, and, when it is taken from a left-joined source, that join's conditions."""
        trace = self.resolve(scope, col)
        left = self.left_joined(scope).get(col.table) if not isinstance(scope.expression, exp.SetOperation) else None
        if left is None:
            return trace
        out = _Trace()
        out.add_direct(trace, "copied")
        out.add_indirect_only(left)
        return out

    def column(self, scope: Scope, name: str) -> _Trace:
        key = (id(scope), name)
        if key in self._columns:
            return self._columns[key]
        out = self._columns[key] = _Trace()
        if isinstance(scope.expression, exp.SetOperation):
            position = scope.expression.named_selects.index(name)
            for branch in scope.set_operation_scopes:
                out.add_direct(self.column(branch, branch.expression.named_selects[position]), "copied")
            return out
        if isinstance(scope.expression, exp.UDTF):  # unnest(m.list) as o(item): made from the columns it unnests
            for col in _columns(scope.expression):
                out.add_direct(self.resolve(scope, col), "derived")
            return out
        expression = next((s for s in scope.expression.selects if s.alias_or_name == name), None)
        if expression is None:
            return out
        inner = expression.unalias()
        kind = "aggregated" if inner.find(exp.AggFunc) else ("copied" if isinstance(inner, exp.Column) else "derived")
        cols = _columns(inner)
        counts_rows = any(isinstance(a.this, exp.Star) for a in inner.find_all(exp.Count))
        for col in cols:
            out.add_direct(self.reference(scope, col), kind)
        if counts_rows:  # count(*): the rows of every table the scope reads
            for table in self.tables(scope):
                out.direct[Field(table, "*")] = "aggregated"
        if not cols and not counts_rows:
            out.constant = True
        out.add_indirect_only(self.rows(scope))
        return out

    def resolve(self, scope: Scope | None, col: exp.Column) -> _Trace:
        """A column reference in `scope`: a field of a table, or a column of a CTE or subquery traced further."""
        while scope is not None:
            selected = scope.selected_sources.get(col.table)
            if selected is not None:
                source = selected[1]
                if isinstance(source, Scope):
                    return self.column(source, col.name)
                table = _dataset(source.name, self.models)
                return _Trace(direct={Field(table, col.name): "copied"})
            scope = scope.parent  # a correlated subquery names a column of an outer scope
        return _Trace()  # a lambda parameter or a struct field: no column of a table

    def tables(self, scope: Scope) -> set[str]:
        if isinstance(scope.expression, exp.SetOperation):
            return {t for branch in scope.set_operation_scopes for t in self.tables(branch)}
        found = set()
        for _, source in scope.selected_sources.values():
            if isinstance(source, Scope):
                found |= self.tables(source)
            elif isinstance(source, exp.Table):
                found.add(_dataset(source.name, self.models))
        return found


def dbt_steps(manifest: dict[str, Any], source_columns: dict[str, list[str]]) -> list[Step]:
    """warehouse/<model> <- its models and sources, column by column, from each model's compiled SQL: the fields
    each column is made from (direct) and those that decide which rows it has (indirect: joins, filters, groupings);
    `<model>.*`, the model's rows, from the fields that decide them."""
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
        name = models[node_id]["name"]
        ds = f"warehouse/{name}"
        tree = qualify(
            parse_one(compiled_sql(manifest, node_id), dialect="duckdb"),
            schema=schema,
            dialect="duckdb",
            validate_qualify_columns=False,
        )
        outputs = list(tree.named_selects)
        schema[name] = {c: "VARCHAR" for c in outputs}
        tracer = _ModelTracer(tree, names)
        for column in outputs:
            out, trace = Field(ds, column), tracer.output(column)
            steps += [Step(out, f, k, "counts rows" if f.name == "*" else "") for f, k in trace.direct.items()]
            steps += [Step(out, f, k) for f, k in trace.indirect.items() if f not in trace.direct]
            if trace.constant and not trace.direct:
                steps.append(Step(out, None, "constant", "a literal or a dbt var in the model's SQL"))
        for f, k in tracer.rows(tracer.root).indirect.items():
            steps.append(Step(Field(ds, "*"), f, k, "decides which rows the model has"))
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
    """The raw fields holding a protected trait (nationality, sex, country of birth, ...) that `f` is made from or that
    decide its rows."""
    from governance.lineage import PROTECTED

    return [raw for raw in graph.origin(f).all_fields() if PROTECTED.search(raw.name)]


@cache
def _cached(manifest_json: str) -> ColumnLineage:
    return kept(manifest_json, lambda: build(json.loads(manifest_json)))


def for_manifest(manifest: dict[str, Any]) -> ColumnLineage:
    """`build`, once per manifest content (the dbt graph takes a couple of seconds to parse), kept on disk between
    processes (governance/column_lineage_cache.py)."""
    return _cached(json.dumps(manifest, sort_keys=True))


@cache
def _graph_of(manifest_text: str) -> ColumnLineage:
    return for_manifest(json.loads(manifest_text))


def current_graph() -> ColumnLineage:
    """The graph of the prepared dbt manifest (built once per manifest content): what Dagster's metadata, the privacy
    report and a subject's access report all show."""
    return _graph_of(ensure_manifest().read_text(encoding="utf-8"))
