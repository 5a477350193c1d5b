"""The key store: one master secret per key version, outside the data, and every other key derived from it.

Where the secret comes from, in order: `RGW_MASTER_KEY` (hex or base64, for a secrets manager that injects it), a key
file named by `RGW_KEY_FILE`, or `<RGW_DATA>/keys/master-<version>.key`. When none exists, a demo key is generated
with mode 0600 and a loud warning: a production hub gets its secret from the municipality's key management.

Every key the hub uses is derived with HKDF-SHA256 from the master secret of a version, with an info string naming
what it is for: `rgw/<version>/pseudonym/<domain>/linkage`, `rgw/<version>/pseudonym/<domain>/purpose:<id>`,
`rgw/<version>/encoding/<field>`, `rgw/<version>/vault`, `rgw/<version>/dataset/<purpose>`. Keys for different
domains and purposes are therefore independent, and none of them can be turned back into the master secret.

Rotation adds a new version; pseudonyms carry their version (`bsn.v2.…`), so data made under an older version stays
resolvable through the vault until it is re-pseudonymised.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import sys
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_SALT = b"rotterdams-goed-wonen/hub"


class KeyStoreError(RuntimeError):
    """The key store cannot give a key: no secret, a damaged key file, an unknown version."""


class DemoKeyWarning(UserWarning):
    """A demo master key was generated: fine for the synthetic demo, never for real data."""


def _decode_secret(text: str) -> bytes:
    text = text.strip()
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise KeyStoreError("the master secret is neither hex nor base64") from exc
    if len(raw) < 32:
        raise KeyStoreError("the master secret must be at least 32 bytes")
    return raw


@dataclass(frozen=True)
class KeyRing:
    current: str
    versions: dict[str, str]  # version -> created (ISO time)


class KeyStore:
    """Derives the hub's keys; holds secrets in memory only and never shows them."""

    def __init__(self, key_dir: Path, *, allow_demo_key: bool = True):
        self.key_dir = Path(key_dir)
        self.allow_demo_key = allow_demo_key
        self._secrets: dict[str, bytes] = {}

    def __repr__(self) -> str:  # never the key material
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
        self.ring_path.write_text(json.dumps({"current": ring.current, "versions": ring.versions}, indent=2))

    @property
    def version(self) -> str:
        return self.ring().current

    def rotate(self) -> str:
        """Start a new key version with a fresh master secret; returns the new version."""
        ring = self.ring()
        number = max(int(v[1:]) for v in ring.versions) + 1
        version = f"v{number}"
        self._write_secret(version, secrets.token_bytes(32))
        versions = {**ring.versions, version: datetime.now(UTC).isoformat(timespec="seconds")}
        self._save_ring(KeyRing(version, versions))
        return version

    # --- secrets -----------------------------------------------------------------------------------------------

    def _key_file(self, version: str) -> Path:
        env = os.environ.get("RGW_KEY_FILE")
        if env and version == "v1":
            return Path(env)
        return self.key_dir / f"master-{version}.key"

    def _write_secret(self, version: str, secret: bytes) -> None:
        self.key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._key_file(version)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secret.hex())
        self._secrets[version] = secret

    def _master(self, version: str) -> bytes:
        if version in self._secrets:
            return self._secrets[version]
        if version == "v1" and os.environ.get("RGW_MASTER_KEY"):
            secret = _decode_secret(os.environ["RGW_MASTER_KEY"])
        else:
            path = self._key_file(version)
            if path.exists():
                mode = path.stat().st_mode & 0o777
                if mode & 0o077:
                    raise KeyStoreError(f"key file {path} is readable by others (mode {mode:o}); chmod 600 it")
                secret = _decode_secret(path.read_text())
            elif version == "v1" and self.allow_demo_key:
                secret = secrets.token_bytes(32)
                self._write_secret("v1", secret)
                self._save_ring(KeyRing("v1", {"v1": datetime.now(UTC).isoformat(timespec="seconds")}))
                message = (
                    f"NO MASTER KEY FOUND: generated a DEMO key in {path} (mode 0600). Use it for synthetic "
                    "data only; a real hub takes RGW_MASTER_KEY or RGW_KEY_FILE from key management."
                )
                warnings.warn(message, DemoKeyWarning, stacklevel=3)
                print(f"\n*** {message} ***\n", file=sys.stderr)
            else:
                raise KeyStoreError(f"no master secret for key version {version}")
        self._secrets[version] = secret
        return secret

    def derive(self, info: str, version: str | None = None, length: int = 32) -> bytes:
        """A key for one use, named by `info`; the same info and version always give the same key."""
        version = version or self.version
        hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=f"rgw/{version}/{info}".encode())
        return hkdf.derive(self._master(version))
