"""`rgw serve start|stop|status`: the hub's PostgreSQL server, as `make serve` and `make serve-stop` run it."""

from __future__ import annotations

import sys

import click

from rgw.settings import HubPaths


@click.group()
def serve() -> None:
    """The hub's PostgreSQL server for analysts (docs/serving.md)."""


def _config():
    from serving.config import ServerConfig

    return ServerConfig.from_env(HubPaths.from_env().ensure())


@serve.command("start")
def serve_start() -> None:
    """Create the cluster under RGW_DATA/postgres when missing, start it on 127.0.0.1:RGW_PG_PORT, lock it down, and
    load every published dataset that is not yet on it. Idempotent."""
    from serving.cluster import serve as serve_cluster
    from serving.config import ServerError
    from serving.hardening import restrict_hub_files

    paths = HubPaths.from_env().ensure()
    config = _config()
    try:
        restrict_hub_files(paths)
        click.echo(serve_cluster(config))
        _publish_missing(paths, config)
    except ServerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(5)


def _publish_missing(paths: HubPaths, config) -> None:
    """Datasets published before the server existed are loaded now, so `make demo` then `make serve` is enough."""
    import json

    import psycopg

    from governance.publish import column_tags
    from governance.purposes import load
    from orchestration.dbt_manifest import ensure_manifest
    from pseudonymisation.key_source import production_keystore
    from serving.publish import load_purpose

    with psycopg.connect(config.admin_conninfo(), autocommit=True) as con:
        present = {r[0] for r in con.execute("SELECT nspname FROM pg_namespace").fetchall()}
    wanted = [p for p in load().purposes if p not in present and (paths.published / p / f"{p}.duckdb.enc").exists()]
    if not wanted:
        return
    tags = column_tags(json.loads(ensure_manifest().read_text()))
    keystore = production_keystore(paths)
    for purpose in wanted:
        served = load_purpose(config, purpose, paths.published / purpose / f"{purpose}.duckdb.enc", keystore, tags)
        click.echo(f"loaded {purpose}: {sum(served.tables.values()):,} rows in {served.seconds:.1f}s")


@serve.command("stop")
def serve_stop() -> None:
    """Stop the server (open sessions are ended)."""
    from serving.cluster import stop

    click.echo("PostgreSQL stopped" if stop(_config()) else "PostgreSQL was not running")


@serve.command("dagster-url")
def serve_dagster_url() -> None:
    """The URL to put in RGW_DAGSTER_PG_URL for Dagster's run and event storage on this server (database dagster)."""
    click.echo(_config().dagster_url())


@serve.command("status")
def serve_status() -> None:
    from serving.cluster import running

    config = _config()
    up = running(config)
    click.echo(f"PostgreSQL {'running' if up else 'not running'}: {config.host}:{config.port}, cluster {config.pgdata}")
    sys.exit(0 if up else 1)
