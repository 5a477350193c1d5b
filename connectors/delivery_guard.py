"""What a delivery may not do to the hub before any connector reads it: reach outside itself or blow up in size.

Deliveries come from outside (SFTP drops by registries and corporations), so a hostile or broken one is checked once,
for every source, before its connector opens a file:

- a symbolic link that resolves outside the delivery (to `/etc/passwd`, to the key folder, to another source's raw
  zone) is refused, not followed; links that stay inside the delivery are read as the files they point to. A delivery
  that is itself a link is refused too: the registries drop files, not links;
- a zip member whose name leaves the folder it would be unpacked into (`../`, an absolute path, a drive letter) is
  refused, whether or not a connector would ever unpack it;
- a zip member that declares it expands far beyond its compressed size (a zip bomb: a gigabyte of whitespace in a
  few megabytes) is refused before a byte of it is decompressed. Python's zipfile stops a member at its declared
  size and checks its CRC, so a member that lies about its size fails on reading instead of expanding unbounded.
  Zips nested one level inside a zip (LVBAG national extracts) are checked the same way.

A refusal is a DeliveryError naming the file and the member or link, so the operator sees what to send back.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path, PurePosixPath

from connectors.delivery import DeliveryError

# Real LVBAG XML compresses about 15-30x and CSV about 5-10x; whitespace or repeated bytes compress up to 1000x.
MAX_EXPANSION_RATIO = 200
BOMB_MIN_BYTES = 32 * 1024 * 1024  # below this, a high ratio cannot hurt: small members are never refused for it
MAX_NESTED_ZIP_BYTES = 512 * 1024 * 1024  # inner zips larger than this are not opened twice (the reader streams)


def check_delivery(path: Path) -> None:
    """Refuse a delivery (file or folder) with a link out of it, an escaping zip member or a zip bomb."""
    path = Path(path)
    if path.is_symlink():
        raise DeliveryError(path, "the delivery itself", f"is a symbolic link (to {os.readlink(path)}): not followed")
    if not path.exists():
        return  # the connector reports a missing path in its own words
    root = path.resolve()
    if path.is_dir():
        for folder, dirs, files in os.walk(path, followlinks=False):
            for name in sorted(dirs + files):
                entry = Path(folder) / name
                if entry.is_symlink():
                    _check_link(entry, root)
            for name in sorted(files):
                if name.lower().endswith(".zip"):
                    check_zip(Path(folder) / name)
    elif path.name.lower().endswith(".zip"):
        check_zip(path)


def _check_link(entry: Path, root: Path) -> None:
    target = entry.resolve()
    if target != root and root not in target.parents:
        raise DeliveryError(
            entry, "symbolic link", f"points to {os.readlink(entry)}, outside the delivery: refused, not followed"
        )


def _escapes(name: str) -> bool:
    normal = name.replace("\\", "/")
    if normal.startswith("/") or (len(normal) > 1 and normal[1] == ":"):
        return True
    return ".." in PurePosixPath(normal).parts


def _check_members(zf: zipfile.ZipFile, where: Path, prefix: str = "") -> list[zipfile.ZipInfo]:
    nested = []
    for info in zf.infolist():
        member = f"{prefix}{info.filename}"
        if _escapes(info.filename):
            raise DeliveryError(where, f"zip member {member!r}", "its name leaves the delivery folder: refused")
        if info.file_size > BOMB_MIN_BYTES and info.file_size > MAX_EXPANSION_RATIO * max(info.compress_size, 1):
            raise DeliveryError(
                where,
                f"zip member {member!r}",
                f"expands {info.file_size:,} bytes from {info.compress_size:,} "
                f"(more than {MAX_EXPANSION_RATIO}x): a zip bomb, refused",
            )
        if info.filename.lower().endswith(".zip") and info.file_size <= MAX_NESTED_ZIP_BYTES:
            nested.append(info)
    return nested


def check_zip(path: Path) -> None:
    """Member names and expansion of one zip and of the zips nested in it (one level)."""
    try:
        with zipfile.ZipFile(path) as zf:
            for info in _check_members(zf, path):
                try:
                    with zf.open(info) as stream, zipfile.ZipFile(stream) as inner:
                        _check_members(inner, path, prefix=f"{info.filename}/")
                except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError):
                    continue  # the reader names an unreadable inner zip in its own words
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError):
        return  # not a readable zip: the connector reports it with the place
