"""The analysts' PostgreSQL server, end to end: the tiny hub published into a real server started by the tests (the
code `make serve` runs), an officer who grants, an analyst who reads with psql, psycopg and pandas, and the server
refusing everything else; every statement in the hub's audit log after `rgw audit collect`."""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta

import dagster as dg
import duckdb
import pandas as pd
import psycopg
import pytest
import sqlalchemy
from click.testing import CliRunner

from governance.grants import Grant, GrantRegister
from governance.privacy_report import collect as collect_report
from governance.publish import PublicationRefused, column_tags, unsealed
from governance.purposes import load
from orchestration.dbt_manifest import ensure_manifest
from orchestration.runner import run_everything
from pseudonymisation.audit import AuditLog
from pseudonymisation.keys import KeyStore
from rgw.cli import main
from rgw.settings import HubPaths
from serving.config import BIN_DIR
from serving.dagster_instance import render
from serving.publish import load_purpose
from serving.roles import sync_user
from synth import generate

PURPOSE = "selectie_integrale_acties"
REFUSED = {
    "select count(*) from eigenaarsaanpak.dim_eigenaren": "permission denied for schema eigenaarsaanpak",
    "select pg_read_file('/etc/passwd')": "permission denied for function pg_read_file",
    "copy (select 1) to program 'id'": "pg_execute_server_program",
    "copy (select 1) to '/tmp/rgw-analyst-copy'": "pg_write_server_files",
    "create table mine (a int)": "permission denied for schema",
    "create temp table mine (a int)": "permission denied to create temporary tables",
    "set role rgw_hub": 'permission denied to set role "rgw_hub"',
    "set role rgw_purpose_eigenaarsaanpak": 'permission denied to set role "rgw_purpose_eigenaarsaanpak"',
    "select lo_import('/etc/passwd')": "permission denied for function lo_import",
    "create extension pg_trgm": "permission denied to create extension",
    "select * from pg_authid": "permission denied for table pg_authid",
    "select pg_ls_dir('.')": "permission denied for function pg_ls_dir",
    "create schema mine": "permission denied for database",
    "set pgaudit.log = 'none'": 'permission denied to set parameter "pgaudit.log"',
}


@pytest.fixture(scope="module")
def hub(tmp_path_factory, pg_server):
    """The tiny hub run by Dagster with the server set up, so every publication is also loaded into it."""
    mp = pytest.MonkeyPatch()
    data = tmp_path_factory.mktemp("served-hub")
    generate("tiny", 5, data)
    for name, value in {
        "RGW_DATA": str(data),
        "RGW_MASTER_KEY": "ab" * 32,
        "RGW_PG_DATA": str(pg_server.pgdata),
        "RGW_PG_PORT": str(pg_server.port),
        "RGW_PG_SECRET": str(pg_server.secret_file),
    }.items():
        mp.setenv(name, value)
    mp.delenv("RGW_OFFICER_KEY", raising=False)
    paths = HubPaths(data).ensure()
    try:
        report = run_everything(dg.DagsterInstance.ephemeral(), paths)
        assert report.ok, report.failed
        key = tmp_path_factory.mktemp("officer") / "po.key"  # outside the data folder
        rgw("access", "officer", "enrol", "--name", "po", "--key-file", str(key))
        yield paths, pg_server, key
    finally:
        mp.undo()


