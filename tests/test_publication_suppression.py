"""The published `programmamonitoring` dataset hides small counts as the programme report does: no count from 1 to 4
shown, and none recomputable from a total in the same row or in another of the purpose's tables.

Property-style: hypothesis draws small worlds of the purpose's three tables (new cases per neighbourhood and month,
interventions, the yearly targets) in which most counts are small. The equations an analyst could write are stated
here from what the columns mean (not taken from governance/cell_suppression.py), and "recomputable" is checked with
the rank test of tests/test_report_suppression.py, independent of the module's own algebra.
"""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.cell_suppression import protect
from governance.small_counts import MIN_SHOWN, Relation
from tests.test_report_suppression import _determined

COUNTS = {
    "monitoring_doelen": ["gerealiseerd"],
    "monitoring_nieuwe_zaken_per_wijk": ["nieuwe_zaken", "multidisciplinair", "monodisciplinair"],
    "monitoring_interventies": ["aantal", "afgerond"],
}
TARGETS = {"stopgesprekken": "stopgesprek", "integrale_acties": "integrale_actie", "casustafels": "casustafel"}


def equations(tables: dict[str, list[dict]]) -> list[Relation]:
    """Every sum an analyst can form from the published tables: a row's cases are its mono- plus multidisciplinary
    cases; a year's new cases, stop talks and integral actions, and a neighbourhood's case tables, are the sums of
    their months (and neighbourhoods)."""
    nz, iv, doelen = (
        tables[t] for t in ("monitoring_nieuwe_zaken_per_wijk", "monitoring_interventies", "monitoring_doelen")
    )
    t_nz, t_iv, t_d = "monitoring_nieuwe_zaken_per_wijk", "monitoring_interventies", "monitoring_doelen"
    out = [
        Relation((t_nz, i, "nieuwe_zaken"), ((t_nz, i, "multidisciplinair"), (t_nz, i, "monodisciplinair")))
        for i in range(len(nz))
    ]
    for i, d in enumerate(doelen):
        if d["doel"] == "nieuwe_zaken":
            parts = [(t_nz, j, "nieuwe_zaken") for j, r in enumerate(nz) if r["jaar"] == d["jaar"]]
        elif d["doel"] in TARGETS:
            parts = [
                (t_iv, j, "aantal")
                for j, r in enumerate(iv)
                if r["jaar"] == d["jaar"]
                and r["interventie"] == TARGETS[d["doel"]]
                and (d["doel"] != "casustafels" or r["wijk"] == d["wijk"])
            ]
        else:
            continue
        out.append(Relation((t_d, i, "gerealiseerd"), tuple(parts)))
    return out


@st.composite
def worlds(draw) -> dict[str, list[dict]]:
    years = draw(st.sampled_from([[2025], [2025, 2026]]))
    months = range(1, draw(st.integers(1, 3)) + 1)
    wijken = ["Bloemhof", "Carnisse", "Tarwewijk"][: draw(st.integers(1, 3))]
    nz, iv, doelen = [], [], []
    for jaar in years:
        for maand in months:
            for wijk in wijken:
                mono, multi = draw(st.integers(0, 9)), draw(st.integers(0, 4))
                if mono + multi:  # a group by yields no row without cases
                    nz.append(dict(jaar=jaar, maand=maand, wijk=wijk, nieuwe_zaken=mono + multi,
                                   multidisciplinair=multi, monodisciplinair=mono))  # fmt: skip
                for interventie in TARGETS.values():
                    if n := draw(st.integers(0, 6)):
                        iv.append(dict(jaar=jaar, maand=maand, wijk=wijk, interventie=interventie, aantal=n,
                                       afgerond=draw(st.integers(0, n))))  # fmt: skip
        total = sum(r["nieuwe_zaken"] for r in nz if r["jaar"] == jaar)
        doelen.append(dict(jaar=jaar, doel="nieuwe_zaken", wijk=None, norm_per_jaar=1250, gerealiseerd=total))
        for doel, interventie in TARGETS.items():
            for wijk in wijken if doel == "casustafels" else [None]:
                n = sum(r["aantal"] for r in iv if r["jaar"] == jaar and r["interventie"] == interventie
                        and wijk in (None, r["wijk"]))  # fmt: skip
                doelen.append(dict(jaar=jaar, doel=doel, wijk=wijk, norm_per_jaar=10, gerealiseerd=n))
        doelen.append(dict(jaar=jaar, doel="gewaarschuwde_eigenaren", wijk=None, norm_per_jaar=None,
                           gerealiseerd=draw(st.integers(0, 8))))  # fmt: skip
    for d in doelen:
        d["realisatie_ratio"] = round(d["gerealiseerd"] / d["norm_per_jaar"], 3) if d["norm_per_jaar"] else None
    return {"monitoring_nieuwe_zaken_per_wijk": nz, "monitoring_interventies": iv, "monitoring_doelen": doelen}


def assert_protected(published: dict[str, list[dict]], zeros: set[tuple[str, int, str]]) -> None:
    """What a reader of the published tables checks: no count under 5, no hidden count that follows from the shown
    ones, and no ratio left beside a hidden count (it would give the count back). `zeros`: the blanked cells that are
    zero in truth; they single nobody out, and the check treats them as known to the reader (the stronger reader)."""
    shown_small = [
        (t, i, c, row[c])
        for t, rows in published.items()
        for i, row in enumerate(rows)
        for c in COUNTS[t]
        if row[c] is not None and row[c] < MIN_SHOWN
    ]
    assert not shown_small, f"a count from 1 to 4 is shown: {shown_small[:5]}"
    hidden = {
        (t, i, c) for t, rows in published.items() for i, row in enumerate(rows) for c in COUNTS[t] if row[c] is None
    } - zeros
    assert not _determined(equations(published), hidden), "a hidden count follows from the shown ones"
    for d in published["monitoring_doelen"]:
        assert d["gerealiseerd"] is not None or d["realisatie_ratio"] is None, d


@settings(max_examples=60, deadline=None, derandomize=True)
@given(worlds())
def test_no_small_count_is_published_and_none_can_be_recomputed_across_the_tables(tables):
    arrow = {t: pa.Table.from_pylist(rows) if rows else _empty(t) for t, rows in tables.items()}
    published, _ = protect("programmamonitoring", arrow, COUNTS, MIN_SHOWN)
    shown = {t: published[t].to_pylist() for t in tables}
    zeros = {(t, i, c) for t, rows in tables.items() for i, row in enumerate(rows) for c in COUNTS[t] if row[c] == 0}
    assert_protected(shown, zeros)
    for t, rows in shown.items():  # what is shown is what was counted
        for row, original in zip(rows, tables[t], strict=True):
            assert all(row[c] in (None, original[c]) for c in COUNTS[t])


def _empty(table: str) -> pa.Table:
    keys = {"monitoring_interventies": ["jaar", "maand", "wijk", "interventie"]}.get(table, ["jaar", "maand", "wijk"])
    return pa.table(
        {**{k: pa.array([], pa.string()) for k in keys}, **{c: pa.array([], pa.int64()) for c in COUNTS[table]}}
    )
