"""The programme report (`rgw report programme`) on the hub's own warehouse: site, data.json and PDF, against the goal
"under 30 s on the focus world" (issue #12).

Run it after `make demo` (the focus world; RGW_DATA names the hub). Anchors, measured in the same run on the same
machine: a bare DuckDB read of every warehouse table the report reads (the least any report must do to get its
figures) and headless Chromium printing a one-line page to PDF (the fixed cost of the renderer the report prints
with). The report's time is given as a ratio to their sum; the goal is a ratio, and the absolute seconds are shown
beside it for the issue's 30 s (on this machine, in this run).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from benchmarks.harness import measure, write_result

TABLES = (
    "fct_zaken",
    "int_zaken__eigenaar",
    "monitoring_doelen",
    "monitoring_eigenaren",
    "monitoring_interventies",
    "monitoring_nieuwe_zaken_per_wijk",
    "signalering_buurt_jaar",
)
GOAL_RATIO = 6.0  # the whole report costs at most six times reading its tables and printing an empty page
GOAL_SECONDS = 30.0  # the goal on the focus world, reported, not timed in a test


def main() -> dict:
    from reports.programme import default_year
    from rgw.settings import HubPaths

    paths = HubPaths.from_env()
    if not paths.warehouse.exists():
        raise RuntimeError(f"no warehouse at {paths.warehouse}: run `make demo` first (the focus world)")
    year = default_year()
    with tempfile.TemporaryDirectory(prefix="rgw-bench-report-") as d:
        blank = Path(d) / "blank.html"
        blank.write_text("<!doctype html><html lang=nl><body><p>leeg</p></body></html>", encoding="utf-8")
        read_anchor = measure(
            "report_anchor_duckdb_read",
            f"""
            import duckdb
            con = duckdb.connect({str(paths.warehouse)!r}, read_only=True)
            out['rows'] = sum(con.sql(f'select * from {{t}}').to_arrow_table().num_rows for t in {TABLES!r})
            """,
        )
        print_anchor = measure(
            "report_anchor_chromium_print",
            f"""
            from pathlib import Path
            from reports.pdf import print_pdf
            print_pdf(Path({str(blank)!r}), Path({d!r}) / 'blank.pdf')
            """,
        )
        report = measure(
            "report_programme",
            f"""
            import json
            from pathlib import Path
            from reports.programme import build, small_counts_shown
            from rgw.settings import HubPaths
            built = build(HubPaths.from_env(), {year}, Path({d!r}) / 'rapport')
            out['charts'] = len(built.charts)
            out['rows'] = len(built.rows)
            out['small_counts_shown'] = len(small_counts_shown(built.rows))
            out['files'] = sorted(p.name for p in built.out.iterdir())
            """,
        )
    anchors = read_anchor.seconds + print_anchor.seconds
    payload = {
        "year": year,
        "warehouse": str(paths.warehouse),
        "cores": os.cpu_count(),
        "report": {
            "seconds": round(report.seconds, 2),
            "peak_rss_mb": round(report.peak_rss_mb),
            **report.extra,
        },
        "anchor_duckdb_read_seconds": round(read_anchor.seconds, 2),
        "anchor_rows_read": read_anchor.extra["rows"],
        "anchor_chromium_print_seconds": round(print_anchor.seconds, 2),
        "ratio_to_anchors": round(report.seconds / anchors, 2),
        "goal_ratio": GOAL_RATIO,
        "within_goal_ratio": report.seconds / anchors <= GOAL_RATIO,
        "goal_seconds": GOAL_SECONDS,
        "within_goal_seconds": report.seconds <= GOAL_SECONDS,
    }
    write_result("report", payload)
    return payload


if __name__ == "__main__":
    json.dump(main(), sys.stdout, indent=2)
    print()
