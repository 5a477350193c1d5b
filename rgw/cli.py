"""The `rgw` command: the hub's functions for people at a terminal.

Each command calls the same library functions Dagster calls, so a result here is the result there. Heavy imports
(Dagster, DuckDB, the connectors) happen inside the commands, so `rgw --help` stays instant.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import click

from rgw.settings import HubPaths


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Rotterdams Goed Wonen data hub: ingest, pseudonymise, link and publish per purpose."""


@main.command()
@click.option("--scale", type=click.Choice(["tiny", "focus", "city"]), default="focus", show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Writes OUT/incoming and OUT/ground_truth.")
def synth(scale: str, seed: int, out: Path) -> None:
    """Write a synthetic Rotterdam: deliveries of every source in its real format, and the ground truth."""
    from synth import generate

    started = time.perf_counter()
    summary = generate(scale=scale, seed=seed, out=out)
    click.echo(json.dumps(summary, indent=2, default=str))
    click.echo(f"synthetic {scale} Rotterdam (seed {seed}) written to {out} in {time.perf_counter() - started:.1f}s")


@main.command()
@click.argument("source")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--land/--no-land", default=False, help="Land the result in the raw zone of RGW_DATA.")
def ingest(source: str, path: Path, land: bool) -> None:
    """Read one delivery of SOURCE at PATH with its connector and report counts, quarantine and drift."""
    from connectors.delivery import DeliveryError, land_delivery
    from connectors.incoming import delivery_id_for
    from connectors.registry import SOURCES
    from rgw.preflight import disk_full_as_message

    if source not in SOURCES:
        raise click.UsageError(f"unknown source {source!r}; known: {', '.join(SOURCES)}")
    paths = HubPaths.from_env().ensure()
    with disk_full_as_message(paths):
        try:
            result = SOURCES[source].read(path, delivery_id=delivery_id_for(path), staging_root=paths.staging)
        except DeliveryError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(2)
        for name, c in result.counts().items():
            click.echo(f"{name:<28} in {c['in']:>9,}  clean {c['clean']:>9,}  quarantined {c['quarantined']:>7,}")
        for d in result.drift:
            click.echo(f"schema drift: {d}")
        if land:
            click.echo(f"landed in {land_delivery(result, paths.raw)}")


def _instance():
    import dagster as dg

    if os.environ.get("DAGSTER_HOME"):
        Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        return dg.DagsterInstance.get()
    click.echo("DAGSTER_HOME is not set: runs are not kept (use the Makefile targets to keep them)", err=True)
    return dg.DagsterInstance.ephemeral()


def _run_hub(paths: HubPaths, wait: bool):
    """The whole run under the data folder's lock: a second run refuses (or waits), a full disk is one message."""
    from orchestration.progress import Progress
    from orchestration.recovery import RunLocked
    from orchestration.runner import run_everything
    from rgw.preflight import PreflightError, disk_full_as_message

    with disk_full_as_message(paths):
        try:
            report = run_everything(_instance(), paths, Progress(), wait=wait)
        except RunLocked as exc:
            raise PreflightError(str(exc)) from exc
    for line in report.recovery.lines():
        click.echo(f"recovered: {line}", err=True)
    return report


@main.command()
@click.option("--wait", is_flag=True, help="Wait for a run already busy on this data folder instead of refusing.")
def run(wait: bool) -> None:
    """Ingest every delivery in RGW_DATA/incoming and refresh everything downstream, on the Dagster instance.

    Refuses without a managed master key (RGW_MASTER_KEY or RGW_KEY_FILE) and while another run is busy on the
    same data folder. After a killed run it marks that run failed, frees its slots and goes on.
    """
    from rgw.preflight import require_production_key
    from rgw.summary import render_summary

    paths = HubPaths.from_env().ensure()
    click.echo(f"master key: {require_production_key(paths)}", err=True)
    report = _run_hub(paths, wait)
    click.echo(render_summary(paths, report.failed, report.checks))
    sys.exit(0 if report.ok else 1)


@main.command()
@click.option("--scale", type=click.Choice(["tiny", "focus", "city"]), default="focus", show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
def demo(scale: str, seed: int) -> None:
    """Generate a synthetic Rotterdam (once per scale and seed), then run the whole hub on it."""
    from rgw.preflight import DEMO_MARKER, make_demo_key
    from rgw.summary import render_summary
    from synth import generate

    paths = HubPaths.from_env().ensure()
    marker = paths.data / DEMO_MARKER
    wanted = f"{scale}:{seed}"
    started = time.perf_counter()
    if not marker.exists() or marker.read_text() != wanted:
        click.echo(f"generating a synthetic Rotterdam ({scale}, seed {seed}) into {paths.data} ...")
        generate(scale=scale, seed=seed, out=paths.data)
        marker.write_text(wanted)
    make_demo_key(paths)
    report = _run_hub(paths, wait=False)
    click.echo(render_summary(paths, report.failed, report.checks))
    click.echo(f"\ndemo finished in {time.perf_counter() - started:.0f}s")
    sys.exit(0 if report.ok else 1)


@main.command()
def summary() -> None:
    """Print what has landed so far."""
    from rgw.summary import render_summary

    click.echo(render_summary(HubPaths.from_env()))


def _register_commands() -> None:
    from rgw.commands.address import address
    from rgw.commands.keys import keys
    from rgw.commands.link import link
    from rgw.commands.privacy import access, audit, privacy, publish, query, reidentify, subject
    from rgw.commands.report import report
    from rgw.commands.serve import serve

    for command in (address, access, audit, keys, link, privacy, publish, query, reidentify, report, serve, subject):
        main.add_command(command)


_register_commands()

if __name__ == "__main__":
    main()
