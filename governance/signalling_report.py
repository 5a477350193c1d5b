"""The yearly signalling report: trends per focus neighbourhood and subject, as a self-contained HTML document.

It reads only the published dataset of the signalling purpose (aggregates in which every cell under five is already
suppressed), so the report can be shared as widely as that purpose allows. Charts are inline SVG: the file opens in
any browser, offline, and prints.
"""

from __future__ import annotations

import html
from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb

from governance.publish import unsealed
from pseudonymisation.keys import KeyStore

PURPOSE = "signalering"


def _bar_chart(series: dict[str, int | None], width: int = 520) -> str:
    if not series:
        return "<p><em>Geen cijfers.</em></p>"
    top = max((v or 0) for v in series.values()) or 1
    row = 22
    parts = [f'<svg width="{width}" height="{row * len(series) + 10}" role="img">']
    for i, (label, value) in enumerate(series.items()):
        y = i * row + 5
        if value is None:
            parts.append(
                f'<text x="0" y="{y + 14}" font-size="12">{html.escape(label)}</text>'
                f'<text x="200" y="{y + 14}" font-size="12" fill="#888">minder dan 5 (onderdrukt)</text>'
            )
            continue
        w = int((width - 260) * value / top)
        parts.append(
            f'<text x="0" y="{y + 14}" font-size="12">{html.escape(label)}</text>'
            f'<rect x="200" y="{y + 2}" width="{w}" height="16" fill="#00689e"/>'
            f'<text x="{205 + w}" y="{y + 14}" font-size="12">{html.escape(str(value))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render(published: Path, keystore: KeyStore, out_dir: Path) -> Path:
    """Write `signaleringsrapport.html` into out_dir from the published signalling dataset; returns its path."""
    with unsealed(published / PURPOSE / f"{PURPOSE}.duckdb.enc", keystore, PURPOSE) as plain:
        con = duckdb.connect(str(plain), read_only=True)
        rows = con.execute(
            "select jaar, coalesce(buurtnaam, buurtcode), onderwerp, aantal "
            "from signalering_buurt_jaar order by 1, 2, 3"
        ).fetchall()
        con.close()
    by_year: dict[int, dict[str, dict[str, int | None]]] = defaultdict(lambda: defaultdict(dict))
    for jaar, buurt, onderwerp, aantal in rows:
        by_year[jaar][buurt][onderwerp] = aantal
    sections = []
    for jaar in sorted(by_year, reverse=True):
        parts = [f"<h2>{html.escape(str(jaar))}</h2>"]
        for buurt, series in sorted(by_year[jaar].items()):
            shown = sum(v for v in series.values() if v)
            parts.append(
                f"<h3>{html.escape(str(buurt))}</h3><p>{shown} meldingen in getoonde cellen.</p>"
                + _bar_chart(dict(sorted(series.items())))
            )
        sections.append("".join(parts))
    doc = f"""<!doctype html><html lang="nl"><head><meta charset="utf-8">
<title>Signaleringsrapport Rotterdams Goed Wonen</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;color:#222}}
h2{{border-bottom:1px solid #ccc}}
</style></head><body>
<h1>Signaleringsrapport Rotterdams Goed Wonen</h1>
<p>Meldingen per focuswijk, onderwerp en jaar. Aantallen onder 5 zijn onderdrukt, zodat geen kleine groep herkenbaar
wordt. Bron: de gepubliceerde dataset van het doel <em>signalering</em>; gemaakt op {date.today().isoformat()}.</p>
{"".join(sections) or "<p>Nog geen cijfers gepubliceerd.</p>"}
</body></html>"""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "signaleringsrapport.html"
    path.write_text(doc, encoding="utf-8")
    return path
