"""The vault, the hash-chained audit log and the route back between them."""

import json
import multiprocessing
from datetime import UTC, date, datetime, timedelta

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from cryptography.exceptions import InvalidTag

from governance.cases import CaseRegister
from governance.grants import AccessDenied, GrantRegister
from governance.purposes import load
from governance.restrictions import RestrictionRegister
from pseudonymisation.audit import AuditError, AuditLog
from pseudonymisation.grants import GrantChecker, YamlGrants
from pseudonymisation.keys import KeyStore
from pseudonymisation.pseudonyms import Pseudonymiser
from pseudonymisation.reidentify import reidentify
from pseudonymisation.vault import Vault
from tests.conftest import TEST_OFFICER

BSN, OTHER = "999993653", "999990019"  # test BSNs (11-proef valid)


@pytest.fixture
def keystore(tmp_path, monkeypatch):
    monkeypatch.setenv("RGW_MASTER_KEY", "44" * 32)
    return KeyStore(tmp_path / "keys")


@pytest.fixture
def vault(tmp_path, keystore):
    v = Vault(tmp_path / "vault", keystore)
    v.put_many("bsn", [BSN, OTHER])
    return v


# --- the vault ---------------------------------------------------------------------------------------------------


def test_the_vault_round_trip_and_only_ciphertext_on_disk(tmp_path, keystore):
    v = Vault(tmp_path / "vault", keystore)
    assert v.put_many("bsn", [BSN, f" {BSN} ", None, OTHER, "n.v.t."]) == 2  # one per identifier
    assert v.put_many("bsn", [BSN]) == 0  # already held
    p = Pseudonymiser(keystore, "bsn")
    column = ["123456782", None, "123456782"]
    assert v.put_many("bsn", column, p.pseudonymise_array(column)) == 1  # with the boundary's pseudonyms
    with pytest.raises(ValueError, match="not linkage pseudonyms"):
        v.put_many("rsin", column, p.pseudonymise_array(column))
    assert v.resolve("bsn", p.pseudonym(BSN)) == BSN and v.resolve("bsn", p.pseudonym(OTHER)) == OTHER
    assert v.resolve("bsn", "bsn.v1." + "a" * 26) is None and v.resolve("rsin", p.pseudonym(BSN)) is None
    assert v.holds("bsn", p.pseudonym(BSN)) and not v.holds("bsn", "bsn.v1." + "a" * 26)
    parts = list((tmp_path / "vault" / "bsn").glob("part-*.parquet"))
    assert parts and all(f.stat().st_mode & 0o777 == 0o600 for f in parts)
    for f in parts:
        raw = f.read_bytes()
        assert BSN.encode() not in raw and OTHER.encode() not in raw
        assert pq.read_table(f).column_names == ["pseudonym", "nonce", "ciphertext"]


def test_a_ciphertext_moved_to_another_pseudonym_does_not_decrypt(vault, tmp_path, keystore):
    (part,) = (tmp_path / "vault" / "bsn").glob("part-*.parquet")
    table = pq.read_table(part)
    swapped = table.set_column(0, "pseudonym", pc.cast(table["pseudonym"].to_pylist()[::-1], table["pseudonym"].type))
    pq.write_table(swapped, part)
    with pytest.raises(InvalidTag):
        vault.resolve("bsn", Pseudonymiser(keystore, "bsn").pseudonym(BSN))


def test_old_pseudonyms_stay_resolvable_after_rotation(vault, keystore):
    old = Pseudonymiser(keystore, "bsn").pseudonym(BSN)
    keystore.rotate()
    vault.put_many("bsn", [BSN])
    new = Pseudonymiser(keystore, "bsn").pseudonym(BSN)
    assert new.startswith("bsn.v2.") and vault.resolve("bsn", new) == BSN and vault.resolve("bsn", old) == BSN


def _put(args):
    folder, keys, values = args
    return Vault(folder, KeyStore(keys)).put_many("phone", values)


