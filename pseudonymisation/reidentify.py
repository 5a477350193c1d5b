"""The route back: a linkage pseudonym to its identifier, for an authorised user, for one case, always logged.

Six things must hold, checked in this order: the purpose allows re-identification (in the purpose register only
case handling, `casusbehandeling`, does), a case reference in the programme's form (RGW-2026-000123) is given, the
user holds a valid grant for the purpose, the case exists in the purpose's case register and is open
(governance.cases: the report desks' `zaken`), the person has not restricted processing (AVG art. 18, the
restriction register), and the vault holds the pseudonym. Granted or refused, one audit record
says who asked, under which purpose, for which case and which pseudonym, and the outcome (the record's own time says
when); the identifier itself is never logged. What the user typed is logged only when it has the expected form, so
a BSN pasted into the case or pseudonym field is refused and logged as "<not a ...>", never written down.

The pseudonym may be a linkage pseudonym or the per-purpose pseudonym a published dataset of that purpose carries
(governance/publish.py re-keys every pseudonym column under the domain `entiteit` and the purpose's key): the route
back finds the linkage pseudonym that re-keys to it, so what a case handler copies from the published dataset works,
and a pseudonym of another purpose's dataset does not.

If the audit record cannot be written, nothing is returned: no route back without a trace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow.compute as pc

from pseudonymisation.audit import AuditLog
from pseudonymisation.grants import AccessDenied, GrantChecker, require_officer
from pseudonymisation.pseudonyms import Pseudonymiser, parse_pseudonym, valid_domain
from pseudonymisation.vault import Vault

CASE = re.compile(r"^RGW-\d{4}-\d{6}$")
PUBLISHED_DOMAIN = "entiteit"  # the domain of the per-purpose pseudonyms in published datasets (governance/publish.py)
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
    officer: Any,
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

    `officer` (governance.officers.Officer, from the officer's key): the route back is an act of the privacy officer,
    for the user's case; required, and named in the audit record.

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
        event["officer"] = require_officer(officer, "re-identification")
        _allows_reidentification(purposes, purpose)
        if not CASE.match(case or ""):
            raise AccessDenied("a case reference like RGW-2026-000123 is required")
        if parsed is None:
            raise AccessDenied("not a linkage pseudonym (expected <domain>.<version>.<26 characters>)")
        _check_grant(grants, user, purpose, at)
        cases.check(purpose, case, at.date())
        linkage = _linkage_pseudonym(vault, purpose, pseudonym, parsed)
        restriction = restrictions.active(linkage)
        if restriction is not None:
            raise AccessDenied(
                f"processing of this person is restricted (AVG art. 18) under request {restriction.request} since "
                f"{restriction.since}; the privacy officer can lift it (rgw subject lift-restriction)"
            )
        domain, version = parse_pseudonym(linkage) or parsed
        identifier = vault.resolve(domain, linkage)
        if identifier is None:
            raise AccessDenied(f"the vault holds no identifier for pseudonym {pseudonym!r}")
    except AccessDenied as refusal:
        audit.append({**event, "outcome": "refused", "reason": str(refusal)})
        raise
    via = {} if linkage == pseudonym else {"linkage_pseudonym": linkage}
    audit.append({**event, "outcome": "granted", "domain": domain, "key_version": version, **via})
    return Reidentified(domain, pseudonym, identifier)


def _linkage_pseudonym(vault: Vault, purpose: str, pseudonym: str, parsed: tuple[str, str]) -> str:
    """The linkage pseudonym behind `pseudonym`: itself, or for a published dataset's per-purpose pseudonym the one
    in the vault that re-keys to it under `purpose` (the same re-keying publication does, no plaintext involved)."""
    if parsed[0] != PUBLISHED_DOMAIN:
        return pseudonym
    rekey = Pseudonymiser(vault.keystore, PUBLISHED_DOMAIN, purpose=purpose, version=parsed[1])
    folders = sorted(vault.folder.iterdir()) if vault.folder.exists() else []
    domains = sorted({p.name if p.is_dir() else p.stem for p in folders if p.is_dir() or p.suffix == ".parquet"})
    for domain in (d for d in domains if valid_domain(d)):
        linkage = vault.pseudonyms(domain)
        if len(linkage):
            found = pc.index(rekey.rekey_array(linkage), pseudonym).as_py()
            if found >= 0:
                return linkage[found].as_py()
    raise AccessDenied(f"pseudonym {pseudonym!r} is not a person pseudonym of purpose {purpose!r}'s published dataset")
