"""The whole hub on the tiny synthetic Rotterdam, in process: ingest, boundary, linkage, dbt build, indicators.

One run (module fixture) on an ephemeral Dagster instance; each test checks what a user of one layer would check.
"""

import json
import re

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest

from governance.identifier_scan import raw_person_files, scan_zone
from tests.conftest import TEST_OFFICER, materialised_hub

INDICATOR_OF = {
    "overbewoning": "ind_overbewoning",
    "niet_ingeschreven": "ind_niet_ingeschreven",
    "leegstand": "ind_leegstand",
    "huur_te_hoog": "ind_herhaalde_meldingen",
    "recidiverende_eigenaar": "ind_recidiverende_eigenaar",
    "arbeidsmigranten_contract": "ind_arbeidsmigranten",
    "verhuur_zonder_vergunning": "ind_zonder_vergunning",
    "verloop": "ind_verloop",
}
# Column names of protected traits (geslachtsnaam, a surname, is not one: whole words only).
PROTECTED = re.compile(r"\b(nationaliteit\w*|geslacht|geboorteland|etniciteit|religie|land_van_herkomst)\b")


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    yield from materialised_hub(tmp_path_factory)


def test_the_whole_run_succeeds(hub):
    _, _, report = hub
    assert report.ok, report.failed


def test_the_summary_reports_every_asset_check_with_the_quality_figures(hub):
    from rgw.summary import render_summary

    paths, _, report = hub
    failing = [c for c in report.checks if not c.passed]
    assert len(report.checks) > 40 and not failing, failing
    text = render_summary(paths, report.failed, report.checks)
    passed = sum(c.passed for c in report.checks)
    assert f"asset checks: {passed} passed, {len(report.checks) - passed} failed" in text
    assert "tenants_to_residents F1" in text and "privacy report: 0 finding(s)" in text
    assert "borderline cases: " in text


def test_no_direct_identifier_passes_the_boundary(hub):
    paths, _, _ = hub
    assert scan_zone([paths.landing], raw_person_files(paths.raw)) == []
    persons = pq.read_table(next((paths.landing / "brp").iterdir()) / "persoon.parquet")
    assert "bsn" not in persons.column_names and "bsn_psn" in persons.column_names
    assert not {"nationaliteiten", "geslacht"} & set(persons.column_names)


def _check_passed(instance, asset: list[str], check: str) -> None:
    key = dg.AssetCheckKey(dg.AssetKey(asset), check)
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
    evaluation = record.event.dagster_event.event_specific_data
    assert evaluation.passed, {k: v.value for k, v in evaluation.metadata.items()}


def test_linkage_checks_meet_the_goals(hub):
    _, instance, _ = hub
    for asset, check in (
        (["linkage", "entity_links"], "entity_quality_vs_ground_truth"),
        (["warehouse", "woning_indicatoren"], "indicator_recall_and_precision"),
    ):
        _check_passed(instance, asset, check)


def test_address_check_meets_the_goals(hub):
    _, instance, _ = hub
    _check_passed(instance, ["linkage", "address_links"], "address_quality_vs_ground_truth")


def test_every_planted_abuse_is_signalled_by_its_indicator(hub, warehouse):
    paths, _, _ = hub
    truth = pq.read_table(paths.ground_truth / "abuses.parquet").to_pylist()
    missed = []
    for row in truth:
        (fired,) = warehouse.execute(
            f"select {INDICATOR_OF[row['abuse']]} from woning_indicatoren where verblijfsobject_id = ?",
            [row["verblijfsobject_id"]],
        ).fetchone()
        missed.append(row) if not fired else None
    assert not missed, missed


def test_borderline_cases_fire_just_over_a_threshold_and_not_just_under(hub, warehouse):
    paths, _, _ = hub
    wrong = []
    for row in pq.read_table(paths.ground_truth / "borderline.parquet").to_pylist():
        (fired,) = warehouse.execute(
            f"select {row['indicator']} from woning_indicatoren where verblijfsobject_id = ?",
            [row["verblijfsobject_id"]],
        ).fetchone()
        if bool(fired) != (row["side"] == "boven"):
            wrong.append(row)
    assert not wrong, wrong


