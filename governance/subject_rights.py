"""Restriction (AVG art. 18) and erasure (art. 17) for one data subject, documented and logged.

The officer starts from the BSN the person gives; the hub keys it the way the boundary does, so only the linkage
pseudonym is ever written down (registers, audit log, output). The legal frame (docs/privacy-design.md, "Rechten van
betrokkenen"): the hub processes under art. 6(1)(e), public task.

- Restriction puts the pseudonym on the restriction register: from then on the route back refuses it and publication
  leaves the person's rows out of every dataset. Lifting it is dated and logged; the entry stays.
- Erasure removes what the hub holds on its own account beyond the base registries: the identifiers in the vault (the
  route back becomes impossible), the person's rows in the landing zone's non-registry sources (corporation tenants,
  the report desk's reports they made, with the links that point at them), and the pseudonyms go on a suppression list
  so a re-delivery does not bring them back. BRP and BRK are base registries the hub does not own: art. 17(3)(b)
  excludes erasure where processing is needed for a public task, so their rows are restricted instead, and the
  outcome says so. Linkage and warehouse follow at the next downstream run (they are rebuilt from the landing zone);
  until then nothing of the person is published, because they are restricted.

Every step is one audit record (action `subject_restriction` / `subject_erasure`, officer, request, pseudonym, what
was removed as counts, the legal ground).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from connectors.delivery import delivery_folders, write_parquet_atomic
from governance.restrictions import RestrictionRegister, SuppressionList
from pseudonymisation.audit import AuditLog
from pseudonymisation.keys import KeyStore
from pseudonymisation.pseudonyms import Pseudonymiser, parse_pseudonym
from pseudonymisation.suppression import NON_REGISTRY_SOURCES, PERSON_ROWS, person_ids, suppress
from pseudonymisation.vault import Vault

REGISTRY_SOURCES = ("brp", "brk")
# Columns of the registries' person rows that hold other pseudonyms of the same person (their vault entries go too).
REGISTRY_PERSON_PSN = {("brp", "persoon"): ("a_nummer_psn",), ("brk", "persoon"): ()}


def linkage_pseudonym(keystore: KeyStore, bsn: str) -> str:
    psn = Pseudonymiser(keystore, "bsn").pseudonym(bsn)
    if psn is None:
        raise ValueError("no BSN given")
    return psn


def restrict(
    paths, keystore: KeyStore, audit: AuditLog, *, officer: str, request: str, bsn: str, reason: str
) -> dict[str, Any]:
    """Restrict processing of one person (art. 18): the route back refuses them, publication leaves them out."""
    psn = linkage_pseudonym(keystore, bsn)
    RestrictionRegister(paths.access).add(psn, request=request, officer=officer, reason=reason)
    audit.append(
        {
            "action": "subject_restriction",
            "step": "restricted",
            "by": officer,
            "request": request,
            "pseudonym": psn,
            "reason": reason,
        }
    )
    return {
        "request": request,
        "linkage_pseudonym": psn,
        "restricted": True,
        "effect": "rgw reidentify refuses this person; the next publication leaves their rows out of every dataset",
    }


def lift_restriction(paths, keystore: KeyStore, audit: AuditLog, *, officer: str, request: str, bsn: str) -> int:
    """Lift a person's restrictions (the entries stay, dated); logged. Returns how many were lifted."""
    psn = linkage_pseudonym(keystore, bsn)
    n = RestrictionRegister(paths.access).lift(psn, request=request, officer=officer)
    audit.append(
        {
            "action": "subject_restriction",
            "step": "lifted",
            "by": officer,
            "request": request,
            "pseudonym": psn,
            "lifted": n,
        }
    )
    return n


def _read_delivery(folder: Path) -> dict[str, pa.Table]:
    return {f.stem: pq.read_table(f) for f in sorted(folder.glob("*.parquet"))}


def _column_values(landing: Path, source: str, entity: str, where: str, values: set[str], column: str) -> set[str]:
    """Distinct non-null `column` of `source.entity` rows (every delivery) whose `where` column is in `values`."""
    found: set[str] = set()
    for folder in delivery_folders(landing, source):
        path = folder / f"{entity}.parquet"
        if not path.exists():
            continue
        table = pq.read_table(path)
        if where not in table.column_names or column not in table.column_names:
            continue
        rows = table.filter(pc.fill_null(pc.is_in(table[where], value_set=pa.array(sorted(values))), False))
        found |= {v for v in rows[column].to_pylist() if v}
    return found


def person_pseudonyms(
    landing: Path, keystore: KeyStore, psn: str, emails: tuple[str, ...] = (), phones: tuple[str, ...] = ()
) -> set[str]:
    """Every pseudonym the hub holds for the person: the BSN's, the A-nummer's (BRP), e-mail and phone as the
    corporation holds them, and the e-mail addresses and phone numbers the person gave (the report desk knows
    reporters only by those, never by BSN)."""
    found = {psn}
    for (source, entity), columns in REGISTRY_PERSON_PSN.items():
        for column in columns:
            found |= _column_values(landing, source, entity, "bsn_psn", {psn}, column)
    for column in ("email_psn", "telefoonnummer_psn"):
        found |= _column_values(landing, "corporaties", "relatie", "bsn_psn", {psn}, column)
    found |= {p for p in (Pseudonymiser(keystore, "email").pseudonym(e) for e in emails) if p}
    found |= {p for p in (Pseudonymiser(keystore, "phone").pseudonym(t) for t in phones) if p}
    return found


