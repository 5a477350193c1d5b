"""Neighbourhood map connector: CBS-style `buurten.geojson` per year (docs/formats.md), and buurt assignment.

CBS codes change between years, so the year travels with every code: the delivery folder is the year
(`incoming/gebieden/2026/`), and the file's own `jaar` property wins where present. Geometry is EPSG:28992 (RD
New), the same as BAG points, so a verblijfsobject is placed in its buurt by a plain point-in-polygon test.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from shapely import STRtree, points
from shapely.geometry import shape
from shapely.validation import explain_validity

from connectors.csvfile import load_json
from connectors.delivery import DeliveryError, DeliveryResult, EntityCollector, Staging

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
_BUURT = re.compile(r"^BU\d{8}$")
_WIJK = re.compile(r"^WK\d{6}$")


def _year(path: Path) -> int | None:
    for part in (path.parent.name, path.stem):
        m = re.search(r"(19|20)\d{2}", part)
        if m:
            return int(m.group(0))
    return None


def _buurt(
    props: dict[str, Any], geom: Any, year: int | None
) -> tuple[dict[str, Any] | None, tuple[str, str, str] | None]:
    code = props.get("buurtcode")
    if not code:
        return None, ("buurtcode", "missing_required", "feature without buurtcode")
    if not _BUURT.match(str(code)):
        return None, ("buurtcode", "invalid_code", "buurtcode is not BU followed by eight digits")
    if props.get("wijkcode") and not _WIJK.match(str(props["wijkcode"])):
        return None, ("wijkcode", "invalid_code", "wijkcode is not WK followed by six digits")
    if geom is None:
        return None, ("geometry", "missing_required", "feature without geometry")
    try:
        polygon = shape(geom)
    except (ValueError, TypeError, AttributeError, KeyError):
        return None, ("geometry", "inconsistent", "geometry is not a GeoJSON polygon")
    if polygon.geom_type not in ("Polygon", "MultiPolygon") or not polygon.is_valid:
        return None, ("geometry", "inconsistent", f"polygon is not valid: {explain_validity(polygon)}")
    jaar = props.get("jaar") or year
    return {
        "buurtcode": code,
        "buurtnaam": props.get("buurtnaam"),
        "wijkcode": props.get("wijkcode"),
        "wijknaam": props.get("wijknaam"),
        "gemeentecode": props.get("gemeentecode"),
        "gemeentenaam": props.get("gemeentenaam"),
        "jaar": int(jaar) if jaar else None,
        "geometry_wkt": polygon.wkt,
    }, None


def read_gebieden(path: Path, *, delivery_id: str | None = None, staging_root: Path | None = None) -> DeliveryResult:
    """Read the buurt polygons of one year."""
    path = Path(path)
    if not path.exists():
        raise DeliveryError(path, "path", "no such file or folder")
    files = sorted(path.glob("*.geojson")) + sorted(path.glob("*.json")) if path.is_dir() else [path]
    with Staging(staging_root) as d:
        c = EntityCollector("buurt", BUURT_SCHEMA, d, key_fields=("buurtcode", "jaar"))
        try:
            for f in files:
                doc = load_json(f)
                if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
                    raise DeliveryError(f, "root", "not a GeoJSON FeatureCollection")
                crs = ((doc.get("crs") or {}).get("properties") or {}).get("name", "")
                if crs and "28992" not in crs:
                    raise DeliveryError(f, "crs", f"geometry must be EPSG:28992 (RD New), found {crs}")
                for i, feat in enumerate(doc.get("features") or []):
                    ref = f"features[{i}]"
                    row, problem = _buurt(feat.get("properties") or {}, feat.get("geometry"), _year(f))
                    if problem:
                        fld, code, reason = problem
                        c.quarantine(
                            file=str(f),
                            record_ref=ref,
                            field=fld,
                            reason_code=code,
                            reason=reason,
                            raw=feat.get("properties"),
                        )
                    else:
                        c.add(
                            {**row, "source_file": str(f), "record_ref": ref},
                            file=str(f),
                            record_ref=ref,
                            raw=feat.get("properties"),
                        )
        except BaseException:
            c.abort()
            raise
        return DeliveryResult(
            source=SOURCE,
            delivery_id=delivery_id or path.stem,
            files=[str(f) for f in files],
            entities={"buurt": c.finish()},
            drift=[],
            staging_dir=d,
            info={},
        )


def assign_buurt(xs: Sequence[float | None], ys: Sequence[float | None], buurten: pa.Table) -> list[str | None]:
    """The buurtcode of each point (RD coordinates), or None outside every buurt; uses an STRtree index."""
    from shapely import from_wkt

    polygons = from_wkt(buurten.column("geometry_wkt").to_pylist())
    codes = buurten.column("buurtcode").to_pylist()
    tree = STRtree(polygons)
    pts = points(
        [
            (x if x is not None else float("nan"), y if y is not None else float("nan"))
            for x, y in zip(xs, ys, strict=True)
        ]
    )
    out: list[str | None] = [None] * len(pts)
    point_idx, poly_idx = tree.query(pts, predicate="within")
    for p, g in zip(point_idx.tolist(), poly_idx.tolist(), strict=True):
        if out[p] is None:
            out[p] = codes[g]
    return out
