"""Restriction (AVG art. 18) and erasure (art. 17) end to end on the tiny synthetic Rotterdam, as the officer checks
them: the route back refuses, the next publication leaves the person out, the vault and the non-registry landing rows
are gone, registry rows stay (restricted), a re-delivery does not bring anything back, and the log holds no BSN.

One hub per module (the pipeline run the same way as tests/test_pipeline.py), on an ephemeral Dagster instance;
the tests run in file order and build on each other's state, as an officer's requests would.
"""

import json
from datetime import date, timedelta

import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from governance.grants import AccessDenied, GrantRegister
from governance.publish import unsealed
from governance.purposes import load
from governance.restrictions import RestrictionRegister
from orchestration.runner import RunReport, ingest_all, run_downstream
from pseudonymisation.audit import AuditLog
from pseudonymisation.keys import KeyStore
from pseudonymisation.pseudonyms import Pseudonymiser
from pseudonymisation.reidentify import reidentify
from pseudonymisation.vault import Vault
from rgw.cli import main
from tests.conftest import TEST_OFFICER, materialised_hub, open_case


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    for paths, instance, report in materialised_hub(tmp_path_factory):
        assert report.ok, report.failed
        grants = GrantRegister(paths.access / "grants.json", AuditLog(paths.audit_log))
        grants.grant("cas", "casusbehandeling", date.today() + timedelta(days=30), by=TEST_OFFICER)
        grants.acknowledge("cas", "casusbehandeling")
        yield paths, instance, grants


def _bsn_psn(paths):
    keyed = Pseudonymiser(KeyStore(paths.keys), "bsn")
    bsns = pq.read_table(next(paths.raw.glob("brp/*/persoon.parquet")), columns=["bsn"]).column("bsn").to_pylist()
    return {keyed.pseudonym(b): b for b in bsns if b}


def _landed(paths, source, entity):
    return pq.read_table(next(paths.landing.glob(f"{source}/*/{entity}.parquet")))


def _published_persons(paths) -> dict[str, int]:
    """Rows per person (case handling's own pseudonym) of fct_bewoningsperioden in its published dataset."""
    keystore = KeyStore(paths.keys)
    sealed = paths.published / "casusbehandeling" / "casusbehandeling.duckdb.enc"
    with unsealed(sealed, keystore, "casusbehandeling") as plain:
        con = duckdb.connect(str(plain), read_only=True)
        rows = con.execute("select persoon_psn, count(*) from fct_bewoningsperioden group by all").fetchall()
        con.close()
    return dict(rows)


def _published_rows(paths, psn):
    """(rows of the person, all rows) of fct_bewoningsperioden in case handling's published dataset."""
    key = Pseudonymiser(KeyStore(paths.keys), "entiteit", purpose="casusbehandeling").from_linkage(psn)
    persons = _published_persons(paths)
    return persons.get(key, 0), sum(persons.values())


@pytest.fixture(scope="module")
def resident(hub):
    """A resident whose dwelling has an open case, so case handling publishes their residence: (BSN, pseudonym)."""
    paths, _, _ = hub
    by_psn = _bsn_psn(paths)
    tenants = set(_landed(paths, "corporaties", "relatie").column("bsn_psn").to_pylist())
    published = _published_persons(paths)
    re_key = Pseudonymiser(KeyStore(paths.keys), "entiteit", purpose="casusbehandeling")
    for psn, bsn in sorted(by_psn.items()):
        if psn not in tenants and published.get(re_key.from_linkage(psn)):
            return bsn, psn
    pytest.fail("no resident with a published residence in the synthetic hub")


@pytest.fixture(scope="module")
def tenant(hub):
    """A BRP resident who is also a corporation tenant, and an e-mail address of a reporter they say they used."""
    paths, _, _ = hub
    by_psn = _bsn_psn(paths)
    relaties = _landed(paths, "corporaties", "relatie").to_pylist()
    psn = next(r["bsn_psn"] for r in relaties if r["bsn_psn"] in by_psn and r["email_psn"])
    raw_reports = pq.read_table(next(paths.raw.glob("meldpunten/*/melding.parquet"))).to_pylist()
    email = next(r["melder_email"] for r in raw_reports if r["melder_email"])
    return by_psn[psn], psn, email


