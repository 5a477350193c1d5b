"""The programme report's figures, read from the warehouse's monitoring and signalling marts, with the relations
between them (which figures add up to which) that small-number suppression needs.

Every figure is a `Cell`: the chart it belongs to, its dimensions (`buurt` is the focus neighbourhood as the plan
groups them, so Pendrecht-Zuidwijk is one; `jaar`, `maand`, `onderwerp`, `reeks`), its value, and whether it is about
persons, dwellings or owners (`protected`: then a value from 1 to 4 is suppressed) or about the programme's own
meetings and actions (case tables, integral actions, the targets themselves, which single out nobody). Reading
happens here and nowhere else, so the report shows exactly what the warehouse holds: the tests compare `data.json`
with these tables.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from governance.small_counts import Relation

FOCUSWIJKEN = ("Bloemhof", "Carnisse", "Hillesluis", "Pendrecht-Zuidwijk", "Tarwewijk")
ALLE = "alle focuswijken"
MAANDEN = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
INTERVENTIES = ("inspectie", "waarschuwing", "boete", "stopgesprek", "integrale_actie", "casustafel")
# meetings and actions of the programme itself: counting them singles out nobody
NOT_ABOUT_PERSONS = {"casustafel", "integrale_actie"}
NORMEN = {"nieuwe_zaken": 1250, "integrale_acties": 12, "stopgesprekken": 10, "casustafels": 26}


@dataclass(frozen=True)
class Cell:
    chart: str
    dims: tuple[tuple[str, Any], ...]
    value: float | int | None
    protected: bool = True
    hidden: str = ""  # why the value is not shown: "klein" (1-4) or "aanvullend" (would give a small one away)

    @property
    def key(self) -> Hashable:
        return (self.chart, self.dims)

    def dim(self, name: str) -> Any:
        return dict(self.dims).get(name)


@dataclass
class Figures:
    """All cells of the report for one year, and the additive relations between them."""

    year: int
    through: date  # the last day with data in the year (the report covers the year up to this day)
    cells: dict[Hashable, Cell] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)

    def add(self, chart: str, value: float | int | None, *, protected: bool = True, **dims: Any) -> Hashable:
        cell = Cell(chart, tuple(sorted(dims.items())), value, protected)
        self.cells[cell.key] = cell
        return cell.key

    def relate(self, total: Hashable, parts: list[Hashable]) -> None:
        self.relations.append(Relation(total, tuple(parts)))

    def of(self, chart: str) -> list[Cell]:
        return [c for c in self.cells.values() if c.chart == chart]


def read(warehouse: Path, year: int) -> Figures:
    """Every figure of the report for `year` from the warehouse (read-only; the warehouse has one writer)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        through = _through(con, year)
        figures = Figures(year, through)
        _new_cases(con, figures)
        _targets(con, figures)
        _signals(con, figures)
        _interventions(con, figures)
        _warned_owners(con, figures)
        return figures
    finally:
        con.close()


def _through(con: duckdb.DuckDBPyConnection, year: int) -> date:
    (last,) = con.execute(
        "select max(d) from (select max(geopend_op) as d from fct_zaken where year(geopend_op) = ? "
        "union all select max(interventie_datum) from int_zaken__eigenaar where year(interventie_datum) = ?)",
        [year, year],
    ).fetchone()
    if last is None:
        raise LookupError(f"the warehouse holds no cases or interventions in {year}: nothing to report")
    return last


def _months(figures: Figures) -> range:
    return range(1, figures.through.month + 1)