def rgw(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def analyst(hub, user: str, purpose: str = PURPOSE) -> str:
    """Grant, acknowledge and take the credentials as the CLI does; the libpq URI."""
    _, _, key = hub
    until = (date.today() + timedelta(days=30)).isoformat()
    rgw("access", "grant", "--user", user, "--purpose", purpose, "--until", until, "--officer-key", str(key))
    rgw("access", "acknowledge", "--user", user, "--purpose", purpose)
    return rgw("access", "credentials", "--user", user).strip()


def psql(uri: str, sql: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN_DIR / "psql"), uri, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_every_purpose_is_on_the_server_as_published_same_columns_rows_and_pseudonyms(hub):
    paths, config, _ = hub
    tags = column_tags(json.loads(ensure_manifest().read_text()))
    with psycopg.connect(config.admin_conninfo()) as con:
        for purpose in load().purposes.values():
            sealed = paths.published / purpose.id / f"{purpose.id}.duckdb.enc"
            with unsealed(sealed, KeyStore(paths.keys), purpose.id) as plain:
                ds = duckdb.connect(str(plain), read_only=True)
                for table in purpose.tables:
                    want = ds.sql(f"select * from {table}").to_arrow_table()
                    got = con.execute(f'select * from "{purpose.id}"."{table}"').fetchall()
                    cols = [
                        r[0]
                        for r in con.execute(
                            "select column_name from information_schema.columns where table_schema = %s "
                            "and table_name = %s order by ordinal_position",
                            [purpose.id, table],
                        ).fetchall()
                    ]
                    assert cols == want.column_names and len(got) == want.num_rows
                    for c in cols:
                        if tags[table][c]["privacy_class"] == "pseudonym":  # the purpose's own pseudonyms
                            assert {r[cols.index(c)] for r in got} == set(want.column(c).to_pylist())
                        (comment,) = con.execute(
                            "select col_description(%s::regclass, %s)", [f'"{purpose.id}"."{table}"', cols.index(c) + 1]
                        ).fetchone()
                        assert json.loads(comment) == tags[table][c]
                ds.close()
        assert not con.execute("select nspname from pg_namespace where nspname like '%%__staging'").fetchall()


def test_the_analyst_reads_their_purpose_with_psql_psycopg_and_pandas_and_nothing_else(hub):
    paths, config, _ = hub
    uri = analyst(hub, "ana")
    assert uri.startswith("postgresql://ana:") and uri.endswith(f"@127.0.0.1:{config.port}/rgw")
    shown_twice = CliRunner().invoke(main, ["access", "credentials", "--user", "ana"])
    assert shown_twice.exit_code == 5 and "shown before" in shown_twice.output
    listed = psql(uri, "select count(*) from selectie_integrale_acties")
    assert listed.returncode == 0 and int(listed.stdout.strip()) > 0, listed.stderr
    with psycopg.connect(uri) as con:
        rows = con.execute(
            "select buurtnaam, adres_kort from selectie_integrale_acties order by rang_in_buurt"
        ).fetchall()
    assert rows and all(r[1] for r in rows)
    engine = sqlalchemy.create_engine(uri.replace("postgresql://", "postgresql+psycopg://"))
    try:
        frame = pd.read_sql("select buurtnaam, count(*) as n from woning_indicatoren group by 1", engine)
    finally:
        engine.dispose()
    assert frame["n"].sum() > 0
    refused = psql(uri, "select count(*) from eigenaarsaanpak.dim_eigenaren")
    assert refused.returncode != 0 and "permission denied for schema eigenaarsaanpak" in refused.stderr
    # the server keeps no plaintext: only the scram verifier, made by the hub
    with psycopg.connect(config.admin_conninfo()) as con:
        (secret,) = con.execute("select rolpassword from pg_authid where rolname = 'ana'").fetchone()
    assert secret.startswith("SCRAM-SHA-256$4096:")


def test_the_server_refuses_what_the_purpose_does_not_allow_and_the_audit_log_holds_every_statement(hub):
    paths, config, _ = hub
    uri = analyst(hub, "bob")
    with psycopg.connect(uri, autocommit=True) as con:
        answered = "select count(*) from woning_indicatoren where in_focusgebied"
        con.execute(answered).fetchone()
        for statement, message in REFUSED.items():
            with pytest.raises(psycopg.Error, match=message):
                con.execute(statement)
    rgw("audit", "collect")
    events = [r["event"] for r in AuditLog(paths.audit_log).records() if r["event"].get("user") == "bob"]
    statements = {(e.get("statement"), e.get("outcome")) for e in events if e.get("channel") == "postgres"}
    assert (answered, "executed") in statements
    for statement in REFUSED:
        assert (statement, "refused") in statements, statement
    assert any(e["action"] == "login" and e["outcome"] == "accepted" for e in events)
    assert all(e["purpose"] == PURPOSE for e in events if e.get("channel") == "postgres")
    manifest = json.loads(ensure_manifest().read_text())
    register = GrantRegister(paths.access / "grants.json", AuditLog(paths.audit_log))
    report = collect_report(load(), manifest, register, AuditLog(paths.audit_log), paths.landing, None, [])
    consulted = next(p for p in report.purposes if p["id"] == PURPOSE)["accesses"]  # the report's Raadplegingen
    assert any(a.get("channel") == "postgres" and a.get("statement") == answered for a in consulted)
    before = len(AuditLog(paths.audit_log).records())
    assert "collected 0 audit event(s)" in rgw("audit", "collect")  # exactly once
    assert len(AuditLog(paths.audit_log).records()) == before
    assert "chain verified" in rgw("audit", "verify")


def test_no_login_without_a_valid_grant_and_none_after_its_end(hub):
    _, config, _ = hub
    with psycopg.connect(config.admin_conninfo(), autocommit=True) as con:
        from serving.credentials import scram_verifier

        past = date.today() - timedelta(days=3)
        ended = Grant("old", PURPOSE, (past + timedelta(days=1)).isoformat(), "po", "x", acknowledged_at="x")
        # set up while the grant was valid: the role's VALID UNTIL is the grant's end, now past
        state = sync_user(con, "old", [ended], password_verifier=scram_verifier("pw-old-1"), today=past)
        assert state.login and state.valid_until.date() == past + timedelta(days=2)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(config.user_uri("old", "pw-old-1")).close()
    with psycopg.connect(config.admin_conninfo(), autocommit=True) as con:
        assert not sync_user(con, "old", [ended]).login  # and the register's own sync takes LOGIN away
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in|password authentication failed"):
        psycopg.connect(config.user_uri("old", "pw-old-1")).close()


def test_a_revoke_ends_the_open_session_at_once(hub):
    paths, _, key = hub
    uri = analyst(hub, "cas", "eigenaarsaanpak")
    con = psycopg.connect(uri, autocommit=True)
    assert con.execute("select count(*) from dim_eigenaren").fetchone()[0] > 0
    out = rgw("access", "revoke", "--user", "cas", "--purpose", "eigenaarsaanpak", "--officer-key", str(key))
    assert "1 session(s) ended" in out
    with pytest.raises(psycopg.OperationalError):
        con.execute("select count(*) from dim_eigenaren")
    con.close()
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        psycopg.connect(uri).close()
    rgw("audit", "collect")
    events = [r["event"] for r in AuditLog(paths.audit_log).records() if r["event"].get("user") == "cas"]
    assert any(e["action"] == "revoke" for e in events)
    assert any(e.get("channel") == "postgres" and e["outcome"] == "refused" for e in events)  # the refused login


def test_a_refused_load_leaves_the_served_dataset_as_it_was(hub):
    paths, config, _ = hub
    tags = column_tags(json.loads(ensure_manifest().read_text()))
    with psycopg.connect(config.admin_conninfo()) as con:
        before = con.execute("select count(*) from selectie_integrale_acties.woning_indicatoren").fetchone()
    untagged = {**tags, "woning_indicatoren": {k: v for k, v in tags["woning_indicatoren"].items() if k != "buurtnaam"}}
    sealed = paths.published / PURPOSE / f"{PURPOSE}.duckdb.enc"
    with pytest.raises(PublicationRefused, match="buurtnaam is not tagged"):
        load_purpose(config, PURPOSE, sealed, KeyStore(paths.keys), untagged)
    with psycopg.connect(config.admin_conninfo()) as con:
        assert con.execute("select count(*) from selectie_integrale_acties.woning_indicatoren").fetchone() == before
        assert not con.execute("select 1 from pg_namespace where nspname = %s", [f"{PURPOSE}__staging"]).fetchone()
    assert load_purpose(config, PURPOSE, sealed, KeyStore(paths.keys), tags).tables["woning_indicatoren"] == before[0]


def test_dagster_keeps_its_runs_on_the_server_when_asked(hub, tmp_path):
    _, config, _ = hub
    (tmp_path / "dagster.yaml").write_text(render("telemetry:\n  enabled: false\n", {"RGW_DAGSTER_PG_URL": "x"}))
    mp = pytest.MonkeyPatch()
    mp.setenv("RGW_DAGSTER_PG_URL", config.dagster_url())
    try:
        instance = dg.DagsterInstance.from_config(str(tmp_path))
        try:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"

            @dg.asset
            def one() -> int:
                return 1

            assert dg.materialize([one], instance=instance).success
            assert instance.get_runs_count() >= 1
        finally:
            instance.dispose()
    finally:
        mp.undo()


def test_grants_register_refuses_a_grant_without_the_officers_credential(hub):
    paths, _, _ = hub
    from governance.grants import AccessDenied

    register = GrantRegister(paths.access / "grants.json", AuditLog(paths.audit_log))
    with pytest.raises(AccessDenied, match="act of the privacy officer"):
        register.grant("eve", PURPOSE, date.today() + timedelta(days=1), by="eve")
    refused = CliRunner().invoke(
        main, ["access", "grant", "--user", "eve", "--purpose", PURPOSE, "--until", "2099-01-01"]
    )
    assert refused.exit_code == 3 and "act of the privacy officer" in refused.output


def test_serve_again_finds_the_server_running_and_leaves_the_hubs_files_owner_only(hub):
    paths, config, _ = hub
    assert "already running" in rgw("serve", "start")
    assert "running" in rgw("serve", "status")
    assert all(not (e.stat().st_mode & 0o077) for e in paths.data.iterdir() if e.is_dir())
    with psycopg.connect(config.admin_conninfo()) as con:
        hba = con.execute("select type, auth_method from pg_hba_file_rules").fetchall()
        settings = dict(
            con.execute(
                "select name, setting from pg_settings where name in "
                "('listen_addresses', 'shared_preload_libraries', 'password_encryption')"
            )
        )
    assert hba == [("host", "scram-sha-256")]
    assert settings == {
        "listen_addresses": "127.0.0.1",
        "shared_preload_libraries": "pgaudit",
        "password_encryption": "scram-sha-256",
    }


def test_the_dagster_asset_syncs_roles_and_collects_the_audit_trail(hub):
    from orchestration.assets.serving import postgres_statements
    from orchestration.resources import HubPathsResource

    paths, config, _ = hub
    uri = analyst(hub, "dag")
    with psycopg.connect(uri) as con:
        con.execute("select count(*) from woning_indicatoren").fetchone()
    result = dg.materialize([postgres_statements], resources={"hub": HubPathsResource(data_dir=str(paths.data))})
    assert result.success
    (materialisation,) = result.asset_materializations_for_node("audit__postgres_statements")
    assert materialisation.metadata["events"].value >= 2  # the login and the statement
    statements = [
        r["event"].get("statement") for r in AuditLog(paths.audit_log).records() if r["event"].get("user") == "dag"
    ]
    assert "select count(*) from woning_indicatoren" in statements
