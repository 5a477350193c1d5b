"""The hub's files belong to the hub's own system user: nobody else on the machine reads the raw zone, the vault,
the keys, the warehouse or the sealed datasets. `make serve` applies this before it starts the server: every folder
and file directly under RGW_DATA becomes owner-only, and RGW_DATA itself only searchable (0711), so the cluster's
service user can reach its own folder `postgres/` (which initdb keeps at 0700 for that user) and nothing else.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from hubcore.paths import HubPaths


def restrict_hub_files(paths: HubPaths, keep: tuple[str, ...] = ("postgres",)) -> list[Path]:
    """Owner-only modes on everything directly under the data folder except `keep`; returns what was changed."""
    changed = []
    root = paths.data
    if (root.stat().st_mode & 0o777) != 0o711:
        os.chmod(root, 0o711)
        changed.append(root)
    for entry in sorted(root.iterdir()):
        if entry.name in keep or entry.is_symlink():
            continue
        mode = entry.stat().st_mode
        wanted = 0o700 if stat.S_ISDIR(mode) else (mode & 0o700)
        if (mode & 0o777) != wanted:
            os.chmod(entry, wanted)
            changed.append(entry)
    return changed


def readable_by_others(paths: HubPaths) -> list[Path]:
    """Entries under the data folder (one level) that another account could open."""
    return [
        e
        for e in paths.data.iterdir()
        if e.name != "postgres" and not e.is_symlink() and e.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    ]
