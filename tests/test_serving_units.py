"""The serving pieces that need no server: SCRAM verifiers, reading pgaudit lines, the officer's key, file modes,
Dagster's storage choice."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from datetime import date, timedelta

import pytest

from governance.grants import AccessDenied, GrantRegister
from governance.officers import OfficerRegister
from pseudonymisation.audit import AuditLog
from rgw.settings import HubPaths
from serving.audit_collect import _redacted, to_event
from serving.credentials import scram_verifier
from serving.dagster_instance import render
from serving.hardening import readable_by_others, restrict_hub_files
from serving.roles import RoleError, check_user_name


def test_the_scram_verifier_is_what_postgres_checks_a_password_against():
    verifier = scram_verifier("s3cret", salt=b"0123456789abcdef")
    head, keys = verifier.split("$", 1)[1].split("$")
    iterations, salt = head.split(":")
    stored, server = (base64.b64decode(k) for k in keys.split(":"))
    salted = hashlib.pbkdf2_hmac("sha256", b"s3cret", b"0123456789abcdef", int(iterations))
    assert verifier.startswith("SCRAM-SHA-256$4096:") and base64.b64decode(salt) == b"0123456789abcdef"
    assert stored == hashlib.sha256(hmac.new(salted, b"Client Key", hashlib.sha256).digest()).digest()
    assert server == hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    assert scram_verifier("s3cret") != scram_verifier("s3cret")  # a fresh salt each time


def test_a_pgaudit_line_becomes_one_audit_event_and_the_hubs_own_lines_none():
    line = {
        "timestamp": "2026-12-04 10:00:00.000 UTC",
        "user": "ana",
        "backend_type": "client backend",
        "session_id": "abc.1",
        "error_severity": "LOG",
        "message": "AUDIT: SESSION,3,1,READ,SELECT,,,"
        + "\"select a, b from woning_indicatoren where x = '1,2'\",<not logged>",
    }
    event = to_event(line, "rgw_hub", {"ana": ["selectie_integrale_acties"]})
    assert event["statement"] == "select a, b from woning_indicatoren where x = '1,2'"
    assert (event["class"], event["command"], event["outcome"]) == ("READ", "SELECT", "executed")
    assert event["purpose"] == "selectie_integrale_acties" and event["user"] == "ana"
    assert to_event(line | {"user": "rgw_hub"}, "rgw_hub", {}) is None
    refused = to_event(line | {"error_severity": "ERROR", "message": "permission denied", "statement": "x"}, "h", {})
    assert (refused["outcome"], refused["reason"]) == ("refused", "permission denied")


def test_a_statement_holding_a_bsn_is_logged_without_it(tmp_path):
    event = {"action": "query", "user": "ana", "statement": "select * from t where bsn = '999993653'"}
    event["reason"] = 'invalid input syntax for type integer: "999993653"'
    kept = _redacted(event)
    assert "999993653" not in json.dumps(kept) and kept["statement"].startswith("<weggelaten")
    # the cursor's offset is written so that it never looks like a BSN itself
    AuditLog(tmp_path / "audit.jsonl").append(kept | {"server_log": "postgresql-20261204.json:o999993653"})


def test_only_an_enrolled_officers_key_grants_and_keys_stay_outside_the_data_folder(tmp_path):
    data, keys = tmp_path / "data", tmp_path / "officer-keys"
    officers = OfficerRegister(data / "access")
    with pytest.raises(ValueError, match="inside the hub's data folder"):
        officers.enrol("po", data / "po.key", data, by=None)
    po = officers.enrol("po", keys / "po.key", data, by=None)
    assert oct((keys / "po.key").stat().st_mode & 0o777) == "0o600"
    with pytest.raises(AccessDenied, match="only an enrolled privacy officer"):
        officers.enrol("mallory", keys / "m.key", data, by=None)
    assert officers.verify_file(keys / "po.key") == po
    with pytest.raises(AccessDenied, match="not the key of an enrolled"):
        officers.verify(os.urandom(32))
    register = GrantRegister(data / "access" / "grants.json", AuditLog(data / "audit.jsonl"))
    with pytest.raises(AccessDenied, match="act of the privacy officer"):
        register.grant("ana", "signalering", date.today() + timedelta(days=1), by="po")
    assert register.grant("ana", "signalering", date.today() + timedelta(days=1), by=po).granted_by == "po"


def test_the_hubs_files_are_owner_only(tmp_path):
    paths = HubPaths(tmp_path).ensure()
    for p in (paths.raw, paths.vault, paths.warehouse.parent, paths.published):
        p.mkdir(parents=True, exist_ok=True)
        os.chmod(p, 0o755)
    assert readable_by_others(paths)
    restrict_hub_files(paths)
    assert not readable_by_others(paths) and oct(tmp_path.stat().st_mode & 0o777) == "0o711"


def test_server_login_names_and_dagster_storage_choice():
    for bad in ("pg_monitor", "rgw_hub", "Ana", "a b", "postgres"):
        with pytest.raises(RoleError):
            check_user_name(bad)
    assert check_user_name("ana.de-vries") == "ana.de-vries"
    base = "telemetry:\n  enabled: false\n"
    assert render(base, {}) == base
    assert "postgres_url:\n      env: RGW_DAGSTER_PG_URL" in render(base, {"RGW_DAGSTER_PG_URL": "postgresql://x"})
