"""`rgw keys rotate` and `rgw keys carry-over`: a new key version, and the registers that must follow it.

A rotation changes every pseudonym the boundary makes from then on (`bsn.v1.…` becomes `bsn.v2.…`). Two registers
name persons by pseudonym: restrictions (AVG art. 18) are carried over here, through the vault; erasures need no
carrying, because the boundary keys re-delivered identifiers under every version the suppression list names. Until
restrictions are carried over, publication and the route back refuse (governance.restrictions.StaleRestrictions).
"""

from __future__ import annotations

from pathlib import Path

import click

from rgw.settings import HubPaths

RAW_IDENTIFIERS = {"bsn": [("brp", "persoon", "bsn"), ("brk", "persoon", "bsn")]}  # where the raw zone holds them


def resolver(paths: HubPaths, keystore):
    """`resolve(domain, pseudonym)`: the vault first; else the latest raw deliveries, keyed under the pseudonym's
    own version (an erased person is gone from the vault, but a registry re-delivers them)."""
    import pyarrow.parquet as pq

    from connectors.delivery import latest_delivery
    from pseudonymisation.pseudonyms import Pseudonymiser, parse_pseudonym
    from pseudonymisation.vault import Vault

    vault = Vault(paths.vault, keystore)
    keyed: dict[tuple[str, str], dict[str, str]] = {}  # (domain, version) -> pseudonym -> identifier, read once

    def from_raw(domain: str, version: str) -> dict[str, str]:
        if (domain, version) not in keyed:
            found: dict[str, str] = {}
            for source, entity, column in RAW_IDENTIFIERS.get(domain, []):
                folder = latest_delivery(paths.raw, source)
                if folder is None or not (folder / f"{entity}.parquet").exists():
                    continue
                values = pq.read_table(folder / f"{entity}.parquet", columns=[column]).column(column)
                psns = Pseudonymiser(keystore, domain, version=version).pseudonymise_array(values)
                found.update((p, v) for p, v in zip(psns.to_pylist(), values.to_pylist(), strict=True) if p)
            keyed[(domain, version)] = found
        return keyed[(domain, version)]

    def resolve(domain: str, pseudonym: str) -> str | None:
        found = vault.resolve(domain, pseudonym)
        if found is not None:
            return found
        version = (parse_pseudonym(pseudonym) or ("", ""))[1]
        return from_raw(domain, version).get(pseudonym)

    return resolve


def _carry_over(paths: HubPaths, officer: str) -> tuple[int, int]:
    """(carried over, still stale)."""
    from governance.restrictions import RestrictionRegister
    from pseudonymisation.audit import AuditLog
    from pseudonymisation.key_source import production_keystore

    keystore = production_keystore(paths)
    register = RestrictionRegister(paths.access)
    added = register.carry_over(keystore, resolver(paths, keystore), officer=officer)
    stale = [
        r for r in register.all() if r.lifted_at is None and r.version != keystore.version and r.carried_to is None
    ]
    AuditLog(paths.audit_log).append(
        {
            "action": "restrictions_carried_over",
            "by": officer,
            "to_version": keystore.version,
            "count": len(added),
            "stale": len(stale),
        }
    )
    return len(added), len(stale)


@click.group()
def keys() -> None:
    """Key versions: rotation, and carrying the registers over to a new version."""


@keys.command("rotate")
@click.option("--by", "officer", required=True, help="Who rotates (logged).")
@click.option(
    "--secret-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The new master secret from key management (else one is generated into the key folder, mode 0600).",
)
def rotate(officer: str, secret_file: Path | None) -> None:
    """Start a new key version, make it current, and carry the restrictions over to it."""
    from pseudonymisation.audit import AuditLog
    from pseudonymisation.key_source import production_keystore

    paths = HubPaths.from_env().ensure()
    keystore = production_keystore(paths)
    old = keystore.version
    new = keystore.rotate(secret_file.read_bytes().strip() if secret_file else None)
    AuditLog(paths.audit_log).append({"action": "key_rotation", "by": officer, "from_version": old, "to_version": new})
    carried, stale = _carry_over(paths, officer)
    click.echo(f"key version {old} -> {new}; {carried} restriction(s) carried over. Re-land every delivery next.")
    if stale:
        click.echo(f"{stale} restriction(s) could not be carried over: publication and the route back refuse", err=True)
        raise SystemExit(7)


@keys.command("carry-over")
@click.option("--by", "officer", required=True, help="Who carries the registers over (logged).")
def carry_over(officer: str) -> None:
    """Carry active restrictions over to the current key version (after a rotation made outside `rgw keys rotate`)."""
    carried, stale = _carry_over(HubPaths.from_env().ensure(), officer)
    click.echo(f"{carried} restriction(s) carried over")
    if stale:
        click.echo(f"{stale} restriction(s) could not be carried over: publication and the route back refuse", err=True)
        raise SystemExit(7)
