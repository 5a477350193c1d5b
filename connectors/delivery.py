"""The contract every connector keeps: clean rows, quarantined rows with a reason, counts that reconcile.

A connector reads one delivery (a file or a folder of files) and returns a `DeliveryResult`: per entity (BAG has
NUM, VBO, PND...; the corporations have eenheden, contracts and tenants) an `EntityBatch` whose records either landed
clean or went to quarantine with a reason naming the field. Rows are written to Parquet in batches while reading, so
memory stays bounded on national-size extracts. A file that cannot be read at all raises `DeliveryError` naming the
file and the place; nothing is landed then, because `land_delivery` only moves a finished staging folder into place.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.overlapped_writer import OverlappedWriter
from hubcore.durable import sync_file, sync_folder, sync_tree

QUARANTINE_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("record_ref", pa.string()),
        ("field", pa.string()),
        ("reason_code", pa.string()),
        ("reason", pa.string()),
        ("raw_record", pa.string()),
    ]
)


# One field limit for every CSV reader of the hub. Python's csv module stops at 128 KiB per field with csv.Error; a
# delivered field can be longer (a free-text report pasted whole), and such a record should be read and judged by its
# field checks, not end the delivery. Beyond 16 MiB a field is not text a registry sends: HubCsv and the other readers
# turn the csv.Error into a DeliveryError naming the line.
MAX_CSV_FIELD_BYTES = 16 * 1024 * 1024
csv.field_size_limit(MAX_CSV_FIELD_BYTES)


class DeliveryError(Exception):
    """A delivery that cannot be read: names the file, the place in it (line, record, element) and the field."""

    def __init__(self, file: str | os.PathLike[str], place: str, message: str, field: str | None = None):
        self.file = str(file)
        self.place = place
        self.field = field
        self.message = message
        where = f"{self.file}, {place}" + (f", field {field!r}" if field else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class SchemaDrift:
    """A difference between the columns a delivery has and the columns the connector expects."""

    kind: str  # "missing", "extra" or "renamed"
    column: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind} column {self.column!r}" + (f" ({self.detail})" if self.detail else "")


def detect_drift(
    found: Iterable[str], expected: Iterable[str], renames: dict[str, str] | None = None
) -> list[SchemaDrift]:
    """Compare a header with the expected columns; `renames` maps known alternative names to the expected ones.

    A known alternative (Stedin's SJA_ for SJV_) is reported as `renamed`, not as missing plus extra.
    """
    renames = renames or {}
    found_list = list(found)
    expected_set = set(expected)
    drift: list[SchemaDrift] = []
    seen_expected: set[str] = set()
    for col in found_list:
        if col in expected_set:
            seen_expected.add(col)
        elif renames.get(col) in expected_set:
            seen_expected.add(renames[col])
            drift.append(SchemaDrift("renamed", renames[col], f"delivered as {col!r}"))
        else:
            drift.append(SchemaDrift("extra", col))
    drift.extend(SchemaDrift("missing", col) for col in expected if col not in seen_expected)
    return drift


@dataclass
class EntityBatch:
    """One entity of one delivery, after validation: where its clean and quarantined rows are, and the counts."""

    name: str
    records_in: int
    clean_rows: int
    quarantined_rows: int
    clean_path: Path
    quarantine_path: Path
    schema: pa.Schema

    @property
    def reconciles(self) -> bool:
        return self.records_in == self.clean_rows + self.quarantined_rows

    def read_clean(self) -> pa.Table:
        return pq.read_table(self.clean_path)

    def read_quarantine(self) -> pa.Table:
        return pq.read_table(self.quarantine_path)


@dataclass
class DeliveryResult:
    """Everything one connector made of one delivery."""

    source: str
    delivery_id: str
    files: list[str]
    entities: dict[str, EntityBatch]
    drift: list[SchemaDrift] = field(default_factory=list)
    staging_dir: Path | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            name: {"in": b.records_in, "clean": b.clean_rows, "quarantined": b.quarantined_rows}
            for name, b in self.entities.items()
        }


class EntityCollector:
    """Collects one entity's rows while a connector reads, flushing to Parquet every `batch_rows` rows.

    `add` takes a validated row (a dict with the schema's fields); `quarantine` takes the raw record and the reason.
    Duplicates are caught on `key_fields` when given: the first occurrence lands, later ones go to quarantine.
    """

    def __init__(
        self,
        name: str,
        schema: pa.Schema,
        staging_dir: Path,
        key_fields: tuple[str, ...] | None = None,
        batch_rows: int = 50_000,
    ):
        self.name = name
        self.schema = schema
        self.key_fields = key_fields
        self.batch_rows = batch_rows
        self.clean_path = staging_dir / f"{name}.parquet"
        self.quarantine_path = staging_dir / f"{name}.quarantine.parquet"
        self._rows: list[dict[str, Any]] = []
        self._quarantine: list[dict[str, Any]] = []
        self._writer = OverlappedWriter(self.clean_path, schema, compression="zstd")  # writes beside the reading
        self._qwriter = pq.ParquetWriter(self.quarantine_path, QUARANTINE_SCHEMA, compression="zstd")
        self._seen: set[tuple[Any, ...]] = set()
        self.records_in = 0
        self.clean_rows = 0
        self.quarantined_rows = 0

    def add(self, row: dict[str, Any], *, file: str = "", record_ref: str = "", raw: Any = None) -> bool:
        """Add a validated row; returns False (and quarantines it) when its key was seen before."""
        self.records_in += 1
        if self.key_fields:
            key = tuple(row.get(k) for k in self.key_fields)
            if key in self._seen:
                self._quarantine_row(
                    file,
                    record_ref,
                    ",".join(self.key_fields),
                    "duplicate",
                    f"duplicate of an earlier record with {dict(zip(self.key_fields, key, strict=True))}",
                    raw if raw is not None else row,
                )
                return False
            self._seen.add(key)
        self._rows.append(row)
        self.clean_rows += 1
        if len(self._rows) >= self.batch_rows:
            self._flush()
        return True

    def add_table(self, table: pa.Table) -> None:
        """Add rows already validated and de-duplicated in bulk (e.g. by a DuckDB pass), counting each as a record."""
        self._flush()
        table = table.select(self.schema.names).cast(self.schema)
        self._writer.write_table(table)
        self.records_in += table.num_rows
        self.clean_rows += table.num_rows

    def quarantine(self, *, file: str, record_ref: str, field: str, reason_code: str, reason: str, raw: Any) -> None:
        """Send one input record to quarantine with the field and the reason it failed."""
        self.records_in += 1
        self._quarantine_row(file, record_ref, field, reason_code, reason, raw)

    def _quarantine_row(self, file: str, record_ref: str, field: str, reason_code: str, reason: str, raw: Any) -> None:
        raw_text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, default=str)
        self._quarantine.append(
            {
                "file": file,
                "record_ref": record_ref,
                "field": field,
                "reason_code": reason_code,
                "reason": reason,
                "raw_record": raw_text,
            }
        )
        self.quarantined_rows += 1
        if len(self._quarantine) >= self.batch_rows:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=self.schema))
            self._rows = []
        if self._quarantine:
            self._qwriter.write_table(pa.Table.from_pylist(self._quarantine, schema=QUARANTINE_SCHEMA))
            self._quarantine = []

    def finish(self) -> EntityBatch:
        self._flush()
        self._writer.close()
        self._qwriter.close()
        self._seen.clear()
        return EntityBatch(
            name=self.name,
            records_in=self.records_in,
            clean_rows=self.clean_rows,
            quarantined_rows=self.quarantined_rows,
            clean_path=self.clean_path,
            quarantine_path=self.quarantine_path,
            schema=self.schema,
        )

    def abort(self) -> None:
        """Close the writers without caring for their content (the staging folder is removed by the caller)."""
        self._writer.abort()
        with contextlib.suppress(Exception):  # best effort on a folder that is being thrown away
            self._qwriter.close()


class Staging:
    """A private folder a connector writes into; removed again when reading fails.

    Use as a context manager: `with Staging(staging_root) as dir: ...`. On an exception the folder is deleted and
    the exception goes on, so a failed read leaves nothing behind.
    """

    def __init__(self, root: Path | None = None):
        self.root = root
        self.path: Path | None = None

    def __enter__(self) -> Path:
        if self.root is not None:
            self.root.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix="staging-", dir=self.root))
        return self.path

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None and self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)


def source_folders(zone: Path) -> list[Path]:
    """The source folders of a zone (raw, landing, incoming), hidden ones left out."""
    return sorted(p for p in Path(zone).glob("*") if p.is_dir() and not p.name.startswith("."))


def write_parquet_atomic(table: pa.Table, path: Path) -> None:
    """Write a Parquet file beside its place and rename it in: readers see the old file or the new one, whole.

    The file is flushed to the disk before the rename and the folder after it, so a power cut leaves the old file
    or the new one too, not an empty one under the new name (hubcore.durable).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}"
    pq.write_table(table, tmp, compression="zstd")
    sync_file(tmp)
    os.replace(tmp, path)
    sync_folder(path.parent)


def delivery_folders(zone: Path, source: str) -> list[Path]:
    """The delivery folders of one source in a zone (raw, landing), oldest first: delivery ids sort by date, and
    hidden folders (a landing being written) do not count."""
    return sorted(p for p in (Path(zone) / source).glob("*") if p.is_dir() and not p.name.startswith("."))


def latest_delivery(zone: Path, source: str) -> Path | None:
    """The newest delivery folder of one source in a zone, as staging reads it (`latest_delivery` in dbt's macros)."""
    folders = delivery_folders(zone, source)
    return folders[-1] if folders else None


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def land_delivery(result: DeliveryResult, zone_root: Path) -> Path:
    """Move a finished delivery into `zone_root/<source>/<delivery_id>/` in one rename.

    Readers see either the previous landing of this delivery or the new one, never a half-written folder. A
    manifest records the files, counts and drift, so reconciliation can be checked without re-reading the input.
    """
    if result.staging_dir is None:
        raise ValueError("this result has no staging folder to land")
    for batch in result.entities.values():
        if not batch.reconciles:
            raise ValueError(
                f"{result.source}/{batch.name}: {batch.records_in} records in but "
                f"{batch.clean_rows} clean + {batch.quarantined_rows} quarantined"
            )
    try:
        return _land(result, zone_root)
    except BaseException:
        if result.staging_dir is not None and result.staging_dir.parent.name == ".staging":
            shutil.rmtree(result.staging_dir, ignore_errors=True)  # e.g. the disk filled up writing the manifest
        raise


def _land(result: DeliveryResult, zone_root: Path) -> Path:
    manifest = {
        "source": result.source,
        "delivery_id": result.delivery_id,
        "files": result.files,
        "counts": result.counts(),
        "drift": [{"kind": d.kind, "column": d.column, "detail": d.detail} for d in result.drift],
        "info": result.info,
    }
    (result.staging_dir / "_manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    sync_tree(result.staging_dir)  # on the disk before it is renamed in, so a power cut cannot leave it half there
    target = zone_root / result.source / result.delivery_id
    target.parent.mkdir(parents=True, exist_ok=True)
    # Same filesystem rename keeps it atomic: stage beside the target, then swap.
    staged = target.parent / f".incoming-{uuid.uuid4().hex}"
    shutil.move(str(result.staging_dir), staged)
    old = None
    if target.exists():
        old = target.parent / f".old-{uuid.uuid4().hex}"
        os.rename(target, old)
    os.rename(staged, target)
    sync_folder(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    result.staging_dir = target
    for batch in result.entities.values():
        batch.clean_path = target / batch.clean_path.name
        batch.quarantine_path = target / batch.quarantine_path.name
    return target
