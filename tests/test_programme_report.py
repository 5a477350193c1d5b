"""The programme report as the programme manager and the council get it: `rgw report programme` on the tiny synthetic
Rotterdam after a whole hub run; its figures against the warehouse, the small-number rule, the page in a real
headless Chromium (no console errors, every chart drawn, a screenshot in .test-artifacts/) and the printed PDF."""

from __future__ import annotations

import json
import re

import duckdb
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from tests.conftest import REPO, TEST_OFFICER, materialised_hub, open_case

YEAR = 2026


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    yield from materialised_hub(tmp_path_factory)


@pytest.fixture(scope="module")
def report(hub, tmp_path_factory):
    from rgw.cli import main

    assert hub[2].ok, hub[2].failed  # the whole run, with the asset reports/programme_<year> and its check
    out = tmp_path_factory.mktemp("programme") / "rapport"
    result = CliRunner().invoke(main, ["report", "programme", "--year", str(YEAR), "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "data.json").read_text())
    return out, data, result.output


def _rows(data, chart, **where):
    return [r for r in data["rows"] if r["chart"] == chart and all(r.get(k) == v for k, v in where.items())]


def test_the_command_writes_the_page_the_data_and_the_pdf(report):
    out, data, output = report
    assert (out / "index.html").exists() and (out / "data.json").exists()
    assert (out / f"signalering-en-monitoring-{YEAR}.pdf").exists()
    assert data["jaar"] == YEAR and data["rows"]
    for row in data["rows"]:
        assert {"chart", "value", "suppressed"} <= row.keys()
        assert row["suppressed"] == (row["value"] is None)
    assert "charts" in output and str(out) in output


def test_no_count_from_1_to_4_about_persons_dwellings_or_owners_is_shown(report):
    _, data, _ = report
    shown_small = [r for r in data["rows"] if r["protected"] and r["value"] is not None and 0 < r["value"] < 5]
    assert not shown_small
    assert any(r["suppressed"] for r in data["rows"])  # the tiny world has small counts: the rule did hide some


def test_figures_agree_with_the_warehouse_tables(report, warehouse):
    _, data, _ = report
    cases = warehouse.execute(
        "select wijk, maand, nieuwe_zaken, monodisciplinair, multidisciplinair from monitoring_nieuwe_zaken_per_wijk "
        "where jaar = ?",
        [YEAR],
    ).fetchall()
    assert cases
    for wijk, maand, total, mono, multi in cases:
        for reeks, value in (("totaal", total), ("monodisciplinair", mono), ("multidisciplinair", multi)):
            (row,) = _rows(data, "nieuwe_zaken_per_buurt", buurt=wijk, maand=maand, reeks=reeks)
            assert row["suppressed"] or row["value"] == value, row
    signals = warehouse.execute(
        "select wijk, jaar, onderwerp, aantal from signalering_buurt_jaar where jaar in (?, ?) and wijk not in "
        "('onbekend', 'buiten de focuswijken')",
        [YEAR, YEAR - 1],
    ).fetchall()
    assert signals
    for wijk, jaar, onderwerp, aantal in signals:
        (row,) = _rows(data, "meldingen_per_onderwerp", buurt=wijk, jaar=jaar, onderwerp=onderwerp)
        assert row["value"] == aantal
    targets = dict(
        warehouse.execute(
            "select doel, gerealiseerd from monitoring_doelen where jaar = ? and wijk is null", [YEAR]
        ).fetchall()
    )
    for chart, doel in (
        ("doel_nieuwe_zaken", "nieuwe_zaken"),
        ("doel_integrale_acties", "integrale_acties"),
        ("doel_stopgesprekken", "stopgesprekken"),
    ):
        last = max(_rows(data, chart, reeks="gerealiseerd (cumulatief)"), key=lambda r: r["maand"])
        assert last["suppressed"] or last["value"] == targets[doel], (chart, last, targets[doel])
    tables = warehouse.execute(
        "select wijk, gerealiseerd from monitoring_doelen where jaar = ? and doel = 'casustafels'", [YEAR]
    ).fetchall()
    for wijk, held in tables:
        assert _rows(data, "doel_casustafels", buurt=wijk, reeks="gehouden")[0]["value"] == held


def test_a_stop_talk_is_one_owner_on_one_date_as_the_synthetic_truth_counts_it(hub, warehouse):
    paths, _, _ = hub
    truth = dict(
        duckdb.sql(
            f"select doel, cast(waarde as bigint) from read_parquet('{paths.ground_truth}/programme_targets.parquet') "
            f"where jaar = '{YEAR}' and wijk is null"
        ).fetchall()
    )
    measured = dict(
        warehouse.execute(
            "select doel, gerealiseerd from monitoring_doelen where jaar = ? and wijk is null", [YEAR]
        ).fetchall()
    )
    rows = warehouse.execute(
        "select count(*) from int_zaken__eigenaar where interventie = 'stopgesprek' and year(interventie_datum) = ?",
        [YEAR],
    ).fetchone()[0]
    assert measured["stopgesprekken"] == truth["stopgesprekken"] > 0
    assert rows > measured["stopgesprekken"]  # the rows of the owners' cases are not the talks
    assert measured["nieuwe_zaken"] == truth["nieuwe_zaken"]


def test_the_page_loads_in_chromium_without_console_errors_with_every_chart_drawn(report):
    from reports.pdf import run_chromium

    out, data, _ = report
    page = (out / "index.html").as_uri()
    done = run_chromium(page, "--dump-dom", "--enable-logging=stderr", "--v=0")
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not console, console
    dom = done.stdout
    assert "<script" not in dom and "http://" not in dom.replace("http://www.w3.org", "")
    sections = re.findall(r'<section class="grafiek" id="([^"]+)">(.*?)</section>', dom, flags=re.S)
    assert len(sections) >= 9
    for chart_id, body in sections:
        assert "<h2>" in body and "<table>" in body, chart_id
        svg = re.search(r'<svg[^>]*width="(\d+(?:\.\d+)?)"[^>]*height="(\d+(?:\.\d+)?)"', body)
        assert svg and float(svg.group(1)) > 100 and float(svg.group(2)) > 100, chart_id
        assert body.count("<path") + body.count("<rect") > 3, chart_id
    artifacts = REPO / ".test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shot = artifacts / "programme_report.png"
    done = run_chromium(page, f"--screenshot={shot}", "--window-size=1280,2400", "--hide-scrollbars")
    assert done.returncode == 0 and shot.stat().st_size > 20_000, done.stderr[-2000:]


def test_the_pdf_has_a_cover_and_one_page_per_chart_with_each_title(report):
    out, _, _ = report
    html = (out / "index.html").read_text()
    titles = [
        re.sub(r"\s+", " ", t) for t in re.findall(r'<section class="grafiek" id="[^"]+">\s*<h2>(.*?)</h2>', html)
    ]
    reader = PdfReader(out / f"signalering-en-monitoring-{YEAR}.pdf")
    assert len(reader.pages) == 1 + len(titles)
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))
    import html as html_lib

    for title in titles:
        assert html_lib.unescape(title) in text, title


