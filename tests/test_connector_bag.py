"""The BAG connector on the real LVBAG 2.0 samples: NLExtract's Doesburg extract (gemeente 0221) and GDAL's test files.

Expected figures are counted here independently of the connector: each file is parsed whole with lxml and its
objects are found with XPath on local names, where the connector streams with iterparse.
"""

from __future__ import annotations

import copy
import shutil
import zipfile
from collections import Counter
from pathlib import Path

import pyarrow.compute as pc
import pytest
from lxml import etree

from connectors.bag import CurrentVersions, bag_extract_date, iter_bag_objects, read_bag
from connectors.bag_xml import RECORD_KEYS, ParseStats
from connectors.delivery import DeliveryError

KINDS = ("NUM", "VBO", "PND", "OPR", "WPL", "LIG", "STA")
ELEMENT_OF = {
    "nummeraanduiding": "Nummeraanduiding",
    "verblijfsobject": "Verblijfsobject",
    "pand": "Pand",
    "openbare_ruimte": "OpenbareRuimte",
    "woonplaats": "Woonplaats",
    "ligplaats": "Ligplaats",
    "standplaats": "Standplaats",
}


def census(folder: Path) -> dict[str, dict[str, int]]:
    """Per element: versions, distinct objects and repeated copies of one (identificatie, voorkomen), by XPath."""
    versions: dict[str, list[tuple[str, str]]] = {}
    for f in sorted(folder.glob("*.xml")):
        for obj in etree.parse(str(f)).xpath("//*[local-name()='bagObject']/*"):
            ident = obj.xpath("string(*[local-name()='identificatie']/*[local-name()='lokaalID'])") or obj.xpath(
                "string(*[local-name()='identificatie'])"
            )
            v = obj.xpath("string(*[local-name()='voorkomen']//*[local-name()='voorkomenidentificatie'])")
            versions.setdefault(etree.QName(obj).localname, []).append((ident.strip(), v))
    return {
        element: {"versions": len(p), "objects": len({i for i, _ in p}), "copies": len(p) - len(set(p))}
        for element, p in versions.items()
    }


def clean_rows(result, entity: str, drop: tuple[str, ...] = ("source_file", "record_ref")) -> list[dict]:
    return result.entities[entity].read_clean().drop_columns(list(drop)).to_pylist()


@pytest.fixture(scope="module")
def nlextract_dir(real_fixtures) -> Path:
    return real_fixtures / "bag" / "nlextract"


@pytest.fixture(scope="module")
def gdal_dir(real_fixtures) -> Path:
    return real_fixtures / "bag" / "gdal"


@pytest.fixture(scope="module")
def nlextract(nlextract_dir, tmp_path_factory):
    return read_bag(nlextract_dir, staging_root=tmp_path_factory.mktemp("staging"))


@pytest.fixture(scope="module")
def gdal(gdal_dir, tmp_path_factory):
    return read_bag(gdal_dir, staging_root=tmp_path_factory.mktemp("staging"))


@pytest.fixture()
def copy_of(tmp_path):
    def make(folder: Path) -> Path:
        target = tmp_path / "delivery"
        shutil.copytree(folder, target)
        for f in target.iterdir():
            f.chmod(0o644)  # the shared fixtures are read-only
        return target

    return make


# ---------------------------------------------------------------------------------------------------------------
# Counts on the real samples
# ---------------------------------------------------------------------------------------------------------------


