"""Keys, pseudonyms, encodings, the vault, the audit chain, the route back and the fail-closed policy."""

import hashlib
import json
from datetime import date, timedelta

import pyarrow as pa
import pytest

from connectors.identifiers import elfproef
from governance.grants import AccessDenied, GrantRegister
from pseudonymisation.audit import AuditError, AuditLog
from pseudonymisation.encodings import FieldEncoder, as_matrix, dice
from pseudonymisation.keys import DemoKeyWarning, KeyStore
from pseudonymisation.policy import Boundary, PolicyError
from pseudonymisation.pseudonyms import Pseudonymiser
from pseudonymisation.reidentify import reidentify
from pseudonymisation.vault import Vault


@pytest.fixture
def keystore(tmp_path, monkeypatch):
    monkeypatch.setenv("RGW_MASTER_KEY", "11" * 32)
    return KeyStore(tmp_path / "keys")


def test_a_demo_key_is_generated_loudly_with_mode_0600(tmp_path, monkeypatch):
    monkeypatch.delenv("RGW_MASTER_KEY", raising=False)
    ks = KeyStore(tmp_path / "keys")
    with pytest.warns(DemoKeyWarning, match="DEMO key"):
        ks.derive("x")
    key_file = tmp_path / "keys" / "master-v1.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert key_file.read_text() not in repr(ks) and "key_dir" in repr(ks)


def test_domains_are_separated_and_pseudonyms_are_stable(keystore):
    bsn, rsin = Pseudonymiser(keystore, "bsn"), Pseudonymiser(keystore, "rsin")
    assert (
        bsn.pseudonym("999993653")
        == bsn.pseudonym(" 999993653 ")
        == Pseudonymiser(keystore, "bsn").pseudonym("999993653")
    )
    assert bsn.pseudonym("999993653") != rsin.pseudonym("999993653")
    assert bsn.pseudonym("999993653").startswith("bsn.v1.") and "999993653" not in bsn.pseudonym("999993653")
    phone = Pseudonymiser(keystore, "phone")
    assert phone.pseudonym("06-12345678") == phone.pseudonym("+31 6 12345678") == phone.pseudonym("0031612345678")


def test_purposes_get_pseudonyms_that_cannot_be_joined_without_the_hub(keystore):
    linkage = Pseudonymiser(keystore, "bsn").pseudonym("999993653")
    a = Pseudonymiser(keystore, "bsn", purpose="casusbehandeling").from_linkage(linkage)
    b = Pseudonymiser(keystore, "bsn", purpose="eigenaarsaanpak").from_linkage(linkage)
    assert len({linkage, a, b}) == 3


