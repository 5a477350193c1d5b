"""Roles from the registers: one NOLOGIN role per purpose, one LOGIN role per analyst, kept in step with the grants.

The purpose role `rgw_purpose_<purpose>` holds USAGE on the purpose's schema and SELECT on its tables, nothing else.
An analyst's login role exists from the first grant, with `VALID UNTIL` the end of the latest valid grant (the server
refuses the login after it), and becomes a member of a purpose role only once the analyst has acknowledged that
purpose's statement. A revoked or expired grant takes the membership away and ends the analyst's open sessions; with
no valid grant left the role loses LOGIN. Every analyst role is a member of `rgw_analysts` (CONNECT on the hub's
database and nothing more) and carries settings only a superuser can change: pgaudit logs every statement, and temp
files are capped. `sync_user` makes the server say what the register says, so running it again is harmless.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import psycopg
from psycopg import sql

from governance.grants import Grant
from governance.purposes import load

ANALYSTS = "rgw_analysts"
CONNECTION_LIMIT = 4  # per analyst: psql, a BI tool and a notebook at once
ANALYST_SETTINGS = {
    "pgaudit.log": "read, write, function, role, ddl, misc",  # superuser-only setting: the analyst cannot lower it
    "temp_file_limit": "1GB",  # superuser-only too: a runaway sort cannot fill the disk
    "statement_timeout": "60s",  # a default, see docs/serving.md: the analyst's session can change it
    "idle_session_timeout": "4h",
}
_USER = re.compile(r"^[a-z][a-z0-9_.-]{0,62}$")


class RoleError(ValueError):
    pass


def purpose_role(purpose: str) -> str:
    return f"rgw_purpose_{purpose}"


def check_user_name(user: str) -> str:
    if not _USER.match(user) or user.startswith(("pg_", "rgw_")) or user in {"postgres", "public"}:
        raise RoleError(
            f"{user!r} cannot be a server login: use lower-case letters, digits, '.', '-' or '_' (starting with a "
            "letter), not starting with pg_ or rgw_"
        )
    return user


@dataclass(frozen=True)
class UserState:
    user: str
    login: bool
    valid_until: datetime | None
    purposes: tuple[str, ...]
    ended_sessions: int = 0


def ensure_purpose_roles(con: psycopg.Connection) -> None:
    for purpose in load().purposes:
        _ensure_role(con, purpose_role(purpose), "NOLOGIN")


def _ensure_role(con: psycopg.Connection, role: str, options: str) -> bool:
    if con.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
        return False
    con.execute(sql.SQL("CREATE ROLE {} " + options).format(sql.Identifier(role)))
    return True


def role_exists(con: psycopg.Connection, user: str) -> bool:
    return con.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [user]).fetchone() is not None


def end_sessions(con: psycopg.Connection, user: str) -> int:
    rows = con.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s AND pid <> pg_backend_pid()", [user]
    ).fetchall()
    return sum(1 for (ended,) in rows if ended)


def memberships(con: psycopg.Connection, user: str) -> set[str]:
    rows = con.execute(
        """SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
           JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s AND g.rolname LIKE 'rgw\\_purpose\\_%%'""",
        [user],
    ).fetchall()
    return {r[0] for r in rows}


def sync_user(
    con: psycopg.Connection,
    user: str,
    grants: Iterable[Grant],
    *,
    password_verifier: str | None = None,
    today: date | None = None,
) -> UserState:
    """Make the server's roles for `user` match the register. `password_verifier` (a SCRAM verifier) sets a new
    password; a role created without one cannot log in until it gets one."""
    check_user_name(user)
    today = today or datetime.now(UTC).date()
    ensure_purpose_roles(con)
    mine = [g for g in grants if g.user == user]
    valid = [g for g in mine if g.valid_on(today)]
    wanted = {purpose_role(g.purpose) for g in valid if g.acknowledged_at}
    ident = sql.Identifier(user)
    if not valid:
        if not role_exists(con, user):
            return UserState(user, False, None, ())
        for role in memberships(con, user):
            con.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(role), ident))
        con.execute(sql.SQL("ALTER ROLE {} NOLOGIN").format(ident))
        return UserState(user, False, None, (), end_sessions(con, user))
    until = datetime.combine(max(date.fromisoformat(g.until) for g in valid) + timedelta(days=1), time(), UTC)
    password = sql.SQL(" PASSWORD {}").format(sql.Literal(password_verifier)) if password_verifier else sql.SQL("")
    options = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT NOREPLICATION NOBYPASSRLS CONNECTION LIMIT {}")
    options = options.format(sql.Literal(CONNECTION_LIMIT))
    if role_exists(con, user):
        if con.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = %s", [user]).fetchone()[0]:
            raise RoleError(f"{user!r} is a privileged server role, not an analyst")
        alter = sql.SQL("ALTER ROLE {} {}{} VALID UNTIL {}")
        con.execute(alter.format(ident, options, password, sql.Literal(until.isoformat())))
    else:
        con.execute(
            sql.SQL("CREATE ROLE {} {}{} VALID UNTIL {} IN ROLE {}").format(
                ident, options, password, sql.Literal(until.isoformat()), sql.Identifier(ANALYSTS)
            )
        )
    for name, value in ANALYST_SETTINGS.items():
        con.execute(sql.SQL("ALTER ROLE {} SET {} = {}").format(ident, sql.SQL(name), sql.Literal(value)))
    schemas = sorted(g.purpose for g in valid if g.acknowledged_at)
    con.execute(
        sql.SQL("ALTER ROLE {} SET search_path = {}").format(
            ident, sql.SQL(", ").join(sql.Identifier(s) for s in schemas) if schemas else sql.Literal("")
        )
    )
    current = memberships(con, user)
    for role in sorted(wanted - current):
        con.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(role), ident))
    taken = current - wanted
    for role in sorted(taken):
        con.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(role), ident))
    ended = end_sessions(con, user) if taken else 0
    return UserState(user, True, until, tuple(schemas), ended)
