"""The `rgw` commands a user runs: address resolution on the real BAG sample, the route back and the audit check."""

from datetime import date, timedelta

import pyarrow.csv as pacsv
from click.testing import CliRunner

from pseudonymisation.keys import KeyStore
from pseudonymisation.pseudonyms import Pseudonymiser
from pseudonymisation.vault import Vault
from rgw.cli import main


def test_address_resolve_on_the_real_bag_sample(real_fixtures, tmp_path):
    source = tmp_path / "adressen.csv"
    source.write_text(
        "id;adres\n1;Koppenberch 2, 6982 CZ Doesburg\n2;koppenberch 20\n3;Nergensstraat 1\n"
        "4;zonder nummer\n5;Schout bij Nacht Doormansingel 9-X\n6;Sbn Doormansingel 9 y\n"
    )
    out = tmp_path / "resolved.csv"
    result = CliRunner().invoke(
        main,
        [
            "address",
            "resolve",
            "--bag",
            str(real_fixtures / "bag" / "nlextract"),
            "--input",
            str(source),
            "--address-column",
            "adres",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = pacsv.read_csv(out).to_pylist()
    assert [r["id"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0]["nummeraanduiding_id"] == 221200000330151  # CSV reads the id back as a number
    assert rows[1]["nummeraanduiding_id"] == 221200000330153
    assert (rows[2]["unresolved_reason"], rows[3]["unresolved_reason"]) == ("unknown_street", "no_house_number")
    assert rows[4]["nummeraanduiding_id"] == 221200000330998  # letter x of the three letters at number 9
    assert rows[4]["verblijfsobject_id"] == 221010000330999
    assert rows[5]["nummeraanduiding_id"] == 221200000330999  # found by BAG's short street name


def test_route_back_and_audit_verify_from_the_command_line(tmp_path, monkeypatch):
    monkeypatch.setenv("RGW_DATA", str(tmp_path))
    monkeypatch.setenv("RGW_MASTER_KEY", "cd" * 32)
    keystore = KeyStore(tmp_path / "keys")
    Vault(tmp_path / "vault", keystore).put_many("bsn", ["999993653"])
    from tests.test_pseudonymisation_vault_audit import write_case_register

    write_case_register(tmp_path / "landing", "2026-01", [("RGW-2026-000001", "2026-01-05", None)])
    psn = Pseudonymiser(keystore, "bsn").pseudonym("999993653")
    run = CliRunner().invoke
    ask = [
        "reidentify",
        "--user",
        "cr1",
        "--purpose",
        "casusbehandeling",
        "--case",
        "RGW-2026-000001",
        "--pseudonym",
        psn,
    ]
    key = tmp_path.parent / f"{tmp_path.name}-officer.key"  # the officer's key lives outside the data folder
    enrolled = run(main, ["access", "officer", "enrol", "--name", "po", "--key-file", str(key)])
    assert enrolled.exit_code == 0, enrolled.output
    ask += ["--officer-key", str(key)]
    refused = run(main, ask)
    assert refused.exit_code == 3 and "holds no grant" in refused.output
    until = (date.today() + timedelta(days=10)).isoformat()
    grant = ["access", "grant", "--user", "cr1", "--purpose", "casusbehandeling", "--until", until]
    monkeypatch.delenv("RGW_OFFICER_KEY", raising=False)
    unproven = run(main, grant)
    assert unproven.exit_code == 3 and "act of the privacy officer" in unproven.output
    assert run(main, [*grant, "--officer-key", str(key)]).exit_code == 0
    assert run(main, ["access", "acknowledge", "--user", "cr1", "--purpose", "casusbehandeling"]).exit_code == 0
    granted = run(main, ask)
    assert granted.exit_code == 0 and granted.output.strip() == "999993653"
    assert "valid" in run(main, ["access", "list"]).output
    verified = run(main, ["audit", "verify"])
    assert verified.exit_code == 0 and "records, chain verified" in verified.output
    log = tmp_path / "audit" / "audit.jsonl"
    log.write_text(log.read_text().replace('"cr1"', '"cr2"', 1))
    broken = run(main, ["audit", "verify"])
    assert broken.exit_code == 4 and "BROKEN at record 2" in broken.output  # 1: the officer enrolled


def test_rgw_keys_rotate_starts_a_new_version_and_logs_it(tmp_path, monkeypatch):
    monkeypatch.setenv("RGW_DATA", str(tmp_path / "hub"))
    monkeypatch.setenv("RGW_MASTER_KEY", "ab" * 32)
    from pseudonymisation.audit import AuditLog
    from rgw.settings import HubPaths

    result = CliRunner().invoke(main, ["keys", "rotate", "--by", "privacy-officer"])
    assert result.exit_code == 0, result.output
    assert "v1 -> v2" in result.output
    paths = HubPaths.from_env()
    assert KeyStore(paths.keys).version == "v2"
    assert Pseudonymiser(KeyStore(paths.keys), "bsn").pseudonym("123456782").startswith("bsn.v2.")
    actions = [r["event"]["action"] for r in AuditLog(paths.audit_log).records()]
    assert actions == ["key_rotation", "restrictions_carried_over"]
