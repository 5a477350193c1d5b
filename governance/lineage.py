"""Lineage questions answered from dbt's manifest: which models and sources feed a model, and whether any of their
SQL reads a protected trait (nationality, sex, country of birth, ethnicity, religion)."""

from __future__ import annotations

import re
from typing import Any

PROTECTED = re.compile(r"\b(nationaliteit\w*|geslacht|geboorteland|etniciteit|religie|land_van_herkomst)\b")


def upstream(manifest: dict[str, Any], node: str) -> list[str]:
    """Every node upstream of `node` (models, sources, seeds), nearest first."""
    seen: list[str] = []
    todo = [node]
    while todo:
        n = todo.pop()
        for parent in manifest["parent_map"].get(n, []):
            if parent not in seen:
                seen.append(parent)
                todo.append(parent)
    return seen


def protected_traits_in_lineage(manifest: dict[str, Any], model: str) -> list[str]:
    """The protected traits named in the SQL of `model` or of anything upstream of it (empty: none)."""
    nodes = [f"model.rgw.{model}", *upstream(manifest, f"model.rgw.{model}")]
    sql = " ".join(manifest["nodes"][n].get("raw_code", "").lower() for n in nodes if n in manifest["nodes"])
    return sorted(set(PROTECTED.findall(sql)))
