"""Access requests of data subjects (AVG art. 15): every place the hub holds data about one person.

The privacy officer starts from the identifier the person gives (their BSN). The hub keys it the way the boundary
does, then looks for that linkage pseudonym in the landing zone, the linkage results, the warehouse and each purpose's
published dataset (under that purpose's own pseudonym), and says which purposes and lineage apply. The request is
logged in the audit log with the officer and the request reference; the BSN itself is never logged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from governance.publish import unsealed
from governance.purposes import load
from governance.restrictions import RestrictionRegister, SuppressionList
from pseudonymisation.audit import AuditLog
from pseudonymisation.keys import KeyStore
from pseudonymisation.pseudonyms import Pseudonymiser
from pseudonymisation.vault import Vault


def _count(con: duckdb.DuckDBPyConnection, source: str, column: str, value: str) -> int:
    return con.execute(f'select count(*) from {source} where "{column}" = ?', [value]).fetchall()[0][0]


def _lineage(dataset: str) -> dict[str, list[str]]:
    """Each column of a published table with the source fields it comes from (the privacy report's lineage)."""
    from governance.column_lineage import Field, current_graph
    from governance.privacy_report import describe_origin

    g = current_graph()
    return {c: describe_origin(g, Field(dataset, c))["source_fields"] for c in g.columns.get(dataset, [])}


def subject_report(
    paths, keystore: KeyStore, audit: AuditLog, *, officer: str, request: str, bsn: str
) -> dict[str, Any]:
    psn = Pseudonymiser(keystore, "bsn").pseudonym(bsn)
    if psn is None:
        raise ValueError("no identifier given")
    places: list[dict[str, Any]] = []
    con = duckdb.connect()
    for f in sorted(paths.landing.glob("*/*/*.parquet")):
        cols = [c for c in con.execute(f"select * from read_parquet('{f}') limit 0").description]
        for name, *_ in cols:
            if name == "bsn_psn":
                n = _count(con, f"read_parquet('{f}')", name, psn)
                if n:
                    places.append(
                        {
                            "zone": "landing",
                            "table": f"{f.parent.parent.name}.{f.stem}",
                            "delivery": f.parent.name,
                            "rows": n,
                            "held_as": "linkage pseudonym",
                        }
                    )
    links = paths.linkage / "entity_links.parquet"
    entity_ids: list[str] = []
    if links.exists():
        entity_ids = [
            r[0]
            for r in con.execute(
                f"select distinct entity_id from read_parquet('{links}') where record_key = ?", [psn]
            ).fetchall()
        ]
        if entity_ids:
            places.append({"zone": "linkage", "table": "entity_links", "rows": len(entity_ids), "held_as": "entity id"})
    if paths.warehouse.exists():
        wh = duckdb.connect(str(paths.warehouse), read_only=True)
        n = _count(wh, "fct_bewoningsperioden", "persoon_psn", psn)
        if n:
            places.append(
                {"zone": "warehouse", "table": "fct_bewoningsperioden", "rows": n, "held_as": "linkage pseudonym"}
            )
        wh.close()
    for purpose in load().purposes.values():
        sealed = paths.published / purpose.id / f"{purpose.id}.duckdb.enc"
        if not sealed.exists() or "pseudonym" not in purpose.privacy_classes:
            continue
        re_key = Pseudonymiser(keystore, "entiteit", purpose=purpose.id)
        keys = [re_key.from_linkage(psn)] + [re_key.from_linkage(e) for e in entity_ids]
        with unsealed(sealed, keystore, purpose.id) as plain:
            pub = duckdb.connect(str(plain), read_only=True)
            for table, column in pub.execute(
                "select table_name, column_name from information_schema.columns "
                "where column_name in ('persoon_psn', 'eigenaar_id')"
            ).fetchall():
                n = pub.execute(
                    f'select count(*) from "{table}" where "{column}" in ({", ".join("?" * len(keys))})', keys
                ).fetchall()[0][0]
                if n:
                    places.append(
                        {
                            "zone": "published",
                            "purpose": purpose.id,
                            "legal_basis": purpose.legal_basis,
                            "table": table,
                            "rows": n,
                            "held_as": "purpose pseudonym",
                            "lineage": _lineage(f"published/{purpose.id}/{table}"),
                        }
                    )
            pub.close()
    con.close()
    in_vault = Vault(paths.vault, keystore).holds("bsn", psn)
    restriction = RestrictionRegister(paths.access).active(psn)
    report = {
        "request": request,
        "officer": officer,
        "linkage_pseudonym": psn,
        "places": places,
        "in_vault": in_vault,
        "restricted": None if restriction is None else {"request": restriction.request, "since": restriction.since},
        "erased": psn in SuppressionList(paths.access).pseudonyms(),
        "raw_zone": "restricted; deleted after its retention term",
        "lineage": "per published table above; all columns: the privacy report's lineage page",
    }
    audit.append(
        {"action": "subject_access", "by": officer, "request": request, "pseudonym": psn, "places": len(places)}
    )
    return report


def write_subject_report(report: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"inzage_{report['request']}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    return path
