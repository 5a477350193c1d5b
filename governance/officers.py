"""The privacy officer's credential: granting, revoking and re-identification are the officer's acts, proven with a
key the officer holds outside the hub's data folder, not with a name typed after `--by`.

`rgw access officer enrol --name NAME --key-file FILE` writes a new random key to FILE (mode 0600; refused inside
RGW_DATA, where the hub's own processes and backups would carry it) and keeps only its verifier (scrypt, salted) in
the access register's folder. The first officer is enrolled by the hub's operator; every later one needs an existing
officer's key. A key proves itself by matching a verifier; the name recorded for the act is the enrolled name.

The boundary is the file system: the register's folder belongs to the hub's system user and analysts have no shell
on the hub (docs/serving.md). Python code that runs as the hub could bypass any check, so the check is not a
sandbox; it stops the analyst who can run `rgw` from granting themselves a purpose, and it records who acted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

from hubcore.durable import replace_durably
from pseudonymisation.grants import AccessDenied, Officer  # beside the route back

_NAME = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")


def _verifier(key: bytes, salt: bytes) -> str:
    return base64.b64encode(hashlib.scrypt(key, salt=salt, n=2**14, r=8, p=1, dklen=32)).decode()


def read_key(path: Path) -> bytes:
    path = Path(path).expanduser()
    if not path.is_file():
        raise AccessDenied(f"officer key file {path} not found")
    text = path.read_text(encoding="utf-8").strip()
    try:
        return base64.urlsafe_b64decode(text.encode())
    except ValueError as exc:
        raise AccessDenied(f"{path} does not hold an officer key") from exc


class OfficerRegister:
    def __init__(self, folder: Path):
        self.path = Path(folder) / "officers.json"

    def all(self) -> list[dict]:
        return json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else []

    def verify(self, key: bytes) -> Officer:
        for entry in self.all():
            salt = base64.b64decode(entry["salt"])
            if hmac.compare_digest(_verifier(key, salt), entry["verifier"]) and not entry.get("retired_at"):
                return Officer(entry["name"], entry["key_id"])
        raise AccessDenied("this key is not the key of an enrolled privacy officer")

    def verify_file(self, key_file: Path | str | None) -> Officer:
        if not key_file:
            raise AccessDenied(
                "this is an act of the privacy officer: give the officer's key (--officer-key FILE or RGW_OFFICER_KEY)"
            )
        return self.verify(read_key(Path(key_file)))

    def enrol(self, name: str, key_file: Path, data_root: Path, *, by: Officer | None) -> Officer:
        """A new officer with a fresh key written to `key_file`; needs an officer unless none is enrolled yet."""
        if not _NAME.match(name):
            raise ValueError(f"{name!r} is not an officer name (lower-case letters, digits, '.', '-', '_')")
        existing = self.all()
        if existing and by is None:
            raise AccessDenied("only an enrolled privacy officer can enrol another (--officer-key FILE)")
        key_file = Path(key_file).expanduser().resolve()
        if key_file.is_relative_to(Path(data_root).resolve()):
            raise ValueError(f"{key_file} is inside the hub's data folder; an officer key is kept outside it")
        if key_file.exists():
            raise ValueError(f"{key_file} exists; choose a new file (a key is never overwritten)")
        key, salt = secrets.token_bytes(32), secrets.token_bytes(16)
        key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(base64.urlsafe_b64encode(key).decode() + "\n")
        officer = Officer(name, secrets.token_hex(4))
        entry = {
            "name": name,
            "key_id": officer.key_id,
            "salt": base64.b64encode(salt).decode(),
            "verifier": _verifier(key, salt),
            "enrolled_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "enrolled_by": by.name if by else "operator (first officer)",
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps([*existing, entry], indent=2), encoding="utf-8")
        os.chmod(tmp, 0o600)
        replace_durably(tmp, self.path)
        return officer
