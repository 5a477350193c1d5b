"""The server in Dagster, every 5 minutes: the roles brought in step with the grant register (a grant that ended
loses its login and sessions) and the PostgreSQL audit log collected into the hub's audit log."""

import dagster as dg

from orchestration.resources import HubPathsResource


@dg.asset(
    key=["audit", "postgres_statements"],
    group_name="governance",
    kinds={"postgres"},
    description="Every statement, refusal and login of the analysts' server roles (pgaudit and the server's JSON log), "
    "appended once each to the hub's hash-chained audit log (serving/audit_collect.py). Nothing to do when no server "
    "is set up for the hub.",
)
def postgres_statements(context: dg.AssetExecutionContext, hub: HubPathsResource) -> dg.MaterializeResult:
    from governance.grants import GrantRegister
    from pseudonymisation.audit import AuditLog
    from serving.access import cursor_file, sync_everyone, user_purposes
    from serving.audit_collect import AuditCollector
    from serving.config import ServerConfig

    paths = hub.paths()
    config = ServerConfig.from_env(paths)
    if not config.configured:
        return dg.MaterializeResult(metadata={"server": "none set up", "events": 0})
    audit = AuditLog(paths.audit_log)
    grants = GrantRegister(paths.access / "grants.json", audit)
    synced = sync_everyone(paths, grants)  # grants that ended since the last run: LOGIN taken, sessions ended
    done = AuditCollector(config, audit, cursor_file(paths)).collect(user_purposes(grants))
    return dg.MaterializeResult(
        metadata={
            "events": done.events,
            "log_lines": done.lines,
            "log_files": done.files,
            "logins": sum(s.login for s in synced),
            "sessions_ended": sum(s.ended_sessions for s in synced),
        }
    )


audit_collect_job = dg.define_asset_job(
    "audit_collect_job", selection=[postgres_statements], description="Collect the PostgreSQL audit log."
)
audit_collect_schedule = dg.ScheduleDefinition(
    job=audit_collect_job,
    cron_schedule="*/5 * * * *",
    execution_timezone="Europe/Amsterdam",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every 5 minutes: the analysts' statements on the PostgreSQL server into the hub's audit log.",
)
