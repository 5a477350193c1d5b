"""The privacy boundary in Dagster: per source, a partitioned multi-asset that turns one raw delivery into its
pseudonymised landing form, with a check that scans what landed for anything that looks like a direct identifier.

The landing of a source depends on its raw entities and on the raw BAG (to resolve written addresses while they
are still readable). Key material stays in the key store: metadata shows versions and counts, never keys or values.
"""

import hashlib
import json
from pathlib import Path

import dagster as dg

from connectors.delivery import latest_delivery
from connectors.registry import SOURCES, SourceSpec
from governance.identifier_scan import raw_person_files, scan_cache, scan_zone
from governance.restrictions import SuppressionList
from hubcore.paths import HubPaths
from linkage.address.bag import bag_address_table
from linkage.address.resolve import BagIndex
from orchestration.assets.ingest import delivery_partitions, raw_key
from orchestration.lineage_metadata import column_lineage
from orchestration.resources import HubPathsResource
from pseudonymisation.boundary import land_delivery_folder
from pseudonymisation.keys import KeyStore
from pseudonymisation.policy import Boundary
from pseudonymisation.reuse import CopiedRows
from pseudonymisation.vault import Vault

LANDING_GROUP = "landing"
_INDEX_CACHE: dict[str, BagIndex] = {}
BOUNDARY_CONTEXT = "boundary_context"  # landing metadata: what else the landing depended on


def landing_key(source: str, entity: str) -> dg.AssetKey:
    return dg.AssetKey(["landing", source, entity])


def bag_index(raw_zone: Path) -> BagIndex | None:
    """The address index of the latest raw BAG delivery, built once per delivery and process."""
    folder = latest_delivery(raw_zone, "bag")
    return None if folder is None else _index_of(folder)


def _index_of(folder: Path) -> BagIndex:
    if str(folder) not in _INDEX_CACHE:
        _INDEX_CACHE.clear()
        _INDEX_CACHE[str(folder)] = BagIndex(bag_address_table(folder))
    return _INDEX_CACHE[str(folder)]


class _BagIndexOnFirstUse(BagIndex):
    """The BAG index of a raw BAG delivery, built when the boundary first looks something up in it.

    A re-delivery that reuses its earlier landing (pseudonymisation/reuse.py) resolves only its changed rows, and
    often none needs the index (a BRP correction of names, rows that carry their own BAG ids): building it anyway
    cost 1.5 s of a city landing. Every attribute the index has is set by its build, so the first one asked for
    (methods find theirs on `self`) builds it, and from then on this is the index itself."""

    def __init__(self, folder: Path):  # deliberately not BagIndex.__init__: nothing is built yet
        self.__dict__["_folder"] = folder

    def __getattr__(self, name: str):
        if "_built" in self.__dict__:
            raise AttributeError(name)
        self.__dict__.update(_index_of(self._folder).__dict__, _built=True)
        return getattr(self, name)


def bag_index_on_first_use(raw_zone: Path) -> BagIndex | None:
    """`bag_index(raw_zone)`, built only when first used (None when no BAG delivery was ingested)."""
    folder = latest_delivery(raw_zone, "bag")
    if folder is None:
        return None
    built = _INDEX_CACHE.get(str(folder))
    return built if built is not None else _BagIndexOnFirstUse(folder)


def boundary_context(paths: HubPaths, source: str) -> str:
    """What a landing depends on besides its own raw delivery: key version and a check of its secret (a secret
    re-provisioned under the same label lands everything anew), BAG delivery, erased persons."""
    bag = latest_delivery(paths.raw, "bag") if source != "bag" else None
    erased = hashlib.sha256("\n".join(sorted(SuppressionList(paths.access).pseudonyms())).encode()).hexdigest()[:12]
    keys = KeyStore(paths.keys, allow_demo_key=False)
    version = keys.version
    return f"key:{version}:{keys.key_check(version)}|bag:{bag.name if bag else '-'}|erased:{erased}"


