"""The small-number rule of the programme report: no count from 1 to 4 shown, and none recomputable from totals.

Property-style: hypothesis draws small worlds (focus neighbourhoods x months of new cases, split mono and multi,
with month, neighbourhood and year totals and a cumulative line, as reports/figures.py relates them) where most
counts are small, and the rule must hold on every one. "Recomputable" is checked independently of the module's own
linear algebra: a hidden cell is determined by the shown cells exactly when dropping its column from the relations
restricted to the hidden cells lowers their rank.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.small_counts import MIN_SHOWN, Relation, primary, suppress


def _world(counts: list[list[tuple[int, int]]]) -> tuple[dict, list[Relation]]:
    """cells and relations of new cases: counts[wijk][month] = (mono, multi)."""
    values, relations = {}, []
    months = range(len(counts[0]))
    for w, per_month in enumerate(counts):
        for m, (mono, multi) in enumerate(per_month):
            values[("mono", w, m)], values[("multi", w, m)] = mono, multi
            values[("total", w, m)] = mono + multi
            relations.append(Relation(("total", w, m), (("mono", w, m), ("multi", w, m))))
        values[("year", w)] = sum(mono + multi for mono, multi in per_month)
        relations.append(Relation(("year", w), tuple(("total", w, m) for m in months)))
    previous = None
    running = 0
    for m in months:
        values[("month", m)] = sum(mono + multi for per in counts for mono, multi in [per[m]])
        relations.append(Relation(("month", m), tuple(("total", w, m) for w in range(len(counts)))))
        running += values[("month", m)]
        values[("cum", m)] = running
        relations.append(Relation(("cum", m), (("month", m), *([previous] if previous else []))))
        previous = ("cum", m)
    values[("all",)] = running
    relations.append(Relation(("all",), tuple(("year", w) for w in range(len(counts)))))
    return values, relations


def _determined(relations: list[Relation], hidden: set) -> set:
    unknowns = sorted(hidden, key=str)
    index = {c: i for i, c in enumerate(unknowns)}
    rows = []
    for r in relations:
        row = np.zeros(len(unknowns))
        for p in r.parts:
            if p in index:
                row[index[p]] += 1
        if r.total in index:
            row[index[r.total]] -= 1
        rows.append(row)
    a = np.array(rows) if rows else np.zeros((0, len(unknowns)))
    full = np.linalg.matrix_rank(a) if a.size else 0
    out = set()
    for c, i in index.items():
        without = np.delete(a, i, axis=1)
        if (np.linalg.matrix_rank(without) if without.size else 0) < full:
            out.add(c)
    return out


small_counts = st.tuples(st.integers(0, 12), st.integers(0, 4))
worlds = st.integers(1, 4).flatmap(
    lambda n_months: st.lists(st.lists(small_counts, min_size=n_months, max_size=n_months), min_size=1, max_size=5)
)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(worlds)
def test_no_small_count_is_shown_and_none_can_be_recomputed(counts):
    values, relations = _world(counts)
    hidden = suppress(values, relations)
    shown = {k: v for k, v in values.items() if k not in hidden}
    assert not [k for k, v in shown.items() if 0 < v < MIN_SHOWN], "a count from 1 to 4 is shown"
    assert primary(values) <= hidden
    assert not _determined(relations, hidden), "a suppressed count follows from the shown ones"


def test_the_councils_example_83_cases_82_mono_hides_both_parts_and_keeps_the_total():
    values = {"zaken": 83, "multi": 1, "mono": 82}
    hidden = suppress(values, [Relation("zaken", ("multi", "mono"))])
    assert hidden == {"multi", "mono"}


def test_zero_is_shown_and_a_part_next_to_zeros_hides_the_total():
    values = {"t": 3, "a": 3, "b": 0}
    hidden = suppress(values, [Relation("t", ("a", "b"))])
    assert hidden == {"t", "a"}
