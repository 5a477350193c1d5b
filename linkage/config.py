"""The linkage configuration: a YAML file, validated here and documented in docs/linkage.md.

```yaml
left_id: rec_id              # id column of the left table
right_id: rec_id             # id column of the right table
fields:                      # the compared fields, each with a comparison kind
  - {name: surname, kind: name, tf: true}                 # tf: term-frequency adjustment on exact agreement
  - {name: date_of_birth, kind: date}
  - {name: postcode, kind: postcode}
  - {name: huisnummer, kind: exact, left: huisnr, right: huisnummer}   # column names when they differ per side
  - {name: address_1, kind: address, levels: [0.9, 0.75]}              # own similarity cut-offs (descending)
  - {name: given_name, kind: name, swap_with: surname}                 # a level for values written the other way
blocking:                    # a pair is compared when it agrees on every key of at least one rule
  - [surname, given_name]
  - [soundex(surname), year(date_of_birth)]
  - [first3(given_name), postcode]
threshold: 0.5               # match probability at or over which a pair is reported
clustering: one_to_one       # one_to_one | components | none
em: {iterations: 40, tolerance: 0.00001}
u_pairs: 100000              # random pairs for the u-probabilities
max_pairs: 20000000          # refuse a blocking that yields more candidate pairs
seed: 1
```

Why validated up front: a typo in a field name or kind would otherwise surface as a KeyError deep inside a run that
took minutes, or worse, as a silently ignored setting. Every error names the setting that is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

KINDS = ("name", "string", "address", "date", "exact", "postcode", "numeric")
CLUSTERINGS = ("one_to_one", "components", "none")
_KEY = re.compile(r"^(?:(?P<func>first|last|soundex|year)(?P<n>\d*)\((?P<arg>\w+)\)|(?P<plain>\w+))$")
_TOP_KEYS = {
    "left_id",
    "right_id",
    "fields",
    "blocking",
    "threshold",
    "clustering",
    "one_to_one",
    "em",
    "u_pairs",
    "max_pairs",
    "seed",
    "description",
}
_FIELD_KEYS = {"name", "kind", "left", "right", "tf", "levels", "encoded_levels", "swap_with"}


class ConfigError(ValueError):
    """A linkage configuration that cannot be used; the message names the setting."""


@dataclass(frozen=True)
class Field:
    """One compared field: its comparison kind, the column on each side, optional own cut-offs and TF."""

    name: str
    kind: str
    left: str | None = None
    right: str | None = None
    tf: bool = False
    levels: tuple[float, ...] | None = None  # plaintext similarity cut-offs, descending
    encoded_levels: tuple[float, ...] | None = None  # Dice cut-offs on encodings, descending
    swap_with: str | None = None  # another field the value may have been written in (given name <-> surname)

    @property
    def left_column(self) -> str:
        return self.left or self.name

    @property
    def right_column(self) -> str:
        return self.right or self.name


@dataclass(frozen=True)
class BlockKey:
    """One key of a blocking rule: a field, optionally through a function (first3, last2, soundex, year)."""

    field: str
    func: str | None = None
    n: int = 0

    @property
    def text(self) -> str:
        if self.func is None:
            return self.field
        return f"{self.func}{self.n or ''}({self.field})"


@dataclass(frozen=True)
class LinkConfig:
    left_id: str
    right_id: str
    fields: tuple[Field, ...]
    blocking: tuple[tuple[BlockKey, ...], ...]
    threshold: float = 0.9
    clustering: str = "none"
    em_iterations: int = 40
    em_tolerance: float = 1e-5
    u_pairs: int = 100_000
    max_pairs: int = 20_000_000
    seed: int = 1

    @property
    def one_to_one(self) -> bool:
        return self.clustering == "one_to_one"

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def rule_text(self, i: int) -> str:
        return " & ".join(k.text for k in self.blocking[i])


def parse_key(expression: str) -> BlockKey:
    """`surname`, `first3(given_name)`, `last2(postcode)`, `soundex(surname)` or `year(date_of_birth)`."""
    m = _KEY.match(str(expression).strip())
    if not m:
        raise ConfigError(
            f"blocking key {expression!r}: use a field name, firstN(field), lastN(field), soundex(field) or year(field)"
        )
    if m["plain"]:
        return BlockKey(m["plain"])
    func, n = m["func"], int(m["n"]) if m["n"] else 0
    if func in ("first", "last") and n < 1:
        raise ConfigError(f"blocking key {expression!r}: {func} needs a length, e.g. {func}3(field)")
    if func in ("soundex", "year") and n:
        raise ConfigError(f"blocking key {expression!r}: {func} takes no length")
    return BlockKey(m["arg"], func, n)


def _levels(value: Any, where: str) -> tuple[float, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(x, (int, float)) for x in value):
        raise ConfigError(f"{where}: levels must be a non-empty list of numbers")
    cuts = tuple(float(x) for x in value)
    if any(not 0 < x < 1 for x in cuts) or list(cuts) != sorted(cuts, reverse=True) or len(set(cuts)) != len(cuts):
        raise ConfigError(f"{where}: levels must lie strictly between 0 and 1, in descending order")
    return cuts


def _field(data: Any, i: int) -> Field:
    if not isinstance(data, dict) or "name" not in data:
        raise ConfigError(f"fields[{i}]: a mapping with at least name and kind")
    where = f"field {data['name']!r}"
    unknown = set(data) - _FIELD_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {sorted(unknown)}; known: {sorted(_FIELD_KEYS)}")
    kind = data.get("kind")
    if kind not in KINDS:
        raise ConfigError(f"{where}: kind must be one of {list(KINDS)}, got {kind!r}")
    levels, encoded = _levels(data.get("levels"), where), _levels(data.get("encoded_levels"), where)
    if kind in ("exact", "date", "postcode", "numeric") and levels is not None:
        raise ConfigError(f"{where}: kind {kind} has fixed levels; own levels are for name, string and address")
    if kind in ("exact", "numeric") and encoded is not None:
        raise ConfigError(f"{where}: kind {kind} is compared on keyed tokens when encoded, without Dice levels")
    return Field(
        name=str(data["name"]),
        kind=kind,
        left=data.get("left"),
        right=data.get("right"),
        tf=bool(data.get("tf", False)),
        levels=levels,
        encoded_levels=encoded,
        swap_with=data.get("swap_with"),
    )


def _positive_int(data: dict, key: str, default: int) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{key} must be a positive whole number, got {value!r}")
    return value


def _check_swaps(fields: tuple[Field, ...]) -> None:
    for f in fields:
        if f.swap_with is None:
            continue
        partner = next((p for p in fields if p.name == f.swap_with), None)
        if partner is None or partner is f:
            raise ConfigError(f"field {f.name!r}: swap_with {f.swap_with!r} must name another field")
        if f.kind not in ("name", "string", "address") or partner.kind != f.kind:
            raise ConfigError(f"field {f.name!r}: swap_with needs two fields of one kind among name, string, address")


def parse(data: Any) -> LinkConfig:
    """A validated LinkConfig from the parsed YAML; ConfigError names the first wrong setting."""
    if not isinstance(data, dict):
        raise ConfigError("a linkage config is a YAML mapping")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ConfigError(f"unknown setting(s) {sorted(unknown)}; known: {sorted(_TOP_KEYS)}")
    for key in ("left_id", "right_id", "fields", "blocking"):
        if key not in data:
            raise ConfigError(f"linkage config lacks {key!r}")
    if not isinstance(data["fields"], list) or not data["fields"]:
        raise ConfigError("fields must be a non-empty list")
    fields = tuple(_field(f, i) for i, f in enumerate(data["fields"]))
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise ConfigError(f"field names must be unique: {names}")
    _check_swaps(fields)
    rules = data["blocking"]
    if not isinstance(rules, list) or not rules or not all(isinstance(r, list) and r for r in rules):
        raise ConfigError("blocking must be a list of rules, each a non-empty list of keys")
    blocking = tuple(tuple(parse_key(k) for k in rule) for rule in rules)
    for rule in blocking:
        for key in rule:
            if key.field not in names:
                raise ConfigError(f"blocking key {key.text!r} refers to {key.field!r}, which is not among the fields")
    threshold = data.get("threshold", 0.9)
    if not isinstance(threshold, (int, float)) or not 0 < threshold < 1:
        raise ConfigError(f"threshold must lie strictly between 0 and 1, got {threshold!r}")
    clustering = data.get("clustering", "one_to_one" if data.get("one_to_one") else "none")
    if clustering not in CLUSTERINGS:
        raise ConfigError(f"clustering must be one of {list(CLUSTERINGS)}, got {clustering!r}")
    em = data.get("em", {}) or {}
    if not isinstance(em, dict) or set(em) - {"iterations", "tolerance"}:
        raise ConfigError("em takes iterations and tolerance")
    tolerance = float(em.get("tolerance", 1e-5))
    if not 0 < tolerance < 0.1:
        raise ConfigError("em.tolerance must lie between 0 and 0.1")
    return LinkConfig(
        left_id=str(data["left_id"]),
        right_id=str(data["right_id"]),
        fields=fields,
        blocking=blocking,
        threshold=float(threshold),
        clustering=clustering,
        em_iterations=_positive_int(em, "iterations", 40),
        em_tolerance=tolerance,
        u_pairs=_positive_int(data, "u_pairs", 100_000),
        max_pairs=_positive_int(data, "max_pairs", 20_000_000),
        seed=int(data.get("seed", 1)),
    )


def load(path: Path | str) -> LinkConfig:
    """Read and validate a YAML linkage config."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from exc
    try:
        return parse(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
