"""The access gateway: SQL on one purpose's published dataset, for a user with a valid grant, every query logged.

A session checks the grant (valid, not revoked, statement acknowledged), opens the purpose's encrypted dataset
read-only in a fresh in-memory DuckDB, then switches off external access and locks the configuration, so nothing but
that dataset can be read. Each statement must be a single SELECT; ATTACH, COPY, PRAGMA, SET, writes and table
functions that read files (read_csv, read_parquet, glob, ...) are refused with a message saying why. Every query,
refused or answered, is written to the hash-chained audit log: user, purpose, statement, tables and columns read,
rows returned.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from governance.grants import AccessDenied, GrantRegister
from governance.publish import unseal
from governance.purposes import load
from pseudonymisation.audit import AuditLog
from pseudonymisation.keys import KeyStore

FILE_FUNCTIONS = re.compile(
    r"\b(read_\w+|glob|parquet_\w+|sniff_csv|iceberg_\w+|delta_scan|sqlite_scan|postgres_\w+|"
    r"mysql_\w+|http\w*|st_read|load_\w+|read_blob|read_text)\s*\(",
    re.IGNORECASE,
)


def _walk(node: Any, tables: set[str], columns: set[str]) -> None:
    if isinstance(node, dict):
        if node.get("type") == "BASE_TABLE" and node.get("table_name"):
            tables.add(node["table_name"])
        if node.get("class") == "COLUMN_REF" and node.get("column_names"):
            columns.add(".".join(node["column_names"]))
        for v in node.values():
            _walk(v, tables, columns)
    elif isinstance(node, list):
        for v in node:
            _walk(v, tables, columns)


class PurposeSession:
    """A read-only view of one purpose's dataset for one user; use `query`."""

    def __init__(
        self, user: str, purpose: str, *, published: Path, keystore: KeyStore, grants: GrantRegister, audit: AuditLog
    ):
        self.user, self.purpose = user, purpose
        self.audit = audit
        try:
            load().get(purpose)
            grants.check(user, purpose)
        except (AccessDenied, ValueError) as refusal:
            audit.append(
                {"action": "open", "user": user, "purpose": purpose, "outcome": "refused", "reason": str(refusal)}
            )
            raise AccessDenied(str(refusal)) from refusal
        path = published / purpose / f"{purpose}.duckdb.enc"
        if not path.exists():
            raise AccessDenied(f"the dataset of purpose {purpose!r} has not been published yet")
        self._dir = Path(tempfile.mkdtemp(prefix="rgw-session-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
        plain = self._dir / f"{purpose}.duckdb"
        unseal(path, plain, keystore, purpose)
        self._con = duckdb.connect()
        self._con.execute(f"attach '{plain}' as ds (read_only)")
        self._con.execute("use ds")
        self._con.execute("set enable_external_access = false")
        self._con.execute("set lock_configuration = true")

    def _refuse(self, sql: str, reason: str) -> None:
        self.audit.append(
            {
                "action": "query",
                "user": self.user,
                "purpose": self.purpose,
                "statement": sql,
                "outcome": "refused",
                "reason": reason,
            }
        )
        raise AccessDenied(reason)

    def query(self, sql: str) -> pa.Table:
        try:
            statements = self._con.extract_statements(sql)
        except duckdb.Error as exc:
            self._refuse(sql, f"the statement does not parse: {str(exc).splitlines()[0]}")
        if len(statements) != 1:
            self._refuse(sql, "one statement at a time, please")
        kind = str(statements[0].type).rsplit(".", 1)[-1]
        if kind != "SELECT":
            self._refuse(
                sql,
                f"only SELECT is allowed under a purpose; this is {kind} (ATTACH, COPY, SET, PRAGMA and "
                "writes reach outside the purpose's dataset)",
            )
        if FILE_FUNCTIONS.search(sql):
            self._refuse(sql, "reading files or other databases is outside the purpose's dataset")
        tables: set[str] = set()
        columns: set[str] = set()
        try:
            ast = json.loads(self._con.execute("select json_serialize_sql(?)", [sql]).fetchall()[0][0])
            _walk(ast, tables, columns)
            result = self._con.sql(sql).to_arrow_table()
        except (duckdb.CatalogException, duckdb.BinderException) as exc:
            self._refuse(
                sql,
                "the statement names a table or column that is not in this purpose's dataset (the "
                f"purpose may not see it): {str(exc).splitlines()[0]}",
            )
        except duckdb.Error as exc:
            self._refuse(sql, f"refused by the dataset's sandbox: {str(exc).splitlines()[0]}")
        self.audit.append(
            {
                "action": "query",
                "user": self.user,
                "purpose": self.purpose,
                "statement": sql,
                "outcome": "answered",
                "tables": sorted(tables),
                "columns": sorted(columns),
                "rows": result.num_rows,
            }
        )
        return result

    def tables(self) -> list[str]:
        return [
            r[0]
            for r in self._con.execute(
                "select table_name from information_schema.tables where table_catalog = 'ds' order by 1"
            ).fetchall()
        ]

    def close(self) -> None:
        self._con.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> PurposeSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def connect(user: str, purpose: str, data: Path | None = None) -> PurposeSession:
    """The Python API: a session on a purpose's dataset for a user, read-only and audited."""
    from rgw.settings import HubPaths

    paths = HubPaths(Path(data)) if data else HubPaths.from_env()
    audit = AuditLog(paths.audit_log)
    return PurposeSession(
        user,
        purpose,
        published=paths.published,
        keystore=KeyStore(paths.keys),
        grants=GrantRegister(paths.access / "grants.json", audit),
        audit=audit,
    )
