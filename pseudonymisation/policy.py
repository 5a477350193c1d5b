"""The pseudonymisation policy (pseudonymisation/policy.yaml), applied to one raw table: fail closed, column by column.

For every column of every entity a connector delivers, the policy says one of

- `keep`                    not identifying (BAG ids, dwelling addresses, codes, event dates);
- `pseudonymise:<domain>`   keyed linkage pseudonym, column renamed `<column>_psn`;
- `encode:<field>`          keyed Bloom filter for linkage without plaintext, column renamed `<column>_bf`;
- `generalise:<rule>`       `year` (date -> birth year, column `<column>_jaar`), `month` (date -> YYYY-MM) or
                            `round<n>` (coordinates rounded to n decimals);
- `drop`                    not needed by any purpose (or free text that may hold anything).
- `keep_legal_person`       plaintext only in rows of a legal person (`persoon_type` niet_natuurlijk, a legal form
                            with legal personality), null in every other row; column renamed `<column>_rechtspersoon`.
                            A B.V.'s or foundation's name and KvK number are not personal data (AVG art. 4(1) is
                            about natural persons) and the owner approach must know whom to invite. A sole trader
                            (eenmanszaak) and the partnerships without legal personality (vof, maatschap, cv) are
                            natural persons trading under a name that is often their own: they stay pseudonyms.

A list applies several actions to one column (a birth date encoded for linkage and generalised to its year).
A column the policy does not name stops the landing with an error naming source, entity and every such column:
a new column in a delivery never slips through the boundary by default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
ACTIONS = ("keep", "pseudonymise", "encode", "generalise", "drop", "keep_legal_person")
# legal forms of persons without legal personality: natural persons, whatever the register's person type says
NOT_LEGAL_PERSONS = ("eenmanszaak", "vennootschap onder firma", "maatschap", "commanditaire vennootschap")
# The encoding fields: one key per field, shared by every source column holding that kind of value, so sources
# can be compared (a corporation's achternaam with the BRP's geslachtsnaam).
ENCODING_KINDS = {
    "voornaam": "name",
    "tussenvoegsel": "name",
    "achternaam": "name",
    "volledige_naam": "name",
    "partij_naam": "party_name",
    "geboortedatum": "date",
    "adres": "address",
}

PseudonymiserFactory = Callable[[str], Pseudonymiser]
Encoders = Mapping[str, FieldEncoder] | Callable[[str], FieldEncoder]


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
def load_policy(path: Path = POLICY) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def encoding_taps() -> int:
    """The diffusion taps the boundary's encodings use (policy.yaml `_encoding.taps`; 0 = plain keyed filters)."""
    return int(load_policy().get("_encoding", {}).get("taps", 0))


def _entry(source: str, entity: str) -> dict[str, Any]:
    policy = load_policy()
    if source.startswith("_") or entity not in (policy.get(source) or {}):
        raise PolicyError(
            f"{source}.{entity} has no pseudonymisation policy; add the entity to pseudonymisation/policy.yaml"
        )
    return {**policy.get("_boundary", {}), **policy[source][entity]}


def _parse(source: str, entity: str, column: str, spec: Any) -> list[tuple[str, str | None]]:
    out = []
    for item in spec if isinstance(spec, list) else [spec]:
        action, _, arg = str(item).partition(":")
        if action not in ACTIONS:
            raise PolicyError(f"{source}.{entity}.{column}: unknown action {item!r}; known: {', '.join(ACTIONS)}")
        if action in ("pseudonymise", "encode", "generalise") and not arg:
            raise PolicyError(f"{source}.{entity}.{column}: {action} needs an argument ({action}:<...>)")
        out.append((action, arg or None))
    return out


def actions_for(source: str, entity: str, column: str) -> list[tuple[str, str | None]]:
    """The (action, argument) pairs the policy prescribes for one column; PolicyError when it prescribes none."""
    entry = _entry(source, entity)
    if column not in entry:
        raise PolicyError(
            f"{source}.{entity}: column {column!r} has no pseudonymisation policy; add it to "
            f"pseudonymisation/policy.yaml before this delivery can land"
        )
    return _parse(source, entity, column, entry[column])


def check_policy_covers(table: pa.Table | pa.Schema, source: str, entity: str) -> None:
    """Raise PolicyError naming every column of `table` the policy does not cover (fail closed)."""
    entry = _entry(source, entity)
    names = table.names if isinstance(table, pa.Schema) else table.column_names
    unknown = [c for c in names if c not in entry]
    if unknown:
        raise PolicyError(
            f"{source}.{entity}: column(s) {', '.join(repr(c) for c in unknown)} have no pseudonymisation policy; "
            f"add them to pseudonymisation/policy.yaml before this delivery can land"
        )
    for column in names:
        _parse(source, entity, column, entry[column])


def output_name(column: str, action: str, arg: str | None) -> str | None:
    """The landing column an action writes (None for drop)."""
    return {
        "keep": column,
        "pseudonymise": f"{column}_psn",
        "encode": f"{column}_bf",
        "generalise": f"{column}_jaar" if arg == "year" else column,
        "drop": None,
        "keep_legal_person": f"{column}_rechtspersoon",
    }[action]


