"""The report as one self-contained HTML page: inline SVG charts and CSS, no scripts, no network, in Dutch.

Each chart is a section with a title that states the finding, a short text, the chart and the table behind it in a
<details> element (open when printed, so the council's PDF holds the tables too). The print CSS puts every section
on its own A4 page, after a cover page with the contents and the suppression rule.
"""

from __future__ import annotations

import html
from datetime import date

from reports.charts import Chart, maand
from reports.figures import Figures

CSS = """
:root{--blauw:#00689e;--grijs:#5f6b73}
*{box-sizing:border-box}
body{font-family:"DejaVu Sans",system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2328;
line-height:1.45}
header{border-bottom:4px solid var(--blauw);margin-bottom:1.5rem}
h1{font-size:1.7rem;margin:.2rem 0}
h2{font-size:1.2rem;color:var(--blauw);margin:0 0 .4rem}
.sub{color:var(--grijs);margin:.2rem 0 1rem}
section.grafiek{border-top:1px solid #d5dade;padding:1.2rem 0}
figure{margin:.6rem 0;overflow-x:auto}
figure svg{max-width:100%;height:auto}
details{margin-top:.4rem}
summary{cursor:pointer;color:var(--blauw)}
table{border-collapse:collapse;font-size:.82rem;margin-top:.4rem}
th,td{border-bottom:1px solid #e3e7ea;padding:.15rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}
.alleen-print{display:none}
.regel{background:#f1f5f8;padding:.6rem .9rem;border-left:4px solid var(--blauw);font-size:.9rem}
ol.inhoud{padding-left:1.2rem}
@page{size:A4;margin:14mm 12mm}
@media print{
  body{max-width:none;margin:0;padding:0;font-size:10.5pt}
  section.grafiek{break-before:page;border:0;padding:0}
  details{display:none}
  .alleen-print{display:block}
  table{font-size:8pt}
  a{color:inherit;text-decoration:none}
}
"""


def render(figures: Figures, charts: list[Chart], made: date) -> str:
    year, through = figures.year, figures.through
    contents = "".join(f'<li><a href="#{c.id}">{html.escape(c.title)}</a></li>' for c in charts)
    sections = "".join(_section(c) for c in charts)
    return f"""<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Rotterdams Goed Wonen: signalering en monitoring {year}</title>
<style>{CSS}</style></head>
<body>
<header>
<p class="sub">Programma Rotterdams Goed Wonen · Rotterdam-Zuid</p>
<h1>Signalering en monitoring {year}</h1>
<p class="sub">Cijfers tot en met {through.day} {maand(through.month)} {year} · gemaakt op {made.isoformat()}</p>
</header>
<p>Deze rapportage laat zien hoe het programma ervoor staat tegenover zijn doelen (1.250 nieuwe zaken per jaar,
12 integrale acties, elke twee weken een casustafel per focuswijk, ongeveer 10 stopgesprekken, een jaar monitoring van
elke gewaarschuwde eigenaar) en wat er gemeld is in de vijf focuswijken: Bloemhof, Carnisse, Hillesluis,
Pendrecht-Zuidwijk en Tarwewijk.</p>
<p class="regel"><strong>Kleine aantallen.</strong> Een aantal van 1 tot en met 4 personen, woningen, eigenaren of zaken
tonen we als "&lt;5". Waar zo'n aantal uit een totaal terug te rekenen zou zijn, verbergen we ook een tweede cijfer
(getoond als "×").
Zo is niemand in deze cijfers te herkennen. Bij elke grafiek staat de tabel met de getoonde cijfers.</p>
<h2>Inhoud</h2>
<ol class="inhoud">{contents}</ol>
{sections}
</body></html>
"""


def _section(chart: Chart) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in chart.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in chart.rows)
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f"""
<section class="grafiek" id="{chart.id}">
<h2>{html.escape(chart.title)}</h2>
<p>{html.escape(chart.text)}</p>
<figure role="img" aria-label="{html.escape(chart.title)}">{chart.svg}</figure>
<details><summary>Tabel bij deze grafiek</summary>{table}</details>
<div class="alleen-print">{table}</div>
</section>"""
