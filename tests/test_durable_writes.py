"""A power cut must not leave an empty file under a new name: the atomic writes flush the file before the rename
and the folder after it. A killed process is covered by the rename alone (tests/test_crash_run.py); this checks the
system calls a power cut needs, by watching which paths the kernel is asked to fsync and in which order."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest

from connectors.delivery import land_delivery, write_parquet_atomic
from connectors.registry import SOURCES
from hubcore.durable import write_whole


@pytest.fixture
def synced(monkeypatch) -> list[str]:
    """The paths fsynced, in order, and `rename:<target>` for each rename, as the kernel saw them."""
    calls: list[str] = []
    real_fsync, real_replace, real_rename = os.fsync, os.replace, os.rename

    def fsync(fd: int) -> None:
        calls.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    def replace(src, dst) -> None:
        real_replace(src, dst)
        calls.append(f"rename:{dst}")

    def rename(src, dst) -> None:
        real_rename(src, dst)
        calls.append(f"rename:{dst}")

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.delenv("RGW_FSYNC", raising=False)
    return calls


def test_a_parquet_file_is_on_the_disk_before_its_rename_and_the_rename_after(tmp_path, synced):
    target = tmp_path / "linkage" / "address_links.parquet"
    write_parquet_atomic(pa.table({"a": [1, 2]}), target)
    rename = synced.index(f"rename:{target}")
    assert Path(synced[rename - 1]).name.startswith(".address_links.parquet.")  # the hidden file, before
    assert synced[rename + 1] == str(target.parent)  # the folder, after


def test_a_landed_delivery_has_every_file_flushed_before_the_rename(real_fixtures, tmp_path, synced):
    result = SOURCES["stedin"].read(
        real_fixtures / "stedin" / "zeeland-2013.csv", delivery_id="20261101", staging_root=tmp_path / "staging"
    )
    staged_files = {p.name for p in result.staging_dir.iterdir()} | {"_manifest.json"}
    target = land_delivery(result, tmp_path / "raw")
    rename = synced.index(f"rename:{target}")
    flushed_before = {Path(p).name for p in synced[:rename] if not p.startswith("rename:")}
    assert staged_files <= flushed_before
    assert str(target.parent) in synced[rename + 1 :]


def test_rgw_fsync_0_turns_it_off_for_scratch_folders(tmp_path, synced, monkeypatch):
    monkeypatch.setenv("RGW_FSYNC", "0")
    write_parquet_atomic(pa.table({"a": [1]}), tmp_path / "x.parquet")
    assert synced == [f"rename:{tmp_path / 'x.parquet'}"]


def test_a_pseudonymised_landing_is_flushed_before_its_rename(tmp_path, synced, monkeypatch):
    from pseudonymisation.boundary import land_delivery_folder
    from pseudonymisation.keys import KeyStore
    from pseudonymisation.policy import Boundary
    from synth import generate

    monkeypatch.setenv("RGW_MASTER_KEY", "ab" * 32)
    generate("tiny", 5, tmp_path / "world")
    delivery = next((tmp_path / "world" / "incoming" / "gebieden").iterdir())
    raw = land_delivery(SOURCES["gebieden"].read(delivery, delivery_id="2026"), tmp_path / "raw")
    synced.clear()
    boundary = Boundary(KeyStore(tmp_path / "keys", allow_demo_key=False), None)
    land_delivery_folder(boundary, raw, tmp_path / "landing", "gebieden", "2026", ["buurt"], None)
    target = tmp_path / "landing" / "gebieden" / "2026"
    rename = synced.index(f"rename:{target}")
    flushed_before = {Path(p).name for p in synced[:rename] if not p.startswith("rename:")}
    assert {"buurt.parquet", "_landing.json"} <= flushed_before
    assert str(target.parent) in synced[rename + 1 :]


def _flushed_before_rename(synced: list[str], target: Path) -> bool:
    """The file renamed to `target` was fsynced before the rename, and the folder after it."""
    rename = synced.index(f"rename:{target}")
    return synced[rename - 1] not in (str(target), str(target.parent)) and str(target.parent) in synced[rename + 1 :]


def test_a_new_key_version_and_the_ring_naming_it_are_on_the_disk(tmp_path, synced):
    from pseudonymisation.keys import KeyStore

    store = KeyStore(tmp_path / "keys", allow_demo_key=False)
    store._write_secret("v1", b"\x01" * 32)
    version = store.rotate()
    key_file = tmp_path / "keys" / f"master-{version}.key"
    assert str(key_file) in synced and str(key_file.parent) in synced[synced.index(str(key_file)) :]
    assert _flushed_before_rename(synced, tmp_path / "keys" / "keyring.json")


def test_the_vaults_identifiers_are_on_the_disk_before_their_part_is_named(tmp_path, synced, monkeypatch):
    from pseudonymisation.keys import KeyStore
    from pseudonymisation.vault import Vault

    monkeypatch.setenv("RGW_MASTER_KEY", "cd" * 32)
    vault = Vault(tmp_path / "vault", KeyStore(tmp_path / "keys", allow_demo_key=False))
    vault.put_many("bsn", ["111222333"])  # the pseudonym made here
    part = next(Path(p.removeprefix("rename:")) for p in synced if p.startswith("rename:") and "part-" in p)
    assert _flushed_before_rename(synced, part)


def test_a_cache_written_whole_replaces_the_old_file_and_leaves_no_part_behind(tmp_path):
    cache = tmp_path / "cache.json"
    write_whole(cache, b"old")
    write_whole(cache, b"new")
    assert cache.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["cache.json"]
    with pytest.raises(OSError):
        write_whole(tmp_path / "missing-folder" / "cache.json", b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["cache.json"]