def test_nlextract_counts_match_an_independent_xpath_census(nlextract, nlextract_dir):
    expected = census(nlextract_dir)
    for entity, element in ELEMENT_OF.items():
        c = expected[element]
        batch = nlextract.entities[entity]
        assert batch.reconciles, entity
        assert batch.clean_rows == c["objects"], entity  # one row per object: its current version
        assert batch.records_in == c["objects"] + c["copies"], entity
        assert nlextract.info["versions_read"][entity] == c["versions"], entity
        assert nlextract.info["superseded_versions"][entity] == c["versions"] - c["objects"] - c["copies"], entity
    # The figures themselves, so a change in the sample or the census shows up too.
    assert {e: (b.records_in, b.clean_rows, b.quarantined_rows) for e, b in nlextract.entities.items()} == {
        "nummeraanduiding": (11, 9, 2),
        "verblijfsobject": (2, 2, 0),
        "pand": (2, 2, 0),
        "openbare_ruimte": (198, 198, 0),
        "woonplaats": (1, 1, 0),
        "ligplaats": (2, 2, 0),
        "standplaats": (2, 2, 0),
    }
    assert nlextract.info["versions_read"] == {
        "nummeraanduiding": 15,
        "verblijfsobject": 5,
        "pand": 6,
        "openbare_ruimte": 201,
        "woonplaats": 1,
        "ligplaats": 2,
        "standplaats": 2,
    }
    assert nlextract.info["superseded_versions"] == {
        "nummeraanduiding": 4,
        "verblijfsobject": 3,
        "pand": 4,
        "openbare_ruimte": 3,
        "woonplaats": 0,
        "ligplaats": 0,
        "standplaats": 0,
    }
    assert nlextract.info["extract_date"] == "2020-09-15"
    assert nlextract.info["vbo_without_hoofdadres_in_delivery"] == 0
    assert nlextract.drift == []
    # The delivery document and the GEM-WPL-RELATIE file are not object files.
    assert sorted(Path(f).name[4:7] for f in nlextract.files) == sorted(KINDS)


def test_the_only_quarantined_nlextract_records_are_conflicting_copies_of_a_version(nlextract):
    # NLExtract's sample carries hand-added objects for its nevenadres tests ("JvdB toegevoegd"): addresses
    # 0221200000330998 and ...999 each have voorkomen 1 twice, once without end (lines 143, 171) and once with other
    # content ending in 2013 (lines 258, 290). One identity with two contents is a real inconsistency: the second copy
    # goes to quarantine; the current version of both addresses (voorkomen 3) lands.
    q = nlextract.entities["nummeraanduiding"].read_quarantine().to_pylist()
    assert [(r["record_ref"], r["field"], r["reason_code"]) for r in q] == [
        ("line 258", "voorkomenidentificatie", "duplicate"),
        ("line 290", "voorkomenidentificatie", "duplicate"),
    ]
    assert all(r["file"].endswith("0221NUM15092020-000001.xml") for r in q)
    assert '"0221200000330998"' in q[0]["raw_record"] and '"voorkomen_id": 1' in q[0]["raw_record"]
    assert all(b.quarantined_rows == 0 for e, b in nlextract.entities.items() if e != "nummeraanduiding")


def test_a_known_address_and_its_street_woonplaats_and_berth(nlextract, nlextract_dir):
    num = {r["nummeraanduiding_id"]: r for r in nlextract.entities["nummeraanduiding"].read_clean().to_pylist()}
    opr = {r["openbare_ruimte_id"]: r for r in clean_rows(nlextract, "openbare_ruimte")}
    wpl = {r["woonplaats_id"]: r for r in clean_rows(nlextract, "woonplaats")}
    lig = {r["hoofdadres_id"]: r for r in clean_rows(nlextract, "ligplaats")}
    address = num["0221200000330151"]
    assert address == {
        "nummeraanduiding_id": "0221200000330151",
        "huisnummer": 2,
        "huisletter": None,
        "huisnummertoevoeging": None,
        "postcode": "6982CZ",
        "type_adresseerbaar_object": "Ligplaats",
        "openbare_ruimte_id": "0221300000311239",
        "woonplaats_id": None,
        "status": "Naamgeving uitgegeven",
        "begin_geldigheid": "2009-01-20",
        "historic_postcodes": [],
        "source_file": address["source_file"],
        "record_ref": "line 35",
    }
    assert address["source_file"].endswith("nlextract/0221NUM15092020-000001.xml")
    street = opr[address["openbare_ruimte_id"]]
    assert (street["naam"], street["type"], wpl[street["woonplaats_id"]]["naam"]) == ("Koppenberch", "Weg", "Doesburg")
    berth = lig["0221200000330151"]
    assert berth["ligplaats_id"] == "0221020000330152" and berth["status"] == "Plaats aangewezen"
    # Only the hand-added address from gemeente 0362 names its woonplaats itself (ligtIn).
    assert num["0362200001221879"]["woonplaats_id"] == "1050"
    assert opr["0221300000311195"]["verkorte_naam"] == "Sbn Doormansingel"
    with_short_name = etree.parse(str(next(nlextract_dir.glob("0221OPR*.xml")))).xpath(
        "//*[local-name()='OpenbareRuimte'][*[local-name()='verkorteNaam']]/*[local-name()='identificatie']/text()"
    )
    assert {i for i, r in opr.items() if r["verkorte_naam"]} == set(with_short_name) and len(set(with_short_name)) == 10


