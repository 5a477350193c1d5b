"""The register of purposes (governance/purposes.yaml), loaded and checked once for everyone who needs it.

Publication reads which tables, classes and rows a purpose may have; the access gateway reads who may act under it
and what they acknowledge; the privacy report renders it as the register of processing activities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REGISTER = Path(__file__).with_name("purposes.yaml")
REQUIRED = (
    "id",
    "name",
    "description",
    "legal_basis",
    "data_categories",
    "privacy_classes",
    "row_scope",
    "retention",
    "roles",
    "owner",
    "statement",
    "tables",
)


class PurposeError(ValueError):
    pass


@dataclass(frozen=True)
class Purpose:
    id: str
    name: str
    description: str
    legal_basis: dict[str, Any]
    data_categories: list[str]
    privacy_classes: list[str]
    row_scope: str
    retention: str
    roles: list[str]
    owner: str
    statement: str
    tables: list[str]
    row_filter: dict[str, str] = field(default_factory=dict)
    reidentification: bool = False
    retention_days: int | None = None
    min_cell: int | None = None
    query_limits: dict[str, Any] = field(default_factory=dict)  # the gateway's bounds (QueryLimits)
    case_register: str | None = None  # where the purpose's cases live (governance.cases), e.g. meldpunten/zaak

    @property
    def aggregate_only(self) -> bool:
        return self.min_cell is not None


@dataclass(frozen=True)
class Register:
    privacy_classes: list[str]
    purposes: dict[str, Purpose]

    def get(self, purpose_id: str) -> Purpose:
        if purpose_id not in self.purposes:
            known = ", ".join(sorted(self.purposes))
            raise PurposeError(f"unknown purpose {purpose_id!r}; the register holds: {known}")
        return self.purposes[purpose_id]


def parse(data: dict[str, Any]) -> Register:
    classes = list(data["privacy_classes"])
    purposes = {}
    for item in data["purposes"]:
        missing = [k for k in REQUIRED if k not in item]
        if missing:
            raise PurposeError(f"purpose {item.get('id', '?')!r} lacks {', '.join(missing)}")
        unknown = [c for c in item["privacy_classes"] if c not in classes]
        if unknown:
            raise PurposeError(f"purpose {item['id']!r} names unknown privacy classes {unknown}")
        if "direct_identifier" in item["privacy_classes"]:
            raise PurposeError(f"purpose {item['id']!r} may not see direct identifiers: they go only through the vault")
        purposes[item["id"]] = Purpose(**{k: v for k, v in item.items() if k in Purpose.__dataclass_fields__})
    return Register(classes, purposes)


@cache
def load(path: Path = REGISTER) -> Register:
    return parse(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
