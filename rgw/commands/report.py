"""`rgw report programme`: the programme's yearly signalling and monitoring report, at a terminal."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from rgw.settings import HubPaths


@click.group()
def report() -> None:
    """The programme's own reports."""


@report.command("programme")
@click.option("--year", type=int, default=None, help="Default: the year of the reference date (dbt var peildatum).")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder to write (default data/reports/programme_YEAR).",
)
@click.option("--pdf/--no-pdf", default=True, show_default=True, help="Also print the PDF with headless Chromium.")
def programme(year: int, out: Path | None, pdf: bool) -> None:
    """Write the yearly signalling and monitoring report: OUT/index.html, OUT/data.json and the PDF."""
    from reports.pdf import RendererMissing
    from reports.programme import build, default_year

    year = year or default_year()
    paths = HubPaths.from_env()
    out = out or paths.reports / f"programme_{year}"
    if not paths.warehouse.exists():
        click.echo(f"error: no warehouse at {paths.warehouse}: run `make demo` or `rgw run` first", err=True)
        sys.exit(2)
    started = time.perf_counter()
    try:
        result = build(paths, year, out, with_pdf=pdf)
    except (LookupError, FileNotFoundError, RendererMissing) as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    hidden = sum(1 for r in result.rows if r["suppressed"])
    click.echo(f"{len(result.charts)} charts, {len(result.rows)} figures ({hidden} suppressed) in {out}")
    click.echo(f"  {result.html}")
    click.echo(f"  {out / 'data.json'}")
    if pdf:
        click.echo(f"  {result.pdf}")
    click.echo(f"written in {time.perf_counter() - started:.1f}s")
