"""The warehouse: every dbt model an asset and every dbt test an asset check, through dagster-dbt.

dbt is the only process writing the warehouse file (two threads on one database: dbt_project/profiles.yml), and the
step runs in the `duckdb` concurrency pool so no other DuckDB work writes at the same time. dbt sources map onto the
landing and linkage assets that write them, so the lineage in the UI runs from the raw delivery to the marts.
"""

import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

import dagster as dg
import dagster_dbt.core.resource as dagster_dbt_resource
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation
from packaging.version import Version

from hubcore.paths import HubPaths
from orchestration.dbt_manifest import DBT_PROJECT_DIR, dbt_executable, dbt_project, ensure_manifest
from orchestration.dbt_prestart import dbt_started_ahead, is_venv_dbt, take_started
from orchestration.dbt_unit_tests import code_fingerprint, record_if_all_passed, unit_test_args
from orchestration.lineage_metadata import column_lineage
from orchestration.resources import HubPathsResource

WAREHOUSE_GROUP = "warehouse"
DUCKDB_POOL = "duckdb"


class HubDbtTranslator(DagsterDbtTranslator):
    """Sources are the landing (`landing/<source>/<entity>`) and linkage (`linkage/<table>`) assets; models live
    under `warehouse/<model>` and carry their layer, purposes and privacy tags from dbt's `config.meta`."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            source = dbt_resource_props["source_name"]
            name = dbt_resource_props["name"]
            return dg.AssetKey(["linkage", name]) if source == "linkage" else dg.AssetKey(["landing", source, name])
        return dg.AssetKey(["warehouse", dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return WAREHOUSE_GROUP

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        tags = dict(super().get_tags(dbt_resource_props))
        fqn = dbt_resource_props.get("fqn", [])
        if len(fqn) > 2:
            tags["layer"] = fqn[1]
        meta = (dbt_resource_props.get("config") or {}).get("meta") or dbt_resource_props.get("meta") or {}
        for purpose in meta.get("purposes", []):
            tags[f"purpose/{purpose}"] = ""
        return tags


def dbt_target(hub: HubPathsResource | HubPaths) -> Path:
    """The dbt target folder of this hub, kept from run to run beside the warehouse.

    dbt parses the project again whenever its profile differs from the one its kept parse was made under, and the
    profile holds the warehouse path: dagster-dbt's fresh folder per run starts from the parse `make install`
    prepared (another path), so every build re-parsed the whole project (18 s of a 25 s refresh at focus, on a
    loaded machine). One folder per hub keeps the last build's `partial_parse.msgpack` under this hub's own profile,
    so the next build parses only what changed (dbt compares every file's checksum). One run at a time per data
    folder (orchestration/recovery.py), so no two builds share it at once.
    """
    return (hub.paths() if isinstance(hub, HubPathsResource) else hub).warehouse.parent / "dbt_target"


def dbt_env(hub: HubPathsResource | HubPaths) -> dict[str, str]:
    paths = hub.paths() if isinstance(hub, HubPathsResource) else hub
    return {
        "RGW_LANDING": str(paths.landing),
        "RGW_WAREHOUSE": str(paths.warehouse),
        "RGW_GROUND_TRUTH": str(paths.ground_truth),  # the programme targets' tests; absent on real data
    }


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project,
    dagster_dbt_translator=HubDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
    pool=DUCKDB_POOL,
)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, hub: HubPathsResource):
    """Build the selected models and run their data tests (`dbt build`), streaming each result as it lands, each
    model's materialisation with its column lineage. The unit tests run when the dbt code changed since they last all
    passed on this hub (orchestration/dbt_unit_tests.py)."""
    os.environ.update(dbt_env(hub))
    target, fingerprint = dbt_target(hub), code_fingerprint()
    args = ["build", *unit_test_args(target, fingerprint)]
    for event in dbt.cli(args, context=context, target_path=target).stream():
        if isinstance(event, dg.Output):
            key = context.asset_key_for_output(event.output_name)
            event = event.with_metadata({**event.metadata, **column_lineage("/".join(key.path))})
        yield event
    if record_if_all_passed(target, fingerprint):
        context.log.info("every dbt unit test passed: left out of builds until the dbt code changes")


class HubDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without the two start-ups it makes before every build that the hub never uses.

    Before each `dbt build` dagster-dbt runs `dbt --version` in a subprocess (a whole dbt start-up, to tell dbt Core
    from the Fusion engine) and loads dbt's profile, project and macros in process to hold an adapter, which it only
    uses to fetch row counts and column metadata (the hub asks for neither: its column lineage comes from the
    manifest). Together 5 to 10 s of every warehouse refresh on 2 cores. The dbt we run is the venv's own, so its
    version is the installed dbt-core's; a dbt from PATH (no venv) is still asked.
    """

    @cached_property
    def _cli_version(self) -> Version:
        if Path(self.dbt_executable).parent == Path(sys.executable).parent:
            return Version(installed_version("dbt-core"))
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None

    def cli(self, args: Sequence[str], **kwargs: Any) -> DbtCliInvocation:
        """dagster-dbt's `cli`, taking the dbt process `rgw run` started ahead when one waits for exactly this
        build (orchestration/dbt_prestart.py), else starting dbt as dagster-dbt does."""
        with _started_ahead_taken():
            return super().cli(args, **kwargs)


class _StartedAheadInvocation(DbtCliInvocation):
    """`DbtCliInvocation.run` that adopts the waiting dbt worker instead of starting a process; everything after
    (streaming the JSON events, waiting, the exit code) is dagster-dbt's own."""

    @classmethod
    def run(cls, args, env, manifest, dagster_dbt_translator, project_dir, target_path, raise_on_error, context,
            adapter, cli_version, dbt_project=None):  # fmt: skip
        kept_parse = Path(target_path, "partial_parse.msgpack").is_file()  # else dagster-dbt seeds it: its own run
        process = take_started(args, env, Path(project_dir)) if kept_parse else None
        if process is None:
            return DbtCliInvocation.run(
                args=args, env=env, manifest=manifest, dagster_dbt_translator=dagster_dbt_translator,
                project_dir=project_dir, target_path=target_path, raise_on_error=raise_on_error, context=context,
                adapter=adapter, cli_version=cli_version, dbt_project=dbt_project,
            )  # fmt: skip
        if context is not None:
            context.log.info("dbt build: in the dbt process started ahead (its imports already paid)")
        return DbtCliInvocation(
            process=process, manifest=manifest, project=dbt_project, dagster_dbt_translator=dagster_dbt_translator,
            project_dir=project_dir, target_path=target_path, raise_on_error=raise_on_error, context=context,
            adapter=adapter, cli_version=cli_version,
        )  # fmt: skip


@contextmanager
def _started_ahead_taken() -> Iterator[None]:
    """dagster-dbt's `cli` creates its invocation through the name `DbtCliInvocation` in its resource module; for one
    call that name is the subclass above. Steps run one at a time in process, so no other call sees it."""
    original = dagster_dbt_resource.DbtCliInvocation
    dagster_dbt_resource.DbtCliInvocation = _StartedAheadInvocation
    try:
        yield
    finally:
        dagster_dbt_resource.DbtCliInvocation = original


def build_environment(paths: HubPaths) -> dict[str, str]:
    """The environment dagster-dbt gives `dbt build` in the warehouse step (`DbtCliResource.cli`), after the step set
    `dbt_env`: a dbt started ahead with any other environment is not used."""
    target, profiles_dir = dbt_target(paths), str(DBT_PROJECT_DIR)
    return {
        "PYTHONLEGACYWINDOWSSTDIO": "1",
        **os.environ,
        **dbt_env(paths),
        "DAGSTER_DBT_CLI": "true",
        "PYTHONUNBUFFERED": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_LOG_FORMAT": "json",
        "DBT_TARGET_PATH": os.fspath(target),
        "DBT_LOG_PATH": os.fspath(target),
        "DBT_PROFILES_DIR": profiles_dir,
        "DBT_PROJECT_DIR": str(Path(dbt_project.project_dir)),
    }


@contextmanager
def warehouse_build_started_ahead(paths: HubPaths) -> Iterator[None]:
    """Inside (a downstream run that builds the warehouse): dbt starts now, while the steps before it run, when the
    build will run the venv's dbt and keeps its parse in this hub's target folder."""
    if not is_venv_dbt(dbt_executable()) or not (dbt_target(paths) / "partial_parse.msgpack").is_file():
        yield
        return
    with dbt_started_ahead(build_environment(paths), Path(dbt_project.project_dir)):
        yield


def dbt_resource() -> DbtCliResource:
    return HubDbtCliResource(
        project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable()
    )