def test_two_processes_filling_the_vault_store_each_identifier_once(tmp_path, keystore):
    keystore.derive("vault")  # the key exists before the workers start
    phones = [f"06{n:08d}" for n in range(3000)]
    jobs = [(tmp_path / "vault", tmp_path / "keys", phones[:2000]), (tmp_path / "vault", tmp_path / "keys", phones)]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        added = pool.map(_put, jobs)
    held = Vault(tmp_path / "vault", keystore).pseudonyms("phone").to_pylist()
    assert sum(added) == 3000 and len(held) == len(set(held)) == 3000


# --- the audit log -----------------------------------------------------------------------------------------------


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n")


def test_the_chain_verifies_and_names_the_first_broken_record(tmp_path):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    for i in range(6):
        log.append({"action": "query", "user": f"analist{i}", "purpose": "signalering"})
    assert log.verify().ok and log.verify().records == 6
    head = log.head()
    lines = path.read_text().splitlines()
    first = json.loads(lines[0])
    assert set(first) == {"seq", "time", "prev_hash", "event", "hash"} and first["prev_hash"] == "0" * 64
    assert datetime.fromisoformat(first["time"]).tzinfo is not None

    edited = json.loads(lines[2])
    edited["event"]["user"] = "iemand anders"
    _write(path, [*lines[:2], json.dumps(edited, sort_keys=True), *lines[3:]])
    result = log.verify()
    assert (result.ok, result.first_broken_seq) == (False, 3) and "changed" in result.reason

    _write(path, [*lines[:2], *lines[3:]])  # a record deleted
    assert log.verify().first_broken_seq == 3

    rehashed = dict(edited)  # edited and re-hashed: the next record's link breaks
    from pseudonymisation.audit import record_hash

    rehashed["hash"] = record_hash(rehashed)
    _write(path, [*lines[:2], json.dumps(rehashed, sort_keys=True), *lines[3:]])
    assert log.verify().first_broken_seq == 4

    _write(path, lines[:4])  # the tail cut off: a valid chain, caught only against a head kept elsewhere
    assert log.verify().ok
    truncated = log.verify(expected_head=head)
    assert (truncated.ok, truncated.first_broken_seq) == (False, 5)


def _append_many(args):
    path, who = args
    log = AuditLog(path)
    for i in range(150):
        log.append({"action": "query", "user": who, "n": i})


def test_two_processes_appending_never_interleave(tmp_path):
    path = tmp_path / "audit.jsonl"
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(_append_many, [(path, "a"), (path, "b")])
    result = AuditLog(path).verify()
    assert result.ok and result.records == 300


@pytest.mark.parametrize(
    ("event", "plaintext", "kind"),
    [
        ({"note": f"bsn {BSN}"}, BSN, "a BSN"),
        ({"note": "a-nummer 1010101010"}, "1010101010", "an A-nummer"),
        ({"note": "mail a.b@example.nl"}, "a.b@example.nl", "an e-mail address"),
        ({"nested": {"tel": ["bel 06-12345678"]}}, "06-12345678", "a phone number"),
        ({"note": "010 1234567"}, "010 1234567", "a phone number"),
        ({"note": "ean 871687120000000004"}, "871687120000000004", "an EAN code"),
        ({"user": "ana@rotterdam.nl", "rows": int(BSN)}, "ana@rotterdam.nl", "an e-mail address"),
    ],
)
def test_the_audit_log_redacts_plaintext_identifiers_and_still_writes_the_record(tmp_path, event, plaintext, kind):
    log = AuditLog(tmp_path / "audit.jsonl")
    record = log.append({"action": "query", **event})
    text = (tmp_path / "audit.jsonl").read_text()
    assert plaintext not in text and BSN not in text
    assert f"<redacted: {kind}>" in text and kind in record["event"]["redacted"]
    assert log.verify().ok and log.records()[0]["event"]["action"] == "query"


def test_pseudonyms_counts_and_case_references_are_not_mistaken_for_identifiers(tmp_path, keystore):
    log = AuditLog(tmp_path / "audit.jsonl")
    psn = Pseudonymiser(keystore, "bsn").pseudonym(BSN)
    log.append({"pseudonym": psn, "case": "RGW-2026-000123", "rows": 123456789, "at": "2026-11-25"})
    assert log.verify().ok


