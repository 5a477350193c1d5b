"""Column lineage from published column to raw source field, and its OpenLineage export: what the privacy officer
reads in the report, checked on the project's own dbt manifest and pseudonymisation policy."""

import copy
import json

import pytest

from governance.column_lineage import LINKAGE_INPUTS, Field, boundary_steps, build, landing_columns, protected_inputs
from governance.openlineage import events, validate, write
from governance.publish import column_tags
from orchestration.dbt_manifest import load_manifest
from pseudonymisation.policy import load_policy


@pytest.fixture(scope="module")
def manifest():
    return load_manifest()


@pytest.fixture(scope="module")
def graph(manifest):
    return build(manifest)


def _origin(graph, text):
    origin = graph.origin(Field.parse(text))
    return {str(f): kinds for f, kinds in origin.raw_fields.items()}, origin


def test_every_published_column_traces_to_raw_source_fields(graph):
    published = [f for f in graph.steps if f.dataset.startswith("published/")]
    assert len(published) > 150
    untraced = []
    for f in published:
        origin = graph.origin(f)
        if not origin.raw_fields:
            untraced.append((str(f), origin.constant))
    # only the programme's targets, which are literals in monitoring_doelen.sql, come from no source field
    assert untraced and all(constant and "monitoring_doelen" in name for name, constant in untraced)


def test_a_resident_pseudonym_traces_to_the_bsn_through_the_boundary_and_the_purpose_rekeying(graph):
    raw, origin = _origin(graph, "published/casusbehandeling/fct_bewoningsperioden.persoon_psn")
    assert set(raw) == {"raw/brp/verblijfplaats_historie.bsn"}
    assert raw["raw/brp/verblijfplaats_historie.bsn"] == {"pseudonymised", "copied"}
    assert {"landing/brp/verblijfplaats_historie", "warehouse/stg_brp__verblijfplaatsen"} <= origin.through
    (step,) = graph.inputs(Field.parse("published/casusbehandeling/fct_bewoningsperioden.persoon_psn"))
    assert step.kind == "pseudonymised" and "casusbehandeling" in step.description


def test_an_indicator_traces_to_floor_area_and_registered_persons_with_the_kinds_of_its_steps(graph):
    raw, _ = _origin(graph, "published/selectie_integrale_acties/woning_indicatoren.ind_overbewoning")
    assert "raw/bag/verblijfsobject.oppervlakte" in raw
    assert {"pseudonymised", "aggregated", "derived"} <= raw["raw/brp/verblijfplaats_historie.bsn"]
    counts, _ = _origin(graph, "published/signalering/signalering_buurt_jaar.aantal")
    assert counts and all("aggregated" in kinds for kinds in counts.values())


def test_linked_columns_trace_through_the_linkage_to_the_fields_it_compares(graph):
    raw, origin = _origin(graph, "warehouse/dim_woningen.eigenaar_id")
    assert "linkage/entity_links" in origin.through
    assert any(kinds >= {"linked", "encoded"} for kinds in raw.values())  # names compared as keyed encodings


def test_the_linkage_inputs_name_columns_the_boundary_writes():
    landed = landing_columns(boundary_steps())
    named = [i for spec in LINKAGE_INPUTS.values() for inputs in spec.get("linked", {}).values() for i in inputs]
    for text in named:
        f = Field.parse(text)
        assert f.name in landed.get(f.dataset, []), text


def test_no_indicator_is_fed_by_a_protected_trait_and_a_planted_one_is_found(manifest, graph):
    indicators = [c for c in graph.columns["warehouse/woning_indicatoren"] if c.startswith("ind_")]
    assert len(indicators) == 8
    assert all(protected_inputs(graph, Field("warehouse/woning_indicatoren", c)) == [] for c in indicators)
    policy = copy.deepcopy(load_policy())  # plant: nationality kept at the door and used to count residents
    policy["brp"]["verblijfplaats_historie"]["nationaliteiten"] = "keep"
    planted = copy.deepcopy(manifest)
    node = planted["nodes"]["model.rgw.stg_brp__verblijfplaatsen"]
    node["compiled_code"] = node["compiled_code"].replace(
        "    is_current,", "    is_current and nationaliteiten = 'NL' as is_current,"
    )
    found = protected_inputs(build(planted, policy), Field("warehouse/woning_indicatoren", "ind_overbewoning"))
    assert found == [Field("raw/brp/verblijfplaats_historie", "nationaliteiten")]