def test_the_route_back_accepts_the_person_pseudonym_the_published_case_dataset_carries(hub, tmp_path):
    from datetime import date, timedelta

    from governance.gateway import connect
    from governance.grants import GrantRegister
    from pseudonymisation.audit import AuditLog
    from rgw.cli import main

    paths, _, _ = hub
    audit = AuditLog(paths.audit_log)
    grants = GrantRegister(paths.access / "grants.json", audit)
    grants.grant("rob", "casusbehandeling", date.today() + timedelta(days=30), by=TEST_OFFICER)
    grants.acknowledge("rob", "casusbehandeling")
    with connect("rob", "casusbehandeling", data=paths.data) as s:
        published = s.query("select persoon_psn from fct_bewoningsperioden where persoon_psn is not null limit 1")
    psn = published.column("persoon_psn")[0].as_py()
    assert psn.startswith("entiteit.")  # re-keyed for the purpose: not the linkage pseudonym the vault holds
    key = tmp_path / "officer.key"  # the officer's key lives outside the data folder
    assert (
        CliRunner().invoke(main, ["access", "officer", "enrol", "--name", "po", "--key-file", str(key)]).exit_code == 0
    )
    args = ["reidentify", "--user", "rob", "--purpose", "casusbehandeling", "--case", open_case(paths)]
    args += ["--officer-key", str(key)]
    found = CliRunner().invoke(main, [*args, "--pseudonym", psn])
    assert found.exit_code == 0, found.output
    assert re.fullmatch(r"\d{9}", found.output.strip())  # a BSN (synthetic)
    forged = psn[:-4] + ("aaaa" if not psn.endswith("aaaa") else "bbbb")
    refused = CliRunner().invoke(main, [*args, "--pseudonym", forged])
    assert refused.exit_code == 3
    records = [
        r["event"] for r in audit.records() if r["event"].get("action") == "reidentify" and r["event"]["user"] == "rob"
    ]
    assert [r["outcome"] for r in records[-2:]] == ["granted", "refused"]
    assert records[-2]["pseudonym"] == psn and records[-2]["linkage_pseudonym"].startswith("bsn.")
    assert "not a person pseudonym" in records[-1]["reason"]


