"""The key store: where the master secret comes from, how keys are derived and rotated, and that none is shown."""

import base64
import logging

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pseudonymisation.keys import DemoKeyWarning, KeyStore, KeyStoreError

SECRET = bytes(range(32))


@pytest.fixture
def keystore(tmp_path, monkeypatch):
    monkeypatch.setenv("RGW_MASTER_KEY", SECRET.hex())
    monkeypatch.delenv("RGW_KEY_FILE", raising=False)
    return KeyStore(tmp_path / "keys")


def test_a_demo_key_is_generated_once_loudly_with_mode_0600(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("RGW_MASTER_KEY", raising=False)
    monkeypatch.delenv("RGW_KEY_FILE", raising=False)
    ks = KeyStore(tmp_path / "keys")
    with pytest.warns(DemoKeyWarning, match="DEMO key"):
        first = ks.derive("pseudonym/bsn/linkage")
    assert "NEVER in production" in capsys.readouterr().err
    key_file = tmp_path / "keys" / "master.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    # A second key store on the same folder reads the key back: same derived key, no new warning.
    assert KeyStore(tmp_path / "keys").derive("pseudonym/bsn/linkage") == first
    assert capsys.readouterr().err == ""
    # Without permission to generate one, a missing key is an error, not a silent demo key.
    monkeypatch.setenv("RGW_KEY_FILE", str(tmp_path / "elsewhere.key"))
    with pytest.raises(KeyStoreError, match="no master secret"):
        KeyStore(tmp_path / "other", allow_demo_key=False).derive("x")


def test_the_secret_comes_from_the_environment_or_a_key_file_in_hex_or_base64(tmp_path, monkeypatch):
    monkeypatch.setenv("RGW_MASTER_KEY", base64.b64encode(SECRET).decode())
    from_b64 = KeyStore(tmp_path / "a").derive("vault")
    monkeypatch.delenv("RGW_MASTER_KEY")
    key_file = tmp_path / "managed.key"
    key_file.write_text(SECRET.hex())
    key_file.chmod(0o600)
    monkeypatch.setenv("RGW_KEY_FILE", str(key_file))
    assert KeyStore(tmp_path / "b").derive("vault") == from_b64
    key_file.chmod(0o644)
    with pytest.raises(KeyStoreError, match="readable by others"):
        KeyStore(tmp_path / "c").derive("vault")
    monkeypatch.delenv("RGW_KEY_FILE")
    monkeypatch.setenv("RGW_MASTER_KEY", "ab" * 8)
    with pytest.raises(KeyStoreError, match="at least 32 bytes"):
        KeyStore(tmp_path / "d").derive("vault")


def test_keys_are_hkdf_sha256_with_an_info_string_per_domain_and_purpose(keystore):
    def hkdf(info: bytes) -> bytes:
        return HKDF(hashes.SHA256(), 32, b"rotterdams-goed-wonen/hub", info).derive(SECRET)

    assert keystore.derive("pseudonym/bsn/linkage") == hkdf(b"rgw/v1/pseudonym/bsn/linkage")
    assert keystore.derive("pseudonym/bsn/purpose:selection") == hkdf(b"rgw/v1/pseudonym/bsn/purpose:selection")
    keys = {
        keystore.derive(info)
        for info in (
            "pseudonym/bsn/linkage",
            "pseudonym/rsin/linkage",
            "pseudonym/bsn/purpose:selection",
            "pseudonym/bsn/purpose:signalering",
            "encoding/achternaam",
            "vault",
        )
    }
    assert len(keys) == 6  # every use its own key
    assert keystore.derive("vault") == keystore.derive("vault")  # and stable


def test_rotation_adds_a_version_and_keeps_the_old_one(keystore, tmp_path):
    v1 = keystore.derive("vault")
    assert keystore.rotate() == "v2" and keystore.version == "v2"
    assert (tmp_path / "keys" / "master-v2.key").stat().st_mode & 0o777 == 0o600
    assert keystore.derive("vault") != v1
    assert keystore.derive("vault", "v1") == v1
    assert set(KeyStore(tmp_path / "keys").ring().versions) == {"v1", "v2"}
    with pytest.raises(KeyStoreError, match="not a key version"):
        keystore.derive("vault", "v1; rm -rf")


def test_no_key_material_in_repr_str_or_logs(keystore, caplog, capsys):
    from pseudonymisation.encodings import FieldEncoder
    from pseudonymisation.pseudonyms import Pseudonymiser

    caplog.set_level(logging.DEBUG)
    objects = [keystore, Pseudonymiser(keystore, "bsn", "signalering"), FieldEncoder(keystore, "achternaam")]
    shown = " ".join(repr(o) + str(o) for o in objects)
    logging.getLogger("rgw").info("objects: %s", objects)
    printed = shown + caplog.text + capsys.readouterr().out
    secrets = [SECRET, keystore.derive("pseudonym/bsn/linkage"), keystore.derive("encoding/achternaam")]
    for secret in secrets:
        for form in (secret.hex(), base64.b64encode(secret).decode(), repr(secret)):
            assert form not in printed
    assert "current='v1'" in repr(keystore)
