"""The access gateway: SQL on one purpose's published dataset, for a user with a valid grant, every query logged.

A session checks the grant (valid, not revoked, statement acknowledged), opens the purpose's encrypted dataset
read-only in a fresh in-memory DuckDB, then switches off external access and locks the configuration, so nothing but
that dataset can be read. Each statement must be a single SELECT; ATTACH, COPY, PRAGMA, SET, writes and table
functions that read files (read_csv, read_parquet, glob, ...) are refused with a message saying why. Every query,
refused or answered, is written to the hash-chained audit log: user, purpose, statement, tables and columns read,
rows returned, or the reason of the refusal. The record is written before the result is handed out, so an answer
whose record cannot be written is not given.

What a query read is taken from DuckDB's bound (unoptimised logical) plan, not from the statement's text:
`query_table('t')` and `query('select ... from t')` name their tables only after binding. A plan that reads anything
but the purpose's own tables and a few generators (range, unnest, ...) is refused, since the log could not say what
it read.

Bounds per purpose (`query_limits` in governance/purposes.yaml): a time limit (the query is interrupted and the
record says so), a memory limit (DuckDB's, with spilling to disk switched off so plaintext never lands in a temporary
file) and a limit on the rows returned (a larger answer is refused: aggregate or filter).

The plaintext dataset exists on disk only while DuckDB attaches it: the file is unlinked right after (DuckDB keeps
its open handle), so a session killed later leaves nothing behind; stop signals are held back during that short
window, and folders of sessions whose process died in it are swept by the next session. A query stopped by SIGINT,
SIGTERM or SIGHUP is logged as interrupted before the signal takes its usual course. The session keeps its DuckDB
connection out of reach (no attribute holds it), so `s._con.sql(...)` cannot skip the checks and the audit.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from governance.grants import AccessDenied, GrantRegister
from governance.publish import unseal
from governance.purposes import Purpose, load
from hubcore.processes import process_alive
from pseudonymisation.audit import AuditLog
from pseudonymisation.key_source import production_keystore
from pseudonymisation.keys import KeyStore

FILE_FUNCTIONS = re.compile(
    r"\b(read_\w+|glob|parquet_\w+|sniff_csv|iceberg_\w+|delta_scan|sqlite_scan|postgres_\w+|"
    r"mysql_\w+|http\w*|st_read|load_\w+|read_blob|read_text)\s*\(",
    re.IGNORECASE,
)
# Leaves of a bound plan that read no stored data: constants, CTE references and generators.
HARMLESS_LEAVES = frozenset(
    {
        "DUMMY_SCAN",
        "CTE_SCAN",
        "RANGE",
        "GENERATE_SERIES",
        "UNNEST",
        "DELIM_GET",
        "CHUNK_GET",
        "EXPRESSION_GET",
        "EMPTY_RESULT",
        "COLUMN_DATA_GET",
    }
)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
SESSION_PREFIX = "rgw-session-"


class QueryStopped(AccessDenied):
    """A query cut off by a bound of its purpose (time, memory) or by a signal; the audit record says which."""


@dataclass(frozen=True)
class QueryLimits:
    """The bounds of one query under a purpose; defaults apply where purposes.yaml sets none."""

    seconds: float = 60.0
    memory_mb: int = 2048
    rows: int = 200_000

    @classmethod
    def of(cls, purpose: Purpose) -> QueryLimits:
        given = dict(purpose.query_limits or {})
        unknown = set(given) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"purpose {purpose.id!r}: unknown query_limits {sorted(unknown)}")
        limits = cls(**given)
        if limits.seconds <= 0 or limits.memory_mb < 64 or limits.rows < 1:
            raise ValueError(f"purpose {purpose.id!r}: query_limits out of range: {limits}")
        return limits

    def tightened(self, other: QueryLimits | None) -> QueryLimits:
        """The stricter of the two on every bound."""
        if other is None:
            return self
        return QueryLimits(
            min(self.seconds, other.seconds), min(self.memory_mb, other.memory_mb), min(self.rows, other.rows)
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


def _plan_nodes(plan: Any) -> Iterator[dict[str, Any]]:
    stack = list(plan) if isinstance(plan, list) else [plan]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.get("children") or [])


def _scanned_table(node: dict[str, Any]) -> str | None:
    """`t` for a scan of `ds.main.t` (the purpose's dataset), None for anything else."""
    catalog, _, rest = str((node.get("extra_info") or {}).get("Table", "")).partition(".")
    schema, _, table = rest.partition(".")
    return table if catalog == "ds" and schema == "main" and table else None


def read_by_plan(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[set[str], set[str], str | None]:
    """(tables, columns) the bound plan of `sql` reads, and what it reads that cannot be attributed (or None)."""
    plans = dict(con.execute(f"explain (format json) {sql}").fetchall())
    tables: set[str] = set()
    for node in _plan_nodes(json.loads(plans["logical_plan"])):
        if node.get("children"):
            continue
        name = node.get("name", "")
        if name == "SEQ_SCAN" and _scanned_table(node):
            tables.add(_scanned_table(node))
        elif name not in HARMLESS_LEAVES:
            return tables, set(), f"{name.lower()} ({(node.get('extra_info') or {}).get('Table', 'a table function')})"
    columns: set[str] = set()
    for node in _plan_nodes(json.loads(plans.get("physical_plan", "[]"))):
        table = _scanned_table(node) if node.get("name") == "SEQ_SCAN" else None
        projected = (node.get("extra_info") or {}).get("Projections") or []
        for column in [projected] if isinstance(projected, str) else projected:
            if table and column:
                columns.add(f"{table}.{column}")
    return tables, columns, None


def sweep_dead_sessions(root: Path, older_than_seconds: float = 60.0) -> int:
    """Remove session folders whose process is gone (killed between unsealing and attaching); returns how many.

    A folder lives for milliseconds in a healthy session, so only folders older than a minute are considered: a
    process of another pid namespace sharing /dev/shm is never swept mid-open."""
    removed, now = 0, time.time()
    for folder in root.glob(f"{SESSION_PREFIX}*"):
        pid = folder.name[len(SESSION_PREFIX) :].split("-", 1)[0]
        try:
            old = now - folder.stat().st_mtime > older_than_seconds
        except FileNotFoundError:
            continue
        if old and pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


@contextmanager
def signals_caught(on_signal: Callable[[int], None]) -> Iterator[list[int]]:
    """Hold SIGINT/SIGTERM/SIGHUP for the block (main thread only): each calls `on_signal` and is listed; the
    caller re-delivers them after cleaning up (`redeliver`)."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handler(signum: int, _frame: Any) -> None:
        received.append(signum)
        on_signal(signum)

    previous = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield received
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _interrupt(con: duckdb.DuckDBPyConnection) -> None:
    """Interrupt a running query; a connection already closed has nothing left to stop."""
    with suppress(duckdb.Error):
        con.interrupt()


def redeliver(received: list[int]) -> None:
    """Let a held signal take its usual course (KeyboardInterrupt, termination) now that cleanup is done."""
    if received:
        signal.raise_signal(received[0])


# The sessions' connections, out of reach of the session object (a determined caller holding the key could unseal
# the dataset anyway: this keeps an ordinary user of the API from skipping the checks and the audit by accident).
_CONNECTIONS: weakref.WeakKeyDictionary[PurposeSession, duckdb.DuckDBPyConnection] = weakref.WeakKeyDictionary()


def _connection(session: PurposeSession) -> duckdb.DuckDBPyConnection:
    con = _CONNECTIONS.get(session)
    if con is None:
        raise AccessDenied("this session is closed; open a new one with connect(user, purpose)")
    return con


class PurposeSession:
    """A read-only view of one purpose's dataset for one user; use `query`."""

    __slots__ = ("__weakref__", "audit", "limits", "purpose", "user")

    def __init__(
        self,
        user: str,
        purpose: str,
        *,
        published: Path,
        keystore: KeyStore,
        grants: GrantRegister,
        audit: AuditLog,
        limits: QueryLimits | None = None,
    ):
        """`limits` can tighten the purpose's bounds for this session, never loosen them."""
        self.user, self.purpose = user, purpose
        self.audit = audit
        try:
            self.limits = QueryLimits.of(load().get(purpose)).tightened(limits)
            grants.check(user, purpose)
            path = published / purpose / f"{purpose}.duckdb.enc"
            if not path.exists():
                raise AccessDenied(f"the dataset of purpose {purpose!r} has not been published yet")
        except (AccessDenied, ValueError) as refusal:
            audit.append(
                {"action": "open", "user": user, "purpose": purpose, "outcome": "refused", "reason": str(refusal)}
            )
            raise AccessDenied(str(refusal)) from refusal
        _CONNECTIONS[self] = self._open(path, keystore)

    def _open(self, sealed: Path, keystore: KeyStore) -> duckdb.DuckDBPyConnection:
        """Unseal into memory-backed storage, attach, unlink at once; stop signals wait until the file is gone."""
        root = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
        sweep_dead_sessions(root)
        with signals_caught(lambda _s: None) as received:
            folder = Path(tempfile.mkdtemp(prefix=f"{SESSION_PREFIX}{os.getpid()}-", dir=root))
            try:
                plain = folder / f"{self.purpose}.duckdb"
                unseal(sealed, plain, keystore, self.purpose)
                con = duckdb.connect()
                con.execute(f"attach '{plain}' as ds (read_only)")
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        if received:
            con.close()
            redeliver(received)
        con.execute("use ds")
        con.execute(f"set memory_limit = '{self.limits.memory_mb}MB'")
        con.execute("set temp_directory = ''")  # no spilling: plaintext never lands in a temporary file
        con.execute("set explain_output = 'all'")  # the bound plan says what a query reads
        con.execute("set enable_external_access = false")
        con.execute("set lock_configuration = true")
        return con

    def _log(self, sql: str, outcome: str, **details: Any) -> None:
        self.audit.append(
            {"action": "query", "user": self.user, "purpose": self.purpose, "statement": sql, "outcome": outcome}
            | details
        )

    def _refuse(self, sql: str, reason: str, *, outcome: str = "refused", stop: bool = False) -> None:
        self._log(sql, outcome, reason=reason)
        raise (QueryStopped if stop else AccessDenied)(reason)

    def _checked(self, con: duckdb.DuckDBPyConnection, sql: str) -> str:
        """The single SELECT in `sql`, or a logged refusal saying why not."""
        try:
            statements = con.extract_statements(sql)
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
        return statements[0].query

    def query(self, sql: str) -> pa.Table:
        con = _connection(self)
        statement = self._checked(con, sql)
        try:
            tables, columns, unattributed = read_by_plan(con, statement)
            ast = json.loads(con.execute("select json_serialize_sql(?)", [statement]).fetchall()[0][0])
            _walk(ast, set(), columns)
        except (duckdb.CatalogException, duckdb.BinderException) as exc:
            self._refuse(
                sql,
                "the statement names a table or column that is not in this purpose's dataset (the "
                f"purpose may not see it): {str(exc).splitlines()[0]}",
            )
        except duckdb.Error as exc:
            self._refuse(sql, f"refused by the dataset's sandbox: {str(exc).splitlines()[0]}")
        if unattributed:
            self._refuse(
                sql,
                f"the query reads {unattributed}, which is not one of the purpose's tables; the audit log could "
                "not say what it read",
            )
        result = self._run(con, sql, statement)
        if result.num_rows > self.limits.rows:
            self._refuse(
                sql,
                f"the answer has more than {self.limits.rows:,} rows, the row limit of purpose {self.purpose!r}; "
                "filter or aggregate (query_limits.rows in governance/purposes.yaml)",
            )
        self._log(sql, "answered", tables=sorted(tables), columns=sorted(columns), rows=result.num_rows)
        return result

    def _run(self, con: duckdb.DuckDBPyConnection, sql: str, statement: str) -> pa.Table:
        """Execute within the purpose's time and memory limits; a stop of any kind is logged before it is raised.

        A stop signal interrupts DuckDB; once the usual handlers are back in place, the stop is logged, the session
        closed and the signal delivered again, so the process ends (or raises KeyboardInterrupt) as it would have."""
        timer = threading.Timer(self.limits.seconds, con.interrupt)
        failure: duckdb.Error | None = None
        with signals_caught(lambda _s: _interrupt(con)) as received:
            timer.start()
            try:
                return con.sql(statement).limit(self.limits.rows + 1).to_arrow_table()
            except duckdb.Error as exc:
                failure = exc
            finally:
                timer.cancel()
        if received:
            self._log(sql, "interrupted", reason=f"stopped by signal {signal.Signals(received[0]).name}")
            self.close()
            redeliver(received)
            raise QueryStopped("the query was stopped by a signal")
        if isinstance(failure, duckdb.InterruptException):
            self._refuse(
                sql,
                f"stopped after {self.limits.seconds:g} s, the time limit of purpose {self.purpose!r}; narrow "
                "the query (query_limits.seconds in governance/purposes.yaml)",
                outcome="stopped",
                stop=True,
            )
        if isinstance(failure, duckdb.OutOfMemoryException):
            self._refuse(
                sql,
                f"stopped: the query needs more than {self.limits.memory_mb} MB, the memory limit of purpose "
                f"{self.purpose!r} (query_limits.memory_mb in governance/purposes.yaml)",
                outcome="stopped",
                stop=True,
            )
        self._refuse(sql, f"refused by the dataset's sandbox: {str(failure).splitlines()[0]}")
        raise AssertionError("unreachable")  # _refuse raises

    def tables(self) -> list[str]:
        return [
            r[0]
            for r in _connection(self)
            .execute("select table_name from information_schema.tables where table_catalog = 'ds' order by 1")
            .fetchall()
        ]

    def close(self) -> None:
        con = _CONNECTIONS.pop(self, None)
        if con is not None:
            con.close()

    def __enter__(self) -> PurposeSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(user: str, purpose: str, data: Path | None = None, *, limits: QueryLimits | None = None) -> PurposeSession:
    """The Python API: a session on a purpose's dataset for a user, read-only, bounded and audited."""
    from hubcore.paths import HubPaths

    paths = HubPaths(Path(data)) if data else HubPaths.from_env()
    audit = AuditLog(paths.audit_log)
    return PurposeSession(
        user,
        purpose,
        published=paths.published,
        keystore=production_keystore(paths),
        grants=GrantRegister(paths.access / "grants.json", audit),
        audit=audit,
        limits=limits,
    )
