"""The programme's yearly report (signalling and monitoring): figures from the warehouse, small numbers suppressed,
charts and the buurt map, written as `index.html`, `data.json` and a PDF into one folder.

The folder is written whole or not at all: everything goes into a hidden sibling folder first, which replaces the
old one in one rename, so a reader never finds a page without its PDF or a PDF of another run.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from governance.small_counts import MIN_SHOWN, primary, suppress
from hubcore.paths import HubPaths
from reports import chart_svgs, charts, page, pdf
from reports.buurtmap import signals_map
from reports.figures import Figures, read
from reports.year import default_year

__all__ = ["ProgrammeReport", "build", "data_rows", "default_year", "small_counts_shown", "suppressed"]

PDF_NAME = "signalering-en-monitoring-{year}.pdf"
CHART_SVGS = ".chart_svgs"  # beside the report folders: the SVGs of the last build, by spec (reports/chart_svgs.py)


@dataclass
class ProgrammeReport:
    out: Path
    year: int
    charts: list[charts.Chart]
    rows: list[dict[str, Any]]
    printed: bool = True  # whether the PDF was printed

    @property
    def html(self) -> Path:
        return self.out / "index.html"

    @property
    def pdf(self) -> Path:
        return self.out / PDF_NAME.format(year=self.year)


def suppressed(figures: Figures) -> Figures:
    """The same figures with every suppressed cell's value set to None and the reason (governance/small_counts.py)."""
    protected = {k: c.value for k, c in figures.cells.items() if c.protected}
    relations = [r for r in figures.relations if r.total in protected]
    hidden = suppress(protected, relations)
    small = primary(protected)
    out = Figures(figures.year, figures.through, relations=figures.relations)
    for key, cell in figures.cells.items():
        reason = ("klein" if key in small else "aanvullend") if key in hidden else ""
        out.cells[key] = replace(cell, value=None if key in hidden else cell.value, hidden=reason)
    return out


def data_rows(shown: Figures) -> list[dict[str, Any]]:
    """Every figure shown, as rows: chart, dimensions, value (null when suppressed) and suppressed."""
    return [
        {
            "chart": c.chart,
            **dict(c.dims),
            "value": c.value,
            "suppressed": c.value is None,
            "protected": c.protected,
            **({"suppressed_because": c.hidden} if c.hidden else {}),
        }
        for c in sorted(shown.cells.values(), key=lambda c: (c.chart, str(c.dims)))
    ]


def build(
    paths: HubPaths,
    year: int,
    out: Path,
    *,
    with_pdf: bool = True,
    pdf_optional: bool = False,
    made: date | None = None,
) -> ProgrammeReport:
    """Write the report for `year` into `out` (replaced whole). Without Chromium the PDF is skipped when
    `pdf_optional` (the Dagster asset, on a machine without a browser: it says so), else RendererMissing is raised
    before anything is written."""
    if with_pdf:
        try:
            pdf.chromium()
        except pdf.RendererMissing:
            if not pdf_optional:
                raise
            with_pdf = False
    figures = suppressed(read(paths.warehouse, year))
    with chart_svgs.kept_in(paths.reports / CHART_SVGS):  # a chart whose spec did not change is not drawn again
        built = [build_chart(figures) for build_chart in charts.BUILDERS]
        built.insert(5, signals_map(figures, paths.landing))
    rows = data_rows(figures)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = out.parent / f".{out.name}.{uuid.uuid4().hex}"
    work.mkdir()
    try:
        (work / "index.html").write_text(page.render(figures, built, made or date.today()), encoding="utf-8")
        (work / "data.json").write_text(
            json.dumps(
                {"jaar": year, "tot_en_met": figures.through.isoformat(), "minimum": 5, "rows": rows},
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )
        if with_pdf:
            name = PDF_NAME.format(year=year)
            pdf.reuse_or_print_pdf(work / "index.html", work / name, out / "index.html", out / name)
        if out.exists():
            old = out.parent / f".{out.name}.old.{uuid.uuid4().hex}"
            out.rename(old)
            work.rename(out)
            shutil.rmtree(old)
        else:
            work.rename(out)
    finally:
        if work.exists():
            shutil.rmtree(work)
    return ProgrammeReport(out, year, built, rows, with_pdf)


def small_counts_shown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of data.json that show a count from 1 to 4 about persons, dwellings or owners (none should)."""
    return [r for r in rows if r.get("protected") and r["value"] is not None and 0 < r["value"] < MIN_SHOWN]
