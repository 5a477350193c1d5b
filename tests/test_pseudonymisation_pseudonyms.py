"""Pseudonyms: stable, separated per domain and purpose, the same vectorised and one by one, and not a plain hash."""

import hashlib
import time

import pyarrow as pa
import pytest

from connectors.identifiers import elfproef
from pseudonymisation.keys import KeyStore
from pseudonymisation.pseudonyms import (
    PARALLEL_FROM,
    PSEUDONYM,
    Pseudonymiser,
    normalise,
    normalise_array,
    parse_pseudonym,
)

BSN = "999993653"  # a test BSN from the BRP test set


@pytest.fixture
def keystore(tmp_path, monkeypatch):
    monkeypatch.setenv("RGW_MASTER_KEY", "11" * 32)
    monkeypatch.delenv("RGW_KEY_FILE", raising=False)
    return KeyStore(tmp_path / "keys")


def test_pseudonyms_are_stable_versioned_base32_and_hide_the_digits(keystore, tmp_path):
    p = Pseudonymiser(keystore, "bsn").pseudonym(BSN)
    assert PSEUDONYM.match(p) and p.startswith("bsn.v1.") and len(p.split(".")[2]) == 26
    assert parse_pseudonym(p) == ("bsn", "v1") and parse_pseudonym(BSN) is None
    assert BSN not in p
    # The same key gives the same pseudonym in another process-like setting (a fresh key store on the same secret).
    assert Pseudonymiser(KeyStore(tmp_path / "other"), "bsn").pseudonym(BSN) == p


def test_equal_digits_in_different_domains_give_unrelated_pseudonyms(keystore):
    digits = {d: Pseudonymiser(keystore, d).pseudonym(BSN) for d in ("bsn", "rsin", "kvk", "a_nummer", "ean")}
    assert len({p.split(".")[2] for p in digits.values()}) == 5
    with pytest.raises(ValueError, match="lower-case"):
        Pseudonymiser(keystore, "BSN")
    assert Pseudonymiser(keystore, "huurcontract_nummer").pseudonym("H-1").startswith("huurcontract_nummer.v1.")


@pytest.mark.parametrize(
    ("domain", "spellings"),
    [
        ("bsn", [BSN, f" {BSN} ", "9999.93.653"]),
        ("bsn", ["012345672", "12345672"]),
        ("email", ["Jan.Jansen@Example.NL", " jan.jansen@example.nl "]),
        ("phone", ["06-12345678", "+31 6 12345678", "0031612345678", "(06) 1234 5678", "31612345678"]),
        ("phone", ["010-1234567", "+31 10 123 45 67"]),
        ("ean", ["871687120000000001", "8716 8712 0000 0000 01"]),
        ("person_name", ["Jöhn  de Vries", "john de vries", "JOHN DE VRIES."]),
    ],
)
def test_spellings_of_one_identifier_share_one_pseudonym(keystore, domain, spellings):
    p = Pseudonymiser(keystore, domain)
    assert len({p.pseudonym(s) for s in spellings}) == 1
    assert len(set(p.pseudonymise_array(spellings).to_pylist())) == 1


def test_phone_numbers_are_normalised_to_e164(keystore):
    assert normalise("phone", "06-12345678") == "+31612345678"
    assert normalise("phone", "0044 20 7946 0000") == "+442079460000"
    assert normalise("bsn", "12345672") == "012345672" and normalise("bsn", "n.v.t.") is None


def test_the_vectorised_path_equals_the_scalar_path_and_keeps_nulls(keystore):
    values = [BSN, None, "", "abc", " 12345672", BSN, "123456782", "12345678901234567890"]  # the last: over a block
    p = Pseudonymiser(keystore, "bsn")
    out = p.pseudonymise_array(pa.chunked_array([values[:3], values[3:]]))
    assert out.to_pylist() == [p.pseudonym(v) for v in values]
    assert out.null_count == 3  # None, "" and "abc" hold nothing to key
    for domain in ("phone", "email", "person_name", "kvk"):
        mixed = ["06 12345678", "A@B.nl", "Ďe Vries", "1234 5678", None, "  "]
        assert normalise_array(domain, pa.array(mixed)).to_pylist() == [
            None if v is None else normalise(domain, v) for v in mixed
        ]


