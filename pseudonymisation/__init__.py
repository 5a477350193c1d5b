"""The privacy boundary's library: keys, pseudonyms, encodings, the policy per column, the vault and the audit log.

    keys.py        KeyStore: master secret per key version, HKDF-derived keys per domain, purpose and use
    pseudonyms.py  Pseudonymiser: keyed linkage and purpose pseudonyms of direct identifiers, vectorised
    encodings.py   FieldEncoder, dice, dice_pairs, encode_table: keyed (diffused) Bloom filters of quasi-identifiers
    evaluate.py    a small linker on encodings only, scored on FEBRL4
    policy.py      policy.yaml applied column by column, fail closed (apply_policy, check_policy_covers, Boundary)
    boundary.py    one raw delivery to its landing form (address resolution, derived columns, policy), atomically
    vault.py       Vault: linkage pseudonym -> identifier, AES-GCM at rest
    audit.py       AuditLog: append-only, hash-chained JSON lines that refuse plaintext identifiers
    grants.py      GrantChecker protocol and the YAML grants file
    reidentify.py  the route back: purpose, case, grant and vault, every attempt audited

docs/privacy-design.md explains the choices. Names are importable from here lazily, so importing one module does not
load the others.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "KeyStore": "keys",
    "Pseudonymiser": "pseudonyms",
    "FieldEncoder": "encodings",
    "dice": "encodings",
    "dice_pairs": "encodings",
    "encode_table": "encodings",
    "apply_policy": "policy",
    "check_policy_covers": "policy",
    "Boundary": "policy",
    "Vault": "vault",
    "AuditLog": "audit",
    "YamlGrants": "grants",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"pseudonymisation.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'pseudonymisation' has no attribute {name!r}")
