"""Retention in Dagster: one asset that applies every zone's term (governance/retention.py) on a daily schedule."""

import dagster as dg

from orchestration.resources import HubPathsResource


@dg.asset(
    key=["governance", "retention"],
    group_name="governance",
    kinds={"python"},
    description="Applies the retention terms (governance/retention.yaml, and each purpose's retention_days): landed "
    "raw and incoming deliveries past their source's term, superseded landing deliveries of snapshot sources, "
    "published datasets not refreshed within their purpose's term. Logs every removal in the audit log; never "
    "removes what has not landed, nor a source's latest delivery.",
)
def retention(context: dg.AssetExecutionContext, hub: HubPathsResource) -> dg.MaterializeResult:
    from governance.retention import apply_retention
    from pseudonymisation.audit import AuditLog

    paths = hub.paths()
    report = apply_retention(paths, AuditLog(paths.audit_log))
    by_zone = report.by_zone()
    return dg.MaterializeResult(
        metadata={
            "removed": dg.MetadataValue.json(by_zone),
            "removed_count": len(report.removals),
            **{f"removed_{zone}": len(items) for zone, items in by_zone.items()},
            "terms": dg.MetadataValue.json(report.terms),
        }
    )


retention_job = dg.define_asset_job(
    "retention_job", selection=[retention], description="Apply the retention terms of every zone."
)
retention_schedule = dg.ScheduleDefinition(
    job=retention_job,
    cron_schedule="30 4 * * *",
    execution_timezone="Europe/Amsterdam",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
