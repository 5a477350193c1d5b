"""Small-count suppression across one purpose's published tables: the report's rule (governance/small_counts.py)
applied to the dataset, so no hidden cell can be recomputed from a total in another table or from the other cells of
its row.

Per-cell suppression alone leaks: `monitoring_nieuwe_zaken_per_wijk` shows 83 cases of which 82 monodisciplinary (so 1
multidisciplinary), and the months of a year add up to the year's `gerealiseerd` in `monitoring_doelen`. This module
turns a purpose's tables into the cells and additive relations that governance/small_counts.py works on: every column
tagged `count` in dbt is a cell per row, and `RELATIONS` declares, per purpose, which columns add up to which (within a
row, or rows of one table summing to a row of another, matched on key columns). Columns derived from a count (a ratio,
a rate per 1,000 dwellings) would give the count back, so they are hidden with it (`DERIVED`).

Unlike the report, the dataset also blanks zeros: the purpose promises no cell under its minimum, and the
publication's check `no_small_cells` reads every count under it. The rule works with the zeros as known (they single
nobody out), and blanking one afterwards only adds an unknown, so it cannot make a hidden cell recomputable.

A declared relation that does not hold exactly in the data (rows withheld for a restriction, a filter) only hides more:
it is never a reason to show less protection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from governance.small_counts import Relation, suppress

Cell = tuple[str, int, str]  # (table, row number, column)


@dataclass(frozen=True)
class Additive:
    """Each row of `total_table` that matches `total_where` has `total_column` equal to the sum of `part_columns` over
    the rows of `part_table` matching `part_where` with the same values in the `on` columns (total column, part column);
    with the same table and its key columns in `on`, that is a relation within one row."""

    total_table: str
    total_column: str
    part_table: str
    part_columns: tuple[str, ...]
    on: tuple[tuple[str, str], ...]
    total_where: Mapping[str, Any] = field(default_factory=dict)
    part_where: Mapping[str, Any] = field(default_factory=dict)


def _target(doel: str, interventie: str, on: tuple[tuple[str, str], ...]) -> Additive:
    """A target in `monitoring_doelen` is the sum of its interventions in `monitoring_interventies`."""
    return Additive(
        "monitoring_doelen", "gerealiseerd", "monitoring_interventies", ("aantal",), on, {"doel": doel},
        {"interventie": interventie},
    )  # fmt: skip


_NEW_CASES_ROW = (("jaar", "jaar"), ("maand", "maand"), ("wijk", "wijk"))

RELATIONS: dict[str, list[Additive]] = {
    "programmamonitoring": [
        # a month's new cases in a neighbourhood: multidisciplinary + monodisciplinary
        Additive(
            "monitoring_nieuwe_zaken_per_wijk",
            "nieuwe_zaken",
            "monitoring_nieuwe_zaken_per_wijk",
            ("multidisciplinair", "monodisciplinair"),
            _NEW_CASES_ROW,
        ),  # fmt: skip
        # the year's new cases (target 1,250): the months and neighbourhoods of that year
        Additive(
            "monitoring_doelen",
            "gerealiseerd",
            "monitoring_nieuwe_zaken_per_wijk",
            ("nieuwe_zaken",),
            (("jaar", "jaar"),),
            {"doel": "nieuwe_zaken"},
        ),  # fmt: skip
        _target("stopgesprekken", "stopgesprek", (("jaar", "jaar"),)),
        _target("integrale_acties", "integrale_actie", (("jaar", "jaar"),)),
        _target("casustafels", "casustafel", (("jaar", "jaar"), ("wijk", "wijk"))),
        # warned owners are counted once a year, warnings once per owner and date: no equation, so not declared
    ],
    # subjects do not add up to `alle_onderwerpen` (one report can carry several subjects): no exact relation
    "signalering": [],
}

# derived column -> the count columns it is computed from (hidden when any of them is)
DERIVED: dict[str, dict[str, tuple[str, ...]]] = {
    "monitoring_doelen": {"realisatie_ratio": ("gerealiseerd",)},
    "signalering_buurt_jaar": {"per_1000_woningen": ("aantal", "woningen"), "onderdrukt": ("aantal",)},
}


def _matches(row: Mapping[str, Any], where: Mapping[str, Any]) -> bool:
    return all(row.get(c) == v for c, v in where.items())


def relations(
    tables: Mapping[str, pa.Table], declared: Sequence[Additive], counts: Mapping[str, Sequence[str]]
) -> list[Relation]:
    """The relations between cells that `declared` gives on these tables; a declaration naming a table or column the
    purpose does not publish is skipped (what is not published cannot be used to recompute)."""
    out = []
    rows = {name: t.to_pylist() for name, t in tables.items()}
    for rel in declared:
        if rel.total_table not in rows or rel.part_table not in rows:
            continue
        if rel.total_column not in counts.get(rel.total_table, ()):
            continue
        part_columns = [c for c in rel.part_columns if c in counts.get(rel.part_table, ())]
        if len(part_columns) != len(rel.part_columns):
            continue
        for i, total in enumerate(rows[rel.total_table]):
            if not _matches(total, rel.total_where):
                continue
            parts = tuple(
                (rel.part_table, j, c)
                for j, part in enumerate(rows[rel.part_table])
                if _matches(part, rel.part_where) and all(total.get(a) == part.get(b) for a, b in rel.on)
                for c in part_columns
                if (rel.part_table, j, c) != (rel.total_table, i, rel.total_column)
            )
            out.append(Relation((rel.total_table, i, rel.total_column), parts))
    return out


def protect(
    purpose: str, tables: Mapping[str, pa.Table], counts: Mapping[str, Sequence[str]], minimum: int
) -> tuple[dict[str, pa.Table], dict[str, int]]:
    """The tables with every count from 1 to `minimum - 1` and every complementary cell set to null (and the columns
    derived from them), and the number of hidden count cells per table. `counts`: table -> its count columns."""
    values: dict[Cell, int | None] = {
        (name, i, c): v
        for name, t in tables.items()
        for c in counts.get(name, ())
        for i, v in enumerate(t.column(c).to_pylist())
    }
    hidden = suppress(values, relations(tables, RELATIONS.get(purpose, []), counts), minimum)
    out, per_table = {}, {}
    for name, table in tables.items():
        per_table[name] = sum(1 for cell in hidden if cell[0] == name and values[cell] is not None)
        for c in counts.get(name, ()):
            column = table.column(c).to_pylist()
            mask = [(name, i, c) in hidden for i in range(len(column))]
            per_table[name] += sum(1 for v, m in zip(column, mask, strict=True) if v == 0 and not m)
            # zeros are blanked too, though they single nobody out: the dataset promises no cell under the minimum
            # (the publication check no_small_cells); a blank zero adds an unknown, which protects, never exposes
            table = _set(table, c, [None if m or v == 0 else v for v, m in zip(column, mask, strict=True)])
        for derived, sources in DERIVED.get(name, {}).items():
            if derived not in table.column_names:
                continue
            source_columns = [c for c in sources if c in counts.get(name, ())]
            blank = [table.column(c).to_pylist() for c in source_columns]  # hidden, blank zero, or null upstream
            mask = [any(column[i] is None for column in blank) for i in range(table.num_rows)]
            values_d = table.column(derived).to_pylist()
            if pa.types.is_boolean(table.schema.field(derived).type):  # "suppressed" flags: true when hidden
                table = _set(table, derived, [True if m else v for v, m in zip(values_d, mask, strict=True)])
            else:
                table = _set(table, derived, [None if m else v for v, m in zip(values_d, mask, strict=True)])
        out[name] = table
    return out, per_table


def _set(table: pa.Table, column: str, values: list[Any]) -> pa.Table:
    i = table.column_names.index(column)
    return table.set_column(i, column, pa.array(values, table.schema.field(column).type))