def plan(table: pa.Table | pa.Schema, source: str, entity: str) -> list[ColumnStep]:
    """The steps the policy prescribes for each column of `table`, in column order (for lineage and reports)."""
    check_policy_covers(table, source, entity)
    names = table.names if isinstance(table, pa.Schema) else table.column_names
    return [
        ColumnStep(source, entity, column, action, arg, output_name(column, action, arg))
        for column in names
        for action, arg in actions_for(source, entity, column)
    ]


def generalise(values: pa.ChunkedArray | pa.Array, rule: str) -> pa.Array | pa.ChunkedArray:
    """A coarser form of a column: `year` and `month` of an ISO date, `round<n>` of a number."""
    if rule == "year":
        return pc.cast(pc.utf8_slice_codeunits(pc.cast(values, pa.string()), 0, 4), pa.int32())
    if rule == "month":
        return pc.utf8_slice_codeunits(pc.cast(values, pa.string()), 0, 7)
    if rule.startswith("round") and rule[5:].isdigit():
        return pc.round(pc.cast(values, pa.float64()), int(rule[5:]))
    raise PolicyError(f"unknown generalisation {rule!r}; known: year, month, round<n>")


def apply_policy(
    table: pa.Table,
    source: str,
    entity: str,
    pseudonymiser_factory: PseudonymiserFactory,
    encoders: Encoders,
) -> pa.Table:
    """The landing form of `table`: every column kept, pseudonymised, encoded, generalised or dropped.

    `pseudonymiser_factory(domain)` gives the linkage pseudonymiser of a domain; `encoders` maps an encoding field
    to its FieldEncoder (a mapping or a callable). Raises PolicyError before touching any column when the policy
    does not cover them all.
    """
    encoder_of = encoders if callable(encoders) else encoders.__getitem__
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    for step in plan(table, source, entity):
        values = table.column(step.column)
        if step.action == "keep":
            columns[step.output] = values
        elif step.action == "pseudonymise":
            columns[step.output] = pseudonymiser_factory(step.argument).pseudonymise_array(values)
        elif step.action == "encode":
            columns[step.output] = encoder_of(step.argument).encode_array(values)
        elif step.action == "generalise":
            columns[step.output] = generalise(values, step.argument or "")
        elif step.action == "keep_legal_person":
            columns[step.output] = pc.if_else(legal_persons(table), values, pa.scalar(None, values.type))
    return pa.table(columns)


def legal_persons(table: pa.Table) -> pa.ChunkedArray | pa.Array:
    """Per row, whether it is a legal person whose name and number may pass the boundary (fail closed: a row without
    a person type or legal form, or with a form of a natural person, is not)."""
    if "persoon_type" not in table.column_names or "rechtsvorm" not in table.column_names:
        raise PolicyError("keep_legal_person needs the columns persoon_type and rechtsvorm in the same table")
    form = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(table.column("rechtsvorm"), pa.string())))
    legal = pc.and_kleene(
        pc.equal(table.column("persoon_type"), "niet_natuurlijk"),
        pc.invert(pc.is_in(form, pa.array(NOT_LEGAL_PERSONS))),
    )
    return pc.fill_null(pc.and_kleene(legal, pc.is_valid(form)), False)


class Boundary:
    """The keys and stores one landing run needs, with pseudonymisers and encoders shared across its tables."""

    def __init__(self, keystore: KeyStore, vault: Vault | None):
        self.keystore = keystore
        self.vault = vault
        self._pseudonymisers: dict[str, Pseudonymiser] = {}
        self._encoders: dict[str, FieldEncoder] = {}

    def __repr__(self) -> str:
        return f"Boundary(keystore={self.keystore!r}, vault={self.vault!r})"

    def pseudonymiser(self, domain: str) -> Pseudonymiser:
        if domain not in self._pseudonymisers:
            self._pseudonymisers[domain] = Pseudonymiser(self.keystore, domain)
        return self._pseudonymisers[domain]

    def encoder(self, field: str) -> FieldEncoder:
        if field not in ENCODING_KINDS:
            raise PolicyError(f"unknown encoding field {field!r}; known: {', '.join(ENCODING_KINDS)}")
        if field not in self._encoders:
            self._encoders[field] = FieldEncoder(self.keystore, field, ENCODING_KINDS[field], taps=encoding_taps())
        return self._encoders[field]

    def apply_policy(self, table: pa.Table, source: str, entity: str) -> tuple[pa.Table, list[ColumnStep]]:
        """The landing form of `table` and the step taken for each of its columns; identifiers go to the vault."""
        steps = plan(table, source, entity)
        landed = apply_policy(table, source, entity, self.pseudonymiser, self.encoder)
        self.to_vault(table, landed, steps)
        return landed, steps

    def to_vault(self, raw: pa.Table, landed: pa.Table, steps: list[ColumnStep]) -> None:
        """Every pseudonymised identifier of `raw` into the vault under its pseudonym in `landed` (aligned rows)."""
        if self.vault is None:
            return
        for step in steps:
            if step.action == "pseudonymise":
                self.vault.put_many(step.argument, raw.column(step.column), landed.column(step.output))
