"""The register's changes carried to the server: what `rgw access grant|acknowledge|revoke|credentials` and the
Python entry points call after the register was updated. With no server set up for the hub these do nothing (the
embedded DuckDB gateway is then the only way in); with one set up they must reach it, or the command fails (fail
closed: a revoke the server did not hear of is an error, and `rgw access sync` repeats it)."""

from __future__ import annotations

from pathlib import Path

import psycopg

from governance.grants import GrantRegister
from hubcore.paths import HubPaths
from pseudonymisation.key_source import production_keystore
from serving.config import ServerConfig, ServerError
from serving.credentials import PendingCredentials, new_password, scram_verifier
from serving.roles import UserState, role_exists, sync_user


def pending_credentials(paths: HubPaths) -> PendingCredentials:
    return PendingCredentials(paths.access / "pending-credentials", production_keystore(paths))


def _connect(config: ServerConfig) -> psycopg.Connection:
    try:
        return psycopg.connect(config.admin_conninfo(), autocommit=True)
    except psycopg.OperationalError as exc:
        raise ServerError(
            f"the hub's PostgreSQL server at {config.host}:{config.port} cannot be reached ({exc}); start it with "
            "`make serve`, then repeat with `rgw access sync`"
        ) from exc


def sync(paths: HubPaths, grants: GrantRegister, user: str, *, new_credentials: bool = False) -> UserState | None:
    """Carry the register's state for `user` to the server; a new password when asked or when the role is new."""
    config = ServerConfig.from_env(paths)
    if not config.configured:
        return None
    with _connect(config) as con:
        verifier = None
        if new_credentials or not role_exists(con, user):
            password = new_password()
            verifier = scram_verifier(password)
        state = sync_user(con, user, grants.all(), password_verifier=verifier)
        if verifier is not None and state.login:
            pending_credentials(paths).put(user, password)
    return state


def sync_everyone(paths: HubPaths, grants: GrantRegister) -> list[UserState]:
    return [s for user in sorted({g.user for g in grants.all()}) if (s := sync(paths, grants, user)) is not None]


def credentials_uri(paths: HubPaths, user: str) -> str:
    """The analyst's libpq URI with the password generated at grant time; shown once."""
    config = ServerConfig.from_env(paths)
    if not config.configured:
        raise ServerError("no PostgreSQL server is set up for this hub: make serve")
    password = pending_credentials(paths).take(user)
    if password is None:
        raise ServerError(
            f"{user}'s password was shown before (or {user} holds no grant); the hub keeps only the server's hash. "
            f"A new one: rgw access credentials --user {user} --reset --officer-key FILE"
        )
    return config.user_uri(user, password)


def user_purposes(grants: GrantRegister) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for g in grants.all():
        if g.revoked_at is None and g.acknowledged_at:
            out.setdefault(g.user, []).append(g.purpose)
    return out


def cursor_file(paths: HubPaths) -> Path:
    return paths.audit / "postgres_cursor.json"