def test_the_selection_list_explains_itself(warehouse):
    rows = warehouse.execute(
        "select toelichting, n_indicatoren from selectie_integrale_acties order by n_indicatoren desc limit 3"
    ).fetchall()
    assert rows and all(t.startswith(f"{n} van 8 indicatoren: ") for t, n in rows)
    assert any("ingeschreven op" in t or "meldingen:" in t for t, _ in rows)


def test_no_indicator_reads_a_protected_trait(hub):
    manifest = json.loads((pytest.importorskip("orchestration.dbt_manifest").MANIFEST).read_text())
    nodes = manifest["nodes"]
    target = "model.rgw.woning_indicatoren"
    seen, todo = set(), [target]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo.extend(manifest["parent_map"].get(node, []))
    sql = " ".join(nodes[n]["raw_code"].lower() for n in seen if n in nodes)
    assert not PROTECTED.findall(sql)
    sources = [n for n in seen if n.startswith("source.")]
    assert sources  # the lineage reaches the landing zone, whose tables hold no protected trait:
    paths, _, _ = hub
    for source_file in paths.landing.glob("*/*/*.parquet"):
        names = pq.read_schema(source_file).names
        assert not [c for c in names if PROTECTED.fullmatch(c)], source_file


# --- the governed datasets: what a curious or careless analyst might try ------------------------------------------


@pytest.fixture(scope="module")
def analyst(hub):
    from datetime import date, timedelta

    from governance.grants import GrantRegister
    from pseudonymisation.audit import AuditLog

    paths, _, _ = hub
    grants = GrantRegister(paths.access / "grants.json", AuditLog(paths.audit_log))
    soon = date.today() + timedelta(days=30)
    for user, purpose in (
        ("ana", "selectie_integrale_acties"),
        ("cas", "casusbehandeling"),
        ("eva", "eigenaarsaanpak"),
        ("sig", "signalering"),
    ):
        grants.grant(user, purpose, soon, by=TEST_OFFICER)
        grants.acknowledge(user, purpose)
    return paths, grants


def _session(paths, user, purpose):
    from governance.gateway import connect

    return connect(user, purpose, data=paths.data)


def test_every_purpose_is_published_as_a_sealed_file(hub):
    paths, _, _ = hub
    for purpose in (
        "casusbehandeling",
        "selectie_integrale_acties",
        "eigenaarsaanpak",
        "signalering",
        "programmamonitoring",
    ):
        sealed = paths.published / purpose / f"{purpose}.duckdb.enc"
        assert sealed.exists()
        assert b"SQLite" not in sealed.read_bytes()[:64] and b"DUCK" not in sealed.read_bytes()[:64]


def test_the_selection_purpose_sees_dwellings_but_no_person_or_owner(analyst):
    from governance.grants import AccessDenied

    paths, _ = analyst
    with _session(paths, "ana", "selectie_integrale_acties") as s:
        assert s.query("select count(*) n from selectie_integrale_acties").column("n")[0].as_py() > 0
        for sql in ("select persoon_psn from fct_bewoningsperioden", "select eigenaar_id from woning_indicatoren"):
            with pytest.raises(AccessDenied, match="not in this purpose's dataset"):
                s.query(sql)


def test_nothing_outside_the_dataset_can_be_reached(analyst):
    from governance.grants import AccessDenied

    paths, _ = analyst
    warehouse = paths.warehouse
    raw = next(paths.raw.glob("brp/*/persoon.parquet"))
    with _session(paths, "ana", "selectie_integrale_acties") as s:
        for sql, reason in (
            (f"attach '{warehouse}' as w", "only SELECT"),
            (f"select * from read_csv('{raw}')", "reading files"),
            (f"select * from '{raw}'", "sandbox"),
            ("set enable_external_access = true", "only SELECT"),
            (f"copy selectie_integrale_acties to '{paths.data}/x.csv'", "only SELECT"),
            ("create table x as select 1", "only SELECT"),
        ):
            with pytest.raises(AccessDenied, match=reason):
                s.query(sql)


def test_two_purposes_pseudonyms_do_not_join(analyst):
    paths, _ = analyst
    with _session(paths, "cas", "casusbehandeling") as case, _session(paths, "eva", "eigenaarsaanpak") as owners:
        a = set(
            case.query("select eigenaar_id from dim_woningen where eigenaar_id is not null")
            .column("eigenaar_id")
            .to_pylist()
        )
        b = set(owners.query("select eigenaar_id from dim_eigenaren").column("eigenaar_id").to_pylist())
    assert a and b and not a & b