def test_a_planted_filter_on_a_protected_trait_is_found_as_an_indirect_input(manifest):
    """A trait used only to filter rows (OpenLineage INDIRECT/FILTER) feeds every column of the model it filters."""
    policy = copy.deepcopy(load_policy())
    policy["brp"]["verblijfplaats_historie"]["nationaliteiten"] = "keep"
    planted = copy.deepcopy(manifest)
    node = planted["nodes"]["model.rgw.stg_brp__verblijfplaatsen"]
    node["compiled_code"] += "\nwhere nationaliteiten = 'NL'"
    graph = build(planted, policy)
    nationality = Field("raw/brp/verblijfplaats_historie", "nationaliteiten")
    origin = graph.origin(Field("warehouse/woning_indicatoren", "ind_overbewoning"))
    assert nationality not in origin.raw_fields and "filtered" in origin.indirect_fields[nationality]
    assert protected_inputs(graph, Field("warehouse/woning_indicatoren", "ind_overbewoning")) == [nationality]


def test_tenants_not_registered_trace_to_the_contracts_and_entity_links_they_count(graph):
    """The count of corporation tenants not registered at the dwelling counts contracts running at the reference
    date, joined to units and tenants and, through the entity links, to the registered persons."""
    out = Field("warehouse/int_woningen__huurders", "n_huurders_niet_ingeschreven")
    steps = {(str(s.input), s.kind) for s in graph.inputs(out)}
    assert ("warehouse/stg_corporaties__huurovereenkomsten.*", "aggregated") in steps  # the rows it counts
    assert ("warehouse/stg_corporaties__huurovereenkomsten.begindatum", "filtered") in steps
    assert ("warehouse/stg_corporaties__huurovereenkomsten.eenheid_id", "joined") in steps
    assert ("warehouse/stg_linkage__entity_links.record_key", "joined") in steps
    assert ("warehouse/stg_linkage__entity_links.entity_id", "joined") in steps
    origin = graph.origin(
        Field("published/selectie_integrale_acties/woning_indicatoren", "n_huurders_niet_ingeschreven")
    )
    assert {"linkage/entity_links", "warehouse/stg_corporaties__huurovereenkomsten"} <= origin.through
    every = {str(f) for f in origin.all_fields()}
    assert {"raw/corporaties/huurovereenkomst.*", "raw/corporaties/huurovereenkomst.begindatum",
            "raw/corporaties/huurovereenkomst.einddatum", "raw/corporaties/relatie.soort",
            "raw/brp/verblijfplaats_historie.bsn"} <= every  # fmt: skip
    assert "filtered" in origin.indirect_fields[Field("raw/corporaties/huurovereenkomst", "einddatum")]
    assert set(origin.sources()) >= {"corporaties", "brp"}


def test_every_model_input_shows_in_the_lineage_of_a_column_or_of_the_rows(manifest, graph):
    """No model reads a model or source that its lineage leaves out, whether it takes values from it, joins or
    filters on it, or counts its rows."""
    missing = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        ds = f"warehouse/{node['name']}"
        seen = {s.input.dataset for c in [*graph.columns[ds], "*"] for s in graph.inputs(Field(ds, c)) if s.input}
        for dep in node["depends_on"]["nodes"]:
            parent = dep.split(".")[-1]
            if not any(d.endswith(f"/{parent}") for d in seen):
                missing.append(f"{node['name']} <- {parent}")
    assert missing == []


def test_the_openlineage_export_validates_and_a_broken_event_is_named(graph, manifest, tmp_path):
    items = events(graph, column_tags(manifest))
    assert len(items) == len([d for d in graph.datasets() if not d.startswith("raw/")])
    assert validate(items) == []
    path = write(tmp_path / "openlineage.jsonl", items)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    pub = next(e for e in lines if e["job"]["name"] == "published/casusbehandeling/fct_bewoningsperioden")
    facet = pub["outputs"][0]["facets"]["columnLineage"]["fields"]["persoon_psn"]["inputFields"][0]
    assert facet["name"] == "warehouse/fct_bewoningsperioden" and facet["transformations"][0]["masking"] is True
    tags = pub["outputs"][0]["facets"]["tags"]["tags"]
    assert {"key": "privacy_class", "value": "pseudonym", "source": "DBT", "field": "persoon_psn"} in tags
    huurders = next(e for e in lines if e["job"]["name"] == "warehouse/int_woningen__huurders")
    lineage = huurders["outputs"][0]["facets"]["columnLineage"]
    joined = [
        i["transformations"][0]
        for i in lineage["fields"]["n_huurders_niet_ingeschreven"]["inputFields"]
        if i["name"] == "warehouse/stg_linkage__entity_links" and i["field"] == "record_key"
    ]
    assert joined and joined[0]["type"] == "INDIRECT" and joined[0]["subtype"] == "JOIN"
    assert {("INDIRECT", "FILTER")} <= {(i["transformations"][0]["type"], i["transformations"][0]["subtype"])
                                        for i in lineage["dataset"]}  # fmt: skip
    broken = copy.deepcopy(lines[0])
    broken["run"]["runId"] = "not-a-uuid"
    del broken["outputs"][0]["facets"]["columnLineage"]["_producer"]
    problems = validate([broken])
    assert any("runId" in p for p in problems) and any("_producer" in p for p in problems)


