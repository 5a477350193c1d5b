"""Starting a run safely after a crash: one `rgw run` per data folder, and what a killed run left behind cleared.

A run killed with SIGKILL (or by the out-of-memory killer, or a power cut) cannot clean up after itself. Three things
it leaves would otherwise need a person:

- its Dagster run stays STARTED in the run storage, and the concurrency slot its step held (pool `landing`, one
  slot) stays claimed, so the next run's `land_*` step waits in `pending_steps` forever;
- hidden work folders and files of writes it did not finish (`raw/.staging/staging-*`, `.incoming-*`, `.old-*`,
  `.landing-*` folders, `.<name>.<uuid>` Parquet files) stay on disk;
- nothing stops a second `rgw run` from writing the same zones (and the one DuckDB file) at the same time.

`RunLock` is an advisory lock (`flock`) on `<RGW_DATA>/.rgw-run.lock`: the kernel releases it when its process dies,
however it dies, so it can never go stale. Holding it proves no other `rgw run` is alive on this data folder, so any
run it launched that is still unfinished in the run storage is an orphan: `recover_orphaned_runs` marks it failed
and frees its slots; `clear_unfinished_writes` removes the half-written work. Every write the hub makes lands by a
rename of a finished file or folder, so what is cleared was never visible to a reader.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from hubcore.paths import HubPaths
from hubcore.processes import process_alive

LOCK_NAME = ".rgw-run.lock"
LAUNCHED_BY = "rgw"
DATA_TAG = "rgw/data"
PID_TAG = "rgw/pid"
MAX_RUNTIME_TAG = "dagster/max_runtime"
UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
# Hidden names the hub's atomic writes use while a file or folder is being written (see connectors.delivery,
# pseudonymisation.boundary, governance.publish): never read by anyone, safe to remove when no run is alive.
_UNFINISHED_PREFIXES = (".incoming-", ".old-", ".landing-", ".staging-", ".part-")


class RunLocked(RuntimeError):
    """Another `rgw run` (or `rgw demo`) holds the data folder."""


class RunLock:
    """The one-writer lock of a data folder, held for a whole `rgw run`; released by the kernel when the process
    ends, even by SIGKILL, so it never needs a person to remove it."""

    def __init__(self, data: Path):
        self.path = Path(data) / LOCK_NAME
        self._fd: int | None = None

    def holder(self) -> str:
        """Who holds the lock, as written by the holder (pid and start time), for the refusal message."""
        try:
            return self.path.read_text().strip() or "unknown"
        except OSError:
            return "unknown"

    def acquire(self, wait: bool = False, poll_seconds: float = 1.0) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait:
                    holder = self.holder()
                    os.close(fd)
                    raise RunLocked(
                        f"another rgw run is busy on {self.path.parent} ({holder}); "
                        "wait for it to finish, or start this one with --wait"
                    ) from None
                time.sleep(poll_seconds)
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}, started {datetime.now(UTC).isoformat(timespec='seconds')}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


@dataclass
class Recovery:
    """What was found and set right before a run started: reported in the run's summary."""

    failed_runs: list[str] = field(default_factory=list)
    freed_slot_runs: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(self.failed_runs or self.freed_slot_runs or self.removed or self.restored)

    def lines(self) -> list[str]:
        out = []
        if self.failed_runs:
            killed = ", ".join(self.failed_runs)
            out.append(f"marked {len(self.failed_runs)} run(s) of a killed rgw run as failed: {killed}")
        if self.freed_slot_runs:
            out.append(f"freed the concurrency slots of {len(self.freed_slot_runs)} ended run(s)")
        if self.restored:
            out.append(f"put back the previous landing a killed run had moved aside: {', '.join(self.restored)}")
        if self.removed:
            out.append(f"removed {len(self.removed)} half-written file(s)/folder(s) of a killed run")
        return out


def run_tags(paths: HubPaths) -> dict[str, str]:
    """Tags every run `rgw run` launches carries: who launched it, for which data folder, from which process.

    `dagster/max_runtime: 0` exempts it from the daemon's run monitoring time limit (dagster.yaml): the daemon
    cannot stop an in-process run, only mark it cancelled and free its slots while it still writes; an `rgw run`'s
    own lock and recovery judge whether it is alive.
    """
    return {
        "launched_by": LAUNCHED_BY,
        DATA_TAG: str(paths.data),
        PID_TAG: str(os.getpid()),
        MAX_RUNTIME_TAG: "0",
    }


