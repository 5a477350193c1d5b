"""`rgw link --config CONFIG LEFT RIGHT --out PAIRS [--encoded]`: link any two tables (CSV or Parquet).

The config (YAML) is documented in docs/linkage.md; linkage/configs/febrl4.yaml is an example. The output holds the
pairs at or over the configured threshold: left_id, right_id, match_probability, match_weight and the evidence (JSON:
which fields agreed at which level, and the weights). With --encoded both tables are first turned into keyed
encodings with the hub's key store (RGW_DATA / RGW_MASTER_KEY) and the linker sees nothing else.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

SUFFIXES = (".csv", ".parquet")


def write_table(table, path: Path) -> None:
    """Parquet for .parquet, else CSV (formulas neutralised: the inputs' free text goes into it)."""
    import pyarrow.parquet as pq

    from rgw.csv_output import write_csv

    if path.suffix.lower() == ".parquet":
        pq.write_table(table, path)
    else:
        write_csv(table, path)


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, path_type=Path))
@click.argument("left", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("right", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help=".csv or .parquet")
@click.option("--encoded", is_flag=True, help="Link on keyed encodings only; the linker never sees plaintext.")
@click.option("--model", "model_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the trained model.")
def link(config_path: Path, left: Path, right: Path, out: Path, encoded: bool, model_out: Path | None) -> None:
    """Link LEFT and RIGHT as CONFIG says; write the pairs at or over its threshold to OUT."""
    from linkage.config import ConfigError, load
    from linkage.link import link as run_link
    from linkage.link import read_table

    for path, hint in ((left, "LEFT"), (right, "RIGHT"), (out, "--out")):
        if path.suffix.lower() not in SUFFIXES:
            raise click.BadParameter(f"{path.name}: give a .csv or .parquet file", param_hint=hint)
    started = time.perf_counter()
    try:
        config = load(config_path)
        keystore = None
        if encoded:
            from pseudonymisation.key_source import production_keystore
            from rgw.settings import HubPaths

            keystore = production_keystore(HubPaths.from_env().ensure())
        result = run_link(read_table(left), read_table(right), config, encoded=encoded, keystore=keystore)
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"not UTF-8 (wrong encoding?): {exc.reason} at byte {exc.start}") from exc
    except (ConfigError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    write_table(result.pairs, out)
    if model_out is not None and result.model is not None:
        model_out.write_text(result.model.to_json(), encoding="utf-8")
    click.echo(
        f"{result.pairs.num_rows} pairs at or over {config.threshold} from {result.candidate_pairs} candidate pairs "
        f"({'encoded' if encoded else 'plaintext'}, {time.perf_counter() - started:.1f} s) -> {out}"
    )