def test_the_stop_talk_list_names_legal_persons_with_their_kvk_number_and_keeps_natural_persons_pseudonymous(hub):
    from datetime import date, timedelta

    from governance.gateway import connect
    from governance.grants import GrantRegister
    from pseudonymisation.audit import AuditLog

    paths, _, _ = hub
    grants = GrantRegister(paths.access / "grants.json", AuditLog(paths.audit_log))
    grants.grant("eef", "eigenaarsaanpak", date.today() + timedelta(days=30), by=TEST_OFFICER)
    grants.acknowledge("eef", "eigenaarsaanpak")
    with connect("eef", "eigenaarsaanpak", data=paths.data) as s:
        rows = s.query(
            "select eigenaar_id, eigenaar_soort, eigenaar_naam, eigenaar_kvk_nummer from selectie_stopgesprekken"
        ).to_pylist()
    assert rows
    companies = [r for r in rows if r["eigenaar_soort"] == "niet_natuurlijk"]
    persons = [r for r in rows if r["eigenaar_soort"] == "natuurlijk"]
    assert companies and persons
    assert all(r["eigenaar_naam"] and re.fullmatch(r"\d{8}", r["eigenaar_kvk_nummer"]) for r in companies)
    assert all(r["eigenaar_naam"] is None and r["eigenaar_kvk_nummer"] is None for r in persons)
    assert all(r["eigenaar_id"].startswith("entiteit.") for r in rows)  # every owner keeps its purpose pseudonym


def test_a_refresh_with_the_same_page_copies_the_pdf_and_a_changed_page_is_printed_again(hub, tmp_path, monkeypatch):
    """The hub rebuilds the report after every delivery: Chromium prints only when the page changed."""
    from datetime import date

    from reports import pdf
    from reports.programme import build

    paths = hub[0]
    out = tmp_path / "rapport"
    first = build(paths, YEAR, out, made=date(2026, 12, 4))
    printed_first = first.pdf.read_bytes()
    printed: list[str] = []
    real_print = pdf.print_pdf
    monkeypatch.setattr(pdf, "print_pdf", lambda page, target: printed.append(page.name) or real_print(page, target))

    again = build(paths, YEAR, out, made=date(2026, 12, 4))
    assert printed == [] and again.pdf.read_bytes() == printed_first  # the same page: the PDF carried over

    build(paths, YEAR, out, made=date(2026, 12, 5))  # another date on the page: printed again
    assert printed == ["index.html"] and "gemaakt op 2026-12-05" in (out / "index.html").read_text()


def test_a_refresh_with_the_same_figures_draws_no_chart_again_and_gives_the_same_page(hub, tmp_path, monkeypatch):
    """Each chart's SVG is kept by its spec (reports/chart_svgs.py): unchanged figures are read back, not drawn."""
    import shutil
    from datetime import date

    import vl_convert

    from reports.programme import CHART_SVGS, build

    paths = hub[0]
    shutil.rmtree(paths.reports / CHART_SVGS, ignore_errors=True)
    first = build(paths, YEAR, tmp_path / "eerst", with_pdf=False, made=date(2026, 12, 4))
    drawn: list[int] = []
    real = vl_convert.vegalite_to_svg
    monkeypatch.setattr(vl_convert, "vegalite_to_svg", lambda spec, **kw: drawn.append(1) or real(spec, **kw))
    again = build(paths, YEAR, tmp_path / "opnieuw", with_pdf=False, made=date(2026, 12, 4))
    assert drawn == []  # every chart read back
    page = (tmp_path / "opnieuw" / "index.html").read_text()
    assert page == (tmp_path / "eerst" / "index.html").read_text()
    assert [c.svg for c in again.charts] == [c.svg for c in first.charts]
    assert len(list((paths.reports / CHART_SVGS).iterdir())) == len({c.svg for c in first.charts})
    # gradients are named after their chart, each defined once on the page, none by vl-convert's per-process count
    defined = re.findall(r'<linearGradient id="([^"]+)"', page)
    assert len(defined) == len(set(defined)) and not re.search(r"gradient_\d", page)
