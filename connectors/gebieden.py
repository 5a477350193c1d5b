"""Neighbourhood map connector: CBS-style `buurten.geojson` per year (docs/formats.md), and buurt assignment.

CBS codes change between years, so the year travels with every code: the delivery folder is the year
(`incoming/gebieden/2026/`), and a feature's own `jaar` property wins where present. Geometry is EPSG:28992 (RD New),
the same as BAG points, so a verblijfsobject is placed in its buurt by a plain point-in-polygon test; a file in
another reference system (GeoJSON's default is WGS84 longitude/latitude) is refused rather than silently misplaced.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import shapely
from shapely import STRtree
from shapely.geometry import shape
from shapely.validation import explain_validity

from connectors.csvfile import load_json
from connectors.delivery import DeliveryError, DeliveryResult, EntityCollector, SchemaDrift, Staging
from connectors.snapshots import refuse_empty_snapshot

SOURCE = "gebieden"
BUURT_SCHEMA = pa.schema(
    [
        ("buurtcode", pa.string()),
        ("buurtnaam", pa.string()),
        ("wijkcode", pa.string()),
        ("wijknaam", pa.string()),
        ("gemeentecode", pa.string()),
        ("gemeentenaam", pa.string()),
        ("jaar", pa.int32()),
        ("geometry_wkt", pa.string()),
        ("source_file", pa.string()),
        ("record_ref", pa.string()),
    ]
)
PROPERTIES = ["buurtcode", "buurtnaam", "wijkcode", "wijknaam", "gemeentecode", "gemeentenaam", "jaar"]
_BUURT = re.compile(r"^BU\d{8}$")
_WIJK = re.compile(r"^WK\d{6}$")
_GEMEENTE = re.compile(r"^GM\d{4}$")
_YEAR = re.compile(r"(?<!\d)(19|20)\d{2}(?!\d)")
# RD New covers the Netherlands with x about -7000..300000 and y about 289000..629000 metres
_RD_BOUNDS = (-8_000.0, 280_000.0, 310_000.0, 640_000.0)

Problem = tuple[str, str, str]


def _year_of(path: Path) -> int | None:
    """The year from the folder (`incoming/gebieden/2026/buurten.geojson`) or else the file name."""
    for part in (path.parent.name, path.stem):
        m = _YEAR.search(part)
        if m:
            return int(m.group(0))
    return None


def _crs_check(path: Path, doc: dict[str, Any]) -> None:
    """EPSG:28992 named in `crs`; without `crs`, coordinates must lie in the RD range, not in degrees."""
    name = str(((doc.get("crs") or {}).get("properties") or {}).get("name") or "")
    if name:
        if not re.search(r"(EPSG:+|EPSG/0/)28992$", name):
            raise DeliveryError(path, "crs", f"geometry must be EPSG:28992 (RD New), the file says {name}")
        return
    for i, feat in enumerate(doc.get("features") or []):
        geom = (feat or {}).get("geometry") if isinstance(feat, dict) else None
        try:
            bounds = shape(geom).bounds if geom else None
        except (ValueError, TypeError, AttributeError, KeyError, IndexError):
            continue  # the feature itself is quarantined later
        if bounds and not any(np.isnan(bounds)):
            x0, y0, x1, y1 = _RD_BOUNDS
            if not (x0 <= bounds[0] and bounds[2] <= x1 and y0 <= bounds[1] and bounds[3] <= y1):
                raise DeliveryError(
                    path,
                    f"features[{i}].geometry",
                    "no crs given and the coordinates are not RD New (EPSG:28992) metres: longitude/latitude?",
                )
            return


def _code_problem(props: dict[str, Any]) -> Problem | None:
    code = props.get("buurtcode")
    if not code:
        return ("buurtcode", "missing_required", "feature without buurtcode")
    if not _BUURT.match(str(code)):
        return ("buurtcode", "invalid_code", "buurtcode is not BU followed by eight digits")
    if props.get("wijkcode") and not _WIJK.match(str(props["wijkcode"])):
        return ("wijkcode", "invalid_code", "wijkcode is not WK followed by six digits")
    if props.get("gemeentecode") and not _GEMEENTE.match(str(props["gemeentecode"])):
        return ("gemeentecode", "invalid_code", "gemeentecode is not GM followed by four digits")
    return None


def _polygon(geom: Any) -> tuple[Any, Problem | None]:
    if not geom:
        return None, ("geometry", "missing_required", "feature without geometry")
    try:
        polygon = shape(geom)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        return None, ("geometry", "inconsistent", "geometry is not readable GeoJSON")
    if polygon.geom_type not in ("Polygon", "MultiPolygon"):
        return None, ("geometry", "inconsistent", f"geometry is a {polygon.geom_type}, not a (multi)polygon")
    if polygon.is_empty:
        return None, ("geometry", "inconsistent", "polygon is empty")
    if not polygon.is_valid:
        return None, ("geometry", "inconsistent", f"polygon is not valid: {explain_validity(polygon)}")
    if polygon.area <= 0:
        return None, ("geometry", "inconsistent", "polygon has no area")
    return polygon, None


def _buurt(props: dict[str, Any], geom: Any, folder_year: int | None) -> tuple[dict[str, Any] | None, Problem | None]:
    problem = _code_problem(props)
    if problem:
        return None, problem
    jaar_raw = props.get("jaar")
    if jaar_raw in (None, ""):
        jaar = folder_year
    elif re.fullmatch(r"(19|20)\d{2}", str(jaar_raw).strip()):
        jaar = int(str(jaar_raw).strip())
    else:
        return None, ("jaar", "invalid_date", "jaar is not a year")
    if jaar is None:
        return None, ("jaar", "missing_required", "no jaar property and no year in the folder name")
    polygon, problem = _polygon(geom)
    if problem:
        return None, problem
    return {
        "buurtcode": str(props["buurtcode"]),
        "buurtnaam": props.get("buurtnaam"),
        "wijkcode": props.get("wijkcode"),
        "wijknaam": props.get("wijknaam"),
        "gemeentecode": props.get("gemeentecode"),
        "gemeentenaam": props.get("gemeentenaam"),
        "jaar": jaar,
        "geometry_wkt": polygon.wkt,
    }, None


def _nests(row: dict[str, Any]) -> bool:
    """CBS codes nest: BU<gemeente 4><wijk 2><buurt 2>, WK<gemeente 4><wijk 2>, GM<gemeente 4>."""
    code = row["buurtcode"]
    wijk_ok = not row["wijkcode"] or row["wijkcode"][2:] == code[2:8]
    gemeente_ok = not row["gemeentecode"] or row["gemeentecode"][2:] == code[2:6]
    return wijk_ok and gemeente_ok


def gebieden_files(path: Path) -> list[Path]:
    """The *.geojson (and *.json) files of a delivery folder, or the one file given."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".geojson", ".json"))
    return [path]


