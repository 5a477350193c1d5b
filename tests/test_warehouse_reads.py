"""What the warehouse's SQL reads and tests, run as dbt compiled it (the prepared manifest) on small planted data:
staging keeps the latest delivery that has rows, and the grain tests on columns find what the grain test on the
concatenated key found."""

from pathlib import Path

import duckdb
import pytest

from orchestration.dbt_manifest import load_manifest

PROJECT_LANDING = "../data/landing"  # RGW_LANDING's default, which the prepared manifest was compiled with


@pytest.fixture(scope="module")
def manifest():
    return load_manifest()


def _compiled(manifest, unique_id: str) -> str:
    return manifest["nodes"][unique_id]["compiled_code"]


def _brp_delivery(landing: Path, delivery: str, persons: list[str]) -> None:
    folder = landing / "brp" / delivery
    folder.mkdir(parents=True)
    rows = ", ".join(f"('{p}', 1)" for p in persons) or "('none', 1)"
    duckdb.execute(
        f"copy (select bsn_psn, volgnummer::integer as volgnummer, true as is_current, '2026-01-01' as datum_aanvang, "
        f"null::varchar as datum_einde, '0599010000000001' as adres_verblijfsobject_id, "
        f"'0599200000000001' as adres_nummeraanduiding_id, 'bag_id' as adres_methode, '3074AB' as postcode, "
        f"1 as huisnummer, 'Adres' as verblijfplaats_type "
        f"from (values {rows}) t(bsn_psn, volgnummer) {'' if persons else 'where false'}) "
        f"to '{folder / 'verblijfplaats_historie.parquet'}' (format parquet)"
    )


def test_staging_reads_the_latest_delivery_by_its_id_and_only_one_that_has_rows(manifest, tmp_path):
    sql = _compiled(manifest, "model.rgw.stg_brp__verblijfplaatsen").replace(PROJECT_LANDING, str(tmp_path))
    _brp_delivery(tmp_path, "20261101", ["old-a", "old-b"])
    # '20261101-b' is the later delivery id, though its path sorts before '20261101/...'
    _brp_delivery(tmp_path, "20261101-b", ["new-a"])
    persons = duckdb.sql(f"select persoon_psn, record_key from ({sql})").fetchall()
    assert persons == [("new-a", "new-a|1")]
    _brp_delivery(tmp_path, "20261102", [])  # a delivery without rows is passed over, as it always was
    assert duckdb.sql(f"select persoon_psn from ({sql})").fetchall() == [("new-a",)]


def _failures(manifest, test_prefix: str, model: str, columns: str, rows: str) -> int:
    (test,) = [n for k, n in manifest["nodes"].items() if k.startswith(f"test.rgw.{test_prefix}")]
    con = duckdb.connect()
    con.execute("attach ':memory:' as rgw")
    con.execute(f"create table rgw.main.{model} as select * from (values {rows}) t({columns})")
    return len(con.execute(test["compiled_code"]).fetchall())


def test_the_spells_grain_test_finds_a_repeated_person_and_sequence_number_and_passes_over_nulls(manifest):
    prefix, model, columns = (
        "unique_combination_int_bewoningsperioden",
        "int_bewoningsperioden",
        "persoon_psn, volgnummer",
    )
    assert _failures(manifest, prefix, model, columns, "('a', 1), ('a', 2), ('b', 1)") == 0
    assert _failures(manifest, prefix, model, columns, "('a', 1), ('a', 1), ('b', 1)") == 1
    assert _failures(manifest, prefix, model, columns, "(null, 1), (null, 1), ('a', null), ('a', null)") == 0


def test_the_entity_links_grain_test_compares_columns_not_a_joined_string(manifest):
    prefix, model = "unique_combination_stg_linkage__entity_links", "stg_linkage__entity_links"
    columns = "source, entity, record_key, entity_kind"
    assert (
        _failures(
            manifest, prefix, model, columns, "('brp', 'persoon', 'x', 'persoon'), ('brk', 'persoon', 'x', 'eigenaar')"
        )
        == 0
    )
    assert (
        _failures(
            manifest, prefix, model, columns, "('brp', 'persoon', 'x', 'persoon'), ('brp', 'persoon', 'x', 'persoon')"
        )
        == 1
    )
    assert _failures(manifest, prefix, model, columns, "('a|b', 'c', 'x', 'p'), ('a', 'b|c', 'x', 'p')") == 0
    assert _failures(manifest, prefix, model, columns, "('a', null, 'x', 'p'), ('a', null, 'x', 'p')") == 0
