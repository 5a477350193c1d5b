"""The route back: a linkage pseudonym to its identifier, for an authorised user, for one case, always logged.

Six things must hold, checked in this order: the purpose allows re-identification (in the purpose register only
case handling, `casusbehandeling`, does), a case reference in the programme's form (RGW-2026-000123) is given, the
user holds a valid grant for the purpose, the case exists in the purpose's case register and is open
(governance.cases: the report desks' `zaken`), the person has not restricted processing (AVG art. 18, the
restriction register), and the vault holds the pseudonym. Granted or refused, one audit record
says who asked, under which purpose, for which case and which pseudonym, and the outcome (the record's own time says
when); the identifier itself is never logged. What the user typed is logged only when it has the expected form, so
a BSN pasted into the case or pseudonym field is refused and logged as "<not a ...>", never written down.

If the audit record cannot be written, nothing is returned: no route back without a trace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pseudonymisation.audit import AuditLog
from pseudonymisation.grants import AccessDenied, GrantChecker
from pseudonymisation.pseudonyms import parse_pseudonym
from pseudonymisation.vault import Vault

CASE = re.compile(r"^RGW-\d{4}-\d{6}$")
_PURPOSE_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Reidentified:
    domain: str
    pseudonym: str
    identifier: str

    def __repr__(self) -> str:  # a stray print or log line shows which pseudonym, never the identifier
        return f"Reidentified(domain={self.domain!r}, pseudonym={self.pseudonym!r}, identifier=<hidden>)"


def _check_grant(grants: Any, user: str, purpose: str, at: datetime) -> None:
    """The register's own check when it has one (it says what is missing), else the plain has_grant question."""
    check = getattr(grants, "check", None)
    if not callable(check) and not isinstance(grants, GrantChecker):
        raise TypeError(f"{type(grants).__name__} can say nothing about grants (needs has_grant or check)")
    try:
        if callable(check):
            check(user, purpose)
        elif not grants.has_grant(user, purpose, at):
            raise AccessDenied(f"{user} holds no valid grant for purpose {purpose!r} on {at.date().isoformat()}")
    except ValueError as unreadable:  # a damaged register refuses (fail closed), with the file and the fault
        raise AccessDenied(f"the grants register cannot be read: {unreadable}") from unreadable


def _allows_reidentification(register: Any, purpose: str) -> None:
    if purpose not in register.purposes:  # the message does not repeat what was typed: it might be anything
        raise AccessDenied(f"unknown purpose; the purpose register holds: {', '.join(sorted(register.purposes))}")
    if not register.get(purpose).reidentification:
        raise AccessDenied(f"purpose {purpose!r} does not allow re-identification; only case handling does")


def reidentify(
    vault: Vault,
    audit: AuditLog,
    grants: GrantChecker | Any,
    *,
    user: str,
    purpose: str,
    case: str,
    pseudonym: str,
    restrictions: Any,
    cases: Any,
    purposes: Any,
    at: datetime | None = None,
) -> Reidentified:
    """The identifier behind `pseudonym`, or AccessDenied; either way one audit record is appended first.

    `restrictions` (governance.restrictions.RestrictionRegister, or anything with `active(pseudonym)`): a pseudonym
    whose processing a data subject had restricted (AVG art. 18) is refused, naming the restriction's request. The
    check comes after the grant, so only an authorised user learns that a restriction exists. Required, so no caller
    can forget it (fail closed).

    `cases` (governance.cases.CaseRegister, or anything with `check(purpose, case, day)` raising AccessDenied): the
    case must exist in the purpose's case register and be open on the day asked. Checked after the grant, so only an
    authorised user learns whether a case exists. Required, like `restrictions`.

    `purposes` (governance.purposes.load(), or anything with `purposes` and `get(id).reidentification`): the purpose
    register that says whether a purpose allows the route back. Passed in, so this module depends on no register's
    home (governance sits above it); required, like the others.
    """
    at = at or datetime.now(UTC)
    parsed = parse_pseudonym(pseudonym or "")
    event: dict[str, Any] = {
        "action": "reidentify",
        "user": user,
        "purpose": purpose if _PURPOSE_ID.match(purpose or "") else "<not a purpose id>",
        "case": case if CASE.match(case or "") else "<not a case reference>",
        "pseudonym": pseudonym if parsed else "<not a pseudonym>",
    }
    try:
        _allows_reidentification(purposes, purpose)
        if not CASE.match(case or ""):
            raise AccessDenied("a case reference like RGW-2026-000123 is required")
        if parsed is None:
            raise AccessDenied("not a linkage pseudonym (expected <domain>.<version>.<26 characters>)")
        _check_grant(grants, user, purpose, at)
        cases.check(purpose, case, at.date())
        restriction = restrictions.active(pseudonym)
        if restriction is not None:
            raise AccessDenied(
                f"processing of this person is restricted (AVG art. 18) under request {restriction.request} since "
                f"{restriction.since}; the privacy officer can lift it (rgw subject lift-restriction)"
            )
        identifier = vault.resolve(parsed[0], pseudonym)
        if identifier is None:
            raise AccessDenied(f"the vault holds no identifier for pseudonym {pseudonym!r}")
    except AccessDenied as refusal:
        audit.append({**event, "outcome": "refused", "reason": str(refusal)})
        raise
    audit.append({**event, "outcome": "granted", "domain": parsed[0], "key_version": parsed[1]})
    return Reidentified(parsed[0], pseudonym, identifier)
