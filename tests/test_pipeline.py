"""The whole hub on the tiny synthetic Rotterdam, in process: ingest, boundary, linkage, dbt build, indicators.

One run (module fixture) on an ephemeral Dagster instance; each test checks what a user of one layer would check.
"""

import json
import re

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest

from governance.identifier_scan import scan_zone
from orchestration.assets.landing import raw_person_files
from orchestration.runner import run_everything
from rgw.settings import HubPaths
from synth import generate

INDICATOR_OF = {
    "overbewoning": "ind_overbewoning",
    "niet_ingeschreven": "ind_niet_ingeschreven",
    "leegstand": "ind_leegstand",
    "huur_te_hoog": "ind_herhaalde_meldingen",
    "recidiverende_eigenaar": "ind_recidiverende_eigenaar",
    "arbeidsmigranten_contract": "ind_arbeidsmigranten",
    "verhuur_zonder_vergunning": "ind_zonder_vergunning",
    "verloop": "ind_verloop",
}
# Column names of protected traits (geslachtsnaam, a surname, is not one: whole words only).
PROTECTED = re.compile(r"\b(nationaliteit\w*|geslacht|geboorteland|etniciteit|religie|land_van_herkomst)\b")


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    data = tmp_path_factory.mktemp("hub")
    generate("tiny", 5, data)
    mp.setenv("RGW_DATA", str(data))
    mp.setenv("RGW_MASTER_KEY", "ab" * 32)
    paths = HubPaths(data).ensure()
    instance = dg.DagsterInstance.ephemeral()
    report = run_everything(instance, paths)
    yield paths, instance, report
    mp.undo()


@pytest.fixture(scope="module")
def warehouse(hub):
    paths, _, _ = hub
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    yield con
    con.close()


def test_the_whole_run_succeeds(hub):
    _, _, report = hub
    assert report.ok, report.failed


def test_no_direct_identifier_passes_the_boundary(hub):
    paths, _, _ = hub
    assert scan_zone([paths.landing], raw_person_files(paths.raw)) == []
    persons = pq.read_table(next((paths.landing / "brp").iterdir()) / "persoon.parquet")
    assert "bsn" not in persons.column_names and "bsn_psn" in persons.column_names
    assert not {"nationaliteiten", "geslacht"} & set(persons.column_names)


def test_linkage_checks_meet_the_goals(hub):
    _, instance, _ = hub
    for asset, check in (
        (["linkage", "address_links"], "address_quality_vs_ground_truth"),
        (["linkage", "entity_links"], "entity_quality_vs_ground_truth"),
    ):
        key = dg.AssetCheckKey(dg.AssetKey(asset), check)
        record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
        evaluation = record.event.dagster_event.event_specific_data
        assert evaluation.passed, {k: v.value for k, v in evaluation.metadata.items()}


def test_every_planted_abuse_is_signalled_by_its_indicator(hub, warehouse):
    paths, _, _ = hub
    truth = pq.read_table(paths.ground_truth / "abuses.parquet").to_pylist()
    missed = []
    for row in truth:
        (fired,) = warehouse.execute(
            f"select {INDICATOR_OF[row['abuse']]} from woning_indicatoren where verblijfsobject_id = ?",
            [row["verblijfsobject_id"]],
        ).fetchone()
        missed.append(row) if not fired else None
    assert not missed, missed


def test_the_selection_list_explains_itself(warehouse):
    rows = warehouse.execute(
        "select toelichting, n_indicatoren from selectie_integrale_acties order by n_indicatoren desc limit 3"
    ).fetchall()
    assert rows and all(t.startswith(f"{n} van 8 indicatoren: ") for t, n in rows)
    assert any("ingeschreven op" in t or "meldingen:" in t for t, _ in rows)


def test_no_indicator_reads_a_protected_trait(hub):
    manifest = json.loads((pytest.importorskip("orchestration.dbt_manifest").MANIFEST).read_text())
    nodes = manifest["nodes"]
    target = "model.rgw.woning_indicatoren"
    seen, todo = set(), [target]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo.extend(manifest["parent_map"].get(node, []))
    sql = " ".join(nodes[n]["raw_code"].lower() for n in seen if n in nodes)
    assert not PROTECTED.findall(sql)
    sources = [n for n in seen if n.startswith("source.")]
    assert sources  # the lineage reaches the landing zone, whose tables hold no protected trait:
    paths, _, _ = hub
    for source_file in paths.landing.glob("*/*/*.parquet"):
        names = pq.read_schema(source_file).names
        assert not [c for c in names if PROTECTED.fullmatch(c)], source_file
