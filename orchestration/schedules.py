"""Schedules: the nightly refresh of everything downstream of ingest (ingest itself is driven by sensors)."""

from __future__ import annotations

import dagster as dg

from orchestration.jobs import downstream_job

nightly_downstream_schedule = dg.ScheduleDefinition(
    name="nightly_downstream",
    job=downstream_job,
    cron_schedule="0 5 * * *",
    execution_timezone="Europe/Amsterdam",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="05:00 every day: rebuild overview, landing, linkage, warehouse and publications from what landed.",
)