def test_rgw_privacy_lineage_exports_the_events_and_explains_a_column(tmp_path):
    from click.testing import CliRunner

    from rgw.cli import main

    out = tmp_path / "ol.jsonl"
    column = "published/selectie_integrale_acties/woning_indicatoren.ind_leegstand"
    result = CliRunner().invoke(main, ["privacy", "lineage", "--out", str(out), "--column", column])
    assert result.exit_code == 0, result.output
    assert "OpenLineage events" in result.output and "<- stedin/verbruik.verbruik" in result.output
    assert validate([json.loads(line) for line in out.read_text().splitlines()]) == []


# What each indicator reads, per the indicator register (governance/indicators.yaml, `inputs`), as raw tables.
INDICATOR_INPUTS = {
    "ind_overbewoning": {"brp/verblijfplaats_historie", "bag/verblijfsobject"},
    "ind_niet_ingeschreven": {"stedin/verbruik", "brp/verblijfplaats_historie", "corporaties/huurovereenkomst",
                              "corporaties/relatie", "corporaties/eenheid"},
    "ind_leegstand": {"brp/verblijfplaats_historie", "stedin/verbruik"},
    "ind_verloop": {"brp/verblijfplaats_historie"},
    "ind_herhaalde_meldingen": {"meldpunten/melding"},
    "ind_recidiverende_eigenaar": {"brk/zakelijk_gerechtigde", "meldpunten/melding", "meldpunten/zaak_interventie"},
    "ind_zonder_vergunning": {"bag/verblijfsobject", "gebieden/buurt", "brk/zakelijk_gerechtigde",
                              "brp/verblijfplaats_historie", "corporaties/eenheid", "meldpunten/vergunning"},
    "ind_arbeidsmigranten": {"meldpunten/melding"},
}  # fmt: skip


def test_rgw_privacy_lineage_traces_every_input_of_every_indicator(graph, tmp_path):
    """The privacy officer asks where each indicator comes from: the command prints every raw field the lineage holds
    for it (made from, or deciding its rows), and those cover every input the indicator register names."""
    from click.testing import CliRunner

    from rgw.cli import main

    table = "published/selectie_integrale_acties/woning_indicatoren"
    assert sorted(c for c in graph.columns[table] if c.startswith("ind_")) == sorted(INDICATOR_INPUTS)
    args = ["privacy", "lineage", "--out", str(tmp_path / "ol.jsonl")]
    for column in INDICATOR_INPUTS:
        args += ["--column", f"{table}.{column}"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    printed: dict[str, set[str]] = {}
    for line in result.output.splitlines():
        if line.startswith(table):
            column = printed.setdefault(line.rpartition(".")[2], set())
        elif line.startswith(("  <- ", "  rows decided by ")):
            column.add(line.removeprefix("  <- ").removeprefix("  rows decided by ").split(" (")[0])
    for name, expected in INDICATOR_INPUTS.items():
        every = {str(f).removeprefix("raw/") for f in graph.origin(Field(table, name)).all_fields()}
        assert printed[name] == every, name
        assert expected <= {f.rpartition(".")[0] for f in every}, name


def test_the_graph_kept_on_disk_is_the_graph_built_and_a_changed_manifest_is_built_again(manifest, tmp_path):
    from governance.column_lineage_cache import kept

    text = json.dumps(manifest, sort_keys=True)
    path = tmp_path / "column_lineage.pickle"
    built = kept(text, lambda: build(json.loads(text)), path)
    read = kept(text, lambda: pytest.fail("built again although kept for the same inputs"), path)
    assert read.columns == built.columns
    assert read.steps.keys() == built.steps.keys()
    assert all(read.steps[f] == steps for f, steps in built.steps.items())
    changed = copy.deepcopy(manifest)
    model = next(n for n in changed["nodes"].values() if n["resource_type"] == "model")
    model["compiled_code"] = model["compiled_code"] + "\n-- changed"
    assert kept(json.dumps(changed, sort_keys=True), lambda: "built again", path) == "built again"
    path.write_bytes(b"not a pickle")  # an unreadable file is built again, never an error
    assert kept(text, lambda: "built again", path) == "built again"
