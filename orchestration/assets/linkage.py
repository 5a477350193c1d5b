"""Linkage in Dagster: address links (with the review queue), the buurt of each dwelling, person and owner
entities. Each writes one Parquet file into `landing/linkage/`, which dbt reads as a source. Where the synthetic
ground truth is present, asset checks report linkage quality against it and fail below the programme's goals.
"""

from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from connectors.delivery import latest_delivery, write_parquet_atomic
from connectors.gebieden import assign_buurt
from connectors.registry import SOURCES, address_columns
from connectors.unchanged_write import write_parquet_if_changed
from linkage import quality as quality_module
from linkage.entities import entity_links_table
from linkage.quality import address_quality, entity_quality
from linkage.truth_cache import kept_figures
from orchestration.assets.landing import landing_key
from orchestration.lineage_metadata import column_lineage
from orchestration.resources import HubPathsResource
from pseudonymisation.boundary import address_link_rows

LINKAGE_GROUP = "linkage"
QUALITY_CODE = Path(quality_module.__file__)  # a change to how the figures are computed computes them anew
GOALS = {"address_precision": 0.995, "address_unresolved": 0.01, "owners_f1": 0.99, "tenants_f1": 0.99}


def _deps(*keys: dg.AssetKey) -> list[dg.AssetDep]:
    return [dg.AssetDep(k, partition_mapping=dg.AllPartitionMapping()) for k in keys]


ADDRESS_ENTITIES = [
    ("brp", "verblijfplaats_historie"),
    ("stedin", "aansluiting"),
    ("corporaties", "eenheid"),
    ("brk", "kadastraal_object_adres"),
    ("meldpunten", "melding"),
    ("meldpunten", "zaak"),
    ("meldpunten", "vergunning"),
]


ADDRESS_RESULT = ("adres_nummeraanduiding_id", "adres_verblijfsobject_id", "adres_confidence", "adres_methode")


def _address_part(path: Path, source: str, entity: str) -> pa.Table:
    """The columns of a landed table that its address links are made of: its key and the boundary's address
    result. Reading only these (not the encoded names and dates beside them) is most of what the step saves."""
    names = pq.read_schema(path).names
    roles = address_columns(source, entity)
    wanted = [*(roles.record_key if roles else ()), *ADDRESS_RESULT, "adres_onopgelost"]
    return pq.read_table(path, columns=[c for c in wanted if c in names])


@dg.asset(
    key=["linkage", "address_links"],
    deps=_deps(*[landing_key(s, e) for s, e in ADDRESS_ENTITIES]),
    group_name=LINKAGE_GROUP,
    kinds={"python", "parquet"},
    description="Every address in every source with the BAG nummeraanduiding and verblijfsobject it resolved to, "
    "its confidence and method; unresolved ones carry the reason (the review queue).",
    check_specs=[
        dg.AssetCheckSpec(
            "address_quality_vs_ground_truth",
            asset=["linkage", "address_links"],
            description="Among resolved addresses at least 99.5% correct, at most 1% unresolved "
            "(synthetic ground truth; skipped on real data).",
        )
    ],
)
def address_links(context: dg.AssetExecutionContext, hub: HubPathsResource):
    paths = hub.paths()
    parts = []
    for source, entity in ADDRESS_ENTITIES:
        folder = latest_delivery(paths.landing, source)
        if folder and (folder / f"{entity}.parquet").exists():
            rows = address_link_rows(_address_part(folder / f"{entity}.parquet", source, entity), source, entity)
            if rows is not None:
                parts.append(rows)
    table = pa.concat_tables(parts)
    # the same rows (a re-delivery that changed no address) are not written again: the files keep their state, so
    # the check's figures and the privacy report's scan are read back
    path = paths.linkage / "address_links.parquet"
    write_parquet_if_changed(table, path)
    unresolved = table.filter(pa.compute.is_null(table["nummeraanduiding_id"]))
    write_parquet_if_changed(unresolved, paths.linkage / "address_review_queue.parquet")
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": table.num_rows,
            **column_lineage("linkage/address_links"),
            "unresolved (review queue)": unresolved.num_rows,
            "path": dg.MetadataValue.path(str(paths.linkage / "address_links.parquet")),
        }
    )
    if (paths.ground_truth / "addresses.parquet").exists():
        keystore = hub.keystore()
        quality = kept_figures(
            paths.quality_cache,
            "address_quality",
            [path, paths.ground_truth / "addresses.parquet", QUALITY_CODE],
            keystore,
            lambda: address_quality(table, paths.ground_truth, keystore, cache=paths.quality_cache),
        )
        ok = all(
            q["precision"] >= GOALS["address_precision"] and q["unresolved_share"] <= GOALS["address_unresolved"]
            for q in quality.values()
        )
        yield dg.AssetCheckResult(passed=ok, metadata={"per_source": dg.MetadataValue.json(quality)})
    else:
        yield dg.AssetCheckResult(passed=True, metadata={"skipped": "no ground truth (real data)"})