def erase_from_landing(landing: Path, pseudonyms: set[str]) -> tuple[dict[str, int], set[str]]:
    """Rewrite the non-registry sources' landed files without the person's rows; (rows removed per
    `source.entity`, pseudonyms in the removed rows' identifying columns, e.g. a reporter's name pseudonym)."""
    removed: dict[str, int] = {}
    seen: set[str] = set()
    for source in NON_REGISTRY_SOURCES:
        deliveries = [(folder, _read_delivery(folder)) for folder in delivery_folders(landing, source)]
        ids: dict[str, set[str]] = {}
        for _, tables in deliveries:  # first every delivery's person rows, so links across deliveries go too
            for entity, found in person_ids(source, tables, pseudonyms).items():
                ids.setdefault(entity, set()).update(found)
                id_col, columns = PERSON_ROWS[source][entity]
                rows = tables[entity].filter(pc.is_in(tables[entity][id_col], value_set=pa.array(sorted(found))))
                seen |= {v for c in columns if c in rows.column_names for v in rows[c].to_pylist() if v}
        for folder, tables in deliveries:
            kept, counts = suppress(source, tables, pseudonyms, ids)
            for entity, n in counts.items():
                write_parquet_atomic(kept[entity], folder / f"{entity}.parquet")
                removed[f"{source}.{entity}"] = removed.get(f"{source}.{entity}", 0) + n
    return removed, seen


def _still_landed(landing: Path, candidates: set[str]) -> set[str]:
    """Those of `candidates` that a landed non-registry row still holds in an identifying column (a reporter's name
    can be someone else's too); every delivery is read once."""
    found: set[str] = set()
    for source in NON_REGISTRY_SOURCES:
        for folder in delivery_folders(landing, source):
            tables = _read_delivery(folder)
            for entity, (_, columns) in PERSON_ROWS[source].items():
                table = tables.get(entity)
                for c in columns if table is not None else ():
                    if c in table.column_names:
                        found |= candidates & set(table[c].to_pylist())
    return found


def erase(
    paths,
    keystore: KeyStore,
    audit: AuditLog,
    *,
    officer: str,
    request: str,
    bsn: str,
    ground: str,
    emails: tuple[str, ...] = (),
    phones: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Erase one person where the law allows it (art. 17) and restrict the rest; every step logged."""
    psn = linkage_pseudonym(keystore, bsn)
    base = {"action": "subject_erasure", "by": officer, "request": request, "pseudonym": psn, "ground": ground}
    audit.append({**base, "step": "started"})
    pseudonyms = person_pseudonyms(paths.landing, keystore, psn, emails, phones)
    registry_rows = {
        source: len(_column_values(paths.landing, source, "persoon", "bsn_psn", {psn}, "bsn_psn")) > 0
        for source in REGISTRY_SOURCES
    }
    # 1. registries: restricted, not erased (art. 17(3)(b)); also keeps the person out of publication meanwhile
    RestrictionRegister(paths.access).add(
        psn,
        request=request,
        officer=officer,
        reason="erasure request: base-registry data (BRP, BRK) kept under AVG art. 17(3)(b), restricted instead",
    )
    audit.append({**base, "step": "registries_restricted", "sources": [s for s, held in registry_rows.items() if held]})
    # 2. future deliveries first, so a landing that starts from now on already leaves the person out: the boundary
    # drops these rows and keeps these identifiers out of the vault. Only identifiers that are the person's alone
    # (BSN, A-nummer, e-mail, phone); a reporter's name pseudonym may be a namesake's and is not listed.
    SuppressionList(paths.access).add(sorted(pseudonyms), request=request, officer=officer, ground=ground)
    audit.append({**base, "step": "suppression_listed", "pseudonyms": len(pseudonyms)})
    # 3. the non-registry sources' landed rows
    removed_rows, seen = erase_from_landing(paths.landing, pseudonyms)
    audit.append({**base, "step": "landing_rows_removed", "removed": removed_rows})
    # 4. the vault: the route back (a reporter's name only when no remaining report holds the same pseudonym)
    vault = Vault(paths.vault, keystore)
    forget = pseudonyms | (seen - pseudonyms - _still_landed(paths.landing, seen - pseudonyms))
    by_domain: dict[str, set[str]] = {}
    for p in forget:
        parsed = parse_pseudonym(p)
        if parsed:
            by_domain.setdefault(parsed[0], set()).add(p)
    vault_removed = {d: vault.forget(d, ps) for d, ps in sorted(by_domain.items())}
    audit.append({**base, "step": "vault_entries_removed", "removed": vault_removed})
    return {
        "request": request,
        "linkage_pseudonym": psn,
        "ground": ground,
        "erased": {
            "vault_entries": vault_removed,
            "landing_rows": removed_rows,
            "suppressed_pseudonyms": len(pseudonyms),
        },
        "restricted_not_erased": [s for s, held in registry_rows.items() if held],
        "note": "BRP and BRK are base registries the hub does not own; their rows are kept under AVG art. 17(3)(b) "
        "and restricted: the route back refuses this person and publication leaves their rows out. Linkage and "
        "warehouse drop the erased rows at the next downstream run.",
    }
