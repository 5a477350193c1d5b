"""The access register under several processes at once: checks never write, changes are atomic and locked.

An outside probe found a revocation lost in 11 of 12 trials when two processes checked grants while a third revoked
(every check rewrote grants.json through one shared temporary file). These tests reproduce that with real processes.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from datetime import date, timedelta
from pathlib import Path

import pytest

from governance.grants import AccessDenied, GrantRegister
from governance.purposes import load
from pseudonymisation.audit import AuditLog
from tests.conftest import TEST_OFFICER

PURPOSE = "signalering"


def _register(folder: Path) -> GrantRegister:
    return GrantRegister(folder / "access" / "grants.json", AuditLog(folder / "audit" / "audit.jsonl"))


def _keep_checking(folder: str, user: str, stop) -> int:
    register, n = _register(Path(folder)), 0
    while not stop.is_set() or n < 50:
        with contextlib.suppress(AccessDenied):
            register.check(user, PURPOSE)
        n += 1
    return n


def _revoke(folder: str, ready, stop) -> None:
    ready.wait(10)
    try:
        _register(Path(folder)).revoke("ana", PURPOSE, by=TEST_OFFICER)
    finally:
        stop.set()


def test_a_revocation_is_never_lost_while_other_processes_check(tmp_path):
    ctx = multiprocessing.get_context("fork")
    for trial in range(6):
        folder = tmp_path / f"trial{trial}"
        register = _register(folder)
        register.grant("ana", PURPOSE, date.today() + timedelta(days=30), by=TEST_OFFICER)
        register.acknowledge("ana", PURPOSE)
        register.grant("bob", PURPOSE, date.today() + timedelta(days=30), by=TEST_OFFICER)
        register.acknowledge("bob", PURPOSE)
        stop, ready = ctx.Event(), ctx.Event()
        checkers = [ctx.Process(target=_keep_checking, args=(str(folder), u, stop)) for u in ("ana", "bob")]
        for p in checkers:
            p.start()
        revoker = ctx.Process(target=_revoke, args=(str(folder), ready, stop))
        revoker.start()
        ready.set()
        for p in (revoker, *checkers):
            p.join(60)
        assert revoker.exitcode == 0, f"trial {trial}: revoke crashed"
        assert all(p.exitcode == 0 for p in checkers), f"trial {trial}: a check crashed"
        with pytest.raises(AccessDenied, match="revoked"):
            _register(folder).check("ana", PURPOSE)
        assert _register(folder).check("bob", PURPOSE).user == "bob"
        assert AuditLog(folder / "audit" / "audit.jsonl").verify().ok


def test_a_check_never_writes_the_register(tmp_path):
    register = _register(tmp_path)
    register.grant("ana", PURPOSE, date.today() + timedelta(days=30), by=TEST_OFFICER)
    register.acknowledge("ana", PURPOSE)
    before = register.path.stat().st_mtime_ns, register.path.read_bytes()
    for _ in range(3):
        register.check("ana", PURPOSE)
    assert (register.path.stat().st_mtime_ns, register.path.read_bytes()) == before
    assert not list(register.path.parent.glob("*.tmp"))


def _grant_many(args) -> None:
    folder, who = args
    register = _register(Path(folder))
    for i in range(15):
        register.grant(f"{who}{i}", PURPOSE, date.today() + timedelta(days=30), by=TEST_OFFICER)


def test_grants_from_two_processes_at_once_all_land(tmp_path):
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(_grant_many, [(str(tmp_path), "a"), (str(tmp_path), "b")])
    users = {g.user for g in _register(tmp_path).all()}
    assert users == {f"{w}{i}" for w in "ab" for i in range(15)}
    assert AuditLog(tmp_path / "audit" / "audit.jsonl").verify().records == 30


def test_a_grant_for_an_e_mail_address_is_saved_with_a_redacted_record(tmp_path):
    register = _register(tmp_path)
    register.grant("ana@rotterdam.nl", PURPOSE, date.today() + timedelta(days=30), by=TEST_OFFICER)
    assert [g.user for g in register.all()] == ["ana@rotterdam.nl"]
    (record,) = AuditLog(tmp_path / "audit" / "audit.jsonl").records()
    assert record["event"]["action"] == "grant" and record["event"]["user"] == "<redacted: an e-mail address>"


def test_a_change_whose_audit_record_cannot_be_written_does_not_happen(tmp_path):
    from pseudonymisation.audit import AuditError

    register = _register(tmp_path)
    register.grant("ana", PURPOSE, date.today() + timedelta(days=30), by=TEST_OFFICER)
    log = tmp_path / "audit" / "audit.jsonl"
    log.write_text(log.read_text()[:-20] + "\n")  # the last record damaged: the log takes no more
    before = register.path.read_bytes()
    with pytest.raises(AuditError, match="damaged"):
        register.revoke("ana", PURPOSE, by=TEST_OFFICER)
    with pytest.raises(AuditError):
        register.grant("bob", PURPOSE, date.today() + timedelta(days=30), by=TEST_OFFICER)
    assert register.path.read_bytes() == before


def test_a_damaged_register_refuses_with_the_file_named_and_logged(tmp_path):
    from pseudonymisation.grants import YamlGrants
    from pseudonymisation.reidentify import reidentify

    register = _register(tmp_path)
    register.path.parent.mkdir(parents=True)
    register.path.write_text('[{"user": "ana", ')
    with pytest.raises(ValueError, match=r"grants\.json: the access register cannot be read"):
        register.check("ana", PURPOSE)
    yaml_grants = YamlGrants(tmp_path / "access" / "grants.yaml")
    yaml_grants.path.write_text("grants:\n  - {user: ana, purpose: [\n")
    audit = AuditLog(tmp_path / "audit" / "audit.jsonl")
    for grants in (register, yaml_grants):
        with pytest.raises(AccessDenied, match="grants register cannot be read"):
            reidentify(
                None,
                audit,
                grants,
                user="ana",
                purpose="casusbehandeling",
                case="RGW-2026-000001",
                pseudonym="bsn.v1." + "a" * 26,
                restrictions=None,
                cases=None,
                officer=TEST_OFFICER,
                purposes=load(),
            )
    assert [r["event"]["outcome"] for r in audit.records()] == ["refused", "refused"]