# --- the route back ----------------------------------------------------------------------------------------------


def write_case_register(landing, delivery: str, cases: list[tuple[str, str, str | None]]) -> CaseRegister:
    """A delivery of the case register as it lands (landing/meldpunten/<delivery>/zaak.parquet)."""
    import pyarrow as pa

    folder = landing / "meldpunten" / delivery
    folder.mkdir(parents=True, exist_ok=True)
    columns = ("zaak_id", "geopend_op", "gesloten_op")
    pq.write_table(pa.table({c: [row[i] for row in cases] for i, c in enumerate(columns)}), folder / "zaak.parquet")
    return CaseRegister(landing)


def _outcomes(audit: AuditLog) -> list[str]:
    return [r["event"]["outcome"] for r in audit.records() if r["event"]["action"] == "reidentify"]


def test_the_route_back_with_yaml_grants_granted_and_refused_all_audited(tmp_path, vault, keystore):
    none = RestrictionRegister(tmp_path)  # an empty register: nobody restricted
    grants_file = tmp_path / "access" / "grants.yaml"
    grants_file.parent.mkdir()
    grants_file.write_text(
        "grants:\n"
        "  - {user: inspecteur1, purpose: casusbehandeling, until: 2099-12-31, granted_by: po}\n"
        "  - {user: analist1, purpose: signalering, until: 2099-12-31, granted_by: po}\n"
        "  - {user: oud, purpose: casusbehandeling, from: 2020-01-01, until: 2020-12-31, granted_by: po}\n"
    )
    grants = YamlGrants(grants_file)
    assert isinstance(grants, GrantChecker)
    write_case_register(tmp_path / "landing", "2026-01", [("RGW-2026-000123", "2026-01-05", None)])
    cases = write_case_register(
        tmp_path / "landing",
        "2026-02",
        [("RGW-2026-000124", "2026-01-05", None), ("RGW-2026-000125", "2026-01-05", "2026-02-01")],
    )
    audit = AuditLog(tmp_path / "audit" / "audit.jsonl")
    psn = Pseudonymiser(keystore, "bsn").pseudonym(BSN)
    ask = dict(user="inspecteur1", purpose="casusbehandeling", case="RGW-2026-000123", pseudonym=psn)
    refusals = [
        ({"user": "analist1", "purpose": "signalering"}, "does not allow re-identification"),
        ({"purpose": "onbekend_doel"}, "unknown purpose"),
        ({"case": "zomaar"}, "case reference"),
        ({"case": BSN}, "case reference"),  # a BSN typed in the case field: refused and never written down
        ({"pseudonym": BSN}, "not a linkage pseudonym"),
        ({"user": "analist1"}, "no valid grant"),
        ({"user": "oud"}, "no valid grant"),  # expired
        ({"case": "RGW-1999-999999"}, "not in the case register"),  # well-formed, but no such case
        ({"case": "RGW-2026-000125"}, "not open"),  # closed
        ({"case": "RGW-2026-000124", "at": datetime(2025, 12, 1, tzinfo=UTC)}, "not open"),  # not yet opened
        ({"pseudonym": Pseudonymiser(keystore, "bsn").pseudonym("123456782")}, "holds no identifier"),
    ]
    for change, reason in refusals:
        with pytest.raises(AccessDenied, match=reason):
            reidentify(
                vault,
                audit,
                grants,
                **{**ask, **change},
                restrictions=none,
                cases=cases,
                officer=TEST_OFFICER,
                purposes=load(),
            )
    found = reidentify(
        vault, audit, grants, **ask, restrictions=none, cases=cases, officer=TEST_OFFICER, purposes=load()
    )
    assert found.identifier == BSN and BSN not in repr(found)
    assert _outcomes(audit) == ["refused"] * len(refusals) + ["granted"]
    records = audit.records()
    last = records[-1]["event"]
    assert (last["user"], last["purpose"], last["case"], last["pseudonym"]) == (
        "inspecteur1",
        "casusbehandeling",
        "RGW-2026-000123",
        psn,
    )
    assert records[3]["event"]["case"] == "<not a case reference>"
    text = audit.path.read_text()
    assert BSN not in text and OTHER not in text
    assert audit.verify().ok


