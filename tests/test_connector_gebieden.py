"""The neighbourhood-map connector (CBS-style buurten.geojson in EPSG:28992) and point-in-buurt assignment.

No public buurten file is among the fixtures, so the maps are built here in the documented layout, with squares in
RD New near Rotterdam-Zuid (x about 92 km, y about 433 km).
"""

import json
import random

import numpy as np
import pyarrow as pa
import pytest
from shapely.geometry import Point, shape

from connectors.delivery import DeliveryError
from connectors.gebieden import assign_buurt, read_gebieden

X0, Y0 = 92_000, 433_000
RD = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}}


def _square(x0: float, y0: float, size: float = 500) -> dict:
    ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def _feature(code: str, geometry: dict | None, **props) -> dict:
    base = {
        "buurtcode": code,
        "buurtnaam": f"Buurt {code[-2:]}",
        "wijkcode": "WK" + code[2:8],
        "wijknaam": "Feijenoord",
        "gemeentecode": "GM" + code[2:6],
        "gemeentenaam": "Rotterdam",
    }
    return {"type": "Feature", "properties": {**base, **props}, "geometry": geometry}


def _map(folder, features: list[dict], crs: dict | None = RD, name: str = "buurten.geojson"):
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"type": "FeatureCollection", "name": "buurten", "features": features}
    if crs is not None:
        doc["crs"] = crs
    (folder / name).write_text(json.dumps(doc), encoding="utf-8")
    return folder


def _three_buurten(jaar_prop=None) -> list[dict]:
    extra = {} if jaar_prop is None else {"jaar": jaar_prop}
    multi = {
        "type": "MultiPolygon",
        "coordinates": [_square(X0 + 1000, Y0)["coordinates"], _square(X0 + 1000, Y0 + 1000)["coordinates"]],
    }
    return [
        _feature("BU05991081", _square(X0, Y0), buurtnaam="Bloemhof", **extra),
        _feature("BU05991082", _square(X0 + 500, Y0), buurtnaam="Hillesluis", **extra),
        _feature("BU05991571", multi, buurtnaam="Tarwewijk", wijkcode="WK059915", wijknaam="Charlois", **extra),
    ]


def test_buurten_land_with_codes_year_and_polygons(tmp_path):
    d = _map(tmp_path / "2026", _three_buurten())
    r = read_gebieden(d, staging_root=tmp_path / "s")
    assert r.delivery_id == "2026" and r.drift == []
    assert r.counts()["buurt"] == {"in": 3, "clean": 3, "quarantined": 0}
    rows = r.entities["buurt"].read_clean().to_pylist()
    first = {k: v for k, v in rows[0].items() if k not in ("geometry_wkt", "source_file")}
    assert first == {
        "buurtcode": "BU05991081",
        "buurtnaam": "Bloemhof",
        "wijkcode": "WK059910",
        "wijknaam": "Feijenoord",
        "gemeentecode": "GM0599",
        "gemeentenaam": "Rotterdam",
        "jaar": 2026,  # no jaar property: the folder's year
        "record_ref": "features[0]",
    }
    assert rows[0]["geometry_wkt"].startswith("POLYGON ((92000 433000")
    assert rows[2]["geometry_wkt"].startswith("MULTIPOLYGON")
    assert r.info == {"codes_nest_niet": 0, "jaar_anders_dan_map": 0}


def test_the_features_own_year_wins_and_a_mismatch_is_reported(tmp_path):
    d = _map(tmp_path / "2026", _three_buurten(jaar_prop=2025))
    r = read_gebieden(d, staging_root=tmp_path / "s")
    assert set(r.entities["buurt"].read_clean()["jaar"].to_pylist()) == {2025}
    assert r.info["jaar_anders_dan_map"] == 3


def test_bad_codes_and_polygons_go_to_quarantine_with_the_field(tmp_path):
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[X0, Y0], [X0 + 100, Y0 + 100], [X0 + 100, Y0], [X0, Y0 + 100], [X0, Y0]]],
    }
    features = [
        *_three_buurten(),
        _feature("BU0599108", _square(X0, Y0 + 2000)),  # [3] seven digits
        _feature("BU05991083", _square(X0, Y0 + 2000), wijkcode="WK0599910"),  # [4] seven digits
        _feature("BU05991084", _square(X0, Y0 + 2000), gemeentecode="0599"),  # [5]
        _feature("BU05991085", bowtie),  # [6] self-intersecting
        _feature("BU05991086", {"type": "Point", "coordinates": [X0, Y0]}),  # [7]
        _feature("BU05991087", None),  # [8]
        _feature("BU05991081", _square(X0, Y0 + 3000)),  # [9] the same code again in the same year
        _feature("BU05991088", _square(X0, Y0 + 4000), jaar="ooit"),  # [10]
        {"type": "Feature", "properties": {"buurtnaam": "zonder code"}, "geometry": _square(X0, Y0 + 5000)},  # [11]
        _feature("BU05991089", _square(X0, Y0 + 6000), wijkcode="WK059911", oppervlakte_ha=25),  # [12] lands
    ]
    r = read_gebieden(_map(tmp_path / "2026", features), staging_root=tmp_path / "s")
    assert r.counts()["buurt"] == {"in": 13, "clean": 4, "quarantined": 9}
    q = {x["record_ref"]: (x["field"], x["reason_code"]) for x in r.entities["buurt"].read_quarantine().to_pylist()}
    assert q == {
        "features[3]": ("buurtcode", "invalid_code"),
        "features[4]": ("wijkcode", "invalid_code"),
        "features[5]": ("gemeentecode", "invalid_code"),
        "features[6]": ("geometry", "inconsistent"),
        "features[7]": ("geometry", "inconsistent"),
        "features[8]": ("geometry", "missing_required"),
        "features[9]": ("buurtcode,jaar", "duplicate"),
        "features[10]": ("jaar", "invalid_date"),
        "features[11]": ("buurtcode", "missing_required"),
    }
    reasons = {x["record_ref"]: x["reason"] for x in r.entities["buurt"].read_quarantine().to_pylist()}
    assert "Self-intersection" in reasons["features[6]"]
    # BU05991089 says it lies in wijk WK059911, while its code puts it in WK059910: landed, counted
    assert r.info["codes_nest_niet"] == 1
    assert [(x.kind, x.column) for x in r.drift] == [("extra", "properties.oppervlakte_ha")]