def test_current_version_is_the_one_without_end_else_the_latest(nlextract):
    vbo = {r["verblijfsobject_id"]: r for r in clean_rows(nlextract, "verblijfsobject")}
    house = vbo["0221010000330226"]  # four versions: 306, 315, 223 m2 (ended) and 223 m2 since 2019-11-19
    assert house == {
        "verblijfsobject_id": "0221010000330226",
        "hoofdadres_id": "0221200000330227",
        "nevenadres_ids": [],
        "pand_ids": ["0221100000312938"],
        "gebruiksdoelen": ["woonfunctie"],
        "oppervlakte": 223,
        "status": "Verbouwing verblijfsobject",
        "x": 206335.699,
        "y": 447529.842,  # from a 3-D gml:pos
        "begin_geldigheid": "2019-11-19",
    }
    assert vbo["0221010000330999"]["nevenadres_ids"] == ["0221200000330998", "0221200000330999"]
    pand = {r["pand_id"]: r for r in clean_rows(nlextract, "pand")}
    assert (pand["0221100000312938"]["begin_geldigheid"], pand["0221100000312938"]["oorspronkelijk_bouwjaar"]) == (
        "2015-11-23",
        1585,
    )
    num = {r["nummeraanduiding_id"]: r for r in clean_rows(nlextract, "nummeraanduiding")}
    # Versions 1 (line 143, 2009) and 3 (line 381, 2019) both lack eindGeldigheid: the latest begin wins. The three
    # versions of 0221200000330229 are not adjacent in the file (lines 226, 322, 353, others in between).
    assert (num["0221200000330998"]["begin_geldigheid"], num["0221200000330998"]["huisnummer"]) == ("2019-03-05", 9)
    assert num["0221200000330998"]["postcode"] is None
    assert (num["0221200000330229"]["huisletter"], num["0221200000330229"]["begin_geldigheid"]) == ("l", "2019-03-05")
    opr = {r["openbare_ruimte_id"]: r for r in clean_rows(nlextract, "openbare_ruimte")}
    assert opr["0221300000333398"]["begin_geldigheid"] == "2020-01-21"


def test_version_order_in_the_file_does_not_matter(nlextract, nlextract_dir, copy_of, tmp_path):
    folder = copy_of(nlextract_dir)
    for kind in ("NUM", "VBO", "PND", "OPR"):
        f = next(folder.glob(f"0221{kind}*.xml"))
        tree = etree.parse(str(f))
        stands = tree.xpath("//*[local-name()='stand']")
        parent = stands[0].getparent()
        for stand in stands:
            parent.remove(stand)
        parent.extend(reversed(stands))
        tree.write(str(f), xml_declaration=True, encoding="UTF-8")
    reversed_result = read_bag(folder, staging_root=tmp_path / "staging")
    assert reversed_result.counts() == nlextract.counts()
    for entity in ELEMENT_OF:
        assert clean_rows(reversed_result, entity) == clean_rows(nlextract, entity), entity


def test_spilling_sorted_runs_to_disk_gives_the_same_result(nlextract, nlextract_dir, tmp_path):
    # max_objects_in_memory=1 writes a sorted run for nearly every object, so the merge of runs (and the duplicate
    # check across runs) does all the work.
    spilled = read_bag(nlextract_dir, staging_root=tmp_path / "staging", max_objects_in_memory=1)
    assert spilled.counts() == nlextract.counts()
    assert spilled.info["superseded_versions"] == nlextract.info["superseded_versions"]
    for entity in ELEMENT_OF:
        assert clean_rows(spilled, entity, drop=()) == clean_rows(nlextract, entity, drop=()), entity
    q = spilled.entities["nummeraanduiding"].read_quarantine().column("record_ref").to_pylist()
    assert q == ["line 258", "line 290"]
    assert sorted(p.name for p in spilled.staging_dir.iterdir()) == sorted(
        n for e in ELEMENT_OF for n in (f"{e}.parquet", f"{e}.quarantine.parquet")
    )


