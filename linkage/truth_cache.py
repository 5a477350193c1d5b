"""The synthetic ground truth's record keys in their keyed form, kept per truth file and key, for the quality checks.

The linkage checks compare the pipeline's links with the ground truth, whose BRP records are keyed by plaintext BSN
and whose Stedin records by plaintext EAN. Keying those columns again on every run (1.6 million address keys and a
million persons at city scale) was most of the checks' time in a BRP re-delivery, while neither the truth nor the
key had changed. So the keyed, de-duplicated truth is kept as Parquet in the hub's data folder
(`HubPaths.quality_cache`) and read back while the truth file and the key are the same.

What is kept holds pseudonyms, never a plaintext identifier (the same pseudonyms the landing zone holds). A file's
name carries a keyed digest (HMAC under a key derived for this cache alone) of the truth file's path, size and
modification time, the cache format and the key version, so another key (a rotation, another master secret) or a
changed truth file never reads an old entry: it is built again and replaces it. A torn or unreadable entry is
built again too.

`kept_figures` keeps a check's figures (counts and shares, nothing else) per state of the files they were computed
from: a links table a re-delivery left unchanged (not written again) is not checked again.
"""

from __future__ import annotations

import hmac
import json
import uuid
from collections.abc import Callable, Sequence
from hashlib import sha256
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.delivery import write_parquet_atomic
from hubcore.durable import replace_durably
from pseudonymisation.keys import KeyStore

CACHE_FORMAT = "1"  # raise when what a builder returns changes, so entries of the old form are never read


def entry_tag(truth_file: Path, name: str, keystore: KeyStore) -> str:
    """Names one entry: a keyed digest of what it was built from (truth file, builder name, format, key)."""
    stat = truth_file.stat()
    return _keyed_tag(f"{CACHE_FORMAT}|{name}|{truth_file.resolve()}|{stat.st_size}|{stat.st_mtime_ns}", keystore)


def _keyed_tag(text: str, keystore: KeyStore) -> str:
    """An entry's name: HMAC of what it was made from, under the current key version's key for this cache (a
    rotation names every entry anew)."""
    return hmac.new(keystore.derive("quality/truth-cache"), text.encode(), sha256).hexdigest()[:32]


def _drop_entries(cache_dir: Path, name: str, suffix: str) -> None:
    """Remove the entries of `name` made from an older state, before its new entry is written."""
    for old in cache_dir.glob(f"{name}-*{suffix}"):
        old.unlink(missing_ok=True)


def keyed_truth(
    truth_file: Path, name: str, keystore: KeyStore, cache_dir: Path | None, build: Callable[[], pa.Table]
) -> pa.Table:
    """`build()`'s table for `truth_file` under the current key: read from `cache_dir` when built before from the
    same file and key, else built and kept there (replacing the entry of an older file or key). Without a
    `cache_dir` it is always built."""
    if cache_dir is None:
        return build()
    path = cache_dir / f"{name}-{entry_tag(truth_file, name, keystore)}.parquet"
    if path.exists():
        try:
            return pq.read_table(path)
        except (OSError, pa.ArrowInvalid):
            pass  # torn or unreadable: built again below
    table = build()
    _drop_entries(cache_dir, name, ".parquet")
    write_parquet_atomic(table, path)
    return table


def _state(path: Path) -> str:
    """A file as it is now: a rewrite (a new file renamed in) changes its inode and modification time."""
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_ino}|{stat.st_size}|{stat.st_mtime_ns}"


def kept_figures(
    cache_dir: Path | None, name: str, inputs: Sequence[Path], keystore: KeyStore, compute: Callable[[], dict]
) -> dict:
    """`compute()`'s figures, read back while none of `inputs` changed since they were computed (list the code that
    computes them among the inputs, so a change to it computes them anew). The entry's name is a keyed digest of the
    inputs' states and the key version, as `entry_tag`'s; the figures must be JSON (counts and shares: no key, no
    identifier). Without a `cache_dir` they are always computed."""
    if cache_dir is None:
        return compute()
    tag = _keyed_tag("|".join([CACHE_FORMAT, name, *(_state(p) for p in inputs)]), keystore)
    path = cache_dir / f"{name}-{tag}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        pass  # none yet, or torn: computed below
    figures = compute()
    cache_dir.mkdir(parents=True, exist_ok=True)
    _drop_entries(cache_dir, name, ".json")
    written = cache_dir / f".{path.name}.{uuid.uuid4().hex}"
    written.write_text(json.dumps(figures, sort_keys=True))
    replace_durably(written, path)
    return figures
