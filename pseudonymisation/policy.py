"""Apply the pseudonymisation policy (pseudonymisation/policy.yaml) to one raw table: fail closed, column by column.

`apply_policy` returns the landing form of a raw table and what it did to each column (for lineage and the privacy
report). A column the policy does not name stops the landing with an error naming source, entity and column: a new
column in a delivery never slips through the boundary by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from pseudonymisation.encodings import FieldEncoder
from pseudonymisation.keys import KeyStore
from pseudonymisation.pseudonyms import Pseudonymiser
from pseudonymisation.vault import Vault

POLICY = Path(__file__).with_name("policy.yaml")
ENCODING_KINDS = {
    "voornaam": "name",
    "tussenvoegsel": "name",
    "achternaam": "name",
    "volledige_naam": "name",
    "partij_naam": "name",
    "geboortedatum": "date",
    "adres": "address",
}


class PolicyError(ValueError):
    """A column without a policy, or a policy that cannot be applied."""


@dataclass(frozen=True)
class ColumnStep:
    """What the boundary did to one raw column: the lineage step from raw to landing."""

    source: str
    entity: str
    column: str
    action: str  # keep, pseudonymise, encode, generalise, drop
    argument: str | None
    output: str | None


@cache
def load_policy(path: Path = POLICY) -> dict[str, dict[str, dict[str, Any]]]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def actions_for(source: str, entity: str, column: str) -> list[tuple[str, str | None]]:
    policy = load_policy()
    entry = {**policy.get("_boundary", {}), **policy.get(source, {}).get(entity, {})}
    if column not in entry:
        raise PolicyError(
            f"{source}.{entity}: column {column!r} has no pseudonymisation policy; add it to "
            f"pseudonymisation/policy.yaml before this delivery can land"
        )
    spec = entry[column]
    out = []
    for item in spec if isinstance(spec, list) else [spec]:
        action, _, arg = str(item).partition(":")
        if action not in ("keep", "pseudonymise", "encode", "generalise", "drop"):
            raise PolicyError(f"{source}.{entity}.{column}: unknown action {item!r}")
        out.append((action, arg or None))
    return out


def check_policy_covers(table: pa.Table, source: str, entity: str) -> None:
    for column in table.column_names:
        actions_for(source, entity, column)


def _output_name(column: str, action: str, arg: str | None) -> str | None:
    return {
        "keep": column,
        "pseudonymise": f"{column}_psn",
        "encode": f"{column}_bf",
        "generalise": f"{column}_jaar" if arg == "year" else column,
        "drop": None,
    }[action]


def _generalise(values: pa.ChunkedArray, rule: str) -> pa.Array:
    if rule == "year":
        text = pc.cast(values, pa.string())
        return pc.cast(pc.utf8_slice_codeunits(text, 0, 4), pa.int32())
    if rule == "round3":
        return pc.round(pc.cast(values, pa.float64()), 3)
    raise PolicyError(f"unknown generalisation {rule!r}")


class Boundary:
    """The keys and stores one landing run needs, with caches shared across tables of the run."""

    def __init__(self, keystore: KeyStore, vault: Vault | None):
        self.keystore = keystore
        self.vault = vault
        self._pseudonymisers: dict[str, Pseudonymiser] = {}
        self._encoders: dict[str, FieldEncoder] = {}

    def pseudonymiser(self, domain: str) -> Pseudonymiser:
        if domain not in self._pseudonymisers:
            self._pseudonymisers[domain] = Pseudonymiser(self.keystore, domain)
        return self._pseudonymisers[domain]

    def encoder(self, field: str) -> FieldEncoder:
        if field not in ENCODING_KINDS:
            raise PolicyError(f"unknown encoding field {field!r}; known: {', '.join(ENCODING_KINDS)}")
        if field not in self._encoders:
            self._encoders[field] = FieldEncoder(self.keystore, field, ENCODING_KINDS[field])
        return self._encoders[field]

    def apply_policy(self, table: pa.Table, source: str, entity: str) -> tuple[pa.Table, list[ColumnStep]]:
        """The landing form of `table` and the step taken for each of its columns."""
        check_policy_covers(table, source, entity)
        columns: dict[str, pa.Array | pa.ChunkedArray] = {}
        steps: list[ColumnStep] = []
        for column in table.column_names:
            values = table.column(column)
            for action, arg in actions_for(source, entity, column):
                name = _output_name(column, action, arg)
                steps.append(ColumnStep(source, entity, column, action, arg, name))
                if action == "keep":
                    columns[name] = values
                elif action == "pseudonymise":
                    text = pc.cast(values, pa.string())
                    columns[name] = self.pseudonymiser(arg).pseudonymise_array(text)
                    if self.vault is not None:
                        self.vault.put_many(arg, pc.unique(text.combine_chunks()).drop_null())
                elif action == "encode":
                    columns[name] = self.encoder(arg).encode_array(pc.cast(values, pa.string()))
                elif action == "generalise":
                    columns[name] = _generalise(values, arg or "")
        return pa.table(columns), steps
