"""Where the hub's PostgreSQL server lives and how the hub reaches it, taken from the environment.

The cluster's files live under `$RGW_DATA/postgres` (`RGW_PG_DATA` moves them), owned by an unprivileged system user
(`RGW_PG_USER`, default `postgres`, the account Debian's package creates; `RGW_PG_SECRET` moves the password file).
The server listens on 127.0.0.1 only, on `RGW_PG_PORT` (default 5433, beside a distribution cluster on 5432). The hub
itself connects as `rgw_hub`, the cluster's superuser, with a password generated at `initdb` and kept in the hub's key
folder: whoever holds the key folder holds the server, and analysts hold neither.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from hubcore.paths import HubPaths

DEFAULT_PORT = 5433
DATABASE = "rgw"
DAGSTER_DATABASE = "dagster"  # the Dagster instance's run and event storage, when RGW_DAGSTER_PG_URL points here
ADMIN = "rgw_hub"
BIN_DIR = Path(os.environ.get("RGW_PG_BIN", "/usr/lib/postgresql/15/bin"))


class ServerError(RuntimeError):
    """The server could not be set up, started or reached; the message says what to do."""


@dataclass(frozen=True)
class ServerConfig:
    """One cluster: its data folder, its port and the file holding the hub's superuser password."""

    pgdata: Path
    port: int
    secret_file: Path
    service_user: str = "postgres"
    host: str = "127.0.0.1"
    database: str = DATABASE
    admin: str = ADMIN

    @classmethod
    def from_env(cls, paths: HubPaths | None = None) -> ServerConfig:
        paths = paths or HubPaths.from_env()
        pgdata = Path(os.environ.get("RGW_PG_DATA", paths.data / "postgres")).resolve()
        return cls(
            pgdata=pgdata,
            port=int(os.environ.get("RGW_PG_PORT", DEFAULT_PORT)),
            secret_file=Path(os.environ.get("RGW_PG_SECRET", paths.keys / "postgres-admin.secret")),
            service_user=os.environ.get("RGW_PG_USER", "postgres"),
        )

    @property
    def configured(self) -> bool:
        """A cluster was initialised for this hub (so publication and grants must reach it: fail closed)."""
        return self.secret_file.exists() and (self.pgdata / "PG_VERSION").exists()

    def admin_password(self) -> str:
        if not self.secret_file.exists():
            raise ServerError(f"no PostgreSQL server is set up for this hub ({self.secret_file} missing): make serve")
        return self.secret_file.read_text(encoding="utf-8").strip()

    def admin_conninfo(self, database: str | None = None) -> str:
        return (
            f"host={self.host} port={self.port} dbname={database or self.database} user={self.admin} "
            f"password={self.admin_password()} connect_timeout=10 application_name=rgw-hub"
        )

    def admin_uri(self, database: str | None = None) -> str:
        return f"postgresql://{self.admin}:{self.admin_password()}@{self.host}:{self.port}/{database or self.database}"

    def dagster_url(self) -> str:
        """For RGW_DAGSTER_PG_URL: dagster-postgres needs psycopg2 (SQLAlchemy 2.1 would pick psycopg 3 for a plain
        postgresql:// URL, and dagster-postgres' NOTIFY with a bound parameter fails there)."""
        return self.admin_uri(DAGSTER_DATABASE).replace("postgresql://", "postgresql+psycopg2://", 1)

    def user_uri(self, user: str, password: str) -> str:
        from urllib.parse import quote

        return f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{self.host}:{self.port}/{self.database}"
