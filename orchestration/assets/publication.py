"""Publication per purpose in Dagster: one asset per purpose downstream of the marts it publishes, tagged with the
purpose, with checks for the column-tag policy and, in aggregate purposes, for small cells."""

import json

import dagster as dg
import duckdb

from governance.identifier_scan import raw_person_files
from governance.publish import PublicationRefused, column_tags, publish, unsealed
from governance.purposes import Purpose, load
from governance.restrictions import RestrictionRegister
from orchestration.dbt_manifest import ensure_manifest
from orchestration.lineage_metadata import column_lineage
from orchestration.resources import HubPathsResource
from reports.year import default_year

PUBLICATION_GROUP = "publication"
# the marts the programme report reads (reports/figures.py)
PROGRAMME_TABLES = (
    "monitoring_doelen",
    "monitoring_nieuwe_zaken_per_wijk",
    "monitoring_interventies",
    "monitoring_eigenaren",
    "signalering_buurt_jaar",
    "fct_zaken",
    "int_zaken__eigenaar",
)


def build_publication_asset(purpose: Purpose) -> dg.AssetsDefinition:
    key = dg.AssetKey(["published", purpose.id])
    checks = [
        dg.AssetCheckSpec(
            "column_tags_allow_publication",
            asset=key,
            description="Every column is tagged, and none has a class this purpose may not see.",
        ),
        dg.AssetCheckSpec(
            "no_direct_identifiers",
            asset=key,
            description="The published dataset holds nothing that looks like a direct identifier or a full name "
            "from the raw deliveries.",
        ),
    ]
    if purpose.min_cell:
        checks.append(
            dg.AssetCheckSpec("no_small_cells", asset=key, description=f"No published count under {purpose.min_cell}.")
        )

    @dg.multi_asset(
        name=f"publish_{purpose.id}",
        specs=[
            dg.AssetSpec(
                key,
                deps=[dg.AssetKey(["warehouse", t]) for t in purpose.tables],
                group_name=PUBLICATION_GROUP,
                kinds={"duckdb"},
                tags={f"purpose/{purpose.id}": "", "privacy": "published"},
                description=f"{purpose.name}: {purpose.description}",
                metadata={
                    "legal_basis": dg.MetadataValue.json(purpose.legal_basis),
                    "privacy_classes": ", ".join(purpose.privacy_classes),
                    "row_scope": purpose.row_scope,
                    "retention": purpose.retention,
                },
            )
        ],
        check_specs=checks,
        pool="duckdb",
    )
    def _publish(context: dg.AssetExecutionContext, hub: HubPathsResource):
        paths = hub.paths()
        manifest = json.loads(ensure_manifest().read_text())
        keystore = hub.keystore()  # a managed key or refuse: never a demo key made up for real deliveries
        try:
            pub = publish(
                purpose.id,
                paths.warehouse,
                paths.published,
                manifest,
                keystore,
                restricted=RestrictionRegister(paths.access, keystore.version).restricted(),
            )
        except PublicationRefused as refusal:
            yield dg.AssetCheckResult(
                check_name="column_tags_allow_publication",
                asset_key=key,
                passed=False,
                metadata={"refused": str(refusal)},
            )
            raise
        tags = column_tags(manifest)
        served = serve_publication(paths, purpose.id, pub.path, keystore, tags)
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "tables": dg.MetadataValue.json(pub.summary()["tables"]),
                "withheld_rows_restricted_persons": sum(t.withheld for t in pub.tables),
                "path": dg.MetadataValue.path(str(pub.path)),
                "column_tags": dg.MetadataValue.json(
                    {t.name: {c: tags[t.name][c] for c in t.columns} for t in pub.tables}
                ),
                **column_lineage(*[f"published/{purpose.id}/{t.name}" for t in pub.tables]),
                **served,
            },
        )
        yield dg.AssetCheckResult(
            check_name="column_tags_allow_publication",
            asset_key=key,
            passed=True,
            metadata={"left_out": dg.MetadataValue.json({t.name: t.left_out for t in pub.tables})},
        )
        findings = scan_published(pub.path, purpose, keystore, raw_person_files(paths.raw))
        yield dg.AssetCheckResult(
            check_name="no_direct_identifiers",
            asset_key=key,
            passed=not findings,
            metadata={"findings": dg.MetadataValue.json([str(f) for f in findings][:50])},
        )
        if purpose.min_cell:
            small = small_cells(pub.path, purpose, tags, keystore, paths.published)
            yield dg.AssetCheckResult(
                check_name="no_small_cells",
                asset_key=key,
                passed=not small,
                metadata={"small_cells": dg.MetadataValue.json(small)},
            )

    return _publish


