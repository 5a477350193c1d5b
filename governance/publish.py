"""Publication per purpose: a dataset holding only the columns and rows the purpose allows, with its own pseudonyms.

For each purpose in the register: every column of every table the purpose lists must carry a tag in dbt's
`config.meta` (privacy class, purposes); an untagged column stops the publication, and so does a column
tagged for the purpose with a class the purpose may not see. Columns tagged for other purposes are left out. Pseudonym
columns are re-keyed for the purpose (HMAC of the linkage value under the purpose's key), so two purposes' datasets
cannot be joined. Rows are limited by the purpose's row filter. In aggregate purposes every count under the minimum
cell size is suppressed, and so is every cell that would let one be recomputed from a total, in the same table or in
another of the purpose's tables (governance/cell_suppression.py, the same rule as the programme report).

The dataset is one DuckDB file per purpose, sealed at rest with AES-256-GCM under a key derived for that purpose
(`<purpose>.duckdb.enc`): a copied file is unreadable. The access gateway unseals it into a private temporary file for
one session and opens it read-only. We chose one DuckDB file over Parquet because one file per purpose is one thing to
grant, to replace atomically and to delete at the end of its retention; we seal it ourselves because DuckDB's own
encryption needs the httpfs (OpenSSL) extension to write securely, which an offline hub cannot install. Publication
writes the new file beside the old and renames it into place: readers see the previous version until the new one is
whole.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from governance.cell_suppression import protect
from governance.purposes import Purpose, load
from pseudonymisation.keys import KeyStore
from pseudonymisation.pseudonyms import Pseudonymiser

PERSON_COLUMN = "persoon_psn"  # a person's linkage pseudonym in the warehouse, before re-keying per purpose


class PublicationRefused(RuntimeError):
    """Publication stopped by the tag policy: an untagged column, or a class the purpose may not see."""


@dataclass
class PublishedTable:
    name: str
    columns: list[str]
    rows: int
    left_out: list[str]
    suppressed_cells: int = 0
    withheld: int = 0  # rows of persons who restricted processing (AVG art. 18)


@dataclass
class Publication:
    purpose: str
    path: Path
    tables: list[PublishedTable] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "path": str(self.path),
            "tables": {
                t.name: {
                    "rows": t.rows,
                    "columns": len(t.columns),
                    "left_out": t.left_out,
                    "suppressed_cells": t.suppressed_cells,
                }
                for t in self.tables
            },
        }


def column_tags(manifest: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """model name -> column -> meta (privacy_class, purposes), from dbt's manifest."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for node in manifest["nodes"].values():
        if node.get("resource_type") != "model":
            continue
        cols = {}
        for name, col in node.get("columns", {}).items():
            meta = (col.get("config") or {}).get("meta") or col.get("meta") or {}
            if meta:
                cols[name] = meta
        out[node["name"]] = cols
    return out


def dataset_key(keystore: KeyStore, purpose: str) -> bytes:
    return keystore.derive(f"dataset/{purpose}")


