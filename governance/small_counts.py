"""Small-number suppression for the programme report: no count from 1 to 4 is shown, nor can one be recomputed.

Every count in the report is about persons, dwellings, owners or cases (which are about a dwelling and its
residents), so the rule holds for all of them:

1. Primary suppression: a count from 1 to `MIN_SHOWN - 1` (1-4) is not shown (the report says "<5"). Zero is shown:
   it singles nobody out.
2. Complementary suppression: the report also shows totals, and a suppressed cell could be recomputed from a total and
   the other cells that add up to it (83 cases, 82 monodisciplinary, so 1 multidisciplinary). For every additive
   relation (a total and its parts), when exactly one of its cells is suppressed, the smallest other cell that is not
   zero is suppressed too (a part before the total); that can break another relation the cell is in, so the step
   repeats until every relation has none or at least two suppressed cells. Two unknowns in one equation cannot be
   solved; a suppressed cell next to zero-valued parts only is protected by suppressing the total as well.
3. Relations can chain (a month's cases per neighbourhood add up to the month's total, and the months to the year):
   the result is then checked as a system of linear equations, and while any suppressed cell is still determined by
   the shown ones, one more cell of a relation it is in is suppressed.

What is not protected against: bounds (a suppressed cell is known to lie between 0 and its shown total); that is the
usual limit of cell suppression and why the minimum is five.

The cells and relations are plain data: the report declares which figures add up to which (reports/figures.py), and
this module knows nothing of charts. Publication uses the same rule on a purpose's tables
(governance/cell_suppression.py declares which published columns add up to which), so the datasets and the report
hide the same way; this module imports nothing of the hub, so both can use it. The rule is tested on random small
worlds (tests/test_report_suppression.py).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

MIN_SHOWN = 5
SHOWN_AS = "<5"  # a count from 1 to 4
HIDDEN_AS = "×"  # a larger count hidden so that a small one cannot be recomputed


@dataclass(frozen=True)
class Relation:
    """`total` is the sum of `parts` (cell keys)."""

    total: Hashable
    parts: tuple[Hashable, ...]


def primary(values: Mapping[Hashable, int | None], minimum: int = MIN_SHOWN) -> set[Hashable]:
    """The cells suppressed for their own size (and those whose value is unknown, already suppressed upstream)."""
    return {k for k, v in values.items() if v is None or 0 < v < minimum}


def suppress(
    values: Mapping[Hashable, int | None], relations: Iterable[Relation], minimum: int = MIN_SHOWN
) -> set[Hashable]:
    """Keys of every cell to suppress: primary, then complementary until no suppressed cell can be recomputed.
    `minimum`: the smallest count shown (the purpose's `min_cell` when a published dataset is protected)."""
    relations = [r for r in relations if r.parts]
    hidden = primary(values, minimum)
    while True:
        changed = True
        while changed:
            changed = False
            for rel in relations:
                if sum(1 for c in (*rel.parts, rel.total) if c in hidden) == 1:
                    hidden.add(_complement(values, rel, hidden))
                    changed = True
        determined = recomputed(relations, hidden)
        if not determined:
            return hidden
        cell = sorted(determined, key=str)[0]
        rel = next(r for r in relations if cell in (*r.parts, r.total) and _shown(r, hidden))
        hidden.add(_complement(values, rel, hidden))


def _shown(rel: Relation, hidden: set[Hashable]) -> list[Hashable]:
    return [c for c in (*rel.parts, rel.total) if c not in hidden]


def _complement(values: Mapping[Hashable, int | None], rel: Relation, hidden: set[Hashable]) -> Hashable:
    candidates: Sequence[Hashable] = [p for p in rel.parts if p not in hidden and (values.get(p) or 0) > 0]
    if candidates:
        return min(candidates, key=lambda p: (values[p], str(p)))
    shown = _shown(rel, hidden)
    # all other parts are zero: only the total can hide the one suppressed part
    return rel.total if rel.total in shown else shown[0]


def recomputed(relations: Sequence[Relation], hidden: set[Hashable]) -> set[Hashable]:
    """The suppressed cells that the shown cells and the relations determine exactly (linear algebra: a hidden cell is
    determined when its unit vector lies in the row space of the relations restricted to the hidden cells)."""
    unknowns = sorted({c for r in relations for c in (*r.parts, r.total) if c in hidden}, key=str)
    if not unknowns:
        return set()
    index = {c: i for i, c in enumerate(unknowns)}
    rows = []
    for r in relations:
        row = np.zeros(len(unknowns))
        for p in r.parts:
            if p in index:
                row[index[p]] += 1
        if r.total in index:
            row[index[r.total]] -= 1
        if row.any():
            rows.append(row)
    if not rows:
        return set()
    a = np.array(rows)
    _, singular, vt = np.linalg.svd(a)
    rank = int((singular > 1e-9).sum())
    null_space = vt[rank:]  # the directions the hidden cells can move in without breaking any relation
    return {c for c, i in index.items() if not (np.abs(null_space[:, i]) > 1e-9).any()}