def test_copies_met_in_different_spilled_runs(tmp_path):
    # The merge of runs sees an object's versions only as each run's best; the later copy is still the duplicate.
    def pand(ident: str, v: int, begin: str, end: str | None, line: int) -> dict:
        rec = dict.fromkeys(RECORD_KEYS["pand"])
        rec.update(id=ident, voorkomen_id=v, begin_geldigheid=begin, eind_geldigheid=end, entity="pand")
        rec.update(status="Pand in gebruik", source_file="f.xml", record_ref=f"line {line}")
        return rec

    duplicates: list[dict] = []
    versions = CurrentVersions(duplicates.append, tmp_path / "spill", max_objects=1)
    a, b, c, d, e = (f"059910000000000{n}" for n in range(1, 6))
    for rec in [
        pand(a, 1, "2000-01-01", "2010-01-01", 1),
        pand(a, 2, "2010-01-01", None, 2),  # a's current version
        pand(b, 1, "2000-01-01", None, 3),  # second object: the dict is written out as run 1
        pand(a, 1, "2001-01-01", "2011-01-01", 4),  # a later copy of a's voorkomen 1, other content
        pand(c, 1, "2000-01-01", None, 5),  # run 2
        pand(a, 2, "2015-01-01", None, 6),  # a later copy of the current version, ranking higher: must not win
        pand(d, 1, "2000-01-01", None, 7),  # run 3
        pand(e, 1, "2000-01-01", "2012-01-01", 8),
        pand(b, 2, "2020-01-01", None, 9),  # run 4
        pand(e, 1, "2000-01-01", "2012-01-01", 10),  # e's voorkomen 1 again, then its current version
        pand(e, 2, "2012-01-01", None, 11),
    ]:
        versions.offer(rec)
    current = {r["id"]: r["record_ref"] for r in versions.current()}
    assert current == {a: "line 2", b: "line 9", c: "line 5", d: "line 7", e: "line 11"}
    assert [r["record_ref"] for r in duplicates[:2]] == ["line 4", "line 6"]
    # e's second copy of voorkomen 1 was set aside in its run before the merge: only the fact is left.
    assert (duplicates[2]["id"], duplicates[2]["voorkomen_id"]) == (e, 1) and len(duplicates) == 3
    assert (versions.versions, versions.duplicates, versions.objects, versions.superseded) == (11, 3, 5, 3)
    assert not list((tmp_path / "spill").iterdir())


