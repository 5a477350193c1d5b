"""The registers of data subjects' rights: restrictions of processing (AVG art. 18) and erased pseudonyms (art. 17).

Both hold linkage pseudonyms and request references only, never an identifier, in JSON files under the hub's access
folder, rewritten atomically (temporary file, then rename) under an exclusive lock so two officers never lose each
other's change. Readers: the route back (`reidentify` refuses a restricted pseudonym), publication (leaves restricted
persons' rows out), and the privacy boundary (leaves erased persons' rows of non-registry sources out of every new
delivery, and keeps their identifiers out of the vault).
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESTRICTIONS = "subject_restrictions.json"
SUPPRESSION = "erasure_suppression.json"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


def _write(path: Path, items: list[dict[str, Any]]) -> None:
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}"
    tmp.write_text(json.dumps(items, indent=1, ensure_ascii=False), encoding="utf-8")
    os.chmod(tmp, 0o640)
    os.replace(tmp, path)


@dataclass
class Restriction:
    pseudonym: str
    request: str
    officer: str
    reason: str
    since: str
    lifted_at: str | None = None
    lifted_by: str | None = None
    lifted_request: str | None = None


class RestrictionRegister:
    """Linkage pseudonyms whose processing is restricted, with the request that restricted them."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / RESTRICTIONS

    def all(self) -> list[Restriction]:
        return [Restriction(**r) for r in _read(self.path)]

    def active(self, pseudonym: str) -> Restriction | None:
        for r in self.all():
            if r.pseudonym == pseudonym and r.lifted_at is None:
                return r
        return None

    def restricted(self) -> frozenset[str]:
        return frozenset(r.pseudonym for r in self.all() if r.lifted_at is None)

    def add(self, pseudonym: str, *, request: str, officer: str, reason: str) -> Restriction:
        """Restrict a pseudonym (again, under a new request, if it already is: each request is kept)."""
        with _locked(self.path):
            items = _read(self.path)
            restriction = Restriction(pseudonym, request, officer, reason, _now())
            items.append(asdict(restriction))
            _write(self.path, items)
        return restriction

    def lift(self, pseudonym: str, *, request: str, officer: str) -> int:
        """Lift every active restriction of a pseudonym; returns how many were lifted (the entries stay, dated)."""
        with _locked(self.path):
            items = _read(self.path)
            n = 0
            for r in items:
                if r["pseudonym"] == pseudonym and r["lifted_at"] is None:
                    r.update(lifted_at=_now(), lifted_by=officer, lifted_request=request)
                    n += 1
            _write(self.path, items)
        return n


class SuppressionList:
    """Pseudonyms of erased persons: their rows of non-registry sources and their identifiers must not come back."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / SUPPRESSION

    def pseudonyms(self) -> frozenset[str]:
        return frozenset(p for item in _read(self.path) for p in item["pseudonyms"])

    def add(self, pseudonyms: list[str], *, request: str, officer: str, ground: str) -> None:
        with _locked(self.path):
            items = _read(self.path)
            items.append(
                {
                    "pseudonyms": sorted(set(pseudonyms)),
                    "request": request,
                    "officer": officer,
                    "ground": ground,
                    "since": _now(),
                }
            )
            _write(self.path, items)