def reuse_context(paths: HubPaths, source: str) -> str:
    """The boundary context plus the identity of the BAG files the addresses are resolved against (a BAG delivery
    ingested again under the same id changes them): a landing reuses rows of an earlier one only under the same
    (pseudonymisation/reuse.py)."""
    bag = latest_delivery(paths.raw, "bag") if source != "bag" else None
    files = sorted(bag.glob("*.parquet")) if bag else []
    stamp = hashlib.sha256(repr([(f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files]).encode())
    return f"{boundary_context(paths, source)}|bagfiles:{stamp.hexdigest()[:12]}"


def build_landing_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            landing_key(spec.name, entity),
            deps=[
                raw_key(spec.name, entity),
                *(
                    [dg.AssetDep(raw_key("bag", "nummeraanduiding"), partition_mapping=dg.AllPartitionMapping())]
                    if spec.name != "bag"
                    else []
                ),
            ],
            description=f"{spec.title}: `{entity}` behind the privacy boundary: keyed pseudonyms and encodings, "
            "addresses resolved to BAG (shared landing zone).",
            group_name=LANDING_GROUP,
            owners=[spec.owner],
            kinds={"python", "parquet"},
            tags={"source": spec.name, "zone": "landing", "privacy": "pseudonymised"},
        )
        for entity in spec.entities
    ]
    first = landing_key(spec.name, spec.entities[0])
    check = dg.AssetCheckSpec(
        "no_direct_identifiers",
        asset=first,
        description="Scans every table this source landed for 11-proef numbers, EAN-18 codes, e-mail addresses, "
        "phone numbers and full names from the raw delivery; fails on any finding.",
    )

    @dg.multi_asset(
        name=f"land_{spec.name}",
        specs=specs,
        check_specs=[check],
        partitions_def=delivery_partitions(spec.name),
        description=f"Pseudonymises one {spec.title} delivery into the landing zone.",
        can_subset=False,
        pool="landing",
    )
    def _land(context: dg.AssetExecutionContext, hub: HubPathsResource):
        paths = hub.paths()
        delivery_id = context.partition_key
        raw_dir = paths.raw / spec.name / delivery_id
        if not raw_dir.exists():
            raise FileNotFoundError(f"{spec.name} delivery {delivery_id} has not been ingested into {paths.raw}")
        keystore = hub.keystore()  # a managed key or refuse: never a demo key made up for real deliveries
        erased = SuppressionList(paths.access).pseudonyms()  # erased persons: not back in the vault nor landed
        boundary = Boundary(keystore, Vault(paths.vault, keystore, erased=erased))
        index = bag_index_on_first_use(paths.raw) if spec.name != "bag" else None
        context_now = boundary_context(paths, spec.name)
        copied: dict[str, CopiedRows] = {}
        report = land_delivery_folder(
            boundary,
            raw_dir,
            paths.landing,
            spec.name,
            delivery_id,
            list(spec.entities),
            index,
            erased,
            context=reuse_context(paths, spec.name),
            copied=copied,
        )
        steps = report["steps"]
        for entity in spec.entities:
            figures = report["entities"][entity]
            entity_steps = {
                s["column"]: f"{s['action']}{':' + s['argument'] if s['argument'] else ''}"
                for s in steps
                if s["entity"] == entity
            }
            meta = {
                "delivery": delivery_id,
                "dagster/row_count": figures["rows_out"],
                "key_version": keystore.version,
                BOUNDARY_CONTEXT: context_now,
                "boundary_steps": dg.MetadataValue.json(entity_steps),
                "path": dg.MetadataValue.path(str(paths.landing / spec.name / delivery_id / f"{entity}.parquet")),
            }
            meta.update(column_lineage(f"landing/{spec.name}/{entity}"))
            if "rows_reused" in figures:  # unchanged rows taken from an earlier landing (pseudonymisation/reuse.py)
                meta["rows_reused"] = figures["rows_reused"]
                meta["reused_from"] = figures["reused_from"]
            if "addresses" in figures:
                meta["addresses_resolved"] = figures["resolved"]
                meta["addresses_unresolved_share"] = figures["unresolved_share"]
            yield dg.MaterializeResult(asset_key=landing_key(spec.name, entity), metadata=meta)
        landed = paths.landing / spec.name / delivery_id
        copied_rows = {landed / f"{entity}.parquet": rows for entity, rows in copied.items()}  # scanned clean before
        findings = scan_zone([landed], raw_person_files(paths.raw), scan_cache(paths), copied_rows)
        yield dg.AssetCheckResult(
            check_name="no_direct_identifiers",
            asset_key=first,
            passed=not findings,
            metadata={
                "findings": dg.MetadataValue.json([str(f) for f in findings][:50]),
                "tables_scanned": len(spec.entities),
            },
        )

    return _land


LANDING_ASSETS = [build_landing_asset(spec) for spec in SOURCES.values()]


def read_landing_reports(landing_zone: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(landing_zone.glob("*/*/_landing.json"))]