@pytest.fixture(scope="module")
def reporter_names(hub, tenant):
    """The name pseudonyms of the reports the tenant made under their e-mail address (taken before the erasure)."""
    paths, _, _ = hub
    email_psn = Pseudonymiser(KeyStore(paths.keys), "email").pseudonym(tenant[2])
    reports = _landed(paths, "meldpunten", "melding").to_pylist()
    return {r["melder_naam_psn"] for r in reports if r["melder_email_psn"] == email_psn and r["melder_naam_psn"]}


def _route_back(paths, grants, psn):
    from governance.cases import CaseRegister

    keystore = KeyStore(paths.keys)
    return reidentify(
        Vault(paths.vault, keystore),
        AuditLog(paths.audit_log),
        grants,
        user="cas",
        purpose="casusbehandeling",
        case=open_case(paths),
        pseudonym=psn,
        restrictions=RestrictionRegister(paths.access),
        cases=CaseRegister(paths.landing),
        officer=TEST_OFFICER,
        purposes=load(),
    )


def _rgw(*args):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_restriction_stops_the_route_back_and_the_next_publication(hub, resident):
    paths, _, grants = hub
    bsn, psn = resident
    assert _route_back(paths, grants, psn).identifier == bsn  # before: the route back works
    mine, total = _published_rows(paths, psn)
    assert mine > 0
    out = _rgw("subject", "restrict", "--officer", "po", "--request", "AVG-18-7", "--bsn", bsn, "--reason", "bezwaar")
    assert psn in out and bsn not in out
    with pytest.raises(AccessDenied, match=r"restricted \(AVG art. 18\) under request AVG-18-7"):
        _route_back(paths, grants, psn)
    _rgw("publish", "--purpose", "casusbehandeling")
    assert _published_rows(paths, psn) == (0, total - mine)  # only this person's rows are left out
    events = [r["event"] for r in AuditLog(paths.audit_log).records()]
    assert {"action": "subject_restriction", "step": "restricted", "request": "AVG-18-7", "pseudonym": psn}.items() <= (
        next(e for e in events if e["action"] == "subject_restriction").items()
    )
    refused = [e for e in events if e["action"] == "reidentify" and e["pseudonym"] == psn][-1]
    assert refused["outcome"] == "refused" and "AVG-18-7" in refused["reason"]


def test_a_lifted_restriction_opens_the_route_back_again(hub, resident):
    paths, _, grants = hub
    bsn, psn = resident
    assert "lifted 1 restriction" in _rgw(
        "subject", "lift-restriction", "--officer", "po", "--request", "AVG-18-7b", "--bsn", bsn
    )
    assert _route_back(paths, grants, psn).identifier == bsn
    (entry,) = [r for r in RestrictionRegister(paths.access).all() if r.pseudonym == psn]
    assert entry.lifted_by == "po" and entry.lifted_request == "AVG-18-7b"  # the register keeps the dated entry


def test_erasure_removes_what_the_hub_holds_itself_and_restricts_the_registries(hub, tenant, reporter_names):
    paths, _, grants = hub
    bsn, psn, email = tenant
    email_psn = Pseudonymiser(KeyStore(paths.keys), "email").pseudonym(email)
    relaties = _landed(paths, "corporaties", "relatie")
    relatie_ids = {r["relatie_id"] for r in relaties.to_pylist() if r["bsn_psn"] == psn}
    reports = {
        r["melding_id"]
        for r in _landed(paths, "meldpunten", "melding").to_pylist()
        if r["melder_email_psn"] == email_psn
    }
    assert relatie_ids and reports
    assert Vault(paths.vault, KeyStore(paths.keys)).holds("bsn", psn)
    out = _rgw(
        "subject", "erase", "--officer", "po", "--request", "AVG-17-3", "--bsn", bsn,
        "--ground", "AVG art. 17(1)(a)", "--email", email,
    )  # fmt: skip
    assert "restricted, not erased: brp" in out and "17(3)(b)" in out and bsn not in out and email not in out
    _assert_erased(paths, psn, email_psn, relatie_ids, reports)
    with pytest.raises(AccessDenied, match="restricted"):
        _route_back(paths, grants, psn)


