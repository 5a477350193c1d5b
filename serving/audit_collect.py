"""The server's audit trail into the hub's hash-chained audit log, each statement exactly once.

pgaudit writes a line for every statement of an analyst's role (classes READ, WRITE, FUNCTION, ROLE, DDL, MISC; set
on the role, where only a superuser can change it) to the server's JSON log; the server adds a line for every
refusal (ERROR, with the statement) and every login, accepted or refused (FATAL). `collect` reads those files through
the hub's superuser connection (`pg_read_binary_file`, so the hub needs no file-system access to the cluster), turns
each line about an analyst into one audit event (user, purpose, statement, server time, outcome) and appends it.

Exactly once: every event carries the log file and the byte offset just past its line (`server_log`, as
`file:o<offset>`: a bare nine-digit offset would look like a BSN to the audit log's own check). The cursor
(audit/postgres_cursor.json) says how far each file was read; before reading, the cursor is raised to the furthest
offset found in the audit log itself, so a crash between appending and saving the cursor re-reads nothing. Only
whole lines are read: a line the server is still writing waits for the next run. One collector at a time (a lock).
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from governance.purposes import load
from pseudonymisation.audit import AuditLog, looks_identifying
from serving.config import ServerConfig

CHANNEL = "postgres"
_LOG_PLACE = re.compile(r"^(.+):o?(\d+)$")
CHUNK = 4 * 1024 * 1024
PGAUDIT_FIELDS = ("audit_type", "statement_id", "substatement_id", "class", "command", "object_type", "object")


@dataclass
class Collected:
    events: int
    lines: int
    files: int


def _server_lines(con: psycopg.Connection, cursor: dict[str, int]) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """(file, offset past the line, record) for every whole new line of the server's JSON logs, oldest first."""
    files = con.execute("SELECT name, size FROM pg_ls_logdir() WHERE name LIKE '%%.json' ORDER BY name").fetchall()
    for name, size in files:
        offset = cursor.get(name, 0)
        while offset < size:
            (chunk,) = con.execute(
                "SELECT pg_read_binary_file(%s, %s, %s)", [f"log/{name}", offset, min(CHUNK, size - offset)]
            ).fetchone()
            end = chunk.rfind(b"\n")
            if end < 0:
                break  # a line still being written: next run
            pos = offset
            for raw in chunk[: end + 1].split(b"\n")[:-1]:
                pos += len(raw) + 1
                if raw.strip():
                    yield name, pos, json.loads(raw)
            offset += end + 1


def _purpose_of(objects: Iterable[str], user_purposes: dict[str, list[str]], user: str) -> str:
    purposes = load().purposes
    schemas = sorted({o.split(".", 1)[0] for o in objects if "." in o and o.split(".", 1)[0] in purposes})
    if len(schemas) == 1:
        return schemas[0]
    mine = user_purposes.get(user, [])
    return mine[0] if len(mine) == 1 and not schemas else ",".join(schemas) or "onbepaald"


def to_event(record: dict[str, Any], admin: str, user_purposes: dict[str, list[str]]) -> dict[str, Any] | None:
    """The hub's audit event for one server log line about an analyst, or None for lines about nobody in particular
    (server start, the hub's own connections)."""
    user = record.get("user")
    if not user or user == admin or record.get("backend_type") not in (None, "client backend"):
        return None
    message = record.get("message", "")
    severity = record.get("error_severity")
    base = {"action": "query", "channel": CHANNEL, "user": user, "server_time": record.get("timestamp")}
    if message.startswith("AUDIT: "):
        row = next(csv.reader(io.StringIO(message[len("AUDIT: ") :])))
        fields = dict(zip(PGAUDIT_FIELDS, row, strict=False))
        objects = [fields["object"]] if fields.get("object") else []
        return base | {
            "purpose": _purpose_of(objects, user_purposes, user),
            "statement": row[7] if len(row) > 7 else "",
            "outcome": "executed",
            "class": fields.get("class"),
            "command": fields.get("command"),
            "objects": objects,
            "session": record.get("session_id"),
        }
    if severity == "ERROR":
        return base | {
            "purpose": _purpose_of([], user_purposes, user),
            "statement": record.get("statement", ""),
            "outcome": "refused",
            "reason": message,
            "session": record.get("session_id"),
        }
    if severity == "FATAL":
        detail = record.get("detail")
        login = record.get("ps") == "authentication" or any(w in message for w in ("authentication", "log in"))
        return base | {
            "action": "login" if login else "session_end",
            "purpose": _purpose_of([], user_purposes, user),
            "outcome": "refused" if login else "ended",
            "reason": message + (f" ({detail})" if detail else ""),
        }
    if message.startswith("connection authorized"):
        return base | {"action": "login", "purpose": _purpose_of([], user_purposes, user), "outcome": "accepted"}
    return None


def _redacted(event: dict[str, Any]) -> dict[str, Any]:
    """The audit log never holds plaintext identifiers: an analyst's statement that holds one is kept without it."""
    found = looks_identifying(event)
    if not found:
        return event
    hidden = [k for k, v in event.items() if looks_identifying(v)]
    return event | {k: f"<weggelaten: bevatte {looks_identifying(event[k])}>" for k in hidden}


class AuditCollector:
    def __init__(self, config: ServerConfig, audit: AuditLog, cursor_file: Path):
        self.config, self.audit, self.cursor_file = config, audit, Path(cursor_file)

    def _cursor(self) -> dict[str, int]:
        cursor = json.loads(self.cursor_file.read_text()) if self.cursor_file.exists() else {}
        for record in self.audit.records():
            where = record["event"].get("server_log") if record["event"].get("channel") == CHANNEL else None
            if where:
                name, offset = _LOG_PLACE.match(where).groups()
                cursor[name] = max(cursor.get(name, 0), int(offset))
        return cursor

    def _save(self, cursor: dict[str, int]) -> None:
        tmp = self.cursor_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(cursor, indent=1, sort_keys=True))
        os.replace(tmp, self.cursor_file)

    def collect(self, user_purposes: dict[str, list[str]] | None = None) -> Collected:
        user_purposes = user_purposes or {}
        self.cursor_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.cursor_file.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            cursor = self._cursor()
            events = lines = 0
            files: set[str] = set()
            with psycopg.connect(self.config.admin_conninfo(), autocommit=True) as con:
                for name, offset, record in _server_lines(con, cursor):
                    lines += 1
                    files.add(name)
                    event = to_event(record, self.config.admin, user_purposes)
                    if event is not None:
                        self.audit.append(_redacted(event) | {"server_log": f"{name}:o{offset}"})
                        events += 1
                    cursor[name] = offset
            self._save(cursor)
        return Collected(events, lines, len(files))