def test_a_plain_hash_falls_to_enumeration_a_keyed_pseudonym_does_not(keystore):
    valid = [f"{n:09d}" for n in range(1000, 5000) if elfproef(f"{n:09d}")]
    secret_bsn = valid[len(valid) // 2]
    plain = hashlib.sha256(secret_bsn.encode()).hexdigest()
    # The attacker enumerates the 11-proef space (here a small slice of it) and finds the BSN behind a plain hash ...
    assert next(c for c in valid if hashlib.sha256(c.encode()).hexdigest() == plain) == secret_bsn
    # ... but the same enumeration without the key meets nothing that equals the keyed pseudonym.
    digest = Pseudonymiser(keystore, "bsn").pseudonym(secret_bsn).split(".")[-1]
    assert all(digest not in (hashlib.sha256(c.encode()).hexdigest(), c) for c in valid)


def test_key_rotation_shows_in_the_pseudonym_and_old_ones_stay_resolvable(keystore, tmp_path):
    vault = Vault(tmp_path / "vault", keystore)
    vault.put_many("bsn", ["999993653"])
    old = Pseudonymiser(keystore, "bsn").pseudonym("999993653")
    assert keystore.rotate() == "v2"
    new = Pseudonymiser(keystore, "bsn").pseudonym("999993653")
    assert new.startswith("bsn.v2.") and new != old
    assert vault.resolve("bsn", old) == "999993653"


def test_encodings_compare_names_without_plaintext(keystore):
    enc = FieldEncoder(keystore, "achternaam", "name")
    same = [enc.encode("Wiśniewski"), enc.encode("Wisniewski")]
    other = enc.encode("Bakker")
    m = as_matrix(same, 64)
    assert dice(m[:1], m[1:])[0] == pytest.approx(1.0)
    assert dice(m[:1], as_matrix([other], 64))[0] < 0.3
    assert dice(as_matrix([enc.encode("de Vries")], 64), as_matrix([enc.encode("de Vreis")], 64))[0] > 0.6
    # Another field's key gives unrelated bits for the same value.
    assert FieldEncoder(keystore, "voornaam", "name").encode("Bakker") != other


def test_the_vault_holds_only_ciphertext_and_resolves_with_its_key(keystore, tmp_path):
    vault = Vault(tmp_path / "vault", keystore)
    assert vault.put_many("bsn", ["999993653", "999993653", None]) == 1
    assert b"999993653" not in (tmp_path / "vault" / "bsn.parquet").read_bytes()
    psn = Pseudonymiser(keystore, "bsn").pseudonym("999993653")
    assert vault.resolve("bsn", psn) == "999993653"
    assert vault.resolve("bsn", "bsn.v1.unknown") is None


def test_the_audit_chain_names_the_first_broken_record(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    for i in range(5):
        log.append({"action": "query", "user": f"u{i}", "purpose": "signalering"})
    assert log.verify().ok and log.verify().records == 5
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    record = json.loads(lines[2])
    record["event"]["user"] = "someone else"
    lines[2] = json.dumps(record, sort_keys=True)
    (tmp_path / "audit.jsonl").write_text("\n".join(lines) + "\n")
    result = log.verify()
    assert (result.ok, result.first_broken_seq) == (False, 3)
    del lines[2]
    (tmp_path / "audit.jsonl").write_text("\n".join(lines) + "\n")
    assert log.verify().first_broken_seq == 3


def test_the_audit_log_refuses_plaintext_identifiers(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    for bad in ({"note": "bsn 999993653"}, {"note": "mail a.b@example.nl"}, {"note": "bel 0612345678"}):
        with pytest.raises(AuditError):
            log.append(bad)


def test_the_route_back_needs_purpose_grant_acknowledgement_and_case_and_logs_every_try(keystore, tmp_path):
    vault = Vault(tmp_path / "vault", keystore)
    vault.put_many("bsn", ["999993653"])
    psn = Pseudonymiser(keystore, "bsn").pseudonym("999993653")
    audit = AuditLog(tmp_path / "audit.jsonl")
    grants = GrantRegister(tmp_path / "grants.json", audit)
    ask = dict(user="inspecteur1", purpose="casusbehandeling", case="RGW-2026-000123", pseudonym=psn)
    with pytest.raises(AccessDenied, match="holds no grant"):
        reidentify(vault, audit, grants, **ask)
    grants.grant("inspecteur1", "casusbehandeling", date.today() + timedelta(days=30), by="privacy-officer")
    with pytest.raises(AccessDenied, match="not yet acknowledged"):
        reidentify(vault, audit, grants, **ask)
    grants.acknowledge("inspecteur1", "casusbehandeling")
    with pytest.raises(AccessDenied, match="case reference"):
        reidentify(vault, audit, grants, **{**ask, "case": "zomaar"})
    with pytest.raises(AccessDenied, match="does not allow re-identification"):
        reidentify(vault, audit, grants, **{**ask, "purpose": "signalering"})
    assert reidentify(vault, audit, grants, **ask).identifier == "999993653"
    outcomes = [r["event"].get("outcome") for r in audit.records() if r["event"]["action"] == "reidentify"]
    assert outcomes == ["refused", "refused", "refused", "refused", "granted"]
    assert "999993653" not in (tmp_path / "audit.jsonl").read_text()
    assert audit.verify().ok


def test_the_policy_fails_closed_on_an_unknown_column(keystore, tmp_path):
    boundary = Boundary(keystore, Vault(tmp_path / "vault", keystore))
    table = pa.table({"bsn": ["999993653"], "geslachtsnaam": ["Moulin"], "schoenmaat": ["41"]})
    with pytest.raises(PolicyError, match="schoenmaat"):
        boundary.apply_policy(table, "brp", "persoon")
