"""Running the pipeline in process on a Dagster instance: what `rgw demo` and `rgw run` do, and what tests call.

It does what the sensors would do on a schedule, at once: register every delivery found in the incoming folders as a
partition, run each source's ingest job for it when it is new or changed (orchestration/incremental.py), then refresh
the downstream assets whose inputs changed. Progress is printed while it runs (orchestration/progress.py). Runs are
recorded on the instance, so `make ui` shows them afterwards.

One run at a time per data folder: `run_everything` holds the folder's `RunLock` throughout and, before its first
step, sets right what a killed run left (orchestration/recovery.py), so a rerun after SIGKILL just goes on.
"""

from __future__ import annotations

import errno
from contextlib import nullcontext
from dataclasses import dataclass, field

import dagster as dg

from connectors.incoming import discover_deliveries
from connectors.registry import SOURCES
from hubcore.paths import HubPaths
from orchestration.assets.ingest import delivery_partitions
from orchestration.assets.warehouse import warehouse_build_started_ahead
from orchestration.definitions import defs
from orchestration.incremental import Work, downstream_plan, landing_keys, work_for
from orchestration.instance_storage import events_flushed_per_checkpoint
from orchestration.jobs import ingest_job_name
from orchestration.progress import Progress
from orchestration.recovery import Recovery, RunLock, prepare_run, run_tags

# In-process runs log to the console; the summary is what a person reads (each failed step with its first error,
# naming file and place) and the progress lines show what runs, so the console shows only critical events: a failed
# step's stack trace stays in the run storage, for the Dagster UI (`make ui`), instead of scrolling past.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass(frozen=True)
class CheckOutcome:
    """One asset check's result in a run: what the demo's summary reports."""

    asset: str
    check: str
    passed: bool
    metadata: dict


@dataclass
class RunReport:
    ingested: list[tuple[str, str]] = field(default_factory=list)
    current: list[tuple[str, str]] = field(default_factory=list)  # landed before and unchanged: not read again
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    downstream_ok: bool | None = None
    checks: list[CheckOutcome] = field(default_factory=list)
    recovery: Recovery = field(default_factory=Recovery)

    def collect_checks(self, result: dg.ExecuteInProcessResult) -> None:
        for e in result.get_asset_check_evaluations():
            metadata = {k: getattr(v, "value", v) for k, v in e.metadata.items()}
            self.checks.append(CheckOutcome(e.asset_key.to_user_string(), e.check_name, e.passed, metadata))

    @property
    def ok(self) -> bool:
        return not self.failed and self.downstream_ok is not False


def _first_error(result: dg.ExecuteInProcessResult) -> str:
    """The message of the error that caused the first failed step (a DeliveryError names file and place)."""
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE" and event.step_failure_data:
            error = event.step_failure_data.error
            if error is None:
                return f"step {event.step_key} failed"
            while error.cause is not None:
                error = error.cause
            return f"{event.step_key}: {error.message.strip()}"
    return "failed"


def _stop_when_disk_full(message: str) -> str:
    """A full disk fails every later step too: stop the run at the first one, as an OSError the command turns into
    one clear message (rgw.preflight.disk_full_as_message). Anything else is collected and the run goes on."""
    for text, code in (("No space left on device", errno.ENOSPC), ("File too large", errno.EFBIG)):
        if text in message:
            raise OSError(code, message)
    return message


def ingest_all(
    instance: dg.DagsterInstance,
    paths: HubPaths,
    sources: list[str] | None = None,
    progress: Progress | None = None,
    report: RunReport | None = None,
) -> RunReport:
    """Ingest every new or changed delivery of every (or the named) source(s); a delivery landed under another
    boundary context (key version, BAG delivery, erasures) is landed again from the raw zone. Failures are
    collected, not raised."""
    report = report or RunReport()
    progress = progress or Progress.silent()
    for name in sources or list(SOURCES):
        partitions = delivery_partitions(name)
        for delivery in discover_deliveries(paths.incoming, name):
            if not instance.has_dynamic_partition(partitions.name, delivery.delivery_id):
                instance.add_dynamic_partitions(partitions.name, [delivery.delivery_id])
            work = work_for(instance, paths, delivery)
            if work is Work.CURRENT:
                report.current.append((name, delivery.delivery_id))
                continue
            job = defs.resolve_job_def(ingest_job_name(name))
            with progress.stage(instance, f"{work.value} {name} {delivery.delivery_id}"):
                result = job.execute_in_process(
                    partition_key=delivery.delivery_id,
                    instance=instance,
                    run_config=QUIET,
                    raise_on_error=False,
                    tags={"source": name, "delivery": delivery.delivery_id, **run_tags(paths)},
                    asset_selection=landing_keys(name) if work is Work.LAND else None,
                )
            report.collect_checks(result)
            if result.success:
                report.ingested.append((name, delivery.delivery_id))
            else:
                report.failed.append((name, delivery.delivery_id, _stop_when_disk_full(_first_error(result))))
    return report


def run_downstream(
    instance: dg.DagsterInstance,
    report: RunReport,
    progress: Progress | None = None,
    *,
    everything: bool = False,
    paths: HubPaths | None = None,
) -> RunReport:
    """Refresh the downstream assets whose inputs changed since they were made (all of them with `everything`)."""
    progress = progress or Progress.silent()
    plan = downstream_plan(instance, defs, "downstream_job")
    if not everything and not plan.keys:
        progress.say("downstream: every asset is current, nothing to refresh")
        return report
    selection = None if everything or plan.everything else sorted(plan.keys, key=lambda k: k.to_user_string())
    what = "everything" if selection is None else f"{len(selection)} of {plan.total} assets"
    paths = paths or HubPaths.from_env()
    builds_warehouse = selection is None or any(key.path[0] == "warehouse" for key in selection)
    ahead = warehouse_build_started_ahead(paths) if builds_warehouse else nullcontext()
    with progress.stage(instance, f"downstream ({what})"), ahead:
        result = defs.resolve_job_def("downstream_job").execute_in_process(
            instance=instance,
            run_config=QUIET,
            raise_on_error=False,
            tags=run_tags(paths),
            asset_selection=selection,
        )
    report.downstream_ok = result.success
    report.collect_checks(result)
    if not result.success:
        report.failed.append(("downstream", "-", _stop_when_disk_full(_first_error(result))))
    return report


def run_everything(
    instance: dg.DagsterInstance, paths: HubPaths, progress: Progress | None = None, *, wait: bool = False
) -> RunReport:
    """Ingest what is new or changed, then refresh what depends on it, holding the data folder's lock; raises
    `RunLocked` when another run holds it (or waits for it with `wait`). Dagster's SQLite storage flushes per
    checkpoint rather than per event meanwhile (orchestration/instance_storage.py)."""
    lock = RunLock(paths.data)
    lock.acquire(wait=wait)
    try:
        with events_flushed_per_checkpoint():
            report = RunReport(recovery=prepare_run(instance, paths))
            ingest_all(instance, paths, progress=progress, report=report)
            run_downstream(instance, report, progress, paths=paths)
        (progress or Progress.silent()).peak_memory()
        return report
    finally:
        lock.release()
