"""A Parquet file is written again only when its content changed (connectors/unchanged_write.py)."""

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.delivery import write_parquet_atomic
from connectors.unchanged_write import content_digest, write_parquet_if_changed


def _state(path):
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


def test_the_same_rows_are_not_written_again_and_any_change_is(tmp_path):
    path = tmp_path / "links.parquet"
    table = pa.table({"key": ["a", "b", None], "value": [1.0, None, 3.0]})
    assert write_parquet_if_changed(table, path)
    before = _state(path)
    same = pa.table({"key": ["a", "b", None], "value": [1.0, None, 3.0]}).replace_schema_metadata({"x": "y"})
    assert not write_parquet_if_changed(same, path) and _state(path) == before
    assert pq.read_table(path).equals(table)
    for changed in (
        pa.table({"key": ["a", "b", None], "value": [1.0, None, 3.5]}),  # a value
        pa.table({"key": ["b", "a", None], "value": [None, 1.0, 3.0]}),  # the order of the rows
        pa.table({"key": ["a", "b", None], "value": [1.0, None, None]}),  # a value gone
        pa.table({"key": ["a", "b", None, "c"], "value": [1.0, None, 3.0, 4.0]}),  # a row more
        pa.table({"key": ["a", "b", None], "other": [1.0, None, 3.0]}),  # a column renamed
    ):
        assert content_digest(changed) != content_digest(table)
        assert write_parquet_if_changed(changed, path) and pq.read_table(path).equals(changed)
        assert write_parquet_if_changed(table, path) and pq.read_table(path).equals(table)


def test_a_file_written_without_a_digest_is_written_again(tmp_path):
    path = tmp_path / "links.parquet"
    table = pa.table({"key": ["a"]})
    write_parquet_atomic(table, path)
    assert write_parquet_if_changed(table, path)
    assert not write_parquet_if_changed(table, path)
