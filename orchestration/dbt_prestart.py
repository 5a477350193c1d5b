"""dbt started ahead of the warehouse step: its start-up paid while the hub still links, on the core that idles.

Every `dbt build` starts a Python process that spends about a second importing dbt (1.5 s of CPU with the adapter)
before it reads a file, on a re-delivery as on a full run. `rgw run` knows before its downstream run starts whether
the warehouse will be built, and the linkage steps before it run on one core. So `dbt_started_ahead` starts a dbt
worker (orchestration/dbt_worker.py) with the environment and folder the build will have; it imports dbt and waits.
When dagster-dbt starts the build, `HubDbtCliResource` (orchestration/assets/warehouse.py) hands it that process
instead of a new one: the same dbt command line, the same stdout of JSON events, the same exit code, so Dagster shows
the same materialisations and checks.

The worker is used only when nothing could differ from a fresh process: the environment dagster-dbt builds for the
build equals the one the worker started with (every variable; a difference is named in the log, never its value),
the command is the venv's own dbt, the folder is the same, and the worker is still alive. Otherwise it is stopped and
dagster-dbt starts dbt as before. An unused worker reads an empty line when its `with` block ends and exits.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)

WORKER = [sys.executable, "-P", "-m", "orchestration.dbt_worker"]  # -P: nothing of the hub's folder on sys.path


def is_venv_dbt(executable: str | os.PathLike) -> bool:
    """True for the `dbt` beside the running Python: the worker runs that dbt's code in that Python."""
    return Path(executable).parent == Path(sys.executable).parent and Path(executable).name == "dbt"


class DbtWorker:
    """One dbt process that has imported dbt and waits for the arguments of one command."""

    def __init__(self, env: Mapping[str, str], cwd: Path) -> None:
        self.env = dict(env)
        self.cwd = Path(cwd)
        self.process: subprocess.Popen | None = subprocess.Popen(
            WORKER,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # as dagster-dbt starts dbt: one stream of JSON lines
            env=self.env,
            cwd=self.cwd,
        )

    def differences(self, args: Sequence[str], env: Mapping[str, str], cwd: Path) -> list[str]:
        """What stands between this worker and the build asked for (names of variables only, never values)."""
        found = []
        if self.process is None or self.process.poll() is not None:
            found.append("the worker is gone")
        if not args or not is_venv_dbt(args[0]):
            found.append("not the venv's dbt")
        if Path(cwd) != self.cwd:
            found.append("another folder")
        changed = sorted(k for k in env.keys() | self.env.keys() if env.get(k) != self.env.get(k))
        if changed:
            found.append("environment differs in " + ", ".join(changed))
        return found

    def take(self, args: Sequence[str], env: Mapping[str, str], cwd: Path) -> subprocess.Popen | None:
        """The running dbt process for command `args`, or None (and the worker stopped) when it cannot serve it."""
        differences = self.differences(args, env, cwd)
        if differences:
            logger.info("dbt started ahead not used (%s): starting dbt afresh", "; ".join(differences))
            self.stop()
            return None
        process, self.process = self.process, None
        assert process is not None and process.stdin is not None
        try:
            process.stdin.write((json.dumps([str(a) for a in args]) + "\n").encode())
            process.stdin.close()
        except OSError:  # it died just now: a fresh dbt instead
            process.kill()
            process.wait()
            return None
        return process

    def stop(self) -> None:
        """An unused worker: close its stdin (it exits without running anything), or kill it if it hangs."""
        process, self.process = self.process, None
        if process is None:
            return
        try:
            if process.stdin is not None:
                process.stdin.close()
            process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()
        finally:
            if process.stdout is not None:
                process.stdout.close()


_waiting: DbtWorker | None = None


@contextmanager
def dbt_started_ahead(env: Mapping[str, str], cwd: Path) -> Iterator[None]:
    """Inside: one dbt worker waits for the next build with environment `env` in folder `cwd`."""
    global _waiting
    worker = DbtWorker(env, cwd)
    previous, _waiting = _waiting, worker
    try:
        yield
    finally:
        _waiting = previous
        worker.stop()


def take_started(args: Sequence[str], env: Mapping[str, str], cwd: Path) -> subprocess.Popen | None:
    """The waiting worker's process for this build, or None: then dbt is started afresh."""
    global _waiting
    worker, _waiting = _waiting, None
    return None if worker is None else worker.take(args, env, cwd)
