"""Publication into PostgreSQL: a purpose's sealed DuckDB dataset, loaded into schema `<purpose>` as it is.

The source is the dataset `governance/publish.py` just sealed, so the server holds exactly the same tables, columns,
rows and per-purpose pseudonyms: the column-tag policy, the row filter (a filtered build), the restriction register
and small-cell suppression were applied there. We check the tags once more before loading (fail closed: a column
whose tag does not allow this purpose stops the load) and write each column's tag into its COMMENT, where psql's
`\\d+` and BI tools show it.

Loading goes through Arrow: DuckDB hands each table over as Arrow and the ADBC PostgreSQL driver writes it with
COPY in binary form, into a fresh staging schema. When every table is in, one transaction drops the old schema and
renames the staging schema into its place, so an analyst sees the previous dataset or the new one, never half of one.
Privileges are given on the staging schema before the swap and travel with it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import adbc_driver_postgresql.dbapi as adbc
import duckdb
import psycopg
from psycopg import sql

from governance.publish import PublicationRefused, unsealed
from governance.purposes import load
from pseudonymisation.keys import KeyStore
from serving.config import ServerConfig
from serving.roles import ensure_purpose_roles, purpose_role


@dataclass
class ServedDataset:
    purpose: str
    tables: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _lookup_column(column: str) -> bool:
    """Columns analysts look rows up by (a dwelling, an owner, a buurt): indexed, so 20 analysts at once stay fast."""
    return column.endswith("_id") or column in {"buurtcode", "wijk"}


def check_tags(purpose_id: str, table: str, columns: list[str], tags: dict[str, dict[str, Any]]) -> None:
    purpose = load().get(purpose_id)
    for c in columns:
        meta = tags.get(table, {}).get(c)
        if meta is None or purpose_id not in meta.get("purposes", []):
            raise PublicationRefused(f"{purpose_id}: {table}.{c} is not tagged for this purpose; not loaded")
        if meta.get("privacy_class") not in purpose.privacy_classes:
            raise PublicationRefused(
                f"{purpose_id}: {table}.{c} is tagged {meta.get('privacy_class')!r}, a class this purpose may not see"
            )


def load_purpose(
    config: ServerConfig, purpose_id: str, sealed: Path, keystore: KeyStore, tags: dict[str, dict[str, dict]]
) -> ServedDataset:
    """Load one purpose's sealed dataset into schema `<purpose>`, atomically."""
    started = time.perf_counter()
    purpose = load().get(purpose_id)
    staging = f"{purpose.id}__staging"
    served = ServedDataset(purpose.id)
    role = sql.Identifier(purpose_role(purpose.id))
    with unsealed(sealed, keystore, purpose.id) as plain, psycopg.connect(config.admin_conninfo()) as con:
        src = duckdb.connect(str(plain), read_only=True)
        try:
            con.autocommit = True
            ensure_purpose_roles(con)
            con.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(staging)))
            con.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(staging)))
            with adbc.connect(config.admin_uri()) as loader:
                with loader.cursor() as cur:
                    for table in purpose.tables:
                        data = src.sql(f"select * from {table}").to_arrow_table()
                        check_tags(purpose.id, table, data.column_names, tags)
                        cur.adbc_ingest(table, data, mode="create", db_schema_name=staging)
                        served.tables[table] = data.num_rows
                loader.commit()
            (summary,) = src.execute("select manifest from _publication").fetchone()
            con.autocommit = False
            with con.transaction():
                for table in purpose.tables:
                    qualified = sql.Identifier(staging, table)
                    for column, meta in tags[table].items():
                        if purpose.id in meta.get("purposes", []):
                            con.execute(
                                sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                                    qualified, sql.Identifier(column), sql.Literal(json.dumps(meta, sort_keys=True))
                                )
                            )
                con.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(sql.Identifier(staging), sql.Literal(summary)))
                for table in purpose.tables:
                    for column in tags[table]:
                        if purpose.id in tags[table][column].get("purposes", []) and _lookup_column(column):
                            con.execute(
                                sql.SQL("CREATE INDEX ON {} ({})").format(
                                    sql.Identifier(staging, table), sql.Identifier(column)
                                )
                            )
                schema = sql.Identifier(staging)
                con.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, role))
                con.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(schema, role))
            with con.transaction():  # the swap: the old dataset or the new one, never half of one
                con.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(purpose.id)))
                con.execute(
                    sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(staging), sql.Identifier(purpose.id))
                )
            con.autocommit = True
            for table in purpose.tables:
                con.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(purpose.id, table)))
        except BaseException:
            con.rollback()
            con.autocommit = True
            con.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(staging)))
            raise
        finally:
            src.close()
    served.seconds = time.perf_counter() - started
    return served
