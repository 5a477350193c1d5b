"""Analysts' passwords: generated at grant time, given to the server only as a SCRAM-SHA-256 verifier (so the
plaintext never appears in a statement or a server log), held sealed until `rgw access credentials` shows it once.

The sealed copy is AES-256-GCM under a key derived from the hub's master key, in the access register's folder; it is
deleted the moment it is shown. After that the hub cannot show the password again, only set a new one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pseudonymisation.keys import KeyStore

ITERATIONS = 4096  # PostgreSQL's own default for scram_iterations


def new_password() -> str:
    return secrets.token_urlsafe(24)


def scram_verifier(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The string PostgreSQL stores in pg_authid.rolpassword (RFC 5802/7677), computed here from the password."""
    salt = salt or os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = base64.b64encode
    return f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}${b64(stored_key).decode()}:{b64(server_key).decode()}"


class PendingCredentials:
    """Passwords generated but not yet shown, one sealed file per user."""

    def __init__(self, folder: Path, keystore: KeyStore):
        self.folder = Path(folder)
        self._key = keystore.derive("serving/pending-credentials")

    def _path(self, user: str) -> Path:
        return self.folder / f"{user}.sealed"

    def put(self, user: str, password: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        nonce = os.urandom(12)
        blob = nonce + AESGCM(self._key).encrypt(nonce, password.encode(), user.encode())
        tmp = self.folder / f".{user}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, self._path(user))

    def pending(self, user: str) -> bool:
        return self._path(user).exists()

    def take(self, user: str) -> str | None:
        """The password, once: the sealed copy is gone after this call."""
        path = self._path(user)
        if not path.exists():
            return None
        blob = path.read_bytes()
        path.unlink()
        return AESGCM(self._key).decrypt(blob[:12], blob[12:], user.encode()).decode()
