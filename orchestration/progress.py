"""Progress while `rgw run` runs: each stage as it starts and ends, with its time and the rows it wrote.

In-process Dagster runs print nothing until they return (the console logger is quiet, the summary comes at the end),
so a city run used to sit silent for minutes. A watcher thread reads the run's events from the instance as they
are stored (step starts and ends, materialisations with their row counts) and prints one line per event, on stderr,
so the summary on stdout stays what it was. Only reading: the watcher never writes to the instance.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dagster as dg

POLL_SECONDS = 0.5
_EVENTS = {
    dg.DagsterEventType.STEP_START,
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.ASSET_MATERIALIZATION,
}


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Progress:
    """Prints stages and the steps inside them; `Progress.silent()` prints nothing (tests, library use)."""

    def __init__(self, echo: Callable[[str], None] | None = _stderr):
        self.echo = echo
        self.started = time.perf_counter()

    @classmethod
    def silent(cls) -> Progress:
        return cls(None)

    def peak_memory(self) -> None:
        """The kernel's high-water marks: this process (Dagster, the in-process steps: boundary, linkage, reports)
        and the largest child it has waited for (dbt, Chromium). The benchmark's sampled tree peak can miss a spike
        shorter than its interval; these cannot, and they say which side it was on."""
        import resource

        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        self.say(f"peak memory: rgw process {own:,.0f} MB, largest child process (dbt, Chromium) {child:,.0f} MB")

    def say(self, text: str) -> None:
        if self.echo is not None:
            self.echo(f"[{time.perf_counter() - self.started:7.1f}s] {text}")

    @contextmanager
    def stage(self, instance: dg.DagsterInstance, title: str) -> Iterator[None]:
        """Announce `title`, follow the Dagster run it starts on `instance`, and report its time at the end."""
        if self.echo is None:
            yield
            return
        self.say(f"{title} ...")
        began = time.perf_counter()
        known = {r.dagster_run.run_id for r in instance.get_run_records(limit=5)}
        stop = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(instance, known, stop), daemon=True)
        watcher.start()
        try:
            yield
        finally:
            stop.set()
            watcher.join()
            self.say(f"{title}: done in {time.perf_counter() - began:.1f}s")

    def _watch(self, instance: dg.DagsterInstance, known: set[str], stop: threading.Event) -> None:
        run_id, cursor, step_began = None, None, {}
        while True:
            finishing = stop.wait(POLL_SECONDS)
            try:
                if run_id is None:
                    fresh = [r for r in instance.get_run_records(limit=5) if r.dagster_run.run_id not in known]
                    run_id = fresh[0].dagster_run.run_id if fresh else None
                if run_id is not None:
                    conn = instance.get_records_for_run(run_id, cursor=cursor, of_type=_EVENTS)
                    cursor = conn.cursor
                    for record in conn.records:
                        self._report(record.event_log_entry, step_began)
            except Exception as error:  # progress is a courtesy: it never breaks the run it follows
                self.say(f"  (progress unavailable: {error.__class__.__name__})")
                return
            if finishing:
                return

    def _report(self, entry: dg.EventLogEntry, step_began: dict[str, float]) -> None:
        event = entry.dagster_event
        if event is None:
            return
        step = event.step_key or "-"
        if event.event_type == dg.DagsterEventType.STEP_START:
            step_began[step] = entry.timestamp
            self.say(f"  {step} started")
        elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.step_materialization_data.materialization
            rows = materialization.metadata.get("dagster/row_count")
            counted = f": {rows.value:,} rows" if rows is not None else ""
            self.say(f"    {materialization.asset_key.to_user_string()}{counted}")
        elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            took = entry.timestamp - step_began.get(step, entry.timestamp)
            outcome = "done" if event.event_type == dg.DagsterEventType.STEP_SUCCESS else "FAILED"
            self.say(f"  {step} {outcome} in {took:.1f}s")
