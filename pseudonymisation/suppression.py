"""Rows of erased persons in the sources the hub holds on its own account: found by pseudonym, left out.

Used twice with the same rules, so what erasure removes from the landing zone is what the boundary keeps out of every
later delivery: the corporations' tenants (`relatie`, with the tenancy links that point at them) and the report
desk's reports made by the person (`melding`, with the case links that point at them). The base registries (BRP, BRK,
BAG) have no rule here: the hub does not own them and erasure cannot apply to them (AVG art. 17(3)(b)); their rows
are restricted instead (governance/restrictions.py).
"""

from __future__ import annotations

from collections.abc import Collection

import pyarrow as pa
import pyarrow.compute as pc

# source -> entity whose rows are the person -> (the id column, the pseudonym columns that identify the person)
PERSON_ROWS: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "corporaties": {"relatie": ("relatie_id", ("bsn_psn", "email_psn", "telefoonnummer_psn"))},
    "meldpunten": {"melding": ("melding_id", ("melder_naam_psn", "melder_email_psn", "melder_telefoon_psn"))},
}
# (source, entity) -> (the person entity it points at, the id column it points with)
DEPENDENT_ROWS: dict[tuple[str, str], tuple[str, str]] = {
    ("corporaties", "huurovereenkomst_relatie"): ("relatie", "relatie_id"),
    ("meldpunten", "zaak_melding"): ("melding", "melding_id"),
}
NON_REGISTRY_SOURCES = tuple(PERSON_ROWS)
OLD_VERSION_MARK = "@"  # `bsn_psn@v1`: the same identifiers pseudonymised under key version v1, for matching only


def person_ids(source: str, tables: dict[str, pa.Table], pseudonyms: Collection[str]) -> dict[str, set[str]]:
    """Ids of the person rows (per entity) that hold one of `pseudonyms` in an identifying column."""
    found: dict[str, set[str]] = {}
    values = pa.array(sorted(pseudonyms), pa.string())
    for entity, (id_col, columns) in PERSON_ROWS.get(source, {}).items():
        table = tables.get(entity)
        if table is None or not len(values):
            continue
        mask = pa.array([False] * table.num_rows)
        for c in table.column_names:  # a column, or its pseudonyms under an older key version (`<column>@<version>`)
            if c.split(OLD_VERSION_MARK)[0] in columns:
                mask = pc.or_(mask, pc.fill_null(pc.is_in(pc.cast(table[c], pa.string()), value_set=values), False))
        found[entity] = set(table.filter(mask)[id_col].to_pylist())
    return found


def suppress(
    source: str, tables: dict[str, pa.Table], pseudonyms: Collection[str], ids: dict[str, set[str]] | None = None
) -> tuple[dict[str, pa.Table], dict[str, int]]:
    """`tables` (entity -> table of one delivery) without the rows of the persons behind `pseudonyms`.

    `ids` adds person-row ids found elsewhere (another delivery of an event source), so a case link in a later
    delivery to a report in an earlier one goes too. Returns the tables and the rows removed per entity.
    """
    if source not in PERSON_ROWS or not pseudonyms:
        return tables, {}
    found = person_ids(source, tables, pseudonyms)
    for entity, extra in (ids or {}).items():
        found.setdefault(entity, set()).update(extra)
    out, removed = dict(tables), {}
    for entity, table in tables.items():
        if entity in PERSON_ROWS[source]:
            parent, column = entity, PERSON_ROWS[source][entity][0]
        elif (source, entity) in DEPENDENT_ROWS:
            parent, column = DEPENDENT_ROWS[(source, entity)]
        else:
            continue
        gone = pa.array(sorted(found.get(parent, set())), table.schema.field(column).type)
        out[entity] = table.filter(pc.invert(pc.fill_null(pc.is_in(table[column], value_set=gone), False)))
        removed[entity] = table.num_rows - out[entity].num_rows
    return out, {k: v for k, v in removed.items() if v}
