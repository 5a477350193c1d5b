"""The year the programme report covers, without the report itself.

The Dagster definitions need the year to name the report's asset at start-up; importing reports/programme.py for it
loaded altair, vl-convert and shapely (the charts and the map) in every `rgw` process, some 0.6 s of CPU, although
only the report's own step draws anything.
"""

from __future__ import annotations

from pathlib import Path

DBT_PROJECT = Path(__file__).resolve().parent.parent / "dbt_project" / "dbt_project.yml"


def default_year() -> int:
    """The year of the hub's reference date (dbt var `peildatum`), unless RGW_REPORT_YEAR says otherwise: the report
    covers the year the warehouse is measured in, also when the calendar has moved on."""
    import os

    import yaml

    if os.environ.get("RGW_REPORT_YEAR"):
        return int(os.environ["RGW_REPORT_YEAR"])
    return int(str(yaml.safe_load(DBT_PROJECT.read_text())["vars"]["peildatum"])[:4])