def _assert_erased(paths, psn, email_psn, relatie_ids, reports):
    vault = Vault(paths.vault, KeyStore(paths.keys))
    assert not vault.holds("bsn", psn) and not vault.holds("email", email_psn)
    assert psn not in _landed(paths, "corporaties", "relatie").column("bsn_psn").to_pylist()
    assert not relatie_ids & set(
        _landed(paths, "corporaties", "huurovereenkomst_relatie").column("relatie_id").to_pylist()
    )
    assert email_psn not in _landed(paths, "meldpunten", "melding").column("melder_email_psn").to_pylist()
    assert not reports & set(_landed(paths, "meldpunten", "zaak_melding").column("melding_id").to_pylist())
    assert psn in _landed(paths, "brp", "persoon").column("bsn_psn").to_pylist()  # the registry keeps them
    assert psn in RestrictionRegister(paths.access).restricted()


def test_a_redelivery_does_not_bring_an_erased_person_back(hub, tenant, reporter_names):
    paths, instance, _ = hub
    bsn, psn, email = tenant
    email_psn = Pseudonymiser(KeyStore(paths.keys), "email").pseudonym(email)
    raw_relaties = pq.read_table(next(paths.raw.glob("corporaties/*/relatie.parquet"))).column("bsn").to_pylist()
    assert bsn in raw_relaties  # the same delivery, still in the raw zone, lands again
    report = ingest_all(instance, paths, ["brp", "corporaties", "meldpunten"])
    assert not report.failed and len(report.ingested) == 3
    relaties = _landed(paths, "corporaties", "relatie").to_pylist()
    landing_report = json.loads(next(paths.landing.glob("corporaties/*/_landing.json")).read_text())
    assert landing_report["suppressed_rows"]["relatie"] >= 1
    relatie_ids = {
        r["relatie_id"]
        for r in pq.read_table(next(paths.raw.glob("corporaties/*/relatie.parquet"))).to_pylist()
        if r["bsn"] == bsn
    }
    assert not relatie_ids & {r["relatie_id"] for r in relaties}
    _assert_erased(paths, psn, email_psn, relatie_ids, set())
    names_left = set(_landed(paths, "meldpunten", "melding").column("melder_naam_psn").to_pylist())
    vault = Vault(paths.vault, KeyStore(paths.keys))
    gone = reporter_names - names_left  # a namesake's report keeps the name pseudonym; here there is none
    assert gone and not any(vault.holds("person_name", n) for n in gone)


def test_the_next_downstream_run_publishes_nothing_of_the_erased_person(hub, tenant):
    paths, instance, _ = hub
    _, psn, _ = tenant
    assert run_downstream(instance, RunReport()).ok
    warehouse = duckdb.connect(str(paths.warehouse), read_only=True)
    assert (
        warehouse.execute("select count(*) from stg_corporaties__relaties where persoon_psn = ?", [psn]).fetchone()[0]
        == 0
    )
    warehouse.close()
    assert _published_rows(paths, psn)[0] == 0


def test_every_step_is_logged_the_chain_verifies_and_no_record_holds_an_identifier(hub, resident, tenant):
    paths, _, _ = hub
    log = AuditLog(paths.audit_log)
    assert log.verify().ok
    text = paths.audit_log.read_text()
    for secret in (resident[0], tenant[0], tenant[2]):
        assert secret not in text
    steps = [r["event"]["step"] for r in log.records() if r["event"]["action"] == "subject_erasure"]
    assert steps == [
        "started",
        "registries_restricted",
        "suppression_listed",
        "landing_rows_removed",
        "vault_entries_removed",
    ]
    erasure = [r["event"] for r in log.records() if r["event"]["action"] == "subject_erasure"]
    assert all(e["ground"] == "AVG art. 17(1)(a)" and e["request"] == "AVG-17-3" for e in erasure)
    removed = next(e for e in erasure if e["step"] == "landing_rows_removed")["removed"]
    assert removed["corporaties.relatie"] >= 1 and removed["meldpunten.melding"] >= 1


