"""Reading the BAG in two or three processes (connectors/bag_parallel.py) lands exactly what the one-process read
lands: the same clean rows, quarantine, counts, info, file list and drift, on the real samples, on a synthetic extract
(as a folder, with spilled runs, and as Kadaster's zip of one inner zip per object type), and when a file named for
one type holds another type's objects. A failure in another process is raised as the one-process read raises it.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from connectors.bag import read_bag
from connectors.bag_parallel import choose_workers, split_entities
from connectors.delivery import DeliveryError, DeliveryResult


@pytest.fixture(scope="module")
def synthetic_extract(tmp_path_factory) -> Path:
    """The tiny synthetic Rotterdam's BAG alone (fixed seed): about 300 addresses, some with history versions."""
    from synth.world import buildings_only
    from synth.write_bag import write_bag

    folder = tmp_path_factory.mktemp("synthetic_bag")
    write_bag(buildings_only("tiny", 7), folder)
    return folder


def landed(result: DeliveryResult) -> dict:
    """Everything a reader of the delivery sees, as plain values."""
    return {
        "files": result.files,
        "counts": result.counts(),
        "info": result.info,
        "drift": [str(d) for d in result.drift],
        "clean": {e: b.read_clean().to_pylist() for e, b in result.entities.items()},
        "quarantine": {e: b.read_quarantine().to_pylist() for e, b in result.entities.items()},
    }


def assert_same_landing(path: Path, tmp_path: Path, workers: tuple[int, ...] = (3,), **kwargs) -> dict:
    """Read with one process and with `workers` (three: panden apart, the default; two: panden with the addresses);
    every landing must be the one-process landing."""
    one = landed(read_bag(path, staging_root=tmp_path / "one", workers=1, **kwargs))
    for workers_ in workers:
        other = landed(read_bag(path, staging_root=tmp_path / f"w{workers_}", workers=workers_, **kwargs))
        for key in one:
            assert other[key] == one[key], (workers_, key)
    return one


def test_real_nlextract_lands_the_same_in_two_processes(real_fixtures, tmp_path):
    one = assert_same_landing(real_fixtures / "bag" / "nlextract", tmp_path, workers=(2, 3))
    assert one["counts"]["nummeraanduiding"]["clean"] > 0 and one["counts"]["verblijfsobject"]["clean"] > 0


def test_real_gdal_files_and_address_types_only_land_the_same(real_fixtures, tmp_path):
    assert_same_landing(real_fixtures / "bag" / "gdal", tmp_path)
    address_types = ("nummeraanduiding", "verblijfsobject", "openbare_ruimte", "woonplaats", "ligplaats", "standplaats")
    one = assert_same_landing(real_fixtures / "bag" / "nlextract", tmp_path / "addresses", entities=address_types)
    assert one["counts"]["pand"]["in"] == 0


def test_synthetic_extract_with_spilled_runs_lands_the_same(synthetic_extract, tmp_path):
    one = assert_same_landing(synthetic_extract, tmp_path, workers=(2, 3), max_objects_in_memory=100)
    assert sum(one["info"]["superseded_versions"].values()) > 0  # history versions were compared across runs
    assert one["counts"]["nummeraanduiding"]["clean"] > 200


def test_kadaster_zip_of_inner_zips_lands_the_same(synthetic_extract, tmp_path):
    """One inner zip per object type, as Kadaster ships the national extract: each process opens only its own."""
    outer = tmp_path / "lvbag-extract.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        for xml in sorted(synthetic_extract.glob("*.xml")):
            if xml.name.startswith("Leveringsdocument"):
                zf.write(xml, xml.name)
                continue
            inner = tmp_path / f"9999{xml.name[4:7]}01112026.zip"
            with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as izf:
                izf.write(xml, xml.name)
            zf.write(inner, inner.name)
    one = assert_same_landing(outer, tmp_path)
    assert len(one["files"]) == 7


def test_a_file_named_for_one_type_holding_another_is_read_in_one_process(synthetic_extract, tmp_path):
    """Verblijfsobjecten in a file named NUM: the process reading addresses opens it, the other never would; the
    read falls back to one process and loses nothing."""
    folder = tmp_path / "misnamed"
    shutil.copytree(synthetic_extract, folder)
    vbo = next(folder.glob("*VBO*.xml"))
    vbo.rename(folder / "0599NUM01112026-000002.xml")
    one = assert_same_landing(folder, tmp_path)
    assert one["counts"]["verblijfsobject"]["clean"] > 200


def test_a_broken_file_in_the_second_process_is_raised_as_in_one_process(synthetic_extract, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(synthetic_extract, folder)
    vbo = next(folder.glob("*VBO*.xml"))
    vbo.write_bytes(vbo.read_bytes()[: vbo.stat().st_size // 2])
    messages = []
    for workers in (1, 2, 3):
        staging = tmp_path / f"staging-{workers}"
        with pytest.raises(DeliveryError) as caught:
            read_bag(folder, staging_root=staging, workers=workers)
        messages.append(str(caught.value))
        assert list(staging.iterdir()) == []  # nothing half-written is left
    assert messages[0] == messages[1] == messages[2]
    assert vbo.name in messages[0] and "truncated" in messages[0]


def test_worker_choice(tmp_path, monkeypatch):
    small = tmp_path / "small.xml"
    small.write_text("<x/>")
    monkeypatch.delenv("RGW_BAG_WORKERS", raising=False)
    assert choose_workers(small, None) == 1  # too small to be worth a second process
    assert choose_workers(small, 4) == 3  # three groups of object types
    monkeypatch.setenv("RGW_BAG_WORKERS", "2")
    assert choose_workers(small, None) == 2
    monkeypatch.setenv("RGW_BAG_WORKERS", "two")
    with pytest.raises(ValueError, match="RGW_BAG_WORKERS"):
        choose_workers(small, None)
    assert split_entities(frozenset({"pand"}), 2) == [frozenset({"pand"})]  # one group only: one process
    assert len(split_entities(None, 2)) == 2
    assert split_entities(None, 3)[2] == frozenset({"pand"})  # the panden (11 M nationally) in a process of their own
    address_types = frozenset({"nummeraanduiding", "verblijfsobject", "openbare_ruimte", "woonplaats"})
    assert len(split_entities(address_types, 3)) == 2  # no panden wanted: two processes
