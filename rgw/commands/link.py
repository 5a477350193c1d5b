"""`rgw link --config CONFIG LEFT RIGHT --out PAIRS [--encoded]`: link any two tables."""

from __future__ import annotations

from pathlib import Path

import click


def _read(path: Path):
    import pandas as pd

    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    first = path.read_text(encoding="utf-8-sig").split("\n", 1)[0]
    sep = ";" if first.count(";") > first.count(",") else ","
    return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False).replace({"": None})


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, path_type=Path))
@click.argument("left", type=click.Path(exists=True, path_type=Path))
@click.argument("right", type=click.Path(exists=True, path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path), help=".csv or .parquet")
@click.option("--encoded", is_flag=True, help="Link on keyed encodings only; the linkage never sees plaintext.")
def link(config_path: Path, left: Path, right: Path, out: Path, encoded: bool) -> None:
    """Pairs at or over the configured threshold: left_id, right_id, match_probability (and weight, evidence)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from linkage.config import load
    from linkage.link import link_tables
    from pseudonymisation.keys import KeyStore
    from rgw.settings import HubPaths

    config = load(config_path)
    keystore = KeyStore(HubPaths.from_env().ensure().keys) if encoded else None
    pairs = link_tables(_read(left), _read(right), config, encoded=encoded, keystore=keystore)
    if out.suffix.lower() == ".parquet":
        pq.write_table(pairs, out)
    else:
        pacsv.write_csv(pairs, out)
    click.echo(f"{pairs.num_rows} pairs at or over {config.threshold} -> {out}")
