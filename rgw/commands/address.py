"""`rgw address resolve`: resolve the addresses of any CSV or Parquet file to BAG."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def address() -> None:
    """Address resolution to BAG."""


@address.command("resolve")
@click.option("--bag", "bag", required=True, type=click.Path(exists=True, path_type=Path), help="LVBAG extract.")
@click.option("--input", "input_", required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--address-column", required=True, help="The column with the address as written.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help=".csv or .parquet")
def resolve(bag: Path, input_: Path, address_column: str, out: Path) -> None:
    """Add nummeraanduiding_id, verblijfsobject_id, confidence, method and unresolved_reason to every row."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from linkage.address.bag import load_bag_addresses
    from linkage.address.resolve import BagIndex, matches_to_columns, resolve_text

    if input_.suffix.lower() == ".parquet":
        table = pq.read_table(input_)
    else:
        first = input_.read_text(encoding="utf-8-sig").split("\n", 1)[0]
        delimiter = ";" if first.count(";") >= first.count(",") else ","
        table = pacsv.read_csv(
            input_,
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(strings_can_be_null=True),
        )
    if address_column not in table.column_names:
        raise click.UsageError(f"{input_} has no column {address_column!r}; it has {', '.join(table.column_names)}")
    index = BagIndex(load_bag_addresses(bag))
    matches = [resolve_text(v, index) for v in table.column(address_column).to_pylist()]
    for name, values in matches_to_columns(matches).items():
        table = table.append_column(name, values)
    if out.suffix.lower() == ".parquet":
        pq.write_table(table, out)
    else:
        pacsv.write_csv(table, out)
    resolved = sum(1 for m in matches if m.nummeraanduiding_id)
    click.echo(
        f"{resolved} of {len(matches)} addresses resolved; {len(matches) - resolved} to review "
        f"(see unresolved_reason) -> {out}"
    )