@pytest.mark.parametrize(
    ("domain", "odd_one"),
    [("bsn", None), ("bsn", " 12345672"), ("phone", "+31 6 1234 5678")],  # AES on the whole column; AES per distinct
    # value by row range (a spaced value); HMAC by row range
)
def test_large_columns_keyed_in_processes_equal_the_serial_result(keystore, domain, odd_one):
    values = [f"{100_000_000 + 7 * i:09d}" if i % 50 else None for i in range(PARALLEL_FROM + 1000)]
    values[1234] = odd_one or values[1234]
    column = pa.array(values + values[:5000])  # repeated values across the workers' shares
    p = Pseudonymiser(keystore, domain)
    serial, parallel = p.pseudonymise_array(column, workers=1), p.pseudonymise_array(column, workers=2)
    assert serial.equals(parallel) and parallel.null_count == column.null_count
    for i in (0, 1, 1234, len(column) - 1):
        assert parallel[i].as_py() == p.pseudonym(column[i].as_py())


def test_purposes_get_pseudonyms_that_cannot_be_joined_without_the_hub(keystore):
    linkage = Pseudonymiser(keystore, "bsn")
    selection = Pseudonymiser(keystore, "bsn", purpose="selectie_integrale_acties")
    signals = Pseudonymiser(keystore, "bsn", purpose="signalering")
    people = [f"{n:09d}" for n in range(100_000_000, 100_003_000) if elfproef(f"{n:09d}")]
    a = set(selection.pseudonymise_array(people).to_pylist())
    b = set(signals.pseudonymise_array(people).to_pylist())
    link = set(linkage.pseudonymise_array(people).to_pylist())
    assert len(a) == len(b) == len(link) == len(people)
    assert not (a & b) and not (a & link) and not (b & link)  # nothing to join on
    # Re-keying for a purpose needs only the linkage pseudonym, and agrees with keying the identifier.
    lp = linkage.pseudonym(BSN)
    assert selection.from_linkage(lp) == selection.pseudonym(BSN)
    assert selection.rekey_array([lp, None]).to_pylist() == [selection.pseudonym(BSN), None]
    assert linkage.from_linkage(lp) == lp


def test_rekeying_a_column_gives_what_rekeying_each_value_gives(keystore):
    """Publication re-keys whole columns (governance/publish.py): repeats, nulls and entity ids as `from_linkage`."""
    linkage = Pseudonymiser(keystore, "entiteit")
    purpose = Pseudonymiser(keystore, "entiteit", purpose="casusbehandeling")
    ids = [linkage.pseudonym(f"persoon:{n:020x}") for n in range(300)]
    column = pa.chunked_array([ids[:200] + [None], ids[100:] + ids[:5] + [None]])
    expected = [purpose.from_linkage(v) for v in column.to_pylist()]
    assert purpose.rekey_array(column, 1).to_pylist() == expected
    assert linkage.rekey_array(column, 1).to_pylist() == column.to_pylist()  # the linkage purpose keeps them


def test_a_plain_hash_falls_to_enumeration_a_keyed_pseudonym_does_not(keystore, tmp_path, monkeypatch):
    # The attacker enumerates the 11-proef space (here a slice of 200,000 numbers) and hashes each candidate.
    candidates = [f"{n:09d}" for n in range(999_800_000, 1_000_000_000) if elfproef(f"{n:09d}")]
    started = time.perf_counter()
    table = {hashlib.sha256(c.encode()).hexdigest(): c for c in candidates}
    per_second = len(candidates) / (time.perf_counter() - started)
    assert table[hashlib.sha256(BSN.encode()).hexdigest()] == BSN  # the plain hash is reversed
    print(f"\nplain SHA-256: {per_second:,.0f} candidates/s; the ~91 M valid BSNs take {91e6 / per_second:.0f} s")
    # The same enumeration without the hub's key meets nothing that equals the pseudonym: not the plain hash, and
    # not an HMAC under any key the attacker can guess (here: another hub's key).
    target = Pseudonymiser(keystore, "bsn").pseudonym(BSN)
    monkeypatch.setenv("RGW_MASTER_KEY", "22" * 32)
    guess = Pseudonymiser(KeyStore(tmp_path / "guessed"), "bsn")
    guessed = set(guess.pseudonymise_array(candidates).to_pylist())
    assert target not in guessed and target.split(".")[2] not in table
    # Only the key holder can run the enumeration, which is why the key never leaves the key store.
    assert target in set(Pseudonymiser(keystore, "bsn").pseudonymise_array(candidates).to_pylist())


def test_rotation_shows_in_the_pseudonym(keystore):
    old = Pseudonymiser(keystore, "bsn").pseudonym(BSN)
    keystore.rotate()
    new = Pseudonymiser(keystore, "bsn").pseudonym(BSN)
    assert new.startswith("bsn.v2.") and new != old
    assert Pseudonymiser(keystore, "bsn", version="v1").pseudonym(BSN) == old
