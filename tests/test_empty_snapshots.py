"""A full snapshot delivered with only its header (or an empty list, or no objects) is refused, naming the file.

Landing one would silently wipe the source downstream: the warehouse reads the latest delivery of BAG, BRP, BRK, the
corporations, Stedin and the neighbourhood map. Each case below is a real file format made header-only: the real
published samples where the repository has them, else the synthetic world's delivery of that source. Each goes
through `SourceSpec.read`, what the ingest assets and `rgw ingest` call. The report desks' meldingen are mutations
(new reports since the last delivery): an empty one is read, not refused.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.delivery import DeliveryError
from connectors.registry import SOURCES
from connectors.snapshots import EMPTY_SNAPSHOT, SNAPSHOT_SOURCES

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """The tiny synthetic world's deliveries (one per source)."""
    from synth import generate

    out = tmp_path_factory.mktemp("empty-snapshots")
    generate("tiny", 11, out)
    return out / "incoming"


def _copy(synthetic: Path, source: str, tmp_path: Path) -> Path:
    delivery = tmp_path / source
    shutil.copytree(next((synthetic / source).iterdir()), delivery)
    return delivery


def _header_only(path: Path) -> None:
    path.write_bytes(path.read_bytes().split(b"\n", 1)[0] + b"\n")


def _refused(source: str, delivery: Path, tmp_path: Path, file: str, place: str) -> str:
    """Read through the registry; the refusal must name the file and the place, and leave nothing in staging."""
    staging = tmp_path / "staging"
    with pytest.raises(DeliveryError) as caught:
        SOURCES[source].read(delivery, delivery_id="x", staging_root=staging)
    assert re.search(rf"{re.escape(file)}, {re.escape(place)}: {EMPTY_SNAPSHOT}", str(caught.value)), caught.value
    assert not staging.exists() or list(staging.iterdir()) == []
    return str(caught.value)


def test_the_snapshot_sources_are_every_source_but_the_report_desks():
    assert set(SOURCES) - SNAPSHOT_SOURCES == {"meldpunten"}


def test_brp_gbav_real_file_with_only_its_header(real_fixtures, tmp_path):
    gbav = tmp_path / "20220502_Testset_persoonslijsten_proefomgeving_GBA-V.csv"
    shutil.copy(real_fixtures / "brp" / gbav.name, gbav)
    _header_only(gbav)
    _refused("brp", gbav, tmp_path, gbav.name, "line 2")


def test_brp_haal_centraal_real_response_without_persons(real_fixtures, tmp_path):
    response = tmp_path / "999971785-response_01.json"
    doc = json.loads((real_fixtures / "brp" / "personen-responses" / response.name).read_text())
    doc["personen"] = []
    response.write_text(json.dumps(doc))
    _refused("brp", response, tmp_path, response.name, "personen")


def test_brp_a_delivery_where_one_response_has_no_person_is_read(real_fixtures, tmp_path):
    """One query that found nobody is an answer, not a failed export; the delivery as a whole has persons."""
    delivery = tmp_path / "responses"
    shutil.copytree(real_fixtures / "brp" / "personen-responses", delivery)
    empty = delivery / "999999333-response_02.json"
    doc = json.loads(empty.read_text())
    doc["personen"] = []
    empty.write_text(json.dumps(doc))
    result = SOURCES["brp"].read(delivery, delivery_id="x", staging_root=tmp_path / "staging")
    assert result.entities["persoon"].records_in > 0


def test_brp_synthetic_persoonslijsten_with_only_the_header(synthetic, tmp_path):
    delivery = _copy(synthetic, "brp", tmp_path)
    _header_only(delivery / "brp_persoonslijsten.csv")
    _refused("brp", delivery, tmp_path, "brp_persoonslijsten.csv", "line 2")


def test_bag_real_lvbag_extract_without_objects(real_fixtures, tmp_path):
    source = real_fixtures / "bag" / "nlextract" / "0221NUM15092020-000001.xml"
    text = source.read_text(encoding="utf-8")
    header_only = text[: text.index("<sl:stand>")] + "</sl:standBestand>\n</sl-bag-extract:bagStand>\n"
    extract = tmp_path / source.name
    extract.write_text(header_only, encoding="utf-8")
    _refused("bag", extract, tmp_path, source.name, "sl:standBestand")


