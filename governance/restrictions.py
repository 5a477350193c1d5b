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

from governance.grants import AccessDenied
from hubcore.durable import replace_durably

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
    replace_durably(tmp, path)


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
    carried_to: str | None = None  # after a key rotation: the same person's pseudonym under the new version

    @property
    def version(self) -> str | None:
        return self.pseudonym.split(".")[1] if self.pseudonym.count(".") == 2 else None


class StaleRestrictions(AccessDenied):
    """The key was rotated and some restrictions still name only pseudonyms of an older version: refusing is the only
    safe answer until they are carried over (a person under a new pseudonym would otherwise slip through)."""


class RestrictionRegister:
    """Linkage pseudonyms whose processing is restricted, with the request that restricted them.

    With `current_version` (the key store's), reading refuses (StaleRestrictions) while an active restriction names
    only a pseudonym of an older key version: see `carry_over`.
    """

    def __init__(self, folder: Path, current_version: str | None = None):
        self.path = Path(folder) / RESTRICTIONS
        self.current_version = current_version

    def all(self) -> list[Restriction]:
        return [Restriction(**r) for r in _read(self.path)]

    def _active(self) -> list[Restriction]:
        active = [r for r in self.all() if r.lifted_at is None]
        if self.current_version:
            stale = [r for r in active if r.version != self.current_version and r.carried_to is None]
            if stale:
                raise StaleRestrictions(
                    f"{len(stale)} restriction(s) name pseudonyms of key version {stale[0].version}, not of the "
                    f"current {self.current_version}: carry them over first (rgw keys carry-over --by OFFICER)"
                )
        return active

    def active(self, pseudonym: str) -> Restriction | None:
        for r in self._active():
            if r.pseudonym == pseudonym:
                return r
        return None

    def restricted(self) -> frozenset[str]:
        return frozenset(r.pseudonym for r in self._active())

    def carry_over(self, keystore: Any, resolve: Any, *, officer: str) -> list[Restriction]:
        """After a key rotation: every active restriction of an older key version is restricted again under the
        person's pseudonym of the current version. `resolve(domain, old pseudonym)` finds the identifier (the vault;
        for an erased person, whom the vault forgot, the raw zone); it stays inside this call. Returns the new
        entries; the old ones stay, marked `carried_to`. One that cannot be resolved stays stale: reading keeps
        refusing (fail closed)."""
        from pseudonymisation.pseudonyms import Pseudonymiser, parse_pseudonym

        current, added = keystore.version, []
        with _locked(self.path):
            items = _read(self.path)
            for item in list(items):
                old = Restriction(**item)
                parsed = parse_pseudonym(old.pseudonym)
                if old.lifted_at is not None or old.carried_to or parsed is None or parsed[1] == current:
                    continue
                identifier = resolve(parsed[0], old.pseudonym)
                if identifier is None:
                    continue
                new = Restriction(
                    Pseudonymiser(keystore, parsed[0]).pseudonym(identifier),
                    old.request,
                    officer,
                    f"{old.reason} (carried over from key version {parsed[1]})",
                    _now(),
                )
                item["carried_to"] = new.pseudonym
                items.append(asdict(new))
                added.append(new)
            _write(self.path, items)
        return added

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