@dg.asset(
    key=["linkage", "vbo_buurt"],
    deps=_deps(landing_key("bag", "verblijfsobject"), landing_key("gebieden", "buurt")),
    group_name=LINKAGE_GROUP,
    kinds={"python", "parquet"},
    description="The buurt (CBS code of the latest year delivered) of each verblijfsobject, by its point.",
)
def vbo_buurt(context: dg.AssetExecutionContext, hub: HubPathsResource) -> dg.MaterializeResult:
    paths = hub.paths()
    vbo = pq.read_table(
        latest_delivery(paths.landing, "bag") / "verblijfsobject.parquet", columns=["verblijfsobject_id", "x", "y"]
    )
    buurten = pq.read_table(latest_delivery(paths.landing, "gebieden") / "buurt.parquet")
    codes = assign_buurt(vbo["x"].to_pylist(), vbo["y"].to_pylist(), buurten)
    table = pa.table({"verblijfsobject_id": vbo["verblijfsobject_id"], "buurtcode": pa.array(codes, pa.string())})
    write_parquet_atomic(table, paths.linkage / "vbo_buurt.parquet")
    outside = sum(1 for c in codes if c is None)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": table.num_rows,
            "outside_every_buurt": outside,
            **column_lineage("linkage/vbo_buurt"),
        }
    )


PERSON_KEYS = [
    landing_key("brp", "persoon"),
    landing_key("brp", "verblijfplaats_historie"),
    *[landing_key("corporaties", e) for e in SOURCES["corporaties"].entities],
    *[landing_key("brk", e) for e in SOURCES["brk"].entities],
    landing_key("meldpunten", "melding"),
    landing_key("meldpunten", "zaak"),
]


@dg.asset(
    key=["linkage", "entity_links"],
    # vbo_buurt: a landlord named at an unresolved address is looked for among the owners in the reported buurt
    deps=[*_deps(*PERSON_KEYS), dg.AssetDep(dg.AssetKey(["linkage", "vbo_buurt"]))],
    group_name=LINKAGE_GROUP,
    kinds={"python", "parquet"},
    description="Persons (BRP, corporation tenants, Kadaster) and owners (Kadaster, landlords named in reports and "
    "cases) resolved to entities on pseudonyms and keyed encodings, each link with its evidence.",
    check_specs=[
        dg.AssetCheckSpec(
            "entity_quality_vs_ground_truth",
            asset=["linkage", "entity_links"],
            description="Owner entities F1 >= 0.99 and tenants to residents F1 >= 0.99 "
            "(synthetic ground truth; skipped on real data).",
        )
    ],
)
def entity_links(context: dg.AssetExecutionContext, hub: HubPathsResource):
    paths = hub.paths()
    path = paths.linkage / "entity_links.parquet"  # links of the last run stay, new records link to them
    previous = pq.read_table(path) if path.exists() else None
    table = entity_links_table(paths.landing, previous=previous)
    # The same table (a delivery that changed no link, such as corrected names of BRP persons) is not written again:
    # the file keeps its modification time, so the privacy report's identifier scan finds it in its cache.
    if previous is None or not table.equals(previous):
        write_parquet_atomic(table, path)
    methods = {c["values"]: c["counts"] for c in pc.value_counts(table["method"]).to_pylist()}
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": table.num_rows,
            "by_method": dg.MetadataValue.json(methods),
            **column_lineage("linkage/entity_links"),
        }
    )
    if (paths.ground_truth / "persons.parquet").exists():
        keystore = hub.keystore()
        # the figures of an unchanged table (the file not written again) against the same truth are read back
        inputs = [path, paths.ground_truth / "persons.parquet", paths.ground_truth / "owners.parquet", QUALITY_CODE]
        quality = kept_figures(
            paths.quality_cache,
            "entity_quality",
            inputs,
            keystore,
            lambda: entity_quality(table, paths.ground_truth, keystore, cache=paths.quality_cache),
        )
        ok = (
            quality["owners"]["f1"] >= GOALS["owners_f1"]
            and quality["tenants_to_residents"]["f1"] >= GOALS["tenants_f1"]
        )
        yield dg.AssetCheckResult(passed=ok, metadata={k: dg.MetadataValue.json(v) for k, v in quality.items()})
    else:
        yield dg.AssetCheckResult(passed=True, metadata={"skipped": "no ground truth (real data)"})


LINKAGE_ASSETS = [address_links, vbo_buurt, entity_links]
