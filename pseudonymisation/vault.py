"""The vault: the only way back from a linkage pseudonym to the identifier, encrypted with its own key.

Each identifier is stored encrypted with AES-256-GCM under a key derived for the vault (`rgw/<version>/vault`), with
a fresh 96-bit nonce and the domain and pseudonym as associated data, so a ciphertext copied to another row does not
decrypt. The vault is a Parquet file per domain under `<RGW_DATA>/vault/` (restricted); reading the file shows
pseudonyms and ciphertext only. Only `reidentify` (pseudonymisation/reidentify.py) opens it, and it logs every use.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pseudonymisation.keys import KeyStore
from pseudonymisation.pseudonyms import Pseudonymiser

SCHEMA = pa.schema([("pseudonym", pa.string()), ("nonce", pa.binary(12)), ("ciphertext", pa.binary())])


class Vault:
    def __init__(self, folder: Path, keystore: KeyStore):
        self.folder = Path(folder)
        self.keystore = keystore

    def __repr__(self) -> str:
        return f"Vault(folder={str(self.folder)!r})"

    def _aead(self, version: str) -> AESGCM:
        return AESGCM(self.keystore.derive("vault", version))

    def _path(self, domain: str) -> Path:
        return self.folder / f"{domain}.parquet"

    def put_many(self, domain: str, values: pa.Array | list[str | None]) -> int:
        """Store the identifiers of one domain under their linkage pseudonyms; returns how many were new."""
        items = values.to_pylist() if isinstance(values, (pa.Array, pa.ChunkedArray)) else list(values)
        psn = Pseudonymiser(self.keystore, domain)
        path = self._path(domain)
        existing = pq.read_table(path) if path.exists() else SCHEMA.empty_table()
        known = set(existing.column("pseudonym").to_pylist())
        aead = self._aead(psn.version)
        rows: dict[str, tuple[bytes, bytes]] = {}
        for value in items:
            if value is None:
                continue
            p = psn.pseudonym(value)
            if p is None or p in known or p in rows:
                continue
            nonce = os.urandom(12)
            rows[p] = (nonce, aead.encrypt(nonce, value.encode(), f"{domain}|{p}".encode()))
        if not rows:
            return 0
        new = pa.table(
            {
                "pseudonym": list(rows),
                "nonce": [n for n, _ in rows.values()],
                "ciphertext": [c for _, c in rows.values()],
            },
            schema=SCHEMA,
        )
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".tmp")
        pq.write_table(pa.concat_tables([existing, new]), tmp)
        os.replace(tmp, path)
        return len(rows)

    def resolve(self, domain: str, pseudonym: str) -> str | None:
        """The identifier behind a linkage pseudonym, or None when the vault does not hold it."""
        path = self._path(domain)
        if not path.exists():
            return None
        table = pq.read_table(path, filters=[("pseudonym", "=", pseudonym)])
        if table.num_rows == 0:
            return None
        version = pseudonym.split(".")[1] if pseudonym.count(".") >= 2 else self.keystore.version
        row = table.filter(pc.equal(table["pseudonym"], pseudonym)).to_pylist()[0]
        plain = self._aead(version).decrypt(row["nonce"], row["ciphertext"], f"{domain}|{pseudonym}".encode())
        return plain.decode()
