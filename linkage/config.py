"""The linkage configuration (YAML), documented in docs/linkage.md.

```yaml
left_id: rec_id            # id column of the left table
right_id: rec_id           # id column of the right table
fields:                    # compared fields and their comparison kind
  - {name: given_name, kind: name}
  - {name: date_of_birth, kind: date}
  - {name: postcode, kind: postcode}
blocking:                  # candidate pairs agree on every key of at least one rule
  - [surname]
  - [first3(given_name), year(date_of_birth)]
threshold: 0.9             # match probability at or over which a pair is reported
one_to_one: true           # each record in at most one reported pair
```

Kinds: name, string, address (Jaro-Winkler levels; Dice levels on encodings), date (exact, one edit, same year),
exact, postcode (exact, same first three), numeric (exact, within 5%). Blocking keys: a field, or `first3(f)`,
`soundex(f)`, `year(f)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

KINDS = {"name", "string", "address", "date", "exact", "postcode", "numeric"}


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    left: str | None = None  # column on each side, when they differ from `name`
    right: str | None = None

    @property
    def left_column(self) -> str:
        return self.left or self.name

    @property
    def right_column(self) -> str:
        return self.right or self.name


@dataclass(frozen=True)
class LinkConfig:
    left_id: str
    right_id: str
    fields: list[Field]
    blocking: list[list[str]]
    threshold: float = 0.9
    one_to_one: bool = False
    em_iterations: int = 25
    max_pairs: int = 20_000_000
    extra: dict = field(default_factory=dict)


def parse(data: dict) -> LinkConfig:
    for key in ("left_id", "right_id", "fields", "blocking"):
        if key not in data:
            raise ConfigError(f"linkage config lacks {key!r}")
    fields = []
    for f in data["fields"]:
        if f.get("kind") not in KINDS:
            raise ConfigError(f"field {f.get('name')!r}: kind must be one of {sorted(KINDS)}")
        fields.append(Field(f["name"], f["kind"], f.get("left"), f.get("right")))
    if not data["blocking"] or not all(isinstance(rule, list) and rule for rule in data["blocking"]):
        raise ConfigError("blocking must be a list of rules, each a non-empty list of keys")
    threshold = float(data.get("threshold", 0.9))
    if not 0 < threshold < 1:
        raise ConfigError("threshold must lie between 0 and 1")
    return LinkConfig(
        data["left_id"],
        data["right_id"],
        fields,
        data["blocking"],
        threshold,
        bool(data.get("one_to_one", False)),
        int(data.get("em_iterations", 25)),
    )


def load(path: Path) -> LinkConfig:
    return parse(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
