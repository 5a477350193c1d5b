"""The column lineage graph kept on disk beside the dbt manifest, per content of everything it is built from.

Building the graph (governance/column_lineage.py) parses every model's compiled SQL with sqlglot: about 0.4 s of CPU
in every `rgw run`, also when nothing it reads changed (a BRP re-delivery changes data, not code). The graph is a
function of the manifest, of the configuration it reads (the pseudonymisation policy, the purposes register, the
column tags) and of the code that derives it (this package, the policy's reader, the connectors' address columns) and
of sqlglot's version; all of those go into one SHA-256, and the graph is kept under it in one file beside the
manifest (`dbt_project/target/`, which `make install` writes and git ignores). A different digest builds the graph
again and replaces the file; a file that cannot be read is built again too, so the cache can only save time.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from contextlib import suppress
from importlib.metadata import version
from pathlib import Path
from typing import TypeVar

from hubcore.dbt_manifest import MANIFEST
from hubcore.durable import write_whole
from hubcore.paths import REPO_ROOT

T = TypeVar("T")
KEPT = MANIFEST.with_name("column_lineage.pickle")
# Everything the graph is derived from besides the manifest: its code and the configuration it reads.
_INPUT_FOLDERS = ("governance", "pseudonymisation", "connectors", "hubcore")
_INPUT_SUFFIXES = (".py", ".yaml", ".yml")


def inputs_digest(manifest_json: str) -> str:
    """SHA-256 of the manifest, the code and configuration the graph is built from, and sqlglot's version."""
    digest = hashlib.sha256(manifest_json.encode("utf-8"))
    digest.update(f"sqlglot {version('sqlglot')}".encode())
    for folder in _INPUT_FOLDERS:
        for path in sorted((REPO_ROOT / folder).rglob("*")):
            if path.suffix in _INPUT_SUFFIXES and "__pycache__" not in path.parts and path.is_file():
                digest.update(str(path.relative_to(REPO_ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def kept(manifest_json: str, make: Callable[[], T], path: Path = KEPT) -> T:
    """`make()`, read from `path` when it was kept there for the same inputs, else made and kept."""
    digest = inputs_digest(manifest_json)
    try:
        with path.open("rb") as f:
            kept_digest, value = pickle.load(f)
        if kept_digest == digest:
            return value
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ValueError, TypeError, ImportError):
        pass  # none kept, or unreadable: made again below
    value = make()
    with suppress(OSError):  # a read-only checkout or a full disk: the graph is still right, only not kept
        write_whole(path, pickle.dumps((digest, value), protocol=pickle.HIGHEST_PROTOCOL))
    return value
