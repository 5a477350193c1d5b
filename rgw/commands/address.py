"""`rgw address resolve`: resolve the addresses of any CSV or Parquet file to BAG.

    rgw address resolve --bag lvbag.zip --input meldingen.csv --address-column adres --out opgelost.parquet

The input is read by its extension (CSV with ';' or ',' as the header shows, or Parquet), every column kept as it
is; the output (CSV with ',' or Parquet, by the extension of --out) adds nummeraanduiding_id, verblijfsobject_id,
confidence, method and unresolved_reason. --bag is an LVBAG extract (zip or folder) or a Parquet file of the address
table written earlier with --save-addresses, which saves reading the extract again.

Memory stays bounded whatever the extract's size: the connector streams the extract (address types only), DuckDB
joins the address table on disk, and only the addresses the input can mean are indexed in memory
(linkage/address/subset.py).
"""

from __future__ import annotations

import csv
import tempfile
import time
from pathlib import Path

import click


def read_table(path: Path, encoding: str = "utf-8"):
    """A CSV (delimiter ';' or ',' as the header shows, every column as text) or Parquet file as a pyarrow table."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if path.suffix.lower() in (".parquet", ".pq"):
        return pq.read_table(path)
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        with path.open(encoding=codec, newline="") as f:
            header_line = f.readline()
    except UnicodeDecodeError as e:
        raise click.ClickException(f"{path}: line 1 is not {encoding} (wrong encoding? try --encoding cp1252)") from e
    if not header_line.strip():
        raise click.ClickException(f"{path}: empty file, no header line")
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    names = next(csv.reader([header_line], delimiter=delimiter))
    try:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=codec),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=True
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as e:
        hint = " (wrong encoding? try --encoding cp1252)" if "utf" in str(e).lower() else ""
        raise click.ClickException(f"{path}: {e}{hint}") from e


def write_table(table, path: Path) -> None:
    """Parquet for .parquet, else CSV with ',' (formulas neutralised: the input's free text goes into it)."""
    import pyarrow.parquet as pq

    from rgw.csv_output import write_csv

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".parquet", ".pq"):
        pq.write_table(table, path)
    else:
        write_csv(table, path)


@click.group()
def address() -> None:
    """Address resolution to BAG."""


@address.command("resolve")
@click.option(
    "--bag",
    "bag",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="LVBAG extract (zip or folder), or a .parquet address table saved with --save-addresses.",
)
@click.option("--input", "input_", required=True, type=click.Path(exists=True, path_type=Path), help=".csv or .parquet")
@click.option("--address-column", required=True, help="The column with the address as written.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help=".csv or .parquet")
@click.option("--postcode-column", default=None, help="A postcode column, used where the text has none.")
@click.option("--woonplaats-column", default=None, help="A woonplaats column, used where the text has none.")
@click.option("--encoding", default="utf-8", show_default=True, help="Encoding of a CSV input.")
@click.option(
    "--save-addresses",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the BAG address table to this .parquet file, for the next run's --bag.",
)
def resolve(
    bag: Path,
    input_: Path,
    address_column: str,
    out: Path,
    postcode_column: str | None,
    woonplaats_column: str | None,
    encoding: str,
    save_addresses: Path | None,
) -> None:
    """Add nummeraanduiding_id, verblijfsobject_id, confidence, method and unresolved_reason to every row.

    Unresolved rows keep empty ids and say why in unresolved_reason: they are the review queue, never a guess."""
    from linkage.address.index import save_bag_addresses
    from linkage.address.resolve import summary
    from linkage.address.subset import resolve_with_address_file

    table = read_table(input_, encoding)
    fields = {}
    for role, column in (("postcode", postcode_column), ("woonplaats", woonplaats_column)):
        if column:
            fields[role] = column
    for column in [address_column, *fields.values()]:
        if column not in table.column_names:
            raise click.UsageError(f"{input_} has no column {column!r}; it has {', '.join(table.column_names)}")
    started = time.perf_counter()
    info: dict = {}
    with tempfile.TemporaryDirectory(prefix="rgw-bag-") as tmp:
        if bag.is_file() and bag.suffix.lower() == ".parquet":
            addresses = bag
        else:
            addresses = save_addresses or Path(tmp) / "addresses.parquet"
            addresses.parent.mkdir(parents=True, exist_ok=True)
            save_bag_addresses(bag, addresses, staging_root=Path(tmp))
        loaded = time.perf_counter()
        resolved = resolve_with_address_file(table, addresses, text_column=address_column, fields=fields, info=info)
        done = time.perf_counter()
    write_table(resolved, out)
    s = summary(resolved)
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(s["reasons"].items(), key=lambda kv: -kv[1]))
    click.echo(
        f"{s['resolved']} of {s['rows']} addresses resolved; {s['unresolved']} to review"
        + (f" ({reasons})" if reasons else "")
        + f" -> {out}"
    )
    click.echo(
        f"BAG: read in {loaded - started:.1f}s; {info['addresses_held']} addresses on {info['streets']} streets "
        f"could be meant; resolved in {done - loaded:.2f}s ({s['rows'] / max(done - loaded, 1e-9):,.0f} rows/s)"
    )
