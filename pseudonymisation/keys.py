"""The key store: one master secret per key version, outside the data, and every other key derived from it.

Where the secret of version v1 comes from, in order: `RGW_MASTER_KEY` (hex or base64, for a secrets manager that
injects it), the key file named by `RGW_KEY_FILE`, or `<RGW_DATA>/keys/master.key`. Later versions live beside it as
`master-v2.key`, ... When no secret exists, a demo key is generated with mode 0600 and a loud warning (a Python
warning and a banner on stderr): a production hub takes its secret from the municipality's key management.

Every key the hub uses is derived with HKDF-SHA256 from the master secret of a version, with an info string naming
what it is for: `rgw/<version>/pseudonym/<domain>/linkage`, `rgw/<version>/pseudonym/<domain>/purpose:<id>`,
`rgw/<version>/encoding/<field>`, `rgw/<version>/vault`, `rgw/<version>/dataset/<purpose>`. Keys for different
domains and purposes are therefore independent, and none of them can be turned back into the master secret or into
another derived key.

Rotation adds a new version to the key ring (`keyring.json`, no secrets in it); pseudonyms carry their version
(`bsn.v2.…`), so rotation is visible in the data, and the vault keeps resolving pseudonyms of every version it holds.
Nothing here ever prints, logs or returns a secret except `derive` to its caller.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
import sys
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hubcore.durable import replace_durably, sync_file, sync_folder
from hubcore.paths import HubPaths

_SALT = b"rotterdams-goed-wonen/hub"
_VERSION = re.compile(r"^v[1-9][0-9]*$")
MIN_SECRET_BYTES = 32


class KeyStoreError(RuntimeError):
    """The key store cannot give a key: no secret, a damaged or exposed key file, an unknown version."""


class DemoKeyWarning(UserWarning):
    """A demo master key was generated: fine for the synthetic demo, never for real data."""


def decode_secret(text: str) -> bytes:
    """A master secret written as hex or base64 (what key management tools emit), at least 32 bytes."""
    text = text.strip()
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise KeyStoreError("the master secret is neither hex nor base64") from exc
    if len(raw) < MIN_SECRET_BYTES:
        raise KeyStoreError(f"the master secret must be at least {MIN_SECRET_BYTES} bytes")
    return raw


def default_key_dir() -> Path:
    """`<RGW_DATA>/keys`, the restricted folder the rest of the hub uses (hubcore.paths.HubPaths.keys)."""
    return HubPaths.from_env().keys


@dataclass(frozen=True)
class KeyRing:
    """The key versions and when each was created; `current` is the one new pseudonyms are made with."""

    current: str
    versions: dict[str, str]  # version -> created (ISO time, "" when unknown)


class KeyStore:
    """Derives the hub's keys; holds master secrets in memory only and never shows them."""

    def __init__(self, key_dir: Path, *, allow_demo_key: bool = True):
        self.key_dir = Path(key_dir)
        self.allow_demo_key = allow_demo_key
        self._secrets: dict[str, bytes] = {}

    @classmethod
    def from_env(cls, *, allow_demo_key: bool = True) -> KeyStore:
        """The key store of the hub named by RGW_DATA (keys under `<RGW_DATA>/keys`)."""
        return cls(default_key_dir(), allow_demo_key=allow_demo_key)

    def __repr__(self) -> str:  # names and versions only, never key material
        return f"KeyStore(key_dir={str(self.key_dir)!r}, current={self.ring().current!r})"

    __str__ = __repr__

    # --- the key ring ------------------------------------------------------------------------------------------

    @property
    def ring_path(self) -> Path:
        return self.key_dir / "keyring.json"

    def ring(self) -> KeyRing:
        if self.ring_path.exists():
            data = json.loads(self.ring_path.read_text())
            return KeyRing(data["current"], data["versions"])
        return KeyRing("v1", {"v1": ""})

    def _save_ring(self, ring: KeyRing) -> None:
        self.key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.ring_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"current": ring.current, "versions": ring.versions}, indent=2))
        replace_durably(tmp, self.ring_path)  # a ring lost to a power cut loses the keys of every pseudonym

    @property
    def version(self) -> str:
        """The current key version (what new pseudonyms and encodings are made with)."""
        return self.ring().current

    def rotate(self, secret: bytes | None = None) -> str:
        """Start a new key version and make it current; returns it.

        `secret` is the new master secret from key management; without it a random one is generated into the key
        folder (mode 0600). Older versions stay in the ring so their pseudonyms remain resolvable.
        """
        ring = self.ring()
        self._master(ring.current)  # the current version must be usable before we move on from it
        version = f"v{max(int(v[1:]) for v in ring.versions) + 1}"
        if secret is not None and len(secret) < MIN_SECRET_BYTES:
            raise KeyStoreError(f"the master secret must be at least {MIN_SECRET_BYTES} bytes")
        self._write_secret(version, secret if secret is not None else secrets.token_bytes(32))
        versions = {**ring.versions, version: datetime.now(UTC).isoformat(timespec="seconds")}
        self._save_ring(KeyRing(version, versions))
        return version

    # --- secrets -----------------------------------------------------------------------------------------------

    def _key_file(self, version: str) -> Path:
        if version == "v1":
            env = os.environ.get("RGW_KEY_FILE")
            if env:
                return Path(env)
            legacy = self.key_dir / "master-v1.key"  # the name used before the key file was called master.key
            return legacy if legacy.exists() else self.key_dir / "master.key"
        return self.key_dir / f"master-{version}.key"

    def _write_secret(self, version: str, secret: bytes) -> None:
        path = self._key_file(version)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secret.hex())
        sync_file(path)  # a key lost to a power cut leaves every pseudonym made with it without its route back
        sync_folder(path.parent)
        self._secrets[version] = secret

    def _master(self, version: str) -> bytes:
        if not _VERSION.match(version):
            raise KeyStoreError(f"not a key version: {version!r} (expected v1, v2, ...)")
        if version in self._secrets:
            return self._secrets[version]
        if version == "v1" and os.environ.get("RGW_MASTER_KEY"):
            secret = decode_secret(os.environ["RGW_MASTER_KEY"])
        else:
            path = self._key_file(version)
            if path.exists():
                mode = path.stat().st_mode & 0o777
                if mode & 0o077:
                    raise KeyStoreError(f"key file {path} is readable by others (mode {mode:o}); chmod 600 it")
                secret = decode_secret(path.read_text())
            elif version == "v1" and self.allow_demo_key:
                secret = self._generate_demo_key(path)
            else:
                raise KeyStoreError(f"no master secret for key version {version}")
        self._secrets[version] = secret
        return secret

    def _generate_demo_key(self, path: Path) -> bytes:
        secret = secrets.token_bytes(32)
        self._write_secret("v1", secret)
        self._save_ring(KeyRing("v1", {"v1": datetime.now(UTC).isoformat(timespec="seconds")}))
        message = (
            f"NO MASTER KEY FOUND: generated a DEMO key in {path} (mode 0600). Use it for synthetic data only, "
            "NEVER in production: a real hub takes RGW_MASTER_KEY or RGW_KEY_FILE from key management."
        )
        warnings.warn(message, DemoKeyWarning, stacklevel=4)
        print(f"\n{'*' * 100}\n*** {message}\n{'*' * 100}\n", file=sys.stderr)
        return secret

    def key_check(self, version: str | None = None) -> str:
        """A short check value of the master secret of `version` (the current one by default), or "?" when that
        secret is not at hand: 12 hex characters of a key derived for this use alone (HKDF with its own info), so it
        says nothing about any other derived key. Two key stores with the same version label but different secrets
        (a key re-provisioned under "v1") give different checks: what a landing records to know its pseudonyms'
        key, since the label alone would let a new secret's landing reuse the old secret's pseudonyms."""
        try:
            return self.derive("key-check", version, length=6).hex()
        except KeyStoreError:
            return "?"

    def derive(self, info: str, version: str | None = None, length: int = 32) -> bytes:
        """A key for one use, named by `info` (e.g. "pseudonym/bsn/linkage"); same info and version, same key."""
        version = version or self.version
        hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=f"rgw/{version}/{info}".encode())
        return hkdf.derive(self._master(version))
