"""The BAG connector on the real LVBAG 2.0 sample extracts (NLExtract's Doesburg set and GDAL's test files)."""

import shutil
import zipfile

import pytest
from lxml import etree

from connectors.bag import read_bag
from connectors.delivery import DeliveryError

NS = {"sl-bag-extract": "http://www.kadaster.nl/schemas/lvbag/extract-deelbestand-lvc/v20200601"}


def _distinct_ids(folder, element: str) -> set[str]:
    """Count objects independently of the connector: an XPath pass over every file."""
    ids = set()
    for f in folder.glob("*.xml"):
        tree = etree.parse(str(f))
        ids.update(tree.xpath(f"//*[local-name()='{element}']/*[local-name()='identificatie']/text()"))
    return ids


@pytest.fixture(scope="module")
def nlextract(real_fixtures, tmp_path_factory):
    return read_bag(real_fixtures / "bag" / "nlextract", staging_root=tmp_path_factory.mktemp("staging"))


def test_every_object_lands_once_in_its_current_version(nlextract, real_fixtures):
    folder = real_fixtures / "bag" / "nlextract"
    for entity, element in [
        ("nummeraanduiding", "Nummeraanduiding"),
        ("verblijfsobject", "Verblijfsobject"),
        ("pand", "Pand"),
        ("openbare_ruimte", "OpenbareRuimte"),
        ("ligplaats", "Ligplaats"),
    ]:
        batch = nlextract.entities[entity]
        assert batch.reconciles
        assert batch.clean_rows == len(_distinct_ids(folder, element)), entity
    counts = nlextract.counts()
    assert counts["openbare_ruimte"] == {"in": 198, "clean": 198, "quarantined": 0}
    assert nlextract.info["superseded_versions"]["verblijfsobject"] == 3
    assert nlextract.info["extract_date"] == "2020-09-15"


def test_current_version_is_the_one_without_end_date(nlextract):
    vbo = {r["verblijfsobject_id"]: r for r in nlextract.entities["verblijfsobject"].read_clean().to_pylist()}
    house = vbo["0221010000330226"]  # four versions in the file: 306 m2 in 2011, 223 m2 since 2019-11-19
    assert (house["oppervlakte"], house["begin_geldigheid"]) == (223, "2019-11-19")
    assert house["gebruiksdoelen"] == ["woonfunctie"] and house["pand_ids"] == ["0221100000312938"]
    assert (house["x"], house["y"]) == (206335.699, 447529.842)
    assert vbo["0221010000330999"]["nevenadres_ids"] == ["0221200000330998", "0221200000330999"]


def test_conflicting_copies_of_one_version_go_to_quarantine(nlextract):
    # The sample file holds hand-added copies of voorkomen 1 of two addresses with different content: a real
    # inconsistency the connector must not resolve by guessing.
    q = nlextract.entities["nummeraanduiding"].read_quarantine().to_pylist()
    assert {r["reason_code"] for r in q} == {"duplicate"}
    assert sorted(r["record_ref"].split(": ")[1] for r in q) == [
        "0221200000330998 voorkomen 1",
        "0221200000330999 voorkomen 1",
    ]


def test_gdal_files_read_alike_and_polygons_give_a_centroid(real_fixtures, tmp_path):
    r = read_bag(real_fixtures / "bag" / "gdal", staging_root=tmp_path)
    assert all(b.quarantined_rows == 0 for b in r.entities.values())
    lig = r.entities["ligplaats"].read_clean().to_pylist()
    assert len(lig) == 3 and all(row["x"] and row["y"] for row in lig)
    assert r.entities["woonplaats"].clean_rows == 2


def test_zip_and_nested_zip_read_the_same(real_fixtures, tmp_path, nlextract):
    folder = real_fixtures / "bag" / "nlextract"
    flat = tmp_path / "flat.zip"
    with zipfile.ZipFile(flat, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f.name)
    nested = tmp_path / "nested.zip"
    with zipfile.ZipFile(nested, "w") as outer:
        for kind in ("NUM", "VBO", "PND", "OPR", "WPL", "LIG", "STA"):
            inner = tmp_path / f"0221{kind}15092020.zip"
            with zipfile.ZipFile(inner, "w") as zf:
                for f in folder.glob(f"0221{kind}*.xml"):
                    zf.write(f, f.name)
            outer.write(inner, inner.name)
    for path in (flat, nested):
        r = read_bag(path, staging_root=tmp_path / "staging")
        assert r.counts() == nlextract.counts()


def test_truncated_file_names_file_and_line_and_leaves_nothing(real_fixtures, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(real_fixtures / "bag" / "nlextract", folder)
    num = next(folder.glob("0221NUM*.xml"))
    data = num.read_bytes()
    num.write_bytes(data[: len(data) // 2])
    staging = tmp_path / "staging"
    with pytest.raises(DeliveryError, match=r"0221NUM15092020-000001\.xml, line \d+: malformed or truncated XML"):
        read_bag(folder, staging_root=staging)
    assert list(staging.iterdir()) == []
    num.write_bytes(b"")
    with pytest.raises(DeliveryError, match="empty file"):
        read_bag(folder, staging_root=staging)


def test_invalid_ids_and_numbers_are_quarantined_with_their_field(real_fixtures, tmp_path):
    folder = tmp_path / "bad"
    shutil.copytree(real_fixtures / "bag" / "nlextract", folder)
    num = next(folder.glob("0221NUM*.xml"))
    text = num.read_text(encoding="utf-8")
    text = text.replace(">0221200000330151<", ">02212000003301<", 1).replace(
        "<Objecten:huisnummer>20<", "<Objecten:huisnummer>0<", 1
    )
    num.write_text(text, encoding="utf-8")
    r = read_bag(folder, staging_root=tmp_path / "staging")
    q = r.entities["nummeraanduiding"].read_quarantine().to_pylist()
    assert {(row["field"], row["reason_code"]) for row in q} >= {
        ("identificatie", "invalid_bag_id"),
        ("huisnummer", "invalid_number"),
    }
    assert r.entities["nummeraanduiding"].reconciles
