"""`rgw audit verify` at a terminal: the chain, and the records cut off its end (the anchor beside the keys, or a
head copied from a privacy report)."""

from __future__ import annotations

from click.testing import CliRunner

from pseudonymisation.audit import AuditLog
from rgw.cli import main
from rgw.settings import HubPaths


def test_rgw_audit_verify_catches_records_cut_off_the_end(tmp_path, monkeypatch):
    monkeypatch.setenv("RGW_DATA", str(tmp_path))
    paths = HubPaths(tmp_path).ensure()
    log = AuditLog(paths.audit_log)
    for i in range(4):
        log.append({"action": "query", "user": f"analist{i}", "purpose": "signalering", "outcome": "answered"})
    seq, digest = log.head()
    run = CliRunner().invoke
    intact = run(main, ["audit", "verify"])
    assert intact.exit_code == 0 and "4 records, chain verified, head at record 4 matches" in intact.output

    lines = paths.audit_log.read_text().splitlines()
    paths.audit_log.write_text("\n".join(lines[:2]) + "\n")
    cut = run(main, ["audit", "verify"])
    assert cut.exit_code == 4 and "BROKEN at record 3" in cut.output and "record 4 was written" in cut.output

    (paths.keys / "audit-head.json").unlink()  # the anchor gone too: the head from a report still tells
    assert run(main, ["audit", "verify"]).exit_code == 0
    from_report = run(main, ["audit", "verify", "--head", f"{seq}:{digest}"])
    assert from_report.exit_code == 4 and "record 4 was written" in from_report.output
    assert run(main, ["audit", "verify", "--head", "vier"]).exit_code == 2
    (paths.keys / "audit-head.json").write_text("{")  # a damaged anchor: named, not a traceback
    damaged = run(main, ["audit", "verify"])
    assert damaged.exit_code == 4 and "anchor" in damaged.output and "cannot be read" in damaged.output


def test_every_privacy_report_carries_the_head_and_flags_a_cut_tail(tmp_path):
    import json

    from governance.grants import GrantRegister
    from governance.privacy_report import collect, write_site
    from governance.purposes import load

    paths = HubPaths(tmp_path).ensure()
    log = AuditLog(paths.audit_log)
    for i in range(3):
        log.append({"action": "query", "user": f"analist{i}", "purpose": "signalering", "outcome": "answered"})
    seq, digest = log.head()
    manifest = {"nodes": {}, "sources": {}, "parent_map": {}, "child_map": {}}
    grants = GrantRegister(paths.access / "grants.json", log)
    write_site(collect(load(), manifest, grants, log, paths.landing), tmp_path / "report")
    assert json.loads((tmp_path / "report" / "privacy_report.json").read_text())["audit"]["head"] == {
        "seq": seq,
        "hash": digest,
    }
    assert f"rgw audit verify --head {seq}:{digest}" in (tmp_path / "report" / "index.html").read_text()
    paths.audit_log.write_text(paths.audit_log.read_text().splitlines()[0] + "\n")
    findings = collect(load(), manifest, grants, log, paths.landing).findings
    assert [f.kind for f in findings] == ["audit chain broken"]