def pro_rata(f: Figures, doel: str, month: int) -> float:
    """The yearly norm spread evenly over the days: where the programme should stand at the end of `month` (or at the
    last day with data, in the last month)."""
    end = min(date(f.year + month // 12, month % 12 + 1, 1) - timedelta(days=1), f.through)
    days = (date(f.year + 1, 1, 1) - date(f.year, 1, 1)).days
    return round(NORMEN[doel] * end.timetuple().tm_yday / days, 1)


def _new_cases(con: duckdb.DuckDBPyConnection, f: Figures) -> None:
    """New cases per focus neighbourhood and month, mono and multi; month totals, year totals and the cumulative line
    towards 1,250, each related to the cells it adds up."""
    rows = con.execute(
        "select wijk, maand, nieuwe_zaken, monodisciplinair, multidisciplinair "
        "from monitoring_nieuwe_zaken_per_wijk where jaar = ?",
        [f.year],
    ).fetchall()
    got = {(w, m): (n, mono, multi) for w, m, n, mono, multi in rows}
    chart = "nieuwe_zaken_per_buurt"
    wijken = [*FOCUSWIJKEN, *sorted({w for w, _ in got} - set(FOCUSWIJKEN), key=str)]
    month_totals = {}
    for m in _months(f):
        per_wijk = []
        for w in wijken:
            n, mono, multi = got.get((w, m), (0, 0, 0))
            total = f.add(chart, n, buurt=w, maand=m, reeks="totaal")
            parts = [
                f.add(chart, mono, buurt=w, maand=m, reeks="monodisciplinair"),
                f.add(chart, multi, buurt=w, maand=m, reeks="multidisciplinair"),
            ]
            f.relate(total, parts)
            per_wijk.append(total)
        month_totals[m] = f.add(
            chart, sum(got.get((w, m), (0,))[0] for w in wijken), buurt=ALLE, maand=m, reeks="totaal"
        )
        f.relate(month_totals[m], per_wijk)
    for w in wijken:
        year_total = f.add(chart, sum(got.get((w, m), (0,))[0] for m in _months(f)), buurt=w, reeks="totaal jaar")
        f.relate(year_total, [(chart, (("buurt", w), ("maand", m), ("reeks", "totaal"))) for m in _months(f)])
    # the cumulative line: each point is the previous one plus the month's total over the five neighbourhoods
    previous = None
    running = 0
    for m in _months(f):
        running += f.cells[month_totals[m]].value or 0
        point = f.add("doel_nieuwe_zaken", running, maand=m, reeks="gerealiseerd (cumulatief)")
        f.relate(point, [month_totals[m], *([previous] if previous else [])])
        f.add("doel_nieuwe_zaken", pro_rata(f, "nieuwe_zaken", m), protected=False, maand=m, reeks="doel")
        previous = point


def _targets(con: duckdb.DuckDBPyConnection, f: Figures) -> None:
    """Integral actions and stop talks cumulative per month against their yearly norm; case tables per neighbourhood
    against 26 a year. Months come from monitoring_interventies, which counts as monitoring_doelen does."""
    per_month = dict(
        ((i, m), n)
        for i, m, n in con.execute(
            "select interventie, maand, sum(aantal) from monitoring_interventies where jaar = ? group by all",
            [f.year],
        ).fetchall()
    )
    for chart, interventie, doel in (
        ("doel_integrale_acties", "integrale_actie", "integrale_acties"),
        ("doel_stopgesprekken", "stopgesprek", "stopgesprekken"),
    ):
        protected = interventie not in NOT_ABOUT_PERSONS
        previous = None
        running = 0
        for m in _months(f):
            n = int(per_month.get((interventie, m), 0))
            running += n
            month = f.add(chart, n, protected=protected, maand=m, reeks="per maand")
            point = f.add(chart, running, protected=protected, maand=m, reeks="gerealiseerd (cumulatief)")
            f.relate(point, [month, *([previous] if previous else [])])
            f.add(chart, pro_rata(f, doel, m), protected=False, maand=m, reeks="doel")
            previous = point
    tables = dict(
        con.execute(
            "select wijk, gerealiseerd from monitoring_doelen where jaar = ? and doel = 'casustafels'", [f.year]
        ).fetchall()
    )
    expected = round(pro_rata(f, "casustafels", f.through.month))
    for w in FOCUSWIJKEN:
        f.add("doel_casustafels", tables.get(w, 0), protected=False, buurt=w, reeks="gehouden")
        f.add("doel_casustafels", expected, protected=False, buurt=w, reeks="doel tot nu")
        f.add("doel_casustafels", NORMEN["casustafels"], protected=False, buurt=w, reeks="doel jaar")


def _signals(con: duckdb.DuckDBPyConnection, f: Figures) -> None:
    """Reports per subject and focus neighbourhood, this year and last (already suppressed in the mart: a null is a
    suppressed cell); subjects do not add up to the total (a report can name several), so there is no relation."""
    rows = con.execute(
        "select jaar, wijk, onderwerp, aantal, per_1000_woningen, woningen from signalering_buurt_jaar "
        "where jaar in (?, ?) and wijk in ?",
        [f.year, f.year - 1, list(FOCUSWIJKEN)],
    ).fetchall()
    subjects = sorted({onderwerp for _, _, onderwerp, *_ in rows})
    for jaar in (f.year - 1, f.year):  # a subject without reports in a neighbourhood is a zero, not a missing cell
        for wijk in FOCUSWIJKEN:
            for onderwerp in subjects:
                f.add("meldingen_per_onderwerp", 0, buurt=wijk, jaar=jaar, onderwerp=onderwerp)
    for jaar, wijk, onderwerp, aantal, rate, woningen in rows:
        f.add("meldingen_per_onderwerp", aantal, buurt=wijk, jaar=jaar, onderwerp=onderwerp)
        if onderwerp == "alle_onderwerpen" and jaar == f.year:
            f.add("kaart_meldingen_per_1000_woningen", rate, buurt=wijk, jaar=jaar, reeks="per 1.000 woningen")
            f.add("kaart_meldingen_per_1000_woningen", woningen, buurt=wijk, jaar=jaar, reeks="woningen")


def _interventions(con: duckdb.DuckDBPyConnection, f: Figures) -> None:
    """Interventions per kind and month over the five neighbourhoods, and per kind how many belong to a case closed
    by now (afgerond) or still running (loopt)."""
    rows = con.execute(
        "select interventie, maand, sum(aantal), sum(afgerond) from monitoring_interventies where jaar = ? "
        "group by all",
        [f.year],
    ).fetchall()
    got = {(i, m): (int(n), int(done)) for i, m, n, done in rows}
    for i in INTERVENTIES:
        protected = i not in NOT_ABOUT_PERSONS
        months = [
            f.add("interventies_per_maand", got.get((i, m), (0, 0))[0], protected=protected, interventie=i, maand=m)
            for m in _months(f)
        ]
        total_n = sum(got.get((i, m), (0, 0))[0] for m in _months(f))
        total_done = sum(got.get((i, m), (0, 0))[1] for m in _months(f))
        total = f.add("interventies_uitkomst", total_n, protected=protected, interventie=i, reeks="totaal")
        f.relate(total, months)
        f.relate(
            total,
            [
                f.add("interventies_uitkomst", total_done, protected=protected, interventie=i, reeks="zaak afgerond"),
                f.add(
                    "interventies_uitkomst",
                    total_n - total_done,
                    protected=protected,
                    interventie=i,
                    reeks="zaak loopt",
                ),
            ],
        )


def _warned_owners(con: duckdb.DuckDBPyConnection, f: Figures) -> None:
    """Owners warned this year: still under monitoring, and whether they reoffended within a year of the warning."""
    warned, monitored, reoffended = con.execute(
        "select count(*), count(*) filter (where onder_monitoring), "
        "count(*) filter (where recidive_op is not null and recidive_op <= monitoring_tot) "
        "from monitoring_eigenaren where year(laatste_waarschuwing) = ?",
        [f.year],
    ).fetchone()
    chart = "gewaarschuwde_eigenaren"
    total = f.add(chart, warned, reeks="gewaarschuwd")
    f.relate(
        total,
        [
            f.add(chart, reoffended, reeks="recidive binnen een jaar"),
            f.add(chart, warned - reoffended, reeks="geen recidive"),
        ],
    )
    f.relate(
        total,
        [
            f.add(chart, monitored, reeks="nog onder monitoring"),
            f.add(chart, warned - monitored, reeks="monitoring afgerond"),
        ],
    )
