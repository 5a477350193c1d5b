"""Making a write survive a power cut: flush the file, and the folder that names it, to the disk.

A rename makes a write atomic for readers and for a killed process, but not for a power cut: the kernel may have
the new name on disk before the file's data, and after the cut the file comes back empty or short. So the hub's
atomic writes fsync what they wrote before they rename it in, and fsync the folder after, so the rename itself is
on disk. `RGW_FSYNC=0` turns it off for a scratch data folder (a benchmark's), never for a hub's.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def enabled() -> bool:
    return os.environ.get("RGW_FSYNC", "1") != "0"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_file(path: Path) -> None:
    """Flush a written file's data to the disk (before it is renamed into place)."""
    if enabled():
        _fsync(path)


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename into it, a file created in it) to the disk."""
    if enabled():
        _fsync(folder)


def sync_tree(root: Path) -> None:
    """Flush every file and folder under `root`, and `root` itself (a finished folder, before its rename)."""
    if not enabled():
        return
    for folder, _, files in os.walk(root):
        for name in files:
            _fsync(Path(folder) / name)
        _fsync(Path(folder))


def replace_durably(written: Path, target: Path) -> None:
    """Rename a fully written file over `target`, as readers need (old or new, whole) and a power cut needs too:
    the file flushed before the rename, the folder after it. For files a lost write cannot be rebuilt from (the key
    ring, the vault's identifiers, the registers of officers and of restrictions)."""
    sync_file(written)
    os.replace(written, target)
    sync_folder(Path(target).parent)


def write_whole(target: Path, data: bytes) -> None:
    """Write `data` to `target` so a reader (or a killed process) sees the old file or the new one, never half of
    it: written beside it under a hidden `.<name>.<uuid>.part` name, then renamed over it. No fsync: for caches,
    which a lost write only makes slower (orchestration/recovery.py removes what a killed run left in a zone)."""
    part = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    try:
        part.write_bytes(data)
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
