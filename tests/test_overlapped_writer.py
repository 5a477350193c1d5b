"""The overlapped Parquet writer (connectors/overlapped_writer.py) writes the file a plain ParquetWriter writes, rows
in order, and a failed write still fails the read that caused it."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors.overlapped_writer import OverlappedWriter

SCHEMA = pa.schema([("n", pa.int64()), ("naam", pa.string())])


def _blocks() -> list[pa.Table]:
    return [
        pa.table({"n": list(range(i, i + 1000)), "naam": [f"rij {j}" for j in range(i, i + 1000)]}, schema=SCHEMA)
        for i in range(0, 20_000, 1000)
    ]


def test_the_file_is_the_one_a_plain_writer_writes(tmp_path):
    plain = pq.ParquetWriter(tmp_path / "plain.parquet", SCHEMA, compression="zstd")
    overlapped = OverlappedWriter(tmp_path / "overlapped.parquet", SCHEMA, compression="zstd")
    for block in _blocks():
        plain.write_table(block)
        overlapped.write_table(block)
    plain.close()
    overlapped.close()
    assert pq.read_table(tmp_path / "overlapped.parquet").equals(pq.read_table(tmp_path / "plain.parquet"))
    assert pq.ParquetFile(tmp_path / "overlapped.parquet").metadata.num_row_groups == 20


def test_a_failed_write_is_raised_in_the_caller(tmp_path):
    writer = OverlappedWriter(tmp_path / "x.parquet", SCHEMA, compression="zstd")
    writer.write_table(pa.table({"other": [1]}))  # not the file's schema: fails on the writer's thread
    with pytest.raises(ValueError, match="schema"):
        writer.close()
