"""The map of the five focus neighbourhoods: the buurt polygons the hub ingests (gebieden connector, latest year in
the landing zone, RD New coordinates), each shaded by its focus neighbourhood's reports per 1,000 dwellings.

Pendrecht and Zuidwijk are two CBS buurten but one focus neighbourhood in the plan, so both polygons carry the same
figure. The polygons are drawn in their own projected coordinates (Vega-Lite's identity projection, y flipped), so
no map tiles or network are needed.
"""

from __future__ import annotations

from pathlib import Path

import altair as alt
import duckdb
import yaml
from shapely import wkt

from reports.charts import WIDTH, Chart, shown, svg
from reports.figures import FOCUSWIJKEN, Figures

DBT_PROJECT = Path(__file__).resolve().parent.parent / "dbt_project" / "dbt_project.yml"


def focuswijken() -> dict[str, str]:
    """CBS buurtcode -> focus neighbourhood, the same mapping the warehouse uses (var `focuswijken`)."""
    return dict(yaml.safe_load(DBT_PROJECT.read_text())["vars"]["focuswijken"])


def buurt_polygons(landing: Path) -> list[dict]:
    """GeoJSON features of the latest delivered year's buurten in the focus neighbourhoods."""
    deliveries = sorted((landing / "gebieden").glob("*/buurt.parquet"))
    if not deliveries:
        raise FileNotFoundError(f"no buurt polygons in {landing / 'gebieden'}: ingest the gebieden source first")
    mapping = focuswijken()
    rows = duckdb.sql(
        "select buurtcode, buurtnaam, geometry_wkt from read_parquet(?) where geometry_wkt is not null",
        params=[str(deliveries[-1])],
    ).fetchall()
    return [
        {
            "type": "Feature",
            "geometry": wkt.loads(geometry).__geo_interface__,
            "properties": {"buurtcode": code, "buurtnaam": name, "buurt": mapping[code]},
        }
        for code, name, geometry in rows
        if code in mapping
    ]


def signals_map(f: Figures, landing: Path) -> Chart:
    cells = f.of("kaart_meldingen_per_1000_woningen")
    rate = {c.dim("buurt"): c.value for c in cells if c.dim("reeks") == "per 1.000 woningen"}
    homes = {c.dim("buurt"): c.value for c in cells if c.dim("reeks") == "woningen"}
    features = buurt_polygons(landing)
    for feat in features:
        props = feat["properties"]
        props["per_1000"] = rate.get(props["buurt"])
        props["label"] = f"{props['buurtnaam']}: {shown(rate.get(props['buurt']))}"
        centre = wkt.loads(_wkt(feat)).representative_point()
        props["x"], props["y"] = centre.x, centre.y
    known = {w: r for w, r in rate.items() if r is not None}
    top = max(known, key=lambda w: known[w]) if known else None
    title = (
        f"{top} heeft de meeste meldingen per 1.000 woningen ({shown(known[top])})"
        if top
        else "Meldingen per 1.000 woningen: aantallen te klein om te tonen"
    )
    shapes = (
        alt.Chart(alt.Data(values=features))
        .mark_geoshape(stroke="white", strokeWidth=1.5)
        .encode(
            color=alt.Color(
                "properties.per_1000:Q",
                title=["meldingen per", "1.000 woningen"],
                scale=alt.Scale(scheme="blues", zero=True),
                legend=alt.Legend(orient="right"),
            )
        )
        .project(type="identity", reflectY=True)
    )
    labels = (
        alt.Chart(alt.Data(values=[f["properties"] for f in features]))
        .mark_text(fontSize=11, fontWeight="bold")
        .encode(
            longitude="x:Q",
            latitude="y:Q",
            text="label:N",
            color=alt.condition("datum.per_1000 > 45", alt.value("white"), alt.value("#111")),
        )
        .project(type="identity", reflectY=True)
    )
    text = (
        f"Meldingen in {f.year} (tot nu) per 1.000 woningen, per focuswijk. De vlakken zijn de CBS-buurten die de hub "
        "inleest; Pendrecht en Zuidwijk vormen samen één focuswijk en hebben dus dezelfde kleur."
    )
    rows = [[w, shown(homes.get(w)), shown(rate.get(w))] for w in FOCUSWIJKEN]
    chart = alt.layer(shapes, labels).properties(width=WIDTH - 120, height=380)
    return Chart("kaart", title, text, svg(chart), ["focuswijk", "woningen", "meldingen per 1.000 woningen"], rows)


def _wkt(feature: dict) -> str:
    from shapely.geometry import shape

    return shape(feature["geometry"]).wkt
