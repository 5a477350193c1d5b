"""What the warehouse's SQL reads, run as dbt compiled it (the prepared manifest) on small planted data: staging
keeps the latest delivery that has rows."""

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
