"""The pieces of crash recovery on their own, fast: the run lock a killed process cannot leave behind, a killed
run's concurrency slot freed and its run marked failed, and half-written work cleared (a moved-aside landing put
back). The whole story, with real kills of `rgw run`, is tests/test_crash_run.py."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import dagster as dg
import pytest

from orchestration.recovery import LOCK_NAME, Recovery, RunLock, RunLocked, clear_unfinished_writes, prepare_run
from rgw.settings import HubPaths

REPO = Path(__file__).resolve().parents[1]


def test_a_second_run_is_refused_naming_the_first_and_a_killed_holder_frees_the_lock(tmp_path):
    first = RunLock(tmp_path)
    first.acquire()
    with pytest.raises(RunLocked, match=rf"another rgw run is busy on {tmp_path} \(pid {os.getpid()}, started"):
        RunLock(tmp_path).acquire()
    first.release()

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from orchestration.recovery import RunLock; "
         "RunLock(sys.argv[1]).acquire(); print('held', flush=True); time.sleep(60)", str(tmp_path)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(RunLocked):
        RunLock(tmp_path).acquire()
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    holder.stdout.close()
    lock = RunLock(tmp_path)
    lock.acquire()  # the kernel released the dead holder's lock: nobody has to remove a file
    lock.release()
    assert (tmp_path / LOCK_NAME).exists()


def test_a_killed_runs_slot_is_freed_and_the_run_marked_failed(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    paths = HubPaths(tmp_path / "data")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        storage = instance.event_log_storage
        storage.set_concurrency_slots("landing", 1)
        dead = dg.DagsterRun(
            job_name="ingest_brp_job",
            run_id=str(uuid.uuid4()),
            status=dg.DagsterRunStatus.STARTED,
            tags={"launched_by": "rgw", "rgw/data": str(paths.data), "rgw/pid": "999999999"},
        )
        other = dg.DagsterRun(job_name="ingest_bag_job", run_id=str(uuid.uuid4()), status=dg.DagsterRunStatus.STARTED)
        instance.add_run(dead)
        instance.add_run(other)  # started by the daemon or the UI: not ours to judge
        assert storage.claim_concurrency_slot("landing", dead.run_id, "land_brp").is_claimed
        assert not storage.claim_concurrency_slot("landing", str(uuid.uuid4()), "land_bag").is_claimed  # waits

        recovery = prepare_run(instance, paths)

        assert recovery.failed_runs == [dead.run_id[:8]]
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(other.run_id).status == dg.DagsterRunStatus.STARTED
        assert storage.get_concurrency_info("landing").active_slot_count == 0
        assert storage.claim_concurrency_slot("landing", str(uuid.uuid4()), "land_bag").is_claimed


def test_half_written_work_is_cleared_and_a_moved_aside_landing_put_back(tmp_path):
    paths = HubPaths(tmp_path).ensure()
    hex_ = uuid.uuid4().hex
    leftovers = [
        paths.staging / "staging-abc123" / "persoon.parquet",
        paths.raw / "brp" / f".incoming-{hex_}" / "persoon.parquet",
        paths.landing / "brp" / f".landing-{hex_}" / "persoon.parquet",
        paths.linkage / f".address_links.parquet.{hex_}",
        paths.published / "signalering" / f".signalering.{hex_}.duckdb",
        paths.published / "signalering" / f".signalering.{hex_}.duckdb.wal",
        paths.vault / "bsn" / f".part-{hex_}.tmp",
        paths.quality_cache / f".addresses-0123abcd.parquet.{hex_}",
    ]
    for f in leftovers:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"half")
    kept = [paths.vault / "bsn" / ".lock", paths.raw / "brp" / "20261101" / "persoon.parquet"]
    for f in kept:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"whole")
    aside = paths.landing / "bag" / f".old-{hex_}"
    aside.mkdir(parents=True)
    (aside / "_landing.json").write_text(json.dumps({"delivery_id": "20261001"}))

    recovery = Recovery()
    clear_unfinished_writes(paths, recovery)

    assert not any(f.exists() for f in leftovers)
    assert all(f.exists() for f in kept)
    assert (paths.landing / "bag" / "20261001" / "_landing.json").exists() and not aside.exists()
    assert recovery.restored == ["landing/bag/20261001"]
    assert recovery.anything