def read_gebieden(path: Path, *, delivery_id: str | None = None, staging_root: Path | None = None) -> DeliveryResult:
    """Read the buurt polygons of one year: codes and polygons checked, one row per (buurtcode, jaar)."""
    path = Path(path)
    if not path.exists():
        raise DeliveryError(path, "path", "no such file or folder")
    files = gebieden_files(path)
    info: Counter[str] = Counter()
    drift: set[str] = set()
    with Staging(staging_root) as d:
        c = EntityCollector("buurt", BUURT_SCHEMA, d, key_fields=("buurtcode", "jaar"))
        try:
            for f in files:
                doc = load_json(f)
                if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
                    raise DeliveryError(f, "root", "not a GeoJSON FeatureCollection")
                if not isinstance(doc.get("features"), list):
                    raise DeliveryError(f, "features", "a FeatureCollection without a features list")
                if not doc["features"]:  # the map of a year is a full snapshot: an empty one wipes every buurt
                    refuse_empty_snapshot(f, "features", "the FeatureCollection has no features (no buurt)")
                _crs_check(f, doc)
                folder_year = _year_of(f)
                for i, feat in enumerate(doc["features"]):
                    ref = f"features[{i}]"
                    props = feat.get("properties") if isinstance(feat, dict) else None
                    props = props if isinstance(props, dict) else {}
                    drift.update(k for k in props if k not in PROPERTIES)
                    row, problem = _buurt(props, feat.get("geometry") if isinstance(feat, dict) else None, folder_year)
                    if problem:
                        fld, code, reason = problem
                        c.quarantine(file=str(f), record_ref=ref, field=fld, reason_code=code, reason=reason, raw=props)
                        continue
                    if c.add({**row, "source_file": str(f), "record_ref": ref}, file=str(f), record_ref=ref, raw=props):
                        info["codes_nest_niet"] += not _nests(row)
                        info["jaar_anders_dan_map"] += folder_year is not None and row["jaar"] != folder_year
        except BaseException:
            c.abort()
            raise
        return DeliveryResult(
            source=SOURCE,
            delivery_id=delivery_id or (path.name if path.is_dir() else path.stem),
            files=[str(f) for f in files],
            entities={"buurt": c.finish()},
            drift=[SchemaDrift("extra", f"properties.{k}") for k in sorted(drift)],
            staging_dir=d,
            info=dict(info),
        )


def assign_buurt(
    points_xy: Any, buurten: Any, legacy_buurten: pa.Table | None = None, *, jaar: int | None = None
) -> list[str | None]:
    """The buurtcode of each point (RD New x, y), None outside every buurt or for a point without coordinates.

    `points_xy` is a sequence of (x, y) pairs or an (n, 2) array; `buurten` the landed buurt table. The older call
    `assign_buurt(xs, ys, buurten)` still works. With several years in the table, `jaar` picks one (default: the
    latest), because codes of different years overlap. A point on a shared border goes to the lowest buurtcode, so
    the answer does not depend on the order of the polygons.
    """
    if legacy_buurten is not None:  # assign_buurt(xs, ys, buurten)
        points_xy, buurten = list(zip(points_xy, buurten, strict=True)), legacy_buurten
    table: pa.Table = buurten
    if table.num_rows == 0:
        return [None] * len(points_xy)
    years = table.column("jaar").to_pylist()
    chosen = jaar if jaar is not None else max((y for y in years if y is not None), default=None)
    keep = [i for i, y in enumerate(years) if chosen is None or y == chosen]
    codes = [table.column("buurtcode")[i].as_py() for i in keep]
    polygons = shapely.from_wkt([table.column("geometry_wkt")[i].as_py() for i in keep])
    xy = _as_xy(points_xy)
    out: list[str | None] = [None] * len(xy)
    if not len(xy) or not keep:
        return out
    tree = STRtree(polygons)
    point_idx, poly_idx = tree.query(shapely.points(xy), predicate="intersects")
    for p, g in zip(point_idx.tolist(), poly_idx.tolist(), strict=True):
        code = codes[g]
        if out[p] is None or code < out[p]:
            out[p] = code
    return out


def _as_xy(points_xy: Any) -> np.ndarray:
    """(x, y) pairs as an (n, 2) float array, NaN where a coordinate is missing (such points match nothing)."""
    if isinstance(points_xy, np.ndarray):
        return points_xy.astype(float).reshape(-1, 2)
    pairs: Sequence[Any] = list(points_xy)
    return np.array(
        [(np.nan, np.nan) if p is None or p[0] is None or p[1] is None else (p[0], p[1]) for p in pairs], dtype=float
    ).reshape(-1, 2)
