"""Dagster's SQLite storage without a disk flush per event, while `rgw run` runs its in-process runs.

Dagster's SQLite event log opens a fresh connection for every event it stores (NullPool) and closes it again; its
databases are in WAL mode, so each commit flushes the write-ahead log to disk (synchronous=FULL) and each close of the
last connection checkpoints it into the database file and flushes again. A downstream refresh stores some 350 events
(step starts, outputs, materialisations, the dbt tests' check results) over some 1,200 connections: on a shared disk
(about 20 ms a transaction) that was 15 to 25 s of the BRP re-delivery spent waiting for fsync, more than any step.

While `rgw run` runs, each WAL database of the instance it touches gets one extra connection held open, so closing
Dagster's own connections is no longer the last close and does not checkpoint; the connections commit with
synchronous=NORMAL, which in WAL mode flushes at checkpoints only. A background thread checkpoints every
CHECKPOINT_SECONDS, so the database files (which the Dagster UI watches to show a running run's events) stay at most
that far behind, and at the end everything is checkpointed and the extra connections closed.

What this changes for a crash: none for a killed process (SIGKILL, OOM: the committed events are with the operating
system, so orchestration/recovery.py finds what it found before); after a power loss or a crash of the operating
system the last events before it may be missing, but the database stays consistent (SQLite's guarantee for WAL with
synchronous=NORMAL), and a run whose end was lost is marked failed and run again like a killed one. Only SQLite
storage is touched; an instance on PostgreSQL (RGW_DAGSTER_PG_URL) is left as it is.

The event log also builds a new SQLAlchemy engine for every event it stores or reads (`_connect`: an engine with no
pool, disposed after one use), so each event paid for a new engine, a new SQLite connection (with the pragmas above)
and compiling its statements afresh, as the compiled-statement cache lives in the engine: with the ~80 planning
events of a run and each step's events, about a second of CPU in a city re-delivery. Meanwhile one engine per database
file is kept, with a pooled connection, so its statements compile once (`_KeptEngines`); Dagster's lock around each
use, its transaction per use and its creation of a new run's database stay as they were. Dagster also asks, with yet
another engine, whether an index table exists before storing each asset check result: a table found is remembered.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine

CHECKPOINT_SECONDS = 1.0


class _HeldDatabases:
    """One extra open connection per WAL database file seen, checkpointed on a timer."""

    def __init__(self) -> None:
        self._held: dict[str, sqlite3.Connection] = {}
        self._lock = threading.Lock()

    def on_connect(self, dbapi_connection, _record) -> None:
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        try:
            (mode,) = dbapi_connection.execute("pragma journal_mode").fetchone()
            path = next((row[2] for row in dbapi_connection.execute("pragma database_list") if row[1] == "main"), "")
            if mode != "wal" or not path:
                return  # a database Dagster has not put in WAL mode yet (a new run's shard): its next connection
            dbapi_connection.execute("pragma synchronous=NORMAL")
            if path in self._held:  # the usual case, without waiting for a checkpoint under way
                return
            with self._lock:
                if path not in self._held:
                    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
                    holder.execute("select count(*) from sqlite_master").fetchall()  # joins the WAL
                    self._held[path] = holder
        except sqlite3.Error:
            return  # an optimisation only: a busy or odd database keeps Dagster's own behaviour

    def checkpoint(self) -> None:
        with self._lock:
            holders = list(self._held.values())
        for holder in holders:  # the flush happens outside the lock: a new connection never waits for it
            try:
                holder.execute("pragma wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:
                continue  # busy: the next tick or the final close checkpoints it

    def close(self) -> None:
        with self._lock:
            held, self._held = self._held, {}
        for holder in held.values():
            with suppress(sqlite3.Error):
                holder.execute("pragma wal_checkpoint(PASSIVE)").fetchall()
            holder.close()


class _KeptEngines:
    """One engine per event-log database file, kept with its pooled connection: stands in for
    `SqliteEventLogStorage._connect`, which made (and disposed of) an engine per use."""

    def __init__(self) -> None:
        self._engines: dict[str, Engine] = {}
        self._tables: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def _engine(self, conn_string: str) -> Engine:
        with self._lock:
            engine = self._engines.get(conn_string)
            if engine is None:  # SQLAlchemy's default pool for a SQLite file: connections kept, any thread
                engine = create_engine(conn_string, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
                self._engines[conn_string] = engine
            return engine

    @contextmanager
    def connect(self, storage: SqliteEventLogStorage, shard: str) -> Iterator[Connection]:
        """Dagster's `_connect` (sqlite_event_log.py) with the engine kept: same lock, same transaction per use."""
        with storage._db_lock:
            engine = self._engine(storage.conn_string_for_shard(shard))
            if shard not in storage._initialized_dbs:
                storage._initdb(engine)
                storage._initialized_dbs.add(shard)
                # a new run's database: the connection that created it predates its WAL mode (and so the pragmas
                # of `_HeldDatabases.on_connect`); the next one is made afresh
                engine.dispose()
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, storage: SqliteEventLogStorage, table: str, dagster_has_table) -> bool:
        """Dagster asks whether a table of the index exists before storing each asset check result (and more), each
        time with a new engine: a table found once stays (Dagster drops none), so that answer is kept."""
        key = (storage.conn_string_for_shard(INDEX_SHARD_NAME), table)
        if key in self._tables:
            return True
        found = dagster_has_table(storage, table)
        if found:
            self._tables.add(key)
        return found

    def close(self) -> None:
        with self._lock:
            engines, self._engines = self._engines, {}
        for engine in engines.values():
            engine.dispose()


@contextmanager
def events_flushed_per_checkpoint(checkpoint_seconds: float = CHECKPOINT_SECONDS) -> Iterator[None]:
    """Inside: Dagster's SQLite storage commits without a flush per event and keeps one engine per event-log database
    (see the module docstring)."""
    held = _HeldDatabases()
    kept = _KeptEngines()
    stop = threading.Event()

    def checkpoints() -> None:
        while not stop.wait(checkpoint_seconds):
            held.checkpoint()

    def kept_connect(storage: SqliteEventLogStorage, shard: str):
        return kept.connect(storage, shard)

    def kept_has_table(storage: SqliteEventLogStorage, table: str) -> bool:
        return kept.has_table(storage, table, dagster_has_table)

    ticker = threading.Thread(target=checkpoints, name="rgw-sqlite-checkpoint", daemon=True)
    event.listen(Engine, "connect", held.on_connect)
    dagster_connect = SqliteEventLogStorage.__dict__["_connect"]
    dagster_has_table = SqliteEventLogStorage.__dict__["has_table"]
    SqliteEventLogStorage._connect = kept_connect  # type: ignore[method-assign]
    SqliteEventLogStorage.has_table = kept_has_table  # type: ignore[method-assign]
    ticker.start()
    try:
        yield
    finally:
        SqliteEventLogStorage._connect = dagster_connect  # type: ignore[method-assign]
        SqliteEventLogStorage.has_table = dagster_has_table  # type: ignore[method-assign]
        kept.close()  # before the held connections close: their final checkpoint then empties the WAL
        event.remove(Engine, "connect", held.on_connect)
        stop.set()
        ticker.join()
        held.close()
