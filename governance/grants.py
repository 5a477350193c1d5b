"""The access register: who may act under which purpose until when, granted by whom, and whether they
acknowledged the purpose's statement. Every change is also an audit record, so the register's history can be
rebuilt from the hash-chained log even if the register file were edited.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from governance.purposes import load
from pseudonymisation.audit import AuditLog

if TYPE_CHECKING:
    from governance.officers import Officer


class AccessDenied(PermissionError):
    """A refusal with a message the user can act on."""


def require_officer(by: Officer, act: str) -> str:
    from governance.officers import require_officer as officer_name

    return officer_name(by, act)


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


class GrantRegister:
    def __init__(self, path: Path, audit: AuditLog):
        self.path = Path(path)
        self.audit = audit

    def all(self) -> list[Grant]:
        if not self.path.exists():
            return []
        return [Grant(**g) for g in json.loads(self.path.read_text(encoding="utf-8"))]

    def _save(self, grants: list[Grant]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps([asdict(g) for g in grants], indent=2), encoding="utf-8")
        os.replace(tmp, self.path)

    def grant(self, user: str, purpose: str, until: date, by: Officer) -> Grant:
        """`by`: the verified privacy officer (governance.officers.OfficerRegister.verify); a typed name is refused."""
        by = require_officer(by, "granting")
        load().get(purpose)  # an unknown purpose is refused with the list of known ones
        if until < datetime.now(UTC).date():
            raise ValueError(f"a grant until {until} would already have expired")
        grants = [g for g in self.all() if not (g.user == user and g.purpose == purpose and g.revoked_at is None)]
        g = Grant(user, purpose, until.isoformat(), by, _now())
        self._save([*grants, g])
        self.audit.append({"action": "grant", "user": user, "purpose": purpose, "until": g.until, "by": by})
        return g

    def revoke(self, user: str, purpose: str, by: Officer) -> int:
        by = require_officer(by, "revoking")
        grants = self.all()
        n = 0
        for g in grants:
            if g.user == user and g.purpose == purpose and g.revoked_at is None:
                g.revoked_at, g.revoked_by = _now(), by
                n += 1
        self._save(grants)
        self.audit.append({"action": "revoke", "user": user, "purpose": purpose, "by": by, "revoked": n})
        return n

    def acknowledge(self, user: str, purpose: str) -> Grant:
        grants = self.all()
        g = self._current(grants, user, purpose)
        g.acknowledged_at = _now()
        self._save(grants)
        self.audit.append(
            {"action": "acknowledge", "user": user, "purpose": purpose, "statement": load().get(purpose).statement}
        )
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
        """The user's valid grant for the purpose, or AccessDenied saying exactly what is missing."""
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
        if touch:
            g.last_used = _now()
            self._save(grants)
        return g
