"""The route back: a linkage pseudonym to its identifier, for an authorised user, for one case, always logged.

Four things must hold: the purpose allows re-identification (case handling), the user holds a valid, acknowledged
grant for it, a case reference in the programme's form (RGW-2026-000123) is given, and the vault holds the
pseudonym. Granted or refused, one audit record says who asked, when, under which purpose, for which case and which
pseudonym, and the outcome; the identifier itself is never logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from governance.grants import AccessDenied, GrantRegister
from governance.purposes import load
from pseudonymisation.audit import AuditLog
from pseudonymisation.vault import Vault

CASE = re.compile(r"^RGW-\d{4}-\d{6}$")


@dataclass(frozen=True)
class Reidentified:
    domain: str
    pseudonym: str
    identifier: str


def reidentify(
    vault: Vault, audit: AuditLog, grants: GrantRegister, *, user: str, purpose: str, case: str, pseudonym: str
) -> Reidentified:
    event = {"action": "reidentify", "user": user, "purpose": purpose, "case": case, "pseudonym": pseudonym}
    try:
        if not load().get(purpose).reidentification:
            raise AccessDenied(f"purpose {purpose!r} does not allow re-identification; only case handling does")
        if not CASE.match(case or ""):
            raise AccessDenied(f"a case reference like RGW-2026-000123 is required, got {case!r}")
        grants.check(user, purpose)
        domain = pseudonym.split(".", 1)[0] if "." in pseudonym else ""
        identifier = vault.resolve(domain, pseudonym) if domain else None
        if identifier is None:
            raise AccessDenied(f"the vault holds no identifier for pseudonym {pseudonym!r}")
    except AccessDenied as refusal:
        audit.append({**event, "outcome": "refused", "reason": str(refusal)})
        raise
    audit.append({**event, "outcome": "granted", "domain": domain})
    return Reidentified(domain, pseudonym, identifier)