def test_bag_synthetic_extract_whose_every_file_is_header_only(synthetic, tmp_path):
    delivery = _copy(synthetic, "bag", tmp_path)
    for xml in delivery.glob("0599*.xml"):
        text = xml.read_text(encoding="utf-8")
        if "<sl:stand>" in text:
            xml.write_text(text[: text.index("<sl:stand>")] + "</sl:standBestand>\n</sl-bag-extract:bagStand>\n")
    _refused("bag", delivery, tmp_path, str(delivery), "sl:standBestand")


def test_brk_bulk_with_empty_collections(synthetic, tmp_path):
    delivery = _copy(synthetic, "brk", tmp_path)
    (delivery / "brk_bulk.json").write_text(
        json.dumps({"_embedded": {"kadastraalOnroerendeZaken": [], "zakelijkGerechtigden": [], "personen": []}})
    )
    _refused("brk", delivery, tmp_path, "brk_bulk.json", "_embedded")


def test_corporations_real_vera_file_as_an_empty_list(real_fixtures, tmp_path):
    delivery = tmp_path / "eenheden"
    shutil.copytree(real_fixtures / "corporaties" / "eenheden", delivery)
    (delivery / "zelfstandig_20002000126.json").write_text("[]")
    _refused("corporaties", delivery, tmp_path, "zelfstandig_20002000126.json", "root")


def test_corporations_synthetic_relaties_as_an_empty_list(synthetic, tmp_path):
    """One table of a corporation empty: every tenant would go, every contract become an orphan."""
    delivery = _copy(synthetic, "corporaties", tmp_path)
    (delivery / "vera_relaties.json").write_text("[]\n")
    _refused("corporaties", delivery, tmp_path, "vera_relaties.json", "root")


@pytest.mark.parametrize("name", ["stedin_aansluitingen.csv", "stedin_verbruik.csv"])
def test_stedin_connection_list_or_usage_with_only_its_header(synthetic, tmp_path, name):
    delivery = _copy(synthetic, "stedin", tmp_path)
    _header_only(delivery / name)
    _refused("stedin", delivery, tmp_path, name, "line 2")


def test_stedin_real_open_data_year_published_with_only_its_header(real_fixtures, tmp_path):
    year = real_fixtures / "stedin" / "zeeland-2022.csv"  # published like this
    _refused("stedin", year, tmp_path, year.name, "line 2")


def test_neighbourhood_map_without_features(synthetic, tmp_path):
    delivery = _copy(synthetic, "gebieden", tmp_path)
    geojson = delivery / "buurten.geojson"
    doc = json.loads(geojson.read_text())
    doc["features"] = []
    geojson.write_text(json.dumps(doc))
    _refused("gebieden", delivery, tmp_path, "buurten.geojson", "features")


def test_report_desks_may_deliver_no_new_meldingen(synthetic, tmp_path):
    delivery = _copy(synthetic, "meldpunten", tmp_path)
    (delivery / "meldingen.json").write_text("[]\n")
    _header_only(delivery / "zaken.csv")
    _header_only(delivery / "vergunningen.csv")
    result = SOURCES["meldpunten"].read(delivery, delivery_id="x", staging_root=tmp_path / "staging")
    assert all(counts["in"] == 0 for counts in result.counts().values())


def test_rgw_ingest_refuses_with_exit_2_and_lands_nothing(synthetic, tmp_path):
    delivery = _copy(synthetic, "corporaties", tmp_path)
    (delivery / "vera_eenheden.json").write_text("[]\n")
    env = {**os.environ, "RGW_DATA": str(tmp_path / "data")}
    proc = subprocess.run(
        [sys.executable, "-m", "rgw.cli", "ingest", "corporaties", str(delivery), "--land"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"vera_eenheden.json, root: {EMPTY_SNAPSHOT}" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "data" / "raw" / "corporaties").exists()
