"""The dbt project kept as jaffle-shop keeps one: every staging model described and tested on its grain, every
source column that reaches a mart described, facts tied to their dimensions, one YAML file per model, and nothing
unused. Read from the manifest dbt compiled, so it checks what dbt itself sees."""

import re

import pytest
import yaml

from governance.column_lineage import Field, build
from orchestration.dbt_manifest import DBT_PROJECT_DIR, load_manifest


@pytest.fixture(scope="module")
def manifest():
    return load_manifest()


def _models(manifest, layer=None):
    return {
        n["name"]: n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and (layer is None or n["fqn"][1] == layer)
    }


def _tests_on(manifest, model):
    """(test name, column or None) of every data test on `model`."""
    out = []
    for n in manifest["nodes"].values():
        if n["resource_type"] == "test" and f"model.rgw.{model}" in n["depends_on"]["nodes"]:
            kwargs = n["test_metadata"]["kwargs"]
            out.append((n["test_metadata"]["name"], n.get("column_name") or kwargs.get("column_name"), kwargs))
    return out


def test_every_staging_model_is_described_and_tested_on_its_grain(manifest):
    problems = []
    for name, node in _models(manifest, "staging").items():
        if not node["description"]:
            problems.append(f"{name}: no description")
        problems += [f"{name}.{c}: no description" for c, col in node["columns"].items() if not col["description"]]
        tests = _tests_on(manifest, name)
        unique = [c for t, c, _ in tests if t == "unique"]
        combined = [kwargs["columns"] for t, _, kwargs in tests if t == "unique_combination"]  # a grain of columns
        not_null = {c for t, c, _ in tests if t == "not_null"}
        if (
            not (unique or combined)
            or not not_null
            or not (combined or any(c in not_null or "|" in (c or "") for c in unique))
        ):
            problems.append(f"{name}: no unique and not_null test on its grain")
    assert problems == []


def test_every_source_column_that_reaches_a_mart_is_described(manifest):
    graph = build(manifest)
    seen: set[Field] = set()

    def walk(f: Field) -> None:
        if f in seen:
            return
        seen.add(f)
        for s in graph.inputs(f):
            if s.input:
                walk(s.input)
        if f.name == "*":
            for parent in graph.parents(f.dataset):
                walk(Field(parent, "*"))

    for name in _models(manifest, "marts"):
        for column in [*graph.columns[f"warehouse/{name}"], "*"]:
            walk(Field(f"warehouse/{name}", column))
    described = {}
    for src in manifest["sources"].values():
        ds = (
            f"linkage/{src['name']}"
            if src["source_name"] == "linkage"
            else f"landing/{src['source_name']}/{src['name']}"
        )
        described[ds] = {c for c, col in src["columns"].items() if col["description"]}
    read_by_dbt = {s.input for out, steps in graph.steps.items() if out.dataset.startswith("warehouse/") for s in steps}
    reaching = {f for f in seen & read_by_dbt if f.dataset in described and f.name != "*"}
    assert len(reaching) > 100
    assert sorted(str(f) for f in reaching if f.name not in described[f.dataset]) == []


def test_facts_are_tied_to_the_dwelling_and_owner_dimensions(manifest):
    for fact, column, dim in [
        ("fct_meldingen", "verblijfsobject_id", "dim_woningen"),
        ("fct_meldingen", "eigenaar_id", "dim_eigenaren"),
        ("fct_zaken", "verblijfsobject_id", "dim_woningen"),
        ("fct_zaken", "eigenaar_id", "dim_eigenaren"),
        ("fct_bewoningsperioden", "verblijfsobject_id", "dim_woningen"),
        ("woning_indicatoren", "eigenaar_id", "dim_eigenaren"),
    ]:
        assert any(
            t == "relationships" and c == column and dim in kwargs["to"] for t, c, kwargs in _tests_on(manifest, fact)
        ), (fact, column, dim)


def test_one_yaml_file_per_model_and_no_hand_typed_sources(manifest):
    for name, node in _models(manifest).items():
        assert node.get("patch_path"), f"{name} has no YAML"
        path = node["patch_path"].split("://", 1)[1]
        assert path == node["original_file_path"].removesuffix(".sql") + ".yml", name
        meta = [c.get("config", {}).get("meta", {}) for c in node["columns"].values()]
        assert not any("sources" in m for m in meta), f"{name}: `sources` is derived from the lineage, not typed"


def test_nothing_unused_no_orphan_model_no_unused_source_or_var(manifest):
    children: dict[str, int] = {}
    for node in manifest["nodes"].values():
        for dep in node["depends_on"].get("nodes", []):
            if node["resource_type"] == "model":
                children[dep] = children.get(dep, 0) + 1
    orphans = [
        n for n, node in _models(manifest).items() if node["fqn"][1] != "marts" and not children.get(node["unique_id"])
    ]
    assert orphans == []
    assert [s for s in manifest["sources"] if not children.get(s)] == []
    sql = "".join(p.read_text() for p in DBT_PROJECT_DIR.glob("[mt]*/**/*.sql"))
    variables = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    assert [v for v in variables if not re.search(rf"var\(\s*['\"]{v}['\"]", sql)] == []