def seal(plain: Path, sealed: Path, keystore: KeyStore, purpose: str) -> None:
    """AES-256-GCM of the whole file: nonce (12 bytes) + ciphertext, with the purpose as associated data."""
    nonce = os.urandom(12)
    data = AESGCM(dataset_key(keystore, purpose)).encrypt(nonce, plain.read_bytes(), purpose.encode())
    fd = os.open(sealed, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as f:
        f.write(nonce + data)


@contextmanager
def unsealed(sealed: Path, keystore: KeyStore, purpose: str) -> Iterator[Path]:
    """A private plain copy of a sealed dataset for the length of the block (checks, reports, access requests)."""
    with tempfile.TemporaryDirectory(prefix="rgw-unsealed-") as d:
        plain = Path(d) / f"{purpose}.duckdb"
        unseal(sealed, plain, keystore, purpose)
        yield plain


def unseal(sealed: Path, plain: Path, keystore: KeyStore, purpose: str) -> None:
    blob = sealed.read_bytes()
    data = AESGCM(dataset_key(keystore, purpose)).decrypt(blob[:12], blob[12:], purpose.encode())
    fd = os.open(plain, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def plan_table(
    purpose: Purpose, table: str, columns: list[str], tags: dict[str, dict[str, Any]]
) -> tuple[list[str], list[str]]:
    """(columns to publish, columns left out); raises PublicationRefused where the tag policy does not hold."""
    untagged = [c for c in columns if c not in tags]
    if untagged:
        raise PublicationRefused(
            f"{purpose.id}: {table} has untagged columns {untagged}; tag them in dbt "
            f"(config.meta: privacy_class, purposes) before publishing"
        )
    keep, left = [], []
    for c in columns:
        meta = tags[c]
        if purpose.id not in meta.get("purposes", []):
            left.append(c)
            continue
        if meta.get("privacy_class") not in purpose.privacy_classes:
            raise PublicationRefused(
                f"{purpose.id}: {table}.{c} is tagged {meta.get('privacy_class')!r}, a class this "
                f"purpose may not see (allowed: {purpose.privacy_classes})"
            )
        keep.append(c)
    return keep, left


def publish(
    purpose_id: str,
    warehouse: Path,
    published_root: Path,
    manifest: dict[str, Any],
    keystore: KeyStore,
    *,
    restricted: Collection[str],
) -> Publication:
    """Publish one purpose's dataset. `restricted`: linkage pseudonyms of persons who restricted processing (AVG art.
    18, governance/restrictions.py); rows whose `persoon_psn` is one of them are left out of every table, counted in
    `PublishedTable.withheld` (not in the dataset's own summary, which its readers see). Required, so no caller can
    forget the register (fail closed)."""
    purpose = load().get(purpose_id)
    tags = column_tags(manifest)
    target_dir = published_root / purpose.id
    target_dir.mkdir(parents=True, exist_ok=True)
    final = target_dir / f"{purpose.id}.duckdb.enc"
    tmp = target_dir / f".{purpose.id}.{uuid.uuid4().hex}.duckdb"
    publication = Publication(purpose.id, final)
    src = duckdb.connect(str(warehouse), read_only=True)
    out = duckdb.connect()
    try:
        out.execute(f"attach '{tmp}' as ds")
        re_key = Pseudonymiser(keystore, "entiteit", purpose=purpose.id)
        src.register("restricted_persons", pa.table({"psn": pa.array(sorted(restricted), pa.string())}))
        planned: list[tuple[str, list[str], list[str], int]] = []  # table, columns kept, left out, rows withheld
        data_by_table: dict[str, pa.Table] = {}
        for table in purpose.tables:
            columns = [r[0] for r in src.execute(f"describe {table}").fetchall()]
            keep, left = plan_table(purpose, table, columns, tags.get(table, {}))
            where = " and ".join(f"{c} {pred}" for c, pred in purpose.row_filter.items() if c in columns) or "true"
            withheld = 0
            if restricted and PERSON_COLUMN in columns:
                person = f"{PERSON_COLUMN} in (select psn from restricted_persons)"
                withheld = src.execute(f"select count(*) from {table} where ({where}) and {person}").fetchall()[0][0]
                where = f"({where}) and ({PERSON_COLUMN} is null or not {person})"
            data = src.sql(f"select {', '.join(keep)} from {table} where {where}").to_arrow_table()
            for c in keep:
                if tags[table][c].get("privacy_class") == "pseudonym":
                    # the purpose's pseudonyms as one column operation (each distinct value keyed once, in OpenSSL
                    # through numpy): `from_linkage` row by row in Python took 0.9 s CPU of the city's publications
                    data = data.set_column(data.column_names.index(c), c, re_key.rekey_array(data.column(c), 1))
            planned.append((table, keep, left, withheld))
            data_by_table[table] = data
        suppressed: dict[str, int] = {}
        if purpose.min_cell:
            counts = {t: [c for c in keep if tags[t][c].get("count")] for t, keep, _, _ in planned}
            data_by_table, suppressed = protect(purpose.id, data_by_table, counts, purpose.min_cell)
        for table, keep, left, withheld in planned:
            data = data_by_table[table]
            out.register("data_view", data)
            out.execute(f"create table ds.{table} as select * from data_view")
            out.unregister("data_view")
            publication.tables.append(
                PublishedTable(table, keep, data.num_rows, left, suppressed.get(table, 0), withheld)
            )
        out.execute(
            "create table ds._publication as select * from (values (?, ?)) t(purpose, manifest)",
            [purpose.id, json.dumps(publication.summary())],
        )
        out.execute("detach ds")
        sealed = target_dir / f".{purpose.id}.{uuid.uuid4().hex}.enc"
        seal(tmp, sealed, keystore, purpose.id)
        os.replace(sealed, final)  # readers keep the old file until this rename
    finally:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            if leftover.exists():
                leftover.unlink()
        out.close()
        src.close()
    return publication
