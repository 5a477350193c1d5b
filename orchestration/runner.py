"""Running the pipeline in process on a Dagster instance: what `rgw demo` and `rgw run` do, and what tests call.

It does what the sensors would do on a schedule, at once: register every delivery found in the incoming folders as a
partition, run each source's ingest job for it, then run the downstream job. Runs are recorded on the instance, so
`make ui` shows them afterwards.

One run at a time per data folder: `run_everything` holds the folder's `RunLock` throughout and, before its first
step, sets right what a killed run left (orchestration/recovery.py), so a rerun after SIGKILL just goes on.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field

import dagster as dg

from connectors.registry import SOURCES
from orchestration.assets.ingest import delivery_partitions
from orchestration.definitions import defs
from orchestration.deliveries import discover_deliveries
from orchestration.jobs import ingest_job_name
from orchestration.recovery import Recovery, RunLock, prepare_run, run_tags
from rgw.settings import HubPaths

# In-process runs log to the console; the summary is what a person reads (each failed step with its first error,
# naming file and place), so the console shows only critical events: a failed step's stack trace stays in the run
# storage, for the Dagster UI (`make ui`), instead of scrolling past as a traceback.
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
    instance: dg.DagsterInstance, paths: HubPaths, sources: list[str] | None = None, report: RunReport | None = None
) -> RunReport:
    """Ingest every delivery of every (or the named) source(s); failures are collected, not raised."""
    report = report or RunReport()
    for name in sources or list(SOURCES):
        partitions = delivery_partitions(name)
        for delivery in discover_deliveries(paths.incoming, name):
            if not instance.has_dynamic_partition(partitions.name, delivery.delivery_id):
                instance.add_dynamic_partitions(partitions.name, [delivery.delivery_id])
            job = defs.resolve_job_def(ingest_job_name(name))
            result = job.execute_in_process(
                partition_key=delivery.delivery_id,
                instance=instance,
                run_config=QUIET,
                raise_on_error=False,
                tags={"source": name, "delivery": delivery.delivery_id, **run_tags(paths)},
            )
            report.collect_checks(result)
            if result.success:
                report.ingested.append((name, delivery.delivery_id))
            else:
                report.failed.append((name, delivery.delivery_id, _stop_when_disk_full(_first_error(result))))
    return report


def run_downstream(instance: dg.DagsterInstance, report: RunReport, paths: HubPaths | None = None) -> RunReport:
    tags = run_tags(paths or HubPaths.from_env())
    result = defs.resolve_job_def("downstream_job").execute_in_process(
        instance=instance, run_config=QUIET, raise_on_error=False, tags=tags
    )
    report.downstream_ok = result.success
    report.collect_checks(result)
    if not result.success:
        report.failed.append(("downstream", "-", _stop_when_disk_full(_first_error(result))))
    return report


def run_everything(instance: dg.DagsterInstance, paths: HubPaths, *, wait: bool = False) -> RunReport:
    """Ingest everything, then refresh downstream, holding the data folder's lock; raises `RunLocked` when another
    run holds it (or waits for it with `wait`)."""
    lock = RunLock(paths.data)
    lock.acquire(wait=wait)
    try:
        report = RunReport(recovery=prepare_run(instance, paths))
        return run_downstream(instance, ingest_all(instance, paths, report=report), paths)
    finally:
        lock.release()