def test_expired_revoked_and_unacknowledged_grants_are_refused_and_logged(analyst):
    from datetime import date, timedelta

    from governance.grants import AccessDenied
    from pseudonymisation.audit import AuditLog

    paths, grants = analyst
    grants.grant("new", "signalering", date.today() + timedelta(days=1), by=TEST_OFFICER)
    with pytest.raises(AccessDenied, match="not yet acknowledged"):
        _session(paths, "new", "signalering")
    grants.revoke("sig", "signalering", by=TEST_OFFICER)
    with pytest.raises(AccessDenied, match="revoked"):
        _session(paths, "sig", "signalering")
    expired = grants.all()
    for g in expired:
        if g.user == "eva":
            g.until = (date.today() - timedelta(days=1)).isoformat()
    grants._save(expired)
    with pytest.raises(AccessDenied, match="expired"):
        _session(paths, "eva", "eigenaarsaanpak")
    log = AuditLog(paths.audit_log)
    assert log.verify().ok
    refused = [r["event"] for r in log.records() if r["event"].get("outcome") == "refused"]
    assert {e["user"] for e in refused} >= {"new", "sig", "eva"}
    answered = [r["event"] for r in log.records() if r["event"].get("outcome") == "answered"]
    assert all({"statement", "tables", "columns", "rows"} <= set(e) for e in answered)


def test_aggregates_have_no_cell_under_five(analyst):

    from governance.publish import unseal
    from pseudonymisation.keys import KeyStore

    paths, _ = analyst
    plain = paths.data / "check.duckdb"
    unseal(paths.published / "signalering" / "signalering.duckdb.enc", plain, KeyStore(paths.keys), "signalering")
    con = duckdb.connect(str(plain), read_only=True)
    assert con.execute("select count(*) from signalering_buurt_jaar where aantal < 5").fetchall()[0][0] == 0
    con.close()
    plain.unlink()


def test_published_monitoring_hides_small_counts_so_that_none_can_be_recomputed_from_the_totals(hub):
    """The programme manager's dataset after a whole run: no count from 1 to 4, and no hidden month cell that the
    yearly target in `monitoring_doelen` or the other cells give back (tests/test_publication_suppression.py)."""

    from governance.publish import unsealed
    from pseudonymisation.keys import KeyStore
    from tests.test_publication_suppression import COUNTS, assert_protected

    paths, _, _ = hub
    sealed = paths.published / "programmamonitoring" / "programmamonitoring.duckdb.enc"
    with unsealed(sealed, KeyStore(paths.keys), "programmamonitoring") as plain:
        con = duckdb.connect(str(plain), read_only=True)
        published = {t: con.sql(f"select * from {t}").to_arrow_table().to_pylist() for t in COUNTS}
        con.close()
    assert published["monitoring_nieuwe_zaken_per_wijk"] and published["monitoring_interventies"]
    warehouse = duckdb.connect(str(paths.warehouse), read_only=True)
    truth = {t: warehouse.sql(f"select * from {t}").to_arrow_table().to_pylist() for t in COUNTS}
    warehouse.close()
    zeros = set()
    for t, rows in published.items():  # what is shown is what was counted; blank zeros are known to the reader
        keys = [k for k in ("jaar", "maand", "wijk", "doel", "interventie") if k in rows[0]]
        counted = {tuple(r[k] for k in keys): r for r in truth[t]}
        for i, row in enumerate(rows):
            original = counted[tuple(row[k] for k in keys)]
            assert all(row[c] in (None, original[c]) for c in COUNTS[t])
            zeros |= {(t, i, c) for c in COUNTS[t] if row[c] is None and original[c] == 0}
    assert_protected(published, zeros)
    assert any(r["gerealiseerd"] is not None for r in published["monitoring_doelen"])


def test_publication_checks_pass_and_the_warehouse_holds_no_identifier(hub):
    from governance.identifier_scan import scan_duckdb

    paths, instance, _ = hub
    for purpose in (
        "casusbehandeling",
        "selectie_integrale_acties",
        "eigenaarsaanpak",
        "signalering",
        "programmamonitoring",
    ):
        for check in ("column_tags_allow_publication", "no_direct_identifiers"):
            key = dg.AssetCheckKey(dg.AssetKey(["published", purpose]), check)
            record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
            assert record.event.dagster_event.event_specific_data.passed, (purpose, check)
    assert scan_duckdb(paths.warehouse, raw_person_files(paths.raw)) == []


