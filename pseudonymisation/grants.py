"""Who may act under which purpose, as the route back asks it: `has_grant(user, purpose, at) -> bool`.

The route back (pseudonymisation/reidentify.py) depends only on this question, so the register behind it can
change without touching the vault or the audit. Two answers exist:

- `YamlGrants`, here: a plain YAML file (`<RGW_DATA>/access/grants.yaml`) the privacy officer edits, for a hub
  without the access register;
- governance.grants.GrantRegister, the access register with acknowledgements, revocations and an audit record per
  change. It answers through `check(user, purpose)`, which raises AccessDenied with the reason; reidentify uses
  that when it is there, so a refusal says exactly what is missing.

The YAML form:

    grants:
      - user: inspecteur1
        purpose: casusbehandeling
        from: 2026-01-01        # optional, inclusive
        until: 2026-12-31       # inclusive
        granted_by: privacy-officer
        revoked: false          # optional
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import yaml

from hubcore.paths import HubPaths


class AccessDenied(PermissionError):
    """A refusal with a message the user can act on: the route back's, and every register's (governance.grants)."""


@dataclass(frozen=True)
class Officer:
    """A verified privacy officer: only `governance.officers.OfficerRegister.verify` makes one from a matching key.
    Defined here, beside the route back that requires one, so the route back depends on no register's home."""

    name: str
    key_id: str


def require_officer(by: object, act: str) -> str:
    """The officer's name for an act that needs one; a bare string (a typed name) is refused."""
    if not isinstance(by, Officer):
        raise AccessDenied(
            f"{act} is an act of the privacy officer and needs the officer's credential "
            "(OfficerRegister.verify / --officer-key), not a name"
        )
    return by.name


@runtime_checkable
class GrantChecker(Protocol):
    """Anything that can say whether a user holds a purpose at a moment."""

    def has_grant(self, user: str, purpose: str, at: datetime) -> bool: ...


@dataclass(frozen=True)
class YamlGrant:
    user: str
    purpose: str
    until: date
    valid_from: date | None = None
    granted_by: str = ""
    revoked: bool = False

    def valid_on(self, day: date) -> bool:
        started = self.valid_from is None or self.valid_from <= day
        return not self.revoked and started and day <= self.until


def _as_date(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from exc


class YamlGrants:
    """Grants read from a YAML file on every question (the officer's edits count at once); no file, no grants."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def from_env(cls) -> YamlGrants:
        return cls(HubPaths.from_env().access / "grants.yaml")

    def __repr__(self) -> str:
        return f"YamlGrants(path={str(self.path)!r})"

    def grants(self) -> list[YamlGrant]:
        if not self.path.exists():
            return []
        try:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"{self.path}: not valid YAML ({str(exc).splitlines()[0]}); fix the file") from exc
        out = []
        for i, item in enumerate(data.get("grants") or [], start=1):
            where = f"{self.path} grant {i}"
            missing = [k for k in ("user", "purpose", "until") if k not in item]
            if missing:
                raise ValueError(f"{where}: missing {', '.join(missing)}")
            out.append(
                YamlGrant(
                    user=str(item["user"]),
                    purpose=str(item["purpose"]),
                    until=_as_date(item["until"], where),
                    valid_from=_as_date(item["from"], where) if item.get("from") else None,
                    granted_by=str(item.get("granted_by", "")),
                    revoked=bool(item.get("revoked", False)),
                )
            )
        return out

    def has_grant(self, user: str, purpose: str, at: datetime | None = None) -> bool:
        day = (at or datetime.now(UTC)).date()
        return any(g.user == user and g.purpose == purpose and g.valid_on(day) for g in self.grants())
