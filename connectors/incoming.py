"""Finding deliveries in the incoming folders: shared by the sensors, `rgw demo` and retention, so all see the same.

A delivery is a folder `incoming/<source>/<delivery_id>/` or a single file (or zip) dropped there. It counts as
ready once nothing in it changed for `settle_seconds` (registries upload over SFTP, file by file), or at once when it
holds a `_READY` marker. Its fingerprint (names, sizes, modification times) lets a sensor notice a corrected
re-delivery under the same id.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from pathlib import Path

READY_MARKER = "_READY"
_SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Delivery:
    source: str
    delivery_id: str
    path: Path
    fingerprint: str
    newest_mtime: float

    def is_settled(self, settle_seconds: float, now: float | None = None) -> bool:
        if self.path.is_dir() and (self.path / READY_MARKER).exists():
            return True
        return (now if now is not None else time.time()) - self.newest_mtime >= settle_seconds


def delivery_id_for(path: Path) -> str:
    """The partition key of a delivery: the folder name, or a file's name without its extension."""
    name = path.name if path.is_dir() else path.name.split(".")[0]
    return _SAFE_ID.sub("-", name).strip("-") or "delivery"


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))


def discover_deliveries(incoming: Path, source: str) -> list[Delivery]:
    """All deliveries of one source, oldest id first; hidden entries (uploads in progress) are skipped."""
    folder = incoming / source
    if not folder.is_dir():
        return []
    deliveries = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name == READY_MARKER:
            continue
        files = _files(entry)
        if not files:
            continue
        h = hashlib.sha256()
        newest = 0.0
        for f in files:
            st = f.stat()
            h.update(f"{f.relative_to(folder)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
            newest = max(newest, st.st_mtime)
        deliveries.append(Delivery(source, delivery_id_for(entry), entry, h.hexdigest()[:16], newest))
    return deliveries


def find_delivery(incoming: Path, source: str, delivery_id: str) -> Delivery:
    for d in discover_deliveries(incoming, source):
        if d.delivery_id == delivery_id:
            return d
    raise FileNotFoundError(f"no delivery {delivery_id!r} for source {source!r} under {incoming / source}")