def test_gdal_files_old_namespaces_and_polygon_centroids(gdal, gdal_dir):
    expected = census(gdal_dir)
    for entity, element in ELEMENT_OF.items():
        assert gdal.entities[entity].clean_rows == expected[element]["objects"], entity
        assert gdal.entities[entity].reconciles, entity
    # lig_old.xml is lig.xml again in the older v20180601 namespaces: read together they deliver each of the three
    # berths twice, so the second copies (from lig_old.xml) are quarantined as duplicates. Nothing else is.
    q = gdal.entities["ligplaats"].read_quarantine().to_pylist()
    assert [(Path(r["file"]).name, r["reason_code"]) for r in q] == [("lig_old.xml", "duplicate")] * 3
    assert sum(b.quarantined_rows for b in gdal.entities.values()) == 3
    assert [str(d) for d in gdal.drift] == [
        "renamed column 'namespace' (objects delivered in the v20180601 namespaces, read as LVBAG 2.0)"
    ]
    assert gdal.info["superseded_versions"]["pand"] == 2 and gdal.info["extract_date"] == "2020-10-08"

    centroids = {}
    for obj in etree.parse(str(gdal_dir / "lig.xml")).xpath("//*[local-name()='Ligplaats']"):
        values = [float(v) for v in obj.xpath("string(.//*[local-name()='posList'])").split()]
        ring = list(zip(values[0::2], values[1::2], strict=True))[:-1]  # closing vertex repeats the first
        ident = obj.xpath("string(*[local-name()='identificatie'])")
        centroids[ident] = (sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))
    lig = {r["ligplaats_id"]: r for r in clean_rows(gdal, "ligplaats")}
    assert set(lig) == set(centroids)
    for ident, (x, y) in centroids.items():
        assert lig[ident]["x"] == pytest.approx(x) and lig[ident]["y"] == pytest.approx(y)
    vbo = {r["verblijfsobject_id"]: r for r in clean_rows(gdal, "verblijfsobject")}
    assert (vbo["0106010000004330"]["x"], vbo["0106010000004330"]["y"], vbo["0106010000004330"]["oppervlakte"]) == (
        234907.0,
        556200.0,
        90,
    )
    pand = {r["pand_id"]: r for r in clean_rows(gdal, "pand")}
    assert (pand["0106100000000000"]["begin_geldigheid"], pand["0106100000000000"]["oorspronkelijk_bouwjaar"]) == (
        "2011-07-04",
        2009,
    )


def test_gdal_vbos_point_to_addresses_outside_the_sample_and_still_land(gdal, gdal_dir):
    nums = set(
        etree.parse(str(gdal_dir / "num.xml")).xpath(
            "//*[local-name()='Nummeraanduiding']/*[local-name()='identificatie']/text()"
        )
    )
    hoofd = etree.parse(str(gdal_dir / "vbo.xml")).xpath(
        "//*[local-name()='heeftAlsHoofdadres']/*[local-name()='NummeraanduidingRef']/text()"
    )
    assert gdal.info["vbo_without_hoofdadres_in_delivery"] == sum(1 for h in hoofd if h not in nums) == 3
    assert gdal.entities["verblijfsobject"].clean_rows == 3


def test_old_namespace_file_parses_like_its_2020_twin(gdal_dir):
    def essentials(file: str) -> list[tuple]:
        return [
            (r["id"], r["hoofdadres_id"], r["status"], r["voorkomen_id"], r["begin_geldigheid"], r["x"], r["y"])
            for r in iter_bag_objects(gdal_dir / file)
        ]

    old = essentials("lig_old.xml")
    assert old == essentials("lig.xml") and len(old) == 3
    assert old[0][:2] == ("0106020000000003", "0106200000005333")  # lokaalID and xlink:href


# ---------------------------------------------------------------------------------------------------------------
# iter_bag_objects and the extract date
# ---------------------------------------------------------------------------------------------------------------


def test_iter_bag_objects_yields_every_version_of_one_kind(nlextract_dir):
    stats = ParseStats()
    nums = list(iter_bag_objects(nlextract_dir, "NUM", stats=stats))
    assert [Path(f).name for f in stats.files] == ["0221NUM15092020-000001.xml"]  # other kinds are not opened
    assert len(nums) == census(nlextract_dir)["Nummeraanduiding"]["versions"] == 15
    assert {r["entity"] for r in nums} == {"nummeraanduiding"}
    assert Counter(r["id"] for r in nums)["0221200000330229"] == 3
    assert nums[0]["huisnummer"] == "2" and nums[0]["record_ref"] == "line 35"  # text as delivered
    assert len(list(iter_bag_objects(nlextract_dir, "verblijfsobject"))) == 5
    assert len(list(iter_bag_objects(nlextract_dir))) == sum(c["versions"] for c in census(nlextract_dir).values())
    with pytest.raises(ValueError, match="unknown BAG object kind"):
        next(iter_bag_objects(nlextract_dir, "XYZ"))


def test_extract_date_from_the_delivery_document_or_the_first_file(nlextract_dir, gdal_dir, tmp_path):
    assert bag_extract_date(nlextract_dir) == "2020-09-15"
    assert bag_extract_date(gdal_dir) == "2020-10-08"  # no delivery document: lig.xml's bagInfo
    assert bag_extract_date(gdal_dir / "lig_old.xml") == "2019-12-18"
    z = tmp_path / "extract.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(nlextract_dir / "Leveringsdocument-BAG-Extract.xml", "Leveringsdocument-BAG-Extract.xml")
    assert bag_extract_date(z) == "2020-09-15"