def test_the_route_back_with_the_access_register_asks_for_acknowledgement(tmp_path, vault, keystore):
    none = RestrictionRegister(tmp_path)
    cases = write_case_register(tmp_path / "landing", "2026-01", [("RGW-2026-000123", "2026-01-05", None)])
    audit = AuditLog(tmp_path / "audit.jsonl")
    register = GrantRegister(tmp_path / "grants.json", audit)
    ask = dict(
        user="inspecteur1",
        purpose="casusbehandeling",
        case="RGW-2026-000123",
        pseudonym=Pseudonymiser(keystore, "bsn").pseudonym(OTHER),
    )
    with pytest.raises(AccessDenied, match="holds no grant"):
        reidentify(vault, audit, register, **ask, restrictions=none, cases=cases, officer=TEST_OFFICER, purposes=load())
    register.grant("inspecteur1", "casusbehandeling", date.today() + timedelta(days=30), by=TEST_OFFICER)
    with pytest.raises(AccessDenied, match="not yet acknowledged"):
        reidentify(vault, audit, register, **ask, restrictions=none, cases=cases, officer=TEST_OFFICER, purposes=load())
    register.acknowledge("inspecteur1", "casusbehandeling")
    assert (
        reidentify(
            vault,
            audit,
            register,
            **ask,
            at=datetime.now(UTC),
            restrictions=none,
            cases=cases,
            officer=TEST_OFFICER,
            purposes=load(),
        ).identifier
        == OTHER
    )
    assert _outcomes(audit) == ["refused", "refused", "granted"]
    assert OTHER not in audit.path.read_text() and audit.verify().ok


# --- the anchor: the head kept in a second place ------------------------------------------------------------------


def test_records_cut_off_the_end_are_caught_by_the_anchor_beside_the_keys(tmp_path):
    log = AuditLog(tmp_path / "audit" / "audit.jsonl")  # the hub's layout: anchored in tmp_path/keys
    for i in range(5):
        log.append({"action": "query", "user": f"analist{i}"})
    anchor = json.loads((tmp_path / "keys" / "audit-head.json").read_text())
    assert (anchor["seq"], anchor["hash"]) == log.head() and log.verify().ok
    lines = log.path.read_text().splitlines()
    log.path.write_text("\n".join(lines[:3]) + "\n")  # the last two records cut off: still a valid chain
    cut = log.verify()
    assert (cut.ok, cut.first_broken_seq) == (False, 4) and "record 5 was written" in cut.reason
    with pytest.raises(AuditError, match="cut off the end"):  # new records would hide the cut
        log.append({"action": "query", "user": "later"})
    assert len(log.path.read_text().splitlines()) == 3
    log.path.unlink()  # the whole log gone
    assert not log.verify().ok
    replaced = [*lines[:4], lines[4].replace("analist4", "iemand")]  # a replaced last record, re-chained
    from pseudonymisation.audit import record_hash

    last = json.loads(replaced[4])
    last["hash"] = record_hash(last)
    log.path.write_text("\n".join([*replaced[:4], json.dumps(last)]) + "\n")
    assert "differs from the head" in log.verify().reason


@pytest.mark.parametrize("new, held", [(3, 200), (300, 200)])
def test_only_identifiers_not_held_are_stored_whichever_side_is_larger(tmp_path, keystore, new, held):
    """A re-delivery's few new identifiers against a large vault, and a first delivery's many against a small one:
    each identifier is stored once and every one resolves."""
    values = [f"{n:09d}" for n in range(100_000_000, 100_000_000 + held + new)]
    vault = Vault(tmp_path / "vault", keystore)
    assert vault.put_many("bsn", values[:held]) == held
    assert vault.put_many("bsn", values[held - 2 :]) == new  # two already held
    pseudonymiser = Pseudonymiser(keystore, "bsn")
    assert all(vault.resolve("bsn", pseudonymiser.linkage_pseudonym(v)) == v for v in values[::50] + values[-3:])
    assert len(vault.pseudonyms("bsn")) == held + new