def test_an_erasure_still_holds_after_a_key_rotation(hub, tenant):
    """Last of the hub's tests: it rotates the key. The suppression list holds v1 pseudonyms and the erased
    identifiers are gone, yet a re-delivery landed under v2 still leaves the person out."""
    paths, instance, _ = hub
    bsn, psn, _ = tenant
    assert psn.startswith("bsn.v1.") and KeyStore(paths.keys).rotate() == "v2"
    report = ingest_all(instance, paths, ["corporaties"])
    assert not report.failed
    relaties = _landed(paths, "corporaties", "relatie")
    assert any(str(v).startswith("bsn.v2.") for v in relaties.column("bsn_psn").to_pylist())
    assert not any("@" in c for c in relaties.column_names)  # the old-version columns only served the matching
    raw = pq.read_table(next(paths.raw.glob("corporaties/*/relatie.parquet"))).to_pylist()
    erased = {r["relatie_id"] for r in raw if r["bsn"] == bsn}
    assert erased and not erased & set(relaties.column("relatie_id").to_pylist())
    # the erased person's registry rows are restricted under v1: until carried over, everything refuses
    keystore = KeyStore(paths.keys)
    with pytest.raises(AccessDenied, match="carry them over"):
        RestrictionRegister(paths.access, keystore.version).restricted()
    result = CliRunner().invoke(main, ["keys", "carry-over", "--by", "privacy-officer"])
    assert result.exit_code == 0, result.output  # the vault forgot them: found again in the raw BRP delivery
    restricted = RestrictionRegister(paths.access, keystore.version).restricted()
    assert Pseudonymiser(keystore, "bsn").pseudonym(bsn) in restricted and psn in restricted
    assert bsn not in paths.access.joinpath("subject_restrictions.json").read_text()
    assert AuditLog(paths.audit_log).records()[-1]["event"]["action"] == "restrictions_carried_over"


# --- the pieces on their own: the vault forgets and refuses, suppression follows links ---------------------------


def test_the_vault_forgets_an_erased_identifier_and_never_stores_it_again(tmp_path, monkeypatch):
    monkeypatch.setenv("RGW_MASTER_KEY", "cd" * 32)
    keystore = KeyStore(tmp_path / "keys")
    vault = Vault(tmp_path / "vault", keystore)
    bsns = ["999993653", "111222333"]
    vault.put_many("bsn", bsns)
    erased, kept = (Pseudonymiser(keystore, "bsn").pseudonym(b) for b in bsns)
    assert vault.forget("bsn", [erased]) == 1
    assert not vault.holds("bsn", erased) and vault.resolve("bsn", kept) == "111222333"
    assert Vault(tmp_path / "vault", keystore, erased=[erased]).put_many("bsn", bsns) == 0
    assert not vault.holds("bsn", erased)


def test_suppression_removes_the_person_and_the_links_to_them_in_non_registry_sources_only():
    import pyarrow as pa

    from pseudonymisation.suppression import suppress

    tables = {
        "relatie": pa.table(
            {"relatie_id": ["r1", "r2"], "bsn_psn": ["bsn.v1.A", "bsn.v1.B"], "email_psn": [None, None]}
        ),
        "huurovereenkomst_relatie": pa.table({"huurovereenkomst_id": ["h1", "h2"], "relatie_id": ["r1", "r2"]}),
        "eenheid": pa.table({"eenheid_id": ["e1"]}),
    }
    kept, removed = suppress("corporaties", tables, {"bsn.v1.A"})
    assert kept["relatie"]["relatie_id"].to_pylist() == ["r2"]
    assert kept["huurovereenkomst_relatie"]["relatie_id"].to_pylist() == ["r2"]
    assert kept["eenheid"] is tables["eenheid"] and removed == {"relatie": 1, "huurovereenkomst_relatie": 1}
    brp = {"persoon": pa.table({"bsn_psn": ["bsn.v1.A"]})}
    assert suppress("brp", brp, {"bsn.v1.A"}) == (brp, {})  # a base registry: restricted, never suppressed
