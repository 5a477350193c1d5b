"""The hub's PostgreSQL cluster: create it, configure it for the job, start it, lock it down, stop it.

`make serve` and the tests' session fixture call the same `serve()`. PostgreSQL refuses to run as root, so when the
hub runs as root (CI, a fresh machine) the cluster belongs to an unprivileged system user and every server binary runs
under that account through `runuser`; run as another user, the binaries run as that user. Authentication is
scram-sha-256 only, over TCP on 127.0.0.1; there is no Unix socket and no trust line. Everything here is idempotent:
a second `serve()` finds the cluster initialised and running and only re-applies the settings and the lock-down.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from serving.config import BIN_DIR, DAGSTER_DATABASE, ServerConfig, ServerError

# Settings chosen for 20 concurrent analysts on a 2-core machine with the city-scale datasets (a few hundred MB):
# see docs/serving.md for the reasoning behind each.
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "password_encryption": "'scram-sha-256'",
    "max_connections": "50",
    "superuser_reserved_connections": "3",
    "shared_buffers": "'512MB'",
    "effective_cache_size": "'2GB'",
    "work_mem": "'16MB'",
    "maintenance_work_mem": "'256MB'",
    "max_parallel_workers_per_gather": "0",
    "jit": "off",
    "idle_in_transaction_session_timeout": "'10min'",
    "shared_preload_libraries": "'pgaudit'",
    "logging_collector": "on",
    "log_destination": "'jsonlog'",
    "log_directory": "'log'",
    "log_filename": "'postgresql-%Y%m%d.log'",
    "log_file_mode": "0600",
    "log_rotation_age": "'1d'",
    "log_rotation_size": "'100MB'",
    "log_connections": "on",
    "log_min_error_statement": "error",
    "pgaudit.log": "'none'",
    "pgaudit.log_catalog": "on",
    "pgaudit.log_relation": "off",
    "pgaudit.log_parameter": "off",
    "pgaudit.log_statement_once": "off",
}

HBA = """# Written by the hub (serving/cluster.py). Password (scram-sha-256), TCP on 127.0.0.1 only, no trust lines.
# TYPE  DATABASE  USER  ADDRESS        METHOD
host    all       all   127.0.0.1/32   scram-sha-256
"""


def binary(name: str) -> str:
    path = BIN_DIR / name
    if not path.exists():
        raise ServerError(
            f"PostgreSQL 15 is not installed ({path} missing): run `make postgres` "
            "(Debian's postgresql-15 and postgresql-15-pgaudit)"
        )
    return str(path)


def _as_service_user(config: ServerConfig, argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    try:
        pwd.getpwnam(config.service_user)
    except KeyError as exc:
        raise ServerError(
            f"system user {config.service_user!r} does not exist; PostgreSQL refuses to run as root. "
            f"Create it (useradd --system {config.service_user}) or set RGW_PG_USER"
        ) from exc
    return ["runuser", "-u", config.service_user, "--", *argv]


def _run(config: ServerConfig, argv: list[str], what: str) -> subprocess.CompletedProcess:
    result = subprocess.run(_as_service_user(config, argv), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ServerError(f"{what} failed (exit {result.returncode}): {(result.stderr or result.stdout).strip()}")
    return result


def _give_to_service_user(config: ServerConfig, path: Path) -> None:
    if os.geteuid() == 0:
        account = pwd.getpwnam(config.service_user)
        os.chown(path, account.pw_uid, account.pw_gid)


def _check_reachable(config: ServerConfig) -> None:
    """The service user must be able to walk down to the cluster's folder: name the first folder that stops it."""
    if os.geteuid() != 0:
        return
    uid = pwd.getpwnam(config.service_user).pw_uid
    for parent in reversed(config.pgdata.parents):
        st = parent.stat()
        if st.st_uid != uid and not st.st_mode & 0o001:
            raise ServerError(
                f"{parent} is not searchable by {config.service_user} (mode {oct(st.st_mode & 0o777)}): the cluster "
                f"cannot live in {config.pgdata}; give the folder o+x or set RGW_PG_DATA elsewhere"
            )


def initialised(config: ServerConfig) -> bool:
    return (config.pgdata / "PG_VERSION").exists()


def init(config: ServerConfig) -> bool:
    """initdb with the hub's superuser and a fresh password (kept in the hub's key folder). False if it existed."""
    if initialised(config):
        if not config.secret_file.exists():
            raise ServerError(
                f"{config.pgdata} holds a cluster but the hub's password file {config.secret_file} is missing; "
                "remove the cluster folder to start afresh"
            )
        return False
    _check_reachable(config)
    config.pgdata.mkdir(parents=True, exist_ok=True)
    os.chmod(config.pgdata, 0o700)
    _give_to_service_user(config, config.pgdata)
    password = secrets.token_urlsafe(32)
    config.secret_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(config.secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password + "\n")
    with tempfile.TemporaryDirectory(prefix="rgw-initdb-") as d:
        pwfile = Path(d) / "pw"
        pwfile.write_text(password + "\n")
        os.chmod(d, 0o700)
        _give_to_service_user(config, Path(d))
        _give_to_service_user(config, pwfile)
        _run(
            config,
            [
                binary("initdb"),
                "-D",
                str(config.pgdata),
                "-U",
                config.admin,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
                "--no-instructions",
            ],
            "initdb",
        )
    return True


