"""The Dagster instance's dagster.yaml for DAGSTER_HOME: the repository's file, plus PostgreSQL storage when
RGW_DAGSTER_PG_URL is set (dagster-postgres: runs, event logs and schedules on the same server as the analysts'
datasets, in its own database). SQLite under DAGSTER_HOME stays the default. `make install` writes it.

    python -m serving.dagster_instance dagster.yaml $DAGSTER_HOME/dagster.yaml
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml

ENV = "RGW_DAGSTER_PG_URL"


def render(base: str, environ: dict[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    if not environ.get(ENV):
        return base
    storage = {"storage": {"postgres": {"postgres_url": {"env": ENV}}}}
    return (
        base.rstrip("\n")
        + f"\n\n# {ENV} is set: run, event and schedule storage on PostgreSQL (dagster-postgres).\n"
        + yaml.safe_dump(storage, sort_keys=False)
    )


def main(argv: list[str]) -> None:
    source, target = Path(argv[0]), Path(argv[1])
    target.write_text(render(source.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
