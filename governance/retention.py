"""Retention: raw deliveries are deleted once they have landed and their retention has passed, and every removal is
logged. The raw zone holds plaintext identifiers; it exists only so that a landing can be re-run after a policy fix,
which takes days, so keeping less is the stronger protection (docs/privacy-design.md). The term comes from
`RGW_RAW_RETENTION_DAYS` (default 30). A delivery that has not landed is never removed: nothing is lost.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from pseudonymisation.audit import AuditLog

DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Removal:
    path: str
    age_days: float


def raw_retention_days() -> int:
    return int(os.environ.get("RGW_RAW_RETENTION_DAYS", DEFAULT_DAYS))


def apply_raw_retention(
    raw: Path, landing: Path, audit: AuditLog, days: int | None = None, now: float | None = None
) -> list[Removal]:
    """Remove raw deliveries older than `days` whose landing exists; returns what was removed (and logs it)."""
    days = raw_retention_days() if days is None else days
    now = now or time.time()
    removed: list[Removal] = []
    for folder in sorted(p for p in raw.glob("*/*") if p.is_dir() and not p.name.startswith(".")):
        source, delivery = folder.parent.name, folder.name
        manifest = folder / "_manifest.json"
        age = (now - (manifest.stat().st_mtime if manifest.exists() else folder.stat().st_mtime)) / 86400
        if age < days or not (landing / source / delivery).exists():
            continue
        shutil.rmtree(folder)
        removed.append(Removal(f"raw/{source}/{delivery}", round(age, 1)))
        audit.append(
            {
                "action": "retention",
                "removed": f"raw/{source}/{delivery}",
                "age_days": round(age, 1),
                "term_days": days,
                "reason": "landed, and past the raw zone's retention term",
            }
        )
    return removed
