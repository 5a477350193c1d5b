"""Borderline cases on both sides of the indicators' thresholds, so indicator recall and precision measure the rules
and not only the wiring: the planted abuses (synth/world.py `plant`) are clear-cut, these are not.

For each threshold in dbt_project/dbt_project.yml `vars`, dwellings just over it ("boven": the indicator should fire)
and just under it ("onder": it should not). The thresholds are read from that file, so a changed threshold moves the
cases with it. Not covered: the recurring owner (a rule over portfolios, cases and warnings; issue #12 is changing
that truth) and the labour-migrant reports (a count above zero: its only border is the 12-month window, which
the repeated-reports cases already straddle).

Ground truth: ground_truth/borderline.parquet (verblijfsobject_id, indicator, side, detail); the "boven" cases count
as true for the indicator in governance/indicator_quality.py, and its result reports per side how many fired.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from synth.world import PERMIT_AREAS, TODAY, Dwelling

if TYPE_CHECKING:
    from synth.world import WorldBuilder

DBT_PROJECT = Path(__file__).resolve().parent.parent / "dbt_project" / "dbt_project.yml"
SIDES = ("boven", "onder")
COLUMNS = ("verblijfsobject_id", "indicator", "side", "detail")


def thresholds() -> dict:
    """The indicator thresholds as dbt uses them."""
    return yaml.safe_load(DBT_PROJECT.read_text(encoding="utf-8"))["vars"]


def plant_borderline(b: WorldBuilder, dwellings: list[Dwelling]) -> None:
    """Plant each indicator's borderline cases, `per` on each side, in private dwellings that hold no abuse yet."""
    r = b.r
    v = thresholds()
    focus = [d for d in dwellings if d.woning and d.buurt.focus_wijk]
    per = max(2, len(focus) // 800)
    # dwellings someone else left or entered within the last 400 days (an earlier home in their history) would move
    # a case across its threshold by accident
    window = TODAY - timedelta(days=400)
    touched = {id(home) for p in b.persons for home, start, end in p.history if end > window or start > window}
    free = [
        d
        for d in focus
        if id(d) not in touched
        and not (d.owner and d.owner.person is not None and d.owner.person.home is d)  # owner-occupied: a new
        # household would make it let without the permit it never needed
        and not d.corporation
        and d.owner
        and d.owner.kind != "corporation"
        and not d.vacant
        and not d.abuses
        and d.registered
        and all(p.since and p.since < TODAY - timedelta(days=400) for p in d.registered)
    ]
    r.shuffle(free)
    pool = iter(free)

    def take(pred=lambda d: True) -> Dwelling:
        for d in pool:
            if pred(d):
                return d
        raise RuntimeError("the synthetic area is too small to plant every borderline case")

    def mark(d: Dwelling, indicator: str, side: str, detail: str) -> None:
        d.borderline[indicator] = (side, detail)

    def household(d: Dwelling, n: int) -> None:
        """Replace the registered household by n people who moved in over a year ago."""
        for p in list(d.registered):
            b._leave(p, moved_out=TODAY - timedelta(days=r.randint(420, 900)))
        since = TODAY - timedelta(days=r.randint(400, 2000))
        for _ in range(n):
            b._move_in(b.person(), d, since)

    m2, min_n = v["overbewoning_m2_per_persoon"], v["overbewoning_min_personen"]
    factor = v["verbruik_factor_hoog"]

    def expected_kwh(d: Dwelling) -> float:
        return v["verbruik_kwh_basis"] + v["verbruik_kwh_per_persoon"] * max(len(d.registered) - 1, 0)

    for _ in range(per):
        # overcrowding: min_n people on one square metre under the norm, and on exactly the norm
        d = take()
        household(d, min_n)
        d.oppervlakte = min_n * m2 - 1
        mark(d, "ind_overbewoning", "boven", f"{min_n} ingeschreven op {d.oppervlakte} m2")
        d = take()
        household(d, min_n)
        d.oppervlakte = min_n * m2
        mark(d, "ind_overbewoning", "onder", f"{min_n} ingeschreven op {d.oppervlakte} m2 (precies de norm)")
        d = take()
        household(d, min_n - 1)
        d.oppervlakte = (min_n - 1) * m2 - 6
        mark(d, "ind_overbewoning", "onder", f"{min_n - 1} ingeschreven op {d.oppervlakte} m2 (te weinig personen)")
        # unregistered occupation: use 15% over and 15% under the factor that counts as unexplained
        d = take(lambda d: len(d.registered) == 1)
        d.hidden_occupants = 2
        d.kwh_annual = round(factor * 1.15 * expected_kwh(d))
        mark(
            d,
            "ind_niet_ingeschreven",
            "boven",
            f"1 ingeschreven, 3 wonen er; {d.kwh_annual} kWh ({factor * 1.15:.2f} x)",
        )
        d = take(lambda d: len(d.registered) <= 2)
        d.kwh_annual = round(factor * 0.85 * expected_kwh(d))
        mark(d, "ind_niet_ingeschreven", "onder", f"{d.kwh_annual} kWh ({factor * 0.85:.2f} x verwacht, warmtepomp)")
        # vacancy: nobody registered, standby use for one month more and two months fewer than the minimum
        months = v["leegstand_min_maanden"]
        for side, k in (("boven", months + 1), ("onder", months - 2)):
            d = take()
            for p in list(d.registered):
                b._leave(p, moved_out=TODAY - timedelta(days=30 * k + 10))
            d.standby_last_months = k
            mark(d, "ind_leegstand", side, f"niemand ingeschreven, {k} maanden sluimerverbruik")
        # turnover: the minimum number of moves in 12 months, and one fewer
        moves = v["verloop_min_verhuizingen"]
        for side, n in (("boven", moves), ("onder", moves - 1)):
            d = take(lambda d: len(d.registered) >= 3)
            leaving = list(d.registered)[:3]
            for p in leaving:
                b._leave(p, moved_out=TODAY - timedelta(days=r.randint(40, 300)))
            for _ in range(n - len(leaving)):
                b._move_in(b.person(), d, TODAY - timedelta(days=r.randint(20, 300)))
            mark(d, "ind_verloop", side, f"{len(leaving)} vertrekken en {n - len(leaving)} vestigingen in 12 mnd")
        # repeated reports: the minimum within 12 months, and one inside plus one just outside the window
        d = take()
        mark(d, "ind_herhaalde_meldingen", "boven", f"{v['meldingen_min_aantal']} meldingen binnen 12 mnd")
        d = take()
        mark(d, "ind_herhaalde_meldingen", "onder", "1 melding binnen 12 mnd, 1 net daarvoor")
        # permit: expired the day before the reference date, and expiring on it (still in force)
        for side in SIDES:
            d = take(lambda d: d.buurt.code in PERMIT_AREAS and d.permit)
            what = "vergunning verlopen op de dag voor de peildatum" if side == "boven" else "geldig tot de peildatum"
            mark(d, "ind_zonder_vergunning", side, what)


def rows(dwellings: list[Dwelling]) -> list[dict[str, str]]:
    return [
        {"verblijfsobject_id": d.vbo_id, "indicator": ind, "side": side, "detail": detail}
        for d in dwellings
        for ind, (side, detail) in sorted(d.borderline.items())
    ]