def serve_publication(paths, purpose_id: str, sealed, keystore, tags) -> dict:
    """Load the sealed dataset into the hub's PostgreSQL server when one is set up (schema `<purpose>`, atomic swap);
    with a server set up but not reachable the asset fails (an analyst would otherwise read yesterday's data)."""
    from serving.config import ServerConfig
    from serving.publish import load_purpose

    config = ServerConfig.from_env(paths)
    if not config.configured:
        return {}
    served = load_purpose(config, purpose_id, sealed, keystore, tags)
    return {
        "postgres_schema": purpose_id,
        "postgres_rows": dg.MetadataValue.json(served.tables),
        "postgres_load_seconds": round(served.seconds, 2),
    }


def small_cells(sealed, purpose: Purpose, tags, keystore, published) -> list[str]:
    """Every published count (tag `count`) under the purpose's minimum, read back from the sealed dataset."""
    found = []
    with unsealed(sealed, keystore, purpose.id) as plain:
        con = duckdb.connect(str(plain), read_only=True)
        for table in purpose.tables:
            for column, meta in tags.get(table, {}).items():
                if meta.get("count") and purpose.id in meta.get("purposes", []):
                    (n,) = con.execute(
                        f"select count(*) from {table} where {column} < ?", [purpose.min_cell]
                    ).fetchall()[0]
                    if n:
                        found.append(f"{table}.{column}: {n} cell(s) under {purpose.min_cell}")
        con.close()
    return found


def scan_published(sealed, purpose: Purpose, keystore, person_files) -> list:
    from governance.identifier_scan import scan_duckdb

    with unsealed(sealed, keystore, purpose.id) as plain:
        return scan_duckdb(plain, person_files)


PUBLICATION_ASSETS = [build_publication_asset(p) for p in load().purposes.values()]


PROGRAMME_YEAR = default_year()


@dg.asset(
    key=["reports", f"programme_{PROGRAMME_YEAR}"],
    deps=[dg.AssetKey(["warehouse", t]) for t in PROGRAMME_TABLES],
    group_name=PUBLICATION_GROUP,
    kinds={"html", "json", "pdf"},
    tags={"purpose/programmamonitoring": "", "purpose/signalering": ""},
    description=f"The programme's signalling and monitoring report for {PROGRAMME_YEAR} (reports/): charts against "
    "the targets, new cases and signals per focus neighbourhood, interventions, warned owners and the buurt map, with "
    "no count under 5 shown; index.html, data.json and the PDF (the year of the reference date `peildatum`, or "
    "RGW_REPORT_YEAR).",
    check_specs=[
        dg.AssetCheckSpec(
            "no_small_counts_shown",
            asset=["reports", f"programme_{PROGRAMME_YEAR}"],
            description="No figure in data.json from 1 to 4 about persons, dwellings or owners.",
        )
    ],
)
def programme_report(context: dg.AssetExecutionContext, hub: HubPathsResource):
    from reports.programme import build, small_counts_shown

    paths = hub.paths()
    result = build(paths, PROGRAMME_YEAR, paths.reports / f"programme_{PROGRAMME_YEAR}", pdf_optional=True)
    if not result.printed:
        context.log.warning("no Chromium on this machine: the PDF was not printed (make browser installs it)")
    yield dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.html)),
            "pdf": dg.MetadataValue.path(str(result.pdf)) if result.printed else "not printed: no Chromium",
            "charts": len(result.charts),
            "figures": len(result.rows),
            "suppressed": sum(1 for r in result.rows if r["suppressed"]),
        }
    )
    small = small_counts_shown(result.rows)
    yield dg.AssetCheckResult(passed=not small, metadata={"small_counts": dg.MetadataValue.json(small[:20])})


@dg.asset(
    key=["reports", "privacy_report"],
    deps=[dg.AssetKey(["published", p]) for p in load().purposes],
    group_name=PUBLICATION_GROUP,
    kinds={"html", "json"},
    description="The privacy officer's report: purposes, column lineage, register of processing, indicator register, "
    "grants and accesses, findings.",
    check_specs=[
        dg.AssetCheckSpec(
            "no_privacy_findings",
            asset=["reports", "privacy_report"],
            description="No untagged column, no class a purpose may not see, no identifier "
            "outside the raw area, no stale grant, an intact audit chain.",
        )
    ],
)
def privacy_report(context: dg.AssetExecutionContext, hub: HubPathsResource):
    from governance.privacy_report import build

    paths = hub.paths()
    data = build(paths, paths.reports / "privacy")
    yield dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(paths.reports / "privacy" / "index.html")),
            "findings": len(data.findings),
        }
    )
    yield dg.AssetCheckResult(
        passed=not data.findings, metadata={"findings": dg.MetadataValue.json([f.__dict__ for f in data.findings])}
    )
