"""The access register: who may act under which purpose until when, granted by whom, and whether they
acknowledged the purpose's statement. Every change is also an audit record, so the register's history can be
rebuilt from the hash-chained log even if the register file were edited.

Several processes use the register at once (queries check it, the officer changes it). A check only reads: the file
is always replaced whole (a private temporary file, fsync, rename), so a reader sees the old or the new register,
never half of one. A change reads, modifies and writes under an exclusive lock on `grants.json.lock`, so two changes
never overwrite each other. The audit record of a change is written before the register: a change whose record
cannot be written does not happen.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from governance.purposes import load
from pseudonymisation.audit import AuditLog
from pseudonymisation.grants import AccessDenied, Officer, require_officer  # beside the route back, raised here too


@dataclass
class Grant:
    user: str
    purpose: str
    until: str  # ISO date, inclusive
    granted_by: str
    granted_at: str
    revoked_at: str | None = None
    revoked_by: str | None = None
    acknowledged_at: str | None = None
    last_used: str | None = None

    def valid_on(self, day: date) -> bool:
        return self.revoked_at is None and date.fromisoformat(self.until) >= day


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class RegisterError(ValueError):
    """The register file cannot be read; it names the file and what is wrong (callers refuse, fail closed)."""


class GrantRegister:
    def __init__(self, path: Path, audit: AuditLog):
        self.path = Path(path)
        self.audit = audit

    def all(self) -> list[Grant]:
        if not self.path.exists():
            return []
        text = self.path.read_text(encoding="utf-8")
        try:
            return [Grant(**g) for g in json.loads(text)]
        except (json.JSONDecodeError, TypeError) as exc:
            raise RegisterError(f"{self.path}: the access register cannot be read ({exc}); restore it") from exc

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """An exclusive lock for one read-modify-write of the register (a lock file, so renames do not lose it)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _save(self, grants: list[Grant]) -> None:
        """Replace the register whole: a private temporary file beside it, fsync, rename, fsync the folder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(json.dumps([asdict(g) for g in grants], indent=2))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def _change(self, event: dict[str, Any], grants: list[Grant]) -> None:
        """Log the change, then save it (under the caller's lock): no change without its audit record. Should the
        save fail after the record was written (disk full), a second record says the change did not take."""
        self.audit.append(event)
        try:
            self._save(grants)
        except OSError as exc:
            self.audit.append({**event, "outcome": "not saved", "reason": f"{type(exc).__name__}: {exc}"})
            raise

    def grant(self, user: str, purpose: str, until: date, by: Officer) -> Grant:
        """`by`: the verified privacy officer (governance.officers.OfficerRegister.verify); a typed name is refused."""
        by = require_officer(by, "granting")
        load().get(purpose)  # an unknown purpose is refused with the list of known ones
        if until < datetime.now(UTC).date():
            raise ValueError(f"a grant until {until} would already have expired")
        with self._locked():
            grants = [g for g in self.all() if not (g.user == user and g.purpose == purpose and g.revoked_at is None)]
            g = Grant(user, purpose, until.isoformat(), by, _now())
            self._change(
                {"action": "grant", "user": user, "purpose": purpose, "until": g.until, "by": by}, [*grants, g]
            )
        return g

    def revoke(self, user: str, purpose: str, by: Officer) -> int:
        by = require_officer(by, "revoking")
        with self._locked():
            grants = self.all()
            n = 0
            for g in grants:
                if g.user == user and g.purpose == purpose and g.revoked_at is None:
                    g.revoked_at, g.revoked_by = _now(), by
                    n += 1
            self._change({"action": "revoke", "user": user, "purpose": purpose, "by": by, "revoked": n}, grants)
        return n

    def acknowledge(self, user: str, purpose: str) -> Grant:
        statement = load().get(purpose).statement
        with self._locked():
            grants = self.all()
            g = self._current(grants, user, purpose)
            g.acknowledged_at = _now()
            self._change({"action": "acknowledge", "user": user, "purpose": purpose, "statement": statement}, grants)
        return g

    def _current(self, grants: list[Grant], user: str, purpose: str) -> Grant:
        mine = [g for g in grants if g.user == user and g.purpose == purpose]
        if not mine:
            raise AccessDenied(
                f"{user} holds no grant for purpose {purpose!r}; ask the privacy officer "
                f"(rgw access grant --user {user} --purpose {purpose} ...)"
            )
        return mine[-1]

    def check(self, user: str, purpose: str, *, need_acknowledgement: bool = True, touch: bool = True) -> Grant:
        """The user's valid grant for the purpose, or AccessDenied saying exactly what is missing.

        Only reads: a check that wrote (it used to stamp `last_used`) raced with the officer's changes and lost
        revocations. When a grant was last used is in the audit log; `touch` is kept for callers and ignored.
        """
        grants = self.all()
        g = self._current(grants, user, purpose)
        today = datetime.now(UTC).date()
        if g.revoked_at is not None:
            raise AccessDenied(f"{user}'s grant for {purpose!r} was revoked on {g.revoked_at[:10]} by {g.revoked_by}")
        if not g.valid_on(today):
            raise AccessDenied(f"{user}'s grant for {purpose!r} expired on {g.until}; ask for a new grant")
        if need_acknowledgement and g.acknowledged_at is None:
            raise AccessDenied(
                f"{user} has not yet acknowledged the statement of purpose {purpose!r}; run "
                f"`rgw access acknowledge --user {user} --purpose {purpose}` after reading it"
            )
        return g