# --- the privacy officer's report ---------------------------------------------------------------------------------


def test_privacy_report_renders_with_working_links_and_no_findings(hub, tmp_path):
    import re as _re

    from governance.privacy_report import build

    paths, _, _ = hub
    data = build(paths, tmp_path / "site")
    pages = {p.name: p.read_text() for p in (tmp_path / "site").glob("*.html")}
    assert {"index.html", "lineage.html", "verwerkingsregister.html", "indicatoren.html", "bevindingen.html"} <= set(
        pages
    )
    for text in pages.values():
        for href in _re.findall(r'href="([^"#]+)', text):
            assert (tmp_path / "site" / href).exists(), href
    assert "brp/verblijfplaats_historie.bsn (copied, pseudonymised)" in pages["lineage.html"]
    assert "pseudonymised (bsn)" in pages["lineage.html"] and "Huisvestingswet 2014" in pages["index.html"]
    assert (tmp_path / "site" / "openlineage.jsonl").stat().st_size > 100_000
    assert all(not i["protected_traits_in_lineage"] for i in data.indicators)
    assert [f.__dict__ for f in data.findings if f.kind != "grant past its date, not revoked"] == []


def test_every_table_asset_carries_its_column_lineage_in_dagster(hub):
    _, instance, _ = hub
    expected = {
        ("landing", "brp", "persoon"): ("bsn_psn", dg.AssetKey(["raw", "brp", "persoon"]), "bsn"),
        ("warehouse", "fct_bewoningsperioden"): (
            "persoon_psn",
            dg.AssetKey(["warehouse", "int_bewoningsperioden"]),
            "persoon_psn",
        ),
        ("published", "casusbehandeling"): (
            "fct_bewoningsperioden.persoon_psn",
            dg.AssetKey(["warehouse", "fct_bewoningsperioden"]),
            "persoon_psn",
        ),
        ("linkage", "entity_links"): ("entity_id", dg.AssetKey(["landing", "brp", "persoon"]), "voornamen_bf"),
    }
    for path, (column, upstream, upstream_column) in expected.items():
        event = instance.get_latest_materialization_event(dg.AssetKey(list(path)))
        lineage = event.asset_materialization.metadata["dagster/column_lineage"].value
        deps = lineage.deps_by_column[column]
        assert dg.TableColumnDep(asset_key=upstream, column_name=upstream_column) in deps, (path, deps)


def _chromium() -> str:
    import shutil

    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Debian's chromium is missing: `make test` installs it as root; else apt-get install chromium")
    return found