def test_a_year_is_required_from_the_feature_or_the_folder(tmp_path):
    r = read_gebieden(_map(tmp_path / "laatste", _three_buurten()), staging_root=tmp_path / "s")
    assert r.counts()["buurt"] == {"in": 3, "clean": 0, "quarantined": 3}
    assert set(r.entities["buurt"].read_quarantine()["reason_code"].to_pylist()) == {"missing_required"}


def test_other_reference_systems_are_refused(tmp_path):
    wgs84 = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    with pytest.raises(DeliveryError, match=r"buurten\.geojson, crs: geometry must be EPSG:28992"):
        read_gebieden(_map(tmp_path / "a" / "2026", _three_buurten(), crs=wgs84), staging_root=tmp_path / "s")
    lonlat = [_feature("BU05991081", _square(4.5, 51.89, 0.01))]
    with pytest.raises(DeliveryError, match=r"features\[0\]\.geometry: no crs given .*longitude/latitude\?"):
        read_gebieden(_map(tmp_path / "b" / "2026", lonlat, crs=None), staging_root=tmp_path / "s")
    assert list((tmp_path / "s").iterdir()) == []
    # without crs but in RD metres: accepted
    r = read_gebieden(_map(tmp_path / "c" / "2026", _three_buurten(), crs=None), staging_root=tmp_path / "s")
    assert r.counts()["buurt"]["clean"] == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"byte 0: empty file"),
        (b'{"type": "FeatureCollection", "features": [{"type": "Feature", ', r"line 1 column \d+: malformed JSON"),
        (b'{"type": "Feature", "properties": {}}', r"root: not a GeoJSON FeatureCollection"),
        (b'{"type": "FeatureCollection", "features": {}}', r"features: a FeatureCollection without a features list"),
    ],
    ids=["zero-bytes", "truncated", "not-a-collection", "features-not-a-list"],
)
def test_unreadable_maps_raise_with_file_and_place(tmp_path, content, message):
    d = tmp_path / "2026"
    d.mkdir()
    (d / "buurten.geojson").write_bytes(content)
    with pytest.raises(DeliveryError, match=r"buurten\.geojson, " + message):
        read_gebieden(d, staging_root=tmp_path / "s")
    assert list((tmp_path / "s").iterdir()) == []


def _buurten_table(tmp_path) -> pa.Table:
    return (
        read_gebieden(_map(tmp_path / "2026", _three_buurten()), staging_root=tmp_path / "s")
        .entities["buurt"]
        .read_clean()
    )


def test_points_are_assigned_to_their_buurt(tmp_path):
    buurten = _buurten_table(tmp_path)
    points = [
        (X0 + 10, Y0 + 10),  # Bloemhof
        (X0 + 700, Y0 + 250),  # Hillesluis
        (X0 + 1200, Y0 + 1200),  # Tarwewijk, second part of the multipolygon
        (X0 + 500, Y0 + 100),  # on the Bloemhof/Hillesluis border: the lower code
        (X0 + 1200, Y0 + 700),  # between the two Tarwewijk parts: outside
        (None, None),  # a dwelling without a point
    ]
    expected = ["BU05991081", "BU05991082", "BU05991571", "BU05991081", None, None]
    assert assign_buurt(points, buurten) == expected
    assert assign_buurt(np.array(points[:5], dtype=float), buurten) == expected[:5]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    assert assign_buurt(xs, ys, buurten) == expected  # the older (xs, ys, buurten) call
    assert assign_buurt([], buurten) == []


def test_with_several_years_the_latest_is_used_unless_one_is_asked(tmp_path):
    old = [_feature("BU05990001", _square(X0, Y0, 1000), jaar=2019)]
    table_2019 = read_gebieden(_map(tmp_path / "2019", old), staging_root=tmp_path / "s").entities["buurt"].read_clean()
    both = pa.concat_tables([table_2019, _buurten_table(tmp_path)])
    assert assign_buurt([(X0 + 10, Y0 + 10)], both) == ["BU05991081"]
    assert assign_buurt([(X0 + 10, Y0 + 10)], both, jaar=2019) == ["BU05990001"]


def test_assignment_agrees_with_a_plain_containment_test(tmp_path):
    buurten = _buurten_table(tmp_path)
    polygons = [
        (c, shape(json.loads(json.dumps(f["geometry"]))))
        for c, f in zip(buurten["buurtcode"].to_pylist(), _three_buurten(), strict=True)
    ]
    rng = random.Random(3)
    points = [(X0 - 200 + rng.random() * 1900, Y0 - 200 + rng.random() * 2900) for _ in range(3000)]
    expected = [min((c for c, poly in polygons if poly.intersects(Point(x, y))), default=None) for x, y in points]
    assert assign_buurt(points, buurten) == expected
    assert sum(e is not None for e in expected) > 400  # the buurten cover about a fifth of the box
