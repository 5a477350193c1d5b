"""The warehouse: every dbt model an asset and every dbt test an asset check, through dagster-dbt.

dbt is the only process writing the warehouse file (two threads on one database: dbt_project/profiles.yml), and the
step runs in the `duckdb` concurrency pool so no other DuckDB work writes at the same time. dbt sources map onto the
landing and linkage assets that write them, so the lineage in the UI runs from the raw delivery to the marts.
"""

import os
import sys
from collections.abc import Mapping, Sequence
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from packaging.version import Version

from orchestration.dbt_manifest import DBT_PROJECT_DIR, dbt_executable, dbt_project, ensure_manifest
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


def dbt_target(hub: HubPathsResource) -> Path:
    """The dbt target folder of this hub, kept from run to run beside the warehouse.

    dbt parses the project again whenever its profile differs from the one its kept parse was made under, and the
    profile holds the warehouse path: dagster-dbt's fresh folder per run starts from the parse `make install`
    prepared (another path), so every build re-parsed the whole project (18 s of a 25 s refresh at focus, on a
    loaded machine). One folder per hub keeps the last build's `partial_parse.msgpack` under this hub's own profile,
    so the next build parses only what changed (dbt compares every file's checksum). One run at a time per data
    folder (orchestration/recovery.py), so no two builds share it at once.
    """
    return hub.paths().warehouse.parent / "dbt_target"


def dbt_env(hub: HubPathsResource) -> dict[str, str]:
    paths = hub.paths()
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


def dbt_resource() -> DbtCliResource:
    return HubDbtCliResource(
        project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable()
    )
