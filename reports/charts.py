"""The report's charts: Vega-Lite specifications built with altair, rendered to static SVG by vl-convert (no browser,
no network), each with a title that states the finding, a short text and the table behind it.

Suppressed figures arrive as `None` and are drawn as the text "<5", never as a bar: a bar's length would give the
number away. Titles are computed from shown figures only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import altair as alt

from governance.small_counts import HIDDEN_AS, SHOWN_AS
from reports.chart_svgs import vegalite_svg
from reports.figures import ALLE, FOCUSWIJKEN, INTERVENTIES, MAANDEN, Cell, Figures

WIDTH = 640
BLUE, GREEN, GREY, ORANGE = "#00689e", "#2e8540", "#9aa5ad", "#d9822b"
WIJK_COLOURS = alt.Scale(domain=list(FOCUSWIJKEN), range=["#00689e", "#2e8540", "#d9822b", "#7b4f9d", "#c0392b"])
INTERVENTIE_NAMEN = {
    "inspectie": "inspectie",
    "waarschuwing": "waarschuwing",
    "boete": "boete",
    "stopgesprek": "stopgesprek",
    "integrale_actie": "integrale actie",
    "casustafel": "casustafel",
}
ONDERWERP_NAMEN = {"alle_onderwerpen": "alle meldingen"}


@dataclass
class Chart:
    id: str
    title: str
    text: str
    svg: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)


def shown(value: Any) -> str:
    """A figure as the report prints it: suppressed as "<5", thousands with a point (Dutch)."""
    if value is None:
        return SHOWN_AS
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"{int(value):,}".replace(",", ".")


def maand(m: int) -> str:
    return MAANDEN[m - 1]


def svg(chart: alt.TopLevelMixin) -> str:
    spec = chart.configure(font="DejaVu Sans").configure_view(stroke=None).to_dict()
    return vegalite_svg(spec, format_locale="nl-NL", time_format_locale="nl-NL")


def _values(cells: list[Cell], **where: Any) -> list[Cell]:
    return [c for c in cells if all(c.dim(k) == v for k, v in where.items())]


def _value(cells: list[Cell], **where: Any) -> Any:
    found = _values(cells, **where)
    return found[0].value if found else None


def _text(cells: list[Cell], **where: Any) -> str:
    """The figure as printed: "<5" for a small count, "×" for one hidden so a small one cannot be recomputed."""
    found = _values(cells, **where)
    if found and found[0].hidden == "aanvullend":
        return HIDDEN_AS
    return shown(found[0].value if found else None)


def target_line(f: Figures, chart: str, doel: str, norm_text: str, unit: str) -> Chart:
    """Realisation through the year, cumulative per month, against the pro-rata line towards the yearly norm."""
    cells = f.of(chart)
    months = sorted({c.dim("maand") for c in cells})
    data = []
    for m in months:
        for reeks in ("gerealiseerd (cumulatief)", "doel"):
            v = _value(cells, maand=m, reeks=reeks)
            data.append(
                {"maand": maand(m), "m": m, "reeks": reeks, "waarde": v, "label": _text(cells, maand=m, reeks=reeks)}
            )
    last = _value(cells, maand=months[-1], reeks="gerealiseerd (cumulatief)")
    expected = _value(cells, maand=months[-1], reeks="doel")
    if last is None:
        title = f"{unit.capitalize()}: het aantal is te klein om te tonen"
    else:
        where = "op" if last == expected else "voor op" if last > (expected or 0) else "achter op"
        title = (
            f"{unit.capitalize()}: {shown(last)} tot en met {maand(months[-1])}, {where} het schema naar {norm_text}"
        )
    base = alt.Chart(alt.Data(values=data)).encode(
        x=alt.X("maand:N", sort=[maand(m) for m in months], title=None, axis=alt.Axis(labelAngle=0)),
    )
    lines = base.mark_line(point=True).encode(
        y=alt.Y("waarde:Q", title=unit),
        color=alt.Color(
            "reeks:N",
            scale=alt.Scale(domain=["gerealiseerd (cumulatief)", "doel"], range=[BLUE, GREY]),
            legend=alt.Legend(title=None, orient="top"),
        ),
        strokeDash=alt.StrokeDash(
            "reeks:N",
            scale=alt.Scale(domain=["gerealiseerd (cumulatief)", "doel"], range=[[1, 0], [6, 4]]),
            legend=None,
        ),
    )
    hidden = (
        base.transform_filter("datum.waarde === null")
        .mark_text(color=GREY, dy=-8)
        .encode(y=alt.value(200), text="label:N")
    )
    rows = [
        [maand(m), _text(cells, maand=m, reeks="gerealiseerd (cumulatief)"), _text(cells, maand=m, reeks="doel")]
        for m in months
    ]
    text = (
        f"Cumulatief per maand in {f.year}, tegen een gelijkmatige lijn naar het jaardoel ({norm_text}). "
        f"Cijfers tot en met {f.through.day} {maand(f.through.month)} {f.year}."
    )
    return Chart(
        chart,
        title,
        text,
        svg((lines + hidden).properties(width=WIDTH, height=260)),
        ["maand", "gerealiseerd (cumulatief)", "doel (naar rato)"],
        rows,
    )


def case_tables(f: Figures) -> Chart:
    cells = f.of("doel_casustafels")
    data = [
        {"buurt": w, "reeks": r, "waarde": _value(cells, buurt=w, reeks=r)}
        for w in FOCUSWIJKEN
        for r in ("gehouden", "doel tot nu")
    ]
    held = [d["waarde"] for d in data if d["reeks"] == "gehouden"]
    expected = data[1]["waarde"]
    behind = [d["buurt"] for d in data if d["reeks"] == "gehouden" and d["waarde"] < expected]
    title = (
        f"Casustafels: in elke focuswijk {min(held)}{'' if min(held) == max(held) else f' tot {max(held)}'} gehouden, "
        + ("allemaal op schema" if not behind else f"achter op schema in {', '.join(behind)}")
    )
    bars = (
        alt.Chart(alt.Data(values=[d for d in data if d["reeks"] == "gehouden"]))
        .mark_bar(color=BLUE)
        .encode(y=alt.Y("buurt:N", title=None, sort=list(FOCUSWIJKEN)), x=alt.X("waarde:Q", title="casustafels"))
    )
    rule = (
        alt.Chart(alt.Data(values=[{"doel": expected}]))
        .mark_rule(color=ORANGE, strokeDash=[6, 4], size=2)
        .encode(x="doel:Q")
    )
    labels = bars.mark_text(align="left", dx=4).encode(text="waarde:Q")
    text = (
        f"Het plan vraagt elke twee weken een casustafel per focuswijk: 26 per jaar. De oranje lijn is het aantal dat "
        f"tot en met {f.through.day} {maand(f.through.month)} gehouden had moeten zijn ({expected})."
    )
    rows = [[w, _value(cells, buurt=w, reeks="gehouden"), expected, 26] for w in FOCUSWIJKEN]
    return Chart(
        "doel_casustafels",
        title,
        text,
        svg((bars + labels + rule).properties(width=WIDTH, height=200)),
        ["focuswijk", "gehouden", "doel tot nu", "doel jaar"],
        rows,
    )


def new_cases_per_buurt(f: Figures) -> Chart:
    cells = f.of("nieuwe_zaken_per_buurt")
    months = sorted({c.dim("maand") for c in cells if c.dim("maand")})
    data, rows = [], []
    for w in FOCUSWIJKEN:
        for m in months:
            total = _value(cells, buurt=w, maand=m, reeks="totaal")
            mono = _value(cells, buurt=w, maand=m, reeks="monodisciplinair")
            multi = _value(cells, buurt=w, maand=m, reeks="multidisciplinair")
            base = {"buurt": w, "maand": maand(m)}
            if total is None:
                data.append(
                    {
                        **base,
                        "reeks": "onderdrukt",
                        "waarde": None,
                        "label": _text(cells, buurt=w, maand=m, reeks="totaal"),
                    }
                )
            elif mono is None or multi is None:
                data.append({**base, "reeks": "niet uitgesplitst (<5)", "waarde": total, "label": ""})
            else:
                data.append({**base, "reeks": "monodisciplinair", "waarde": mono, "label": ""})
                data.append({**base, "reeks": "multidisciplinair", "waarde": multi, "label": ""})
    year = {w: _value(cells, buurt=w, reeks="totaal jaar") for w in FOCUSWIJKEN}
    top = max((w for w in FOCUSWIJKEN if year[w] is not None), key=lambda w: year[w])
    multi_year = sum(
        r
        for r in (_value(cells, buurt=w, maand=m, reeks="multidisciplinair") for w in FOCUSWIJKEN for m in months)
        if r
    )
    title = f"{top} had de meeste nieuwe zaken ({shown(year[top])}); multidisciplinaire zaken zijn zeldzaam"
    if multi_year >= 50:
        title = f"{top} had de meeste nieuwe zaken ({shown(year[top])})"
    domain = ["monodisciplinair", "multidisciplinair", "niet uitgesplitst (<5)"]
    bars = (
        alt.Chart()
        .mark_bar()
        .encode(
            x=alt.X("maand:N", sort=[maand(m) for m in months], title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("sum(waarde):Q", title="nieuwe zaken"),
            color=alt.Color(
                "reeks:N",
                scale=alt.Scale(domain=domain, range=[BLUE, ORANGE, GREY]),
                legend=alt.Legend(title=None, orient="top"),
            ),
        )
    )
    marks = (
        alt.Chart()
        .transform_filter("datum.label != ''")
        .mark_text(color=GREY, dy=-6)
        .encode(x=alt.X("maand:N", sort=[maand(m) for m in months]), y=alt.value(100), text="label:N")
    )
    chart = (
        alt.layer(bars, marks, data=alt.Data(values=data))
        .properties(width=WIDTH / 2 - 40, height=110)
        .facet(facet=alt.Facet("buurt:N", title=None, sort=list(FOCUSWIJKEN)), columns=2)
    )
    text = (
        "Nieuwe zaken per focuswijk en maand, naar mono- en multidisciplinair. Een zaak is een zaak, geen onderwerp "
        "van een melding. Waar de splitsing een aantal onder de 5 zou tonen, staat alleen het totaal."
    )
    for w in FOCUSWIJKEN:
        for reeks in ("totaal", "monodisciplinair", "multidisciplinair"):
            rows.append(
                [w if reeks == "totaal" else "", reeks]
                + [_text(cells, buurt=w, maand=m, reeks=reeks) for m in months]
                + [shown(year[w]) if reeks == "totaal" else ""]
            )
    columns = ["focuswijk", "", *[maand(m) for m in months], "jaar"]
    return Chart("nieuwe_zaken_per_buurt", title, text, svg(chart), columns, rows)


def signals(f: Figures) -> Chart:
    cells = f.of("meldingen_per_onderwerp")
    subjects = sorted({c.dim("onderwerp") for c in cells}, key=lambda s: (s != "alle_onderwerpen", s))
    data, rows = [], []
    for w in FOCUSWIJKEN:
        for s in subjects:
            now, before = (
                _value(cells, buurt=w, onderwerp=s, jaar=f.year),
                _value(cells, buurt=w, onderwerp=s, jaar=f.year - 1),
            )
            for jaar, v in ((f.year - 1, before), (f.year, now)):
                label = _text(cells, buurt=w, onderwerp=s, jaar=jaar) if v is None else ""
                data.append(
                    {
                        "buurt": w,
                        "onderwerp": ONDERWERP_NAMEN.get(s, s.replace("_", " ")),
                        "jaar": str(jaar),
                        "waarde": v,
                        "label": label,
                    }
                )
    totals = {
        w: (
            _value(cells, buurt=w, onderwerp="alle_onderwerpen", jaar=f.year),
            _value(cells, buurt=w, onderwerp="alle_onderwerpen", jaar=f.year - 1),
        )
        for w in FOCUSWIJKEN
    }
    top = max((w for w in FOCUSWIJKEN if totals[w][0] is not None), key=lambda w: totals[w][0])
    now_all = sum(v for v, _ in totals.values() if v)
    before_all = sum(v for _, v in totals.values() if v)
    change = f"{'meer' if now_all >= before_all else 'minder'} dan in {f.year - 1} ({shown(before_all)})"
    title = f"Meldingen: {shown(now_all)} in {f.year} tot nu, {change}; {top} het meest ({shown(totals[top][0])})"
    order = [ONDERWERP_NAMEN.get(s, s.replace("_", " ")) for s in subjects]
    bars = (
        alt.Chart()
        .mark_bar()
        .encode(
            y=alt.Y("onderwerp:N", sort=order, title=None),
            yOffset=alt.YOffset("jaar:N"),
            x=alt.X("waarde:Q", title="meldingen"),
            color=alt.Color("jaar:N", scale=alt.Scale(range=[GREY, BLUE]), legend=alt.Legend(title=None, orient="top")),
        )
    )
    marks = (
        alt.Chart()
        .transform_filter("datum.label != ''")
        .mark_text(align="left", color=GREY, fontSize=9)
        .encode(y=alt.Y("onderwerp:N", sort=order), yOffset="jaar:N", x=alt.value(2), text="label:N")
    )
    chart = (
        alt.layer(bars, marks, data=alt.Data(values=data))
        .properties(width=WIDTH / 2 - 120, height=170)
        .facet(facet=alt.Facet("buurt:N", title=None, sort=list(FOCUSWIJKEN)), columns=2)
    )
    text = (
        f"Meldingen per onderwerp en focuswijk, {f.year} (tot nu) tegen {f.year - 1}. Een melding over twee "
        "onderwerpen telt bij elk onderwerp, maar bij 'alle meldingen' één keer. Pendrecht en Zuidwijk vormen "
        "samen één focuswijk."
    )
    for s in subjects:
        rows.append(
            [ONDERWERP_NAMEN.get(s, s.replace("_", " "))]
            + [_text(cells, buurt=w, onderwerp=s, jaar=j) for w in FOCUSWIJKEN for j in (f.year - 1, f.year)]
        )
    columns = ["onderwerp", *[f"{w} {j}" for w in FOCUSWIJKEN for j in (f.year - 1, f.year)]]
    return Chart("meldingen_per_onderwerp", title, text, svg(chart), columns, rows)


def interventions(f: Figures) -> Chart:
    cells = f.of("interventies_per_maand")
    months = sorted({c.dim("maand") for c in cells})
    names = [INTERVENTIE_NAMEN[i] for i in INTERVENTIES]
    data = [
        {"interventie": INTERVENTIE_NAMEN[i], "maand": maand(m), "waarde": _value(cells, interventie=i, maand=m)}
        for i in INTERVENTIES
        for m in months
    ]
    outcome = f.of("interventies_uitkomst")
    totals = {i: _value(outcome, interventie=i, reeks="totaal") for i in INTERVENTIES}
    top = max((i for i in INTERVENTIES if totals[i] is not None), key=lambda i: totals[i])
    shown_total = sum(v for v in totals.values() if v)
    done = sum(v for v in (_value(outcome, interventie=i, reeks="zaak afgerond") for i in INTERVENTIES) if v)
    title = (
        f"{shown(shown_total)} interventies in {f.year}, de meeste {INTERVENTIE_NAMEN[top]}s; "
        f"{round(100 * done / shown_total) if shown_total else 0}% hoort bij een inmiddels afgeronde zaak"
    )
    per_month = (
        alt.Chart(alt.Data(values=[d for d in data if d["waarde"]]))
        .mark_bar()
        .encode(
            x=alt.X("maand:N", sort=[maand(m) for m in months], title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("sum(waarde):Q", title="interventies"),
            color=alt.Color(
                "interventie:N",
                sort=names,
                scale=alt.Scale(domain=names, scheme="tableau10"),
                legend=alt.Legend(title=None, orient="top", columns=6),
            ),
        )
        .properties(width=WIDTH, height=200, title="Per maand")
    )
    odata = [
        {
            "interventie": INTERVENTIE_NAMEN[i],
            "key": i,
            "uitkomst": r,
            "waarde": _value(outcome, interventie=i, reeks=r),
            "label": "",
        }
        for i in INTERVENTIES
        for r in ("zaak afgerond", "zaak loopt")
    ]
    for d in odata:
        if d["waarde"] is None:
            d["label"] = _text(outcome, interventie=d["key"], reeks=d["uitkomst"])
    per_kind = (
        alt.Chart(alt.Data(values=odata))
        .mark_bar()
        .encode(
            y=alt.Y("interventie:N", sort=names, title=None),
            x=alt.X("sum(waarde):Q", title="interventies naar uitkomst"),
            color=alt.Color(
                "uitkomst:N",
                scale=alt.Scale(domain=["zaak afgerond", "zaak loopt"], range=[GREEN, GREY]),
                legend=alt.Legend(title=None, orient="top"),
            ),
        )
    )
    marks = (
        alt.Chart(alt.Data(values=[d for d in odata if d["label"]]))
        .mark_text(align="left", color=GREY)
        .encode(y=alt.Y("interventie:N", sort=names), x=alt.value(2), text="label:N")
    )
    chart = alt.vconcat(
        per_month, alt.layer(per_kind, marks).properties(width=WIDTH, height=160, title="Uitkomst")
    ).resolve_scale(color="independent")
    text = (
        "Interventies zoals het plan ze telt: een stopgesprek is één gesprek met één eigenaar op één datum, een "
        "casustafel één bijeenkomst per focuswijk. De uitkomst is of de zaak waar de interventie bij hoort inmiddels "
        "is afgerond."
    )
    rows = [
        [
            INTERVENTIE_NAMEN[i],
            _text(outcome, interventie=i, reeks="totaal"),
            _text(outcome, interventie=i, reeks="zaak afgerond"),
            _text(outcome, interventie=i, reeks="zaak loopt"),
        ]
        for i in INTERVENTIES
    ]
    return Chart(
        "interventies", title, text, svg(chart), ["interventie", "totaal", "zaak afgerond", "zaak loopt"], rows
    )


def warned_owners(f: Figures) -> Chart:
    cells = f.of("gewaarschuwde_eigenaren")
    order = ["gewaarschuwd", "nog onder monitoring", "monitoring afgerond", "recidive binnen een jaar", "geen recidive"]
    data = [{"reeks": r, "waarde": _value(cells, reeks=r), "label": _text(cells, reeks=r)} for r in order]
    warned = data[0]["waarde"]
    if warned is None:
        title = f"Gewaarschuwde eigenaren in {f.year}: minder dan 5"
    else:
        title = (
            f"{_text(cells, reeks='recidive binnen een jaar')} van de {shown(warned)} in {f.year} gewaarschuwde "
            "eigenaren gingen binnen een jaar opnieuw in de fout"
        )
    bars = (
        alt.Chart(alt.Data(values=data))
        .mark_bar(color=BLUE)
        .encode(y=alt.Y("reeks:N", sort=order, title=None), x=alt.X("waarde:Q", title="eigenaren"))
    )
    labels = (
        alt.Chart(alt.Data(values=data))
        .mark_text(align="left", dx=4)
        .encode(y=alt.Y("reeks:N", sort=order), x=alt.X("waarde:Q"), text="label:N")
    )
    text = (
        "Elke gewaarschuwde eigenaar wordt een jaar gevolgd. Recidive is een nieuwe overtreding bij een van zijn "
        "woningen binnen dat jaar."
    )
    rows = [[d["reeks"], d["label"]] for d in data]
    return Chart(
        "gewaarschuwde_eigenaren",
        title,
        text,
        svg((bars + labels).properties(width=WIDTH, height=170)),
        ["", "eigenaren"],
        rows,
    )


BUILDERS: list[Callable[[Figures], Chart]] = [
    lambda f: target_line(f, "doel_nieuwe_zaken", "nieuwe_zaken", "1.250 nieuwe zaken", "nieuwe zaken"),
    lambda f: target_line(f, "doel_integrale_acties", "integrale_acties", "12 integrale acties", "integrale acties"),
    case_tables,
    lambda f: target_line(f, "doel_stopgesprekken", "stopgesprekken", "ongeveer 10 stopgesprekken", "stopgesprekken"),
    new_cases_per_buurt,
    signals,
    interventions,
    warned_owners,
]

__all__ = ["ALLE", "BUILDERS", "Chart", "shown", "svg"]
