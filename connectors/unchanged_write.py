"""Writing a Parquet file only when its content changed, recognised by a digest kept in the file's own footer.

A BRP re-delivery that corrects names rebuilds linkage/address_links.parquet (two million rows at city scale) with
the very rows it held. Writing it again costs the write, and the file's new modification time costs more after it:
the checks kept per file state (linkage.truth_cache.kept_figures) and the privacy report's identifier scan cache
see a new file. So the table's digest is written into the file's schema metadata and compared before the next write;
reading it is reading the footer. The digest is DuckDB's 64-bit hash of every row with its position, summed and
xor-ed (128 bits), with the schema: two different tables share it with a chance of about 2^-64, the odds the
records' fingerprints already take (linkage.link_rows.FINGERPRINTED).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from connectors.delivery import write_parquet_atomic

DIGEST_KEY = b"rgw.content_digest"


def content_digest(table: pa.Table) -> str:
    """A digest of the table's schema and of every row in its order (not of its metadata)."""
    con = duckdb.connect()
    try:
        con.register("t", table.append_column("__row", pa.array(np.arange(table.num_rows, dtype=np.int64))))
        columns = ", ".join('"' + c.replace('"', '""') + '"' for c in table.column_names)
        count, total, xor = con.execute(
            f"select count(*), sum(h), bit_xor(h) from (select hash(__row, {columns}) as h from t)"
        ).fetchone()
    finally:
        con.close()
    schema = table.schema.remove_metadata().to_string()
    return hashlib.sha256(f"{schema}|{count}|{total}|{xor}".encode()).hexdigest()[:32]


def write_parquet_if_changed(table: pa.Table, path: Path) -> bool:
    """Write `table` to `path` (atomically, with its digest) unless the file there holds the same content already;
    True when it was written. A file without a digest (written otherwise) or unreadable is written again."""
    digest = content_digest(table).encode()
    if path.exists():
        try:
            kept = (pq.read_schema(path).metadata or {}).get(DIGEST_KEY)
        except (OSError, pa.ArrowInvalid):
            kept = None
        if kept == digest:
            return False
    write_parquet_atomic(table.replace_schema_metadata({**(table.schema.metadata or {}), DIGEST_KEY: digest}), path)
    return True