def configure(config: ServerConfig) -> None:
    """(Re)write the hub's settings and pg_hba.conf; the port follows RGW_PG_PORT at every start."""
    conf = config.pgdata / "postgresql.conf"
    include = "include_if_exists = 'rgw.conf'"
    text = conf.read_text(encoding="utf-8")
    if include not in text:
        conf.write_text(text + f"\n# The hub's settings (serving/cluster.py)\n{include}\n", encoding="utf-8")
    lines = [f"{k} = {v}" for k, v in {**SETTINGS, "port": str(config.port)}.items()]
    for name, body in (("rgw.conf", "\n".join(lines) + "\n"), ("pg_hba.conf", HBA)):
        path = config.pgdata / name
        path.write_text(body, encoding="utf-8")
        os.chmod(path, 0o600)
        _give_to_service_user(config, path)


def running(config: ServerConfig) -> bool:
    if not initialised(config):
        return False
    argv = _as_service_user(config, [binary("pg_ctl"), "-D", str(config.pgdata), "status"])
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def start(config: ServerConfig) -> bool:
    """Start the server and wait until it accepts connections; False if it was already running."""
    if running(config):
        return False
    log = config.pgdata / "startup.log"
    try:
        _run(
            config,
            [binary("pg_ctl"), "-D", str(config.pgdata), "-l", str(log), "-w", "-t", "60", "start"],
            "starting PostgreSQL",
        )
    except ServerError as exc:
        tail = log.read_text(errors="replace").splitlines()[-5:] if log.exists() else []
        raise ServerError(f"{exc}\n{chr(10).join(tail)}") from exc
    return True


def stop(config: ServerConfig) -> bool:
    """Stop the server (fast: open sessions are ended); False if it was not running."""
    if not running(config):
        return False
    _run(config, [binary("pg_ctl"), "-D", str(config.pgdata), "-m", "fast", "-w", "stop"], "stopping PostgreSQL")
    return True


LOCKDOWN = [
    # Nobody but the hub creates anything: not in public, not in the database (no schemas, no extensions), no TEMP.
    "REVOKE ALL ON DATABASE {db} FROM PUBLIC",
    "REVOKE ALL ON SCHEMA public FROM PUBLIC",
    "CREATE EXTENSION IF NOT EXISTS pgaudit",
    """DO $$ BEGIN
         IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rgw_analysts') THEN
           CREATE ROLE rgw_analysts NOLOGIN NOINHERIT;
         END IF;
       END $$""",
    "GRANT CONNECT ON DATABASE {db} TO rgw_analysts",
    # Large objects: the server-side import and export are superuser-only already; the rest is taken from PUBLIC too.
    """DO $$ DECLARE f regprocedure; BEGIN
         FOR f IN SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname = 'pg_catalog' AND (p.proname LIKE 'lo\\_%' OR p.proname IN ('loread', 'lowrite'))
         LOOP EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f); END LOOP;
       END $$""",
]


def bootstrap(config: ServerConfig) -> None:
    """The hub's database and the lock-down every analyst role inherits (idempotent)."""
    with psycopg.connect(config.admin_conninfo("postgres"), autocommit=True) as con:
        for db in (config.database, DAGSTER_DATABASE):
            if not con.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone():
                con.execute(f'CREATE DATABASE "{db}"')
        for db in ("postgres", "template1", DAGSTER_DATABASE):
            con.execute(f'REVOKE CONNECT, TEMPORARY ON DATABASE "{db}" FROM PUBLIC')
    with psycopg.connect(config.admin_conninfo(), autocommit=True) as con:
        for statement in LOCKDOWN:
            con.execute(statement.replace("{db}", f'"{config.database}"'))


def serve(config: ServerConfig) -> str:
    """Everything `make serve` does: initialise if needed, configure, start if needed, lock down. Returns a summary."""
    created = init(config)
    configure(config)
    started = start(config)
    if not started:  # running already: reload the settings that do not need a restart
        _run(config, [binary("pg_ctl"), "-D", str(config.pgdata), "reload"], "reloading PostgreSQL")
    bootstrap(config)
    state = "created and started" if created else ("started" if started else "already running")
    return f"PostgreSQL {state}: {config.host}:{config.port}, database {config.database}, cluster in {config.pgdata}"


def remove(config: ServerConfig) -> None:
    """Stop and delete a cluster (the tests' temporary ones)."""
    stop(config)
    shutil.rmtree(config.pgdata, ignore_errors=True)
