"""The access gateway under a hostile or careless analyst: bounded in time, memory and rows, what a query read taken
from the bound plan, every refusal and stop in the audit log, nothing left in /dev/shm by a stopped query, and no raw
connection on the session.

One small published dataset (sealed with the real publication key) serves the whole module; it has the tables of the
selection purpose with a few rows, so each query is quick.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from governance.gateway import QueryLimits, QueryStopped, connect
from governance.grants import AccessDenied, GrantRegister
from governance.publish import seal
from pseudonymisation.audit import AuditLog
from pseudonymisation.keys import KeyStore
from rgw.settings import HubPaths
from tests.conftest import TEST_OFFICER

PURPOSE = "selectie_integrale_acties"
MASTER_KEY = "5e" * 32
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def hub(tmp_path_factory) -> HubPaths:
    mp = pytest.MonkeyPatch()
    mp.setenv("RGW_MASTER_KEY", MASTER_KEY)
    paths = HubPaths(tmp_path_factory.mktemp("gateway")).ensure()
    plain = paths.data / "plain.duckdb"
    con = duckdb.connect(str(plain))
    con.execute(
        "create table selectie_integrale_acties as select range as rang_in_buurt, 'Tarwewijk' as buurtnaam, "
        "'Straat ' || range as adres_kort, 'overbewoning' as toelichting from range(40)"
    )
    con.execute("create table woning_indicatoren as select range as verblijfsobject_id, range % 3 as n from range(40)")
    con.close()
    (paths.published / PURPOSE).mkdir(parents=True)
    seal(plain, paths.published / PURPOSE / f"{PURPOSE}.duckdb.enc", KeyStore(paths.keys), PURPOSE)
    plain.unlink()
    grants = GrantRegister(paths.access / "grants.json", AuditLog(paths.audit_log))
    grants.grant("ana", PURPOSE, date.today() + timedelta(days=30), by=TEST_OFFICER)
    grants.acknowledge("ana", PURPOSE)
    yield paths
    mp.undo()


def _last(paths: HubPaths) -> dict:
    return AuditLog(paths.audit_log).records()[-1]["event"]


def test_tables_read_come_from_the_bound_plan_not_the_statement_text(hub):
    with connect("ana", PURPOSE, data=hub.data) as s:
        for sql in (
            f"select * from query_table('{PURPOSE}')",
            f"select * from query('select adres_kort from {PURPOSE}')",
            f"select count(*) n from {PURPOSE}",  # answered from statistics: the optimised plan reads no table
        ):
            assert s.query(sql).num_rows >= 1
            assert _last(hub)["tables"] == [PURPOSE], sql
        s.query(f"select adres_kort from {PURPOSE} join woning_indicatoren on rang_in_buurt = verblijfsobject_id")
        event = _last(hub)
        assert event["tables"] == sorted([PURPOSE, "woning_indicatoren"])
        assert f"{PURPOSE}.adres_kort" in event["columns"]


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("select * from duckdb_tables()", "duckdb_tables"),
        ("select * from information_schema.columns", "not one of the purpose's tables"),
        ("select * from json_each('[1]')", "json_each"),
    ],
)
def test_what_cannot_be_attributed_is_refused_with_its_reason_in_the_log(hub, sql, reason):
    with connect("ana", PURPOSE, data=hub.data) as s, pytest.raises(AccessDenied, match=reason):
        s.query(sql)
    event = _last(hub)
    assert (event["outcome"], event["statement"]) == ("refused", sql) and reason in event["reason"]


def test_an_endless_query_is_cut_off_at_the_time_limit_and_logged(hub):
    started = time.monotonic()
    with (
        connect("ana", PURPOSE, data=hub.data, limits=QueryLimits(seconds=0.5)) as s,
        pytest.raises(QueryStopped, match=r"stopped after 0.5 s, the time limit"),
    ):
        s.query("select count(*) from range(1000000000000)")
    assert time.monotonic() - started < 10
    event = _last(hub)
    assert event["outcome"] == "stopped" and "time limit" in event["reason"]


def test_a_query_beyond_the_memory_limit_is_stopped_and_logged(hub):
    with (
        connect("ana", PURPOSE, data=hub.data, limits=QueryLimits(memory_mb=64)) as s,
        pytest.raises(QueryStopped, match="more than 64 MB"),
    ):
        s.query("select count(distinct range::varchar) from range(40000000)")
    assert _last(hub)["outcome"] == "stopped"


def test_an_answer_beyond_the_row_limit_is_refused_and_logged(hub):
    with connect("ana", PURPOSE, data=hub.data, limits=QueryLimits(rows=25)) as s:
        assert s.query(f"select * from {PURPOSE} limit 25").num_rows == 25
        with pytest.raises(AccessDenied, match="more than 25 rows"):
            s.query(f"select * from {PURPOSE}")
    assert _last(hub)["outcome"] == "refused" and "row limit" in _last(hub)["reason"]


def test_a_session_can_tighten_the_purposes_limits_but_not_loosen_them(hub):
    with connect("ana", PURPOSE, data=hub.data, limits=QueryLimits(seconds=10**6, rows=10**9)) as s:
        assert s.limits.seconds == 60 and s.limits.rows == 100_000  # purposes.yaml's query_limits


def test_identifier_like_text_in_a_statement_is_redacted_and_the_query_still_logged(hub):
    with connect("ana", PURPOSE, data=hub.data) as s:
        s.query("select 1 as een -- 111222333")
    event = _last(hub)
    assert event["outcome"] == "answered" and "111222333" not in event["statement"]
    assert event["redacted"] == ["a BSN"] and "111222333" not in hub.audit_log.read_text()


def test_the_session_holds_no_raw_connection(hub):
    with connect("ana", PURPOSE, data=hub.data) as s:
        assert not hasattr(s, "_con")
        with pytest.raises(TypeError):
            vars(s)
        reachable = [getattr(s, name, None) for name in dir(s)]
        assert not [v for v in reachable if isinstance(v, duckdb.DuckDBPyConnection)]


def test_refusals_at_opening_name_their_reason_in_the_log(hub):
    grants = GrantRegister(hub.access / "grants.json", AuditLog(hub.audit_log))
    grants.grant("ana", "signalering", date.today() + timedelta(days=3), by=TEST_OFFICER)
    grants.acknowledge("ana", "signalering")
    with pytest.raises(AccessDenied, match="not been published"):
        connect("ana", "signalering", data=hub.data)
    event = _last(hub)
    assert (event["action"], event["outcome"]) == ("open", "refused") and "not been published" in event["reason"]


# --- a query stopped by a signal, in a real process -----------------------------------------------------------------

# The child says "querying" only once the query holds the stop signals (its handler replaced Python's), not when it
# calls `query`: on a loaded machine the checks before the run (the plan, the statement's columns) can outlast the
# parent's wait, and a signal then is a plain KeyboardInterrupt with no query run and nothing to log.
CHILD = textwrap.dedent(
    """
    import signal, sys, threading, time
    from governance.gateway import connect

    def announce_once_held():
        while signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            time.sleep(0.01)
        print("querying", flush=True)

    with connect("ana", "selectie_integrale_acties", data=sys.argv[1]) as s:
        threading.Thread(target=announce_once_held, daemon=True).start()
        s.query("select count(*) from range(1000000000000)")
    """
)


SHM = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path("/tmp")


def _plaintext_left(pid: int, before: set[Path]) -> list[Path]:
    """Plaintext datasets of this purpose in session folders that the child made (named by its pid, or new)."""
    mine = set(SHM.glob(f"rgw-session-{pid}-*")) | (set(SHM.glob("rgw-session-*")) - before)
    return [f for d in mine for f in d.glob(f"{PURPOSE}.duckdb")]


@contextmanager
def _query_process(hub: HubPaths) -> Iterator[tuple[subprocess.Popen, set[Path]]]:
    """A real process running an endless query through the Python API, inside DuckDB when this yields."""
    before = set(SHM.glob("rgw-session-*"))
    env = {**os.environ, "RGW_MASTER_KEY": MASTER_KEY, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(hub.data)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    try:
        assert child.stdout.readline().strip() == b"querying"
        time.sleep(0.5)  # inside DuckDB now
        yield child, before
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(30)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_query_stopped_by_a_signal_is_logged_and_leaves_no_plaintext(hub, sig):
    with _query_process(hub) as (child, before):
        assert not _plaintext_left(child.pid, before)  # unlinked as soon as DuckDB had it open
        child.send_signal(sig)
        child.wait(30)
        stderr = child.stderr.read().decode()
    assert child.returncode == -sig, stderr  # the signal took its usual course once the stop was logged
    assert "Error" not in stderr.replace("KeyboardInterrupt", ""), stderr
    event = _last(hub)
    assert (event["outcome"], event["reason"]) == ("interrupted", f"stopped by signal {sig.name}")
    assert not _plaintext_left(child.pid, before)
    assert AuditLog(hub.audit_log).verify().ok


def test_a_query_killed_outright_leaves_no_plaintext_behind(hub):
    with _query_process(hub) as (child, before):
        child.kill()
    assert not _plaintext_left(child.pid, before)


def test_an_answer_whose_audit_record_cannot_be_written_is_not_given(hub):
    from pseudonymisation.audit import AuditError

    intact = hub.audit_log.read_bytes()
    try:
        with connect("ana", PURPOSE, data=hub.data) as s:
            hub.audit_log.write_bytes(intact[:-20] + b"\n")  # the last record damaged: the log takes no more
            with pytest.raises(AuditError):
                s.query(f"select adres_kort from {PURPOSE}")
    finally:
        hub.audit_log.write_bytes(intact)


def test_a_session_folder_left_by_a_dead_process_is_swept(tmp_path):
    from governance.gateway import sweep_dead_sessions

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f"rgw-session-{dead.pid}-abc"
    left.mkdir()
    (left / f"{PURPOSE}.duckdb").write_bytes(b"plaintext")
    alive = tmp_path / f"rgw-session-{os.getpid()}-def"
    alive.mkdir()
    assert sweep_dead_sessions(tmp_path) == 0  # too fresh to tell from a session opening right now
    assert sweep_dead_sessions(tmp_path, older_than_seconds=0) == 1
    assert not left.exists() and alive.exists()