# ---------------------------------------------------------------------------------------------------------------
# Zips
# ---------------------------------------------------------------------------------------------------------------


def test_zip_and_nested_zips_read_like_the_folder(nlextract, nlextract_dir, tmp_path):
    flat = tmp_path / "flat.zip"
    with zipfile.ZipFile(flat, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(nlextract_dir.iterdir()):
            zf.write(f, f.name)
    # Kadaster's layout: the delivery document beside one inner zip per object type.
    nested = tmp_path / "BAGGEM0221L-15092020.zip"
    with zipfile.ZipFile(nested, "w", zipfile.ZIP_DEFLATED) as outer:
        outer.write(nlextract_dir / "Leveringsdocument-BAG-Extract.xml", "Leveringsdocument-BAG-Extract.xml")
        for kind in KINDS:
            inner = tmp_path / f"0221{kind}15092020.zip"
            with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
                for f in nlextract_dir.glob(f"0221{kind}*.xml"):
                    zf.write(f, f.name)
            outer.write(inner, inner.name)
    for path in (flat, nested):
        r = read_bag(path, staging_root=tmp_path / "staging")
        assert r.counts() == nlextract.counts(), path.name
        assert r.info["extract_date"] == "2020-09-15"
        for entity in ELEMENT_OF:
            assert clean_rows(r, entity) == clean_rows(nlextract, entity), (path.name, entity)
    assert r.delivery_id == "BAGGEM0221L-15092020"
    source = r.entities["nummeraanduiding"].read_clean().column("source_file")
    assert pc.all(pc.ends_with(source, "BAGGEM0221L-15092020.zip/0221NUM15092020.zip/0221NUM15092020-000001.xml"))
    assert len(r.files) == len(KINDS)


# ---------------------------------------------------------------------------------------------------------------
# Unreadable input: nothing lands, the error names file and place
# ---------------------------------------------------------------------------------------------------------------


def _num_file(folder: Path) -> Path:
    return next(folder.glob("0221NUM*.xml"))


def test_truncated_file_names_file_and_line_and_leaves_nothing(nlextract_dir, copy_of, tmp_path):
    folder = copy_of(nlextract_dir)
    num = _num_file(folder)
    data = num.read_bytes()
    num.write_bytes(data[: len(data) // 2])
    last_line = data[: len(data) // 2].count(b"\n") + 1
    staging = tmp_path / "staging"
    with pytest.raises(DeliveryError) as caught:
        read_bag(folder, staging_root=staging)
    err = caught.value
    assert err.file == str(num) and err.place.startswith(f"line {last_line},")
    assert "malformed or truncated XML" in str(err) and "0221NUM15092020-000001.xml, line" in str(err)
    assert list(staging.iterdir()) == []

    z = tmp_path / "truncated.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(num, num.name)
    with pytest.raises(DeliveryError, match=r"truncated\.zip/0221NUM15092020-000001\.xml, line \d+"):
        read_bag(z, staging_root=staging)
    assert list(staging.iterdir()) == []


def test_malformed_xml_and_wrong_encoding_point_at_the_line(nlextract_dir, copy_of, tmp_path):
    folder = copy_of(nlextract_dir)
    num = _num_file(folder)
    lines = num.read_bytes().split(b"\n")
    broken = next(i for i, line in enumerate(lines) if b"<Objecten:huisnummer>20<" in line)
    lines[broken] = lines[broken].replace(b"</Objecten:huisnummer>", b"</Objecten:huisletter>")
    num.write_bytes(b"\n".join(lines))
    with pytest.raises(DeliveryError, match=rf"0221NUM15092020-000001\.xml, line {broken + 1}, column \d+: malformed"):
        read_bag(folder, staging_root=tmp_path / "staging")

    lines[broken] = b"<Objecten:huisnummer>20</Objecten:huisnummer>".replace(b"20", b"2\xe9")
    num.write_bytes(b"\n".join(lines))
    with pytest.raises(DeliveryError, match=rf"line {broken + 1}, column \d+: .*wrong encoding\?"):
        read_bag(folder, staging_root=tmp_path / "staging")
    assert list((tmp_path / "staging").iterdir()) == []


def test_empty_file_empty_delivery_and_a_header_only_extract_are_errors(nlextract_dir, copy_of, tmp_path):
    folder = copy_of(nlextract_dir)
    num = _num_file(folder)
    original = num.read_bytes()
    num.write_bytes(b"")
    with pytest.raises(DeliveryError, match=r"0221NUM15092020-000001\.xml, byte 0: empty file"):
        read_bag(folder, staging_root=tmp_path / "staging")
    assert list((tmp_path / "staging").iterdir()) == []

    header_only = tmp_path / "header-only"
    header_only.mkdir()
    tree = etree.fromstring(original)
    for stand in tree.xpath("//*[local-name()='stand']"):
        stand.getparent().remove(stand)
    (header_only / num.name).write_bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))
    # an extract without a single object is a failed export: landing it would wipe every address downstream
    with pytest.raises(DeliveryError, match=r"0221NUM15092020-000001\.xml, sl:standBestand: a snapshot delivery with"):
        read_bag(header_only, staging_root=tmp_path / "staging")
    assert list((tmp_path / "staging").iterdir()) == []

    nothing = tmp_path / "nothing"
    nothing.mkdir()
    with pytest.raises(DeliveryError, match="no LVBAG object XML files"):
        read_bag(nothing, staging_root=tmp_path / "staging")


# ---------------------------------------------------------------------------------------------------------------
# Invalid records: quarantined with field and reason, the rest lands
# ---------------------------------------------------------------------------------------------------------------


def test_invalid_ids_numbers_and_postcodes_are_quarantined_with_their_field(nlextract_dir, copy_of, tmp_path):
    folder = copy_of(nlextract_dir)
    num = _num_file(folder)
    text = num.read_text(encoding="utf-8")
    text = text.replace(">0221200000330151<", ">022120000033015<", 1)  # 15 digits
    text = text.replace("<Objecten:huisnummer>20<", "<Objecten:huisnummer>0<", 1)  # 0221200000330153
    text = text.replace("<Objecten:postcode>6981ED<", "<Objecten:postcode>0981ED<", 1)  # 0221200000330171
    text = text.replace(
        "<Objecten:huisnummer>4</Objecten:huisnummer>",
        "<Objecten:huisnummer>4</Objecten:huisnummer><Objecten:nieuwVeld>ja</Objecten:nieuwVeld>",
        1,
    )  # 0221200000330173: unknown element
    at = text.index(">0221200000330227<")  # an address that was withdrawn is still an address, with that status
    text = text[:at] + text[at:].replace("Naamgeving uitgegeven", "Naamgeving ingetrokken", 1)
    num.write_text(text, encoding="utf-8")
    vbo = next(folder.glob("0221VBO*.xml"))
    vbo.write_text(vbo.read_text(encoding="utf-8").replace(">0221100000311191<", ">0221010000311191<"), "utf-8")
    opr = next(folder.glob("0221OPR*.xml"))
    opr.write_text(opr.read_text(encoding="utf-8").replace(">0221300000311192<", "><"), "utf-8")

    r = read_bag(folder, staging_root=tmp_path / "staging")
    found = {
        (e, row["record_ref"], row["field"], row["reason_code"])
        for e in ("nummeraanduiding", "verblijfsobject", "openbare_ruimte")
        for row in r.entities[e].read_quarantine().to_pylist()
        if row["reason_code"] != "duplicate"
    }
    assert found == {
        ("nummeraanduiding", "line 35", "identificatie", "invalid_bag_id"),
        ("nummeraanduiding", "line 62", "huisnummer", "invalid_number"),
        ("nummeraanduiding", "line 89", "postcode", "invalid_postcode"),
        ("verblijfsobject", "line 188", "maaktDeelUitVan", "invalid_bag_id"),
        ("openbare_ruimte", "line 35", "identificatie", "missing_required"),
    }
    assert all(b.reconciles for b in r.entities.values())
    # 9 addresses: one has no valid id any more (its version is quarantined, it is no object), two fail a check.
    assert r.counts()["nummeraanduiding"] == {"in": 11, "clean": 6, "quarantined": 5}
    assert r.info["versions_read"]["nummeraanduiding"] == 15  # every version is still read: records_in + superseded
    assert r.info["superseded_versions"]["nummeraanduiding"] == 4
    assert r.counts()["verblijfsobject"] == {"in": 2, "clean": 1, "quarantined": 1}
    assert r.counts()["openbare_ruimte"] == {"in": 198, "clean": 197, "quarantined": 1}
    # An element the connector does not know is drift, not a reason to reject the record.
    assert [str(d) for d in r.drift] == [
        "extra column 'Nummeraanduiding.nieuwVeld' (element not read by the connector)"
    ]
    clean = {row["nummeraanduiding_id"]: row for row in clean_rows(r, "nummeraanduiding")}
    assert "0221200000330173" in clean
    assert clean["0221200000330227"]["status"] == "Naamgeving ingetrokken"


def test_partial_extract_counts_vbos_without_their_address_but_lands_them(nlextract_dir, copy_of, tmp_path):
    folder = copy_of(nlextract_dir)
    _num_file(folder).unlink()
    r = read_bag(folder, staging_root=tmp_path / "staging")
    assert r.info["vbo_without_hoofdadres_in_delivery"] == 2
    assert r.counts()["verblijfsobject"] == {"in": 2, "clean": 2, "quarantined": 0}


def test_earlier_postcodes_and_street_names_travel_with_the_current_version(nlextract_dir, copy_of, tmp_path):
    from linkage.address import BagIndex, resolve_text
    from linkage.address.index import load_bag_addresses

    folder = copy_of(nlextract_dir)

    def add_older_version(kind: str, ident: str, element: str, value: str) -> None:
        f = next(folder.glob(f"0221{kind}*.xml"))
        tree = etree.parse(str(f))
        ids = tree.xpath(f"//*[local-name()='identificatie'][text()='{ident}']")
        stand = ids[0].getparent().getparent().getparent()  # Objecten:<Kind> / bagObject / sl:stand
        older = copy.deepcopy(stand)
        older.xpath(f".//*[local-name()='{element}']")[0].text = value
        older.xpath(".//*[local-name()='voorkomenidentificatie']")[0].text = "99"
        older.xpath(".//*[local-name()='beginGeldigheid']")[0].text = "1990-01-01"
        stand.addprevious(older)
        tree.write(str(f), xml_declaration=True, encoding="UTF-8")

    add_older_version("NUM", "0221200000330151", "postcode", "6982AA")
    add_older_version("OPR", "0221300000311239", "naam", "Koppenbergweg")
    result = read_bag(folder, staging_root=tmp_path / "staging")
    num = {r["nummeraanduiding_id"]: r for r in clean_rows(result, "nummeraanduiding")}
    opr = {r["openbare_ruimte_id"]: r for r in clean_rows(result, "openbare_ruimte")}
    assert (num["0221200000330151"]["postcode"], num["0221200000330151"]["historic_postcodes"]) == (
        "6982CZ",
        ["6982AA"],
    )
    assert (opr["0221300000311239"]["naam"], opr["0221300000311239"]["historic_names"]) == (
        "Koppenberch",
        ["Koppenbergweg"],
    )
    index = BagIndex(load_bag_addresses(folder, staging_root=tmp_path / "staging2"))
    by_old_postcode = resolve_text("6982 AA 2, Doesburg", index)
    assert (by_old_postcode.nummeraanduiding_id, by_old_postcode.method) == (
        "0221200000330151",
        "historic_postcode_exact",
    )
    by_old_name = resolve_text("Koppenbergweg 2", index)
    assert (by_old_name.nummeraanduiding_id, by_old_name.method) == ("0221200000330151", "historic_street_exact")
    current = resolve_text("Koppenberch 2, 6982CZ", index)
    assert (current.nummeraanduiding_id, current.method) == ("0221200000330151", "postcode_huisnummer_exact")