def _browse(url: str, *args: str) -> str:
    import subprocess

    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", *args, url]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_privacy_report_loads_in_a_real_browser_with_working_links_and_a_lineage_screenshot(hub, tmp_path):
    from html.parser import HTMLParser

    from governance.privacy_report import build
    from rgw.settings import REPO_ROOT

    paths, _, _ = hub
    site = tmp_path / "site"
    build(paths, site)

    class Links(HTMLParser):
        def __init__(self):
            super().__init__()
            self.hrefs, self.ids = [], set()

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "a" and a.get("href"):
                self.hrefs.append(a["href"])
            if a.get("id"):
                self.ids.add(a["id"])

    rendered = {}
    for page in sorted(site.glob("*.html")):
        dom = _browse(page.as_uri(), "--dump-dom")  # the page as the browser built it
        assert "<h1>" in dom and "<nav>" in dom, page.name
        rendered[page.name] = Links()
        rendered[page.name].feed(dom)
    assert len(rendered) == 5
    for name, links in rendered.items():
        for href in links.hrefs:
            target, _, anchor = href.partition("#")
            target = target or name
            assert (site / target).exists(), f"{name}: {href}"
            if anchor:
                assert anchor in rendered[target].ids, f"{name}: {href}"
    lineage_dom = _browse((site / "lineage.html").as_uri(), "--dump-dom")
    assert "brp/verblijfplaats_historie.bsn (copied, pseudonymised)" in lineage_dom
    shots = REPO_ROOT / ".test-artifacts"
    shots.mkdir(exist_ok=True)
    shot = shots / "privacy-report-lineage.png"
    shot.unlink(missing_ok=True)
    _browse((site / "lineage.html").as_uri(), f"--screenshot={shot}", "--window-size=1400,1800")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_privacy_findings_catch_each_planted_violation(hub, tmp_path):
    import json as _json

    from governance.grants import GrantRegister
    from governance.privacy_report import collect
    from governance.purposes import load
    from orchestration.dbt_manifest import MANIFEST
    from pseudonymisation.audit import AuditLog

    paths, _, _ = hub
    manifest = _json.loads(MANIFEST.read_text())
    node = manifest["nodes"]["model.rgw.selectie_integrale_acties"]
    node["columns"]["straatnaam"]["config"]["meta"] = {}  # an untagged column
    node["columns"]["straatnaam"]["meta"] = {}
    node["columns"]["adres_kort"]["config"]["meta"]["privacy_class"] = "direct_identifier"  # a class not allowed
    log = tmp_path / "audit.jsonl"
    for i in range(3):
        AuditLog(log).append({"action": "query", "user": f"u{i}", "purpose": "signalering"})
    text = log.read_text().splitlines()
    text[0] = text[0].replace('"action"', '"actie"')  # tamper with the first record
    log.write_text("\n".join(text) + "\n")
    audit = AuditLog(log)
    grants = GrantRegister(tmp_path / "grants.json", audit)
    data = collect(load(), manifest, grants, audit, paths.landing, identifier_findings=["landing/x.parquet: bsn"])
    kinds = {f.kind for f in data.findings}
    assert {
        "untagged column",
        "class not allowed",
        "audit chain broken",
        "direct identifier outside the raw area",
    } <= kinds


def test_the_lineage_check_fails_when_a_protected_trait_is_wired_into_an_indicator():
    import json as _json

    from governance.lineage import protected_traits_in_lineage
    from orchestration.dbt_manifest import MANIFEST

    manifest = _json.loads(MANIFEST.read_text())
    assert protected_traits_in_lineage(manifest, "woning_indicatoren") == []
    staging = manifest["nodes"]["model.rgw.stg_brp__verblijfplaatsen"]  # upstream of every residence indicator
    staging["raw_code"] = staging["raw_code"].replace("    volgnummer,", "    volgnummer,\n    nationaliteiten,")
    assert protected_traits_in_lineage(manifest, "woning_indicatoren") == ["nationaliteiten"]


def test_subject_access_report_finds_a_resident_everywhere_and_is_logged(hub):
    import pyarrow.parquet as _pq

    from governance.subject import subject_report
    from pseudonymisation.audit import AuditLog
    from pseudonymisation.keys import KeyStore

    paths, _, _ = hub
    raw = _pq.read_table(next(paths.raw.glob("brp/*/persoon.parquet")), columns=["bsn"]).column("bsn").to_pylist()
    spells = _pq.read_table(
        next(paths.raw.glob("brp/*/verblijfplaats_historie.parquet")),
        columns=["bsn", "is_current", "verblijfsobject_id"],
    ).to_pylist()
    bsn = next(s["bsn"] for s in spells if s["is_current"] and s["verblijfsobject_id"] and s["bsn"] in raw)
    report = subject_report(
        paths, KeyStore(paths.keys), AuditLog(paths.audit_log), officer="po", request="AVG-15-1", bsn=bsn
    )
    zones = {(p["zone"], p["table"].split(".")[-1]) for p in report["places"]}
    assert {
        ("landing", "persoon"),
        ("landing", "verblijfplaats_historie"),
        ("linkage", "entity_links"),
        ("warehouse", "fct_bewoningsperioden"),
    } <= zones
    published = [p for p in report["places"] if p["zone"] == "published" and p["table"] == "fct_bewoningsperioden"]
    for place in published:  # where each published column about them comes from
        assert "brp/verblijfplaats_historie.bsn" in " ".join(place["lineage"]["persoon_psn"])
    assert report["restricted"] is None and report["erased"] is False
    last = AuditLog(paths.audit_log).records()[-1]["event"]
    assert last["action"] == "subject_access" and bsn not in json.dumps(last)