def _pid_alive(pid_text: str | None) -> bool:
    try:
        pid = int(pid_text or "")
    except ValueError:
        return False
    return pid == os.getpid() or process_alive(pid)


def _is_orphan(run: dg.DagsterRun, paths: HubPaths) -> bool:
    """An unfinished run of `rgw run` whose process is gone. Runs on this data folder are orphans for sure (we hold
    its lock); runs of another data folder on the same instance only when their process no longer exists."""
    if run.tags.get("launched_by") != LAUNCHED_BY:
        return False
    if run.tags.get(DATA_TAG) == str(paths.data):
        return True
    return not _pid_alive(run.tags.get(PID_TAG))


def recover_orphaned_runs(instance: dg.DagsterInstance, paths: HubPaths, recovery: Recovery) -> None:
    """Mark the runs of a killed `rgw run` failed and free every slot held by a run that has ended.

    Call with the `RunLock` held. Runs started by the Dagster daemon or the UI are left alone while unfinished:
    their process is not ours to judge.
    """
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=UNFINISHED)):
        if not _is_orphan(run, paths):
            continue
        instance.report_run_failed(
            run, message="The process running this step was killed (found by the next rgw run); marked failed."
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        recovery.failed_runs.append(run.run_id[:8])
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return
    holding = storage.get_concurrency_run_ids()
    if not holding:
        return
    for run in instance.get_runs(filters=dg.RunsFilter(run_ids=list(holding))):
        if run.is_finished:
            storage.free_concurrency_slots_for_run(run.run_id)
            recovery.freed_slot_runs.append(run.run_id[:8])
    known = {r.run_id for r in instance.get_runs(filters=dg.RunsFilter(run_ids=list(holding)))}
    for run_id in holding - known:  # a run deleted from the storage but still holding a slot
        storage.free_concurrency_slots_for_run(run_id)
        recovery.freed_slot_runs.append(run_id[:8])


def _unfinished_writes(paths: HubPaths) -> Iterator[Path]:
    staging = paths.staging
    if staging.is_dir():
        yield from staging.iterdir()
    for zone in (paths.raw, paths.landing, paths.published, paths.vault, paths.reports, paths.quality_cache):
        if not zone.is_dir():
            continue
        for entry in zone.rglob(".*"):
            name = entry.name
            if name.startswith(_UNFINISHED_PREFIXES) or _is_temp_file(name):
                yield entry


def _is_temp_file(name: str) -> bool:
    """A hidden name with a uuid in it: `.<name>.<uuid>` (write_parquet_atomic), `.<purpose>.<uuid>.duckdb|.enc`
    (publication), with DuckDB's `.wal` beside it."""
    return any(len(part) == 32 and all(c in "0123456789abcdef" for c in part) for part in name.split(".")[1:])


def _restore_previous(entry: Path) -> Path | None:
    """A `.old-*` folder is the previous landing of a delivery, moved aside just before the new one was renamed in.
    When the kill fell between the two renames, the delivery has no folder: put the previous one back."""
    for report in ("_manifest.json", "_landing.json"):
        try:
            delivery_id = json.loads((entry / report).read_text())["delivery_id"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        target = entry.parent / str(delivery_id)
        if delivery_id and not str(delivery_id).startswith(".") and not target.exists():
            os.rename(entry, target)
            return target
        return None
    return None


def clear_unfinished_writes(paths: HubPaths, recovery: Recovery) -> None:
    """Remove what writes of a killed run left half done, and put back a previous landing a kill left moved aside.
    Call with the `RunLock` held (no writer is alive)."""
    for entry in sorted(set(_unfinished_writes(paths)), key=lambda p: len(p.parts), reverse=True):
        if not entry.exists() and not entry.is_symlink():
            continue
        if entry.name.startswith(".old-") and entry.is_dir() and (restored := _restore_previous(entry)):
            recovery.restored.append(str(restored.relative_to(paths.data)))
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        recovery.removed.append(str(entry.relative_to(paths.data)))


def prepare_run(instance: dg.DagsterInstance, paths: HubPaths) -> Recovery:
    """Everything a run does before its first step, with the lock held: orphans failed, slots freed, work cleared."""
    recovery = Recovery()
    recover_orphaned_runs(instance, paths, recovery)
    clear_unfinished_writes(paths, recovery)
    return recovery
