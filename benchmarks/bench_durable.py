"""What flushing writes to the disk costs: `rgw run` on the same deliveries with fsync (the default) and without.

    RGW_BENCH_SCALE=focus python -m benchmarks.bench_durable

The hub's atomic writes fsync each file before renaming it in and the folder after (hubcore/durable.py), so a power
cut cannot leave an empty file under a new name. The anchor is the same run with `RGW_FSYNC=0`, measured in the
same invocation on the same deliveries, each from an empty hub (zones, warehouse, Dagster instance): the figure is
the ratio of the two wall times, and the extra seconds. Runs alternate (without, with, without, with) so a change in
the machine's load falls on both sides. On a busy shared machine the wall times differ by more than the fsyncs
cost, so the run with fsync also counts its fsyncs and the seconds spent inside them (every fsync happens in the
`rgw` process: Dagster runs the steps in process), which is the cost itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import CACHE, REPO, write_result

SCALE = os.environ.get("RGW_BENCH_SCALE", "focus")
ROUNDS = int(os.environ.get("RGW_BENCH_ROUNDS", "2"))
KEY = "ef" * 32
# `rgw run` with hubcore.durable's fsync timed: the count and seconds go to stderr as one JSON line at exit.
_COUNTED_RUN = """
import atexit, json, sys, time
import hubcore.durable as durable
stats = {"fsyncs": 0, "fsync_s": 0.0}
inner = durable._fsync
def timed(path):
    started = time.perf_counter()
    inner(path)
    stats["fsyncs"] += 1
    stats["fsync_s"] += time.perf_counter() - started
durable._fsync = timed
atexit.register(lambda: print("FSYNC-STATS " + json.dumps(stats), file=sys.stderr))
from rgw.cli import main
main(["run"])
"""


def _deliveries(scale: str) -> Path:
    out = CACHE / f"synth-{scale}-durable"
    if not (out / "incoming").exists():
        from synth import generate

        generate(scale=scale, seed=7, out=out)
    return out / "incoming"


def _run(incoming: Path, fsync: bool) -> tuple[float, dict]:
    """One `rgw run` from an empty hub on a copy of the deliveries; its wall time (the copy is not timed)."""
    root = Path(tempfile.mkdtemp(prefix="bench-durable-"))
    try:
        data, home = root / "data", root / "home"
        shutil.copytree(incoming, data / "incoming")
        home.mkdir()
        shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
        env = {
            **os.environ,
            "RGW_DATA": str(data),
            "DAGSTER_HOME": str(home),
            "RGW_MASTER_KEY": KEY,
            "RGW_FSYNC": "1" if fsync else "0",
        }
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", _COUNTED_RUN], cwd=REPO, env=env, capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - started
        if proc.returncode not in (0, 1):  # 1: a failed asset check is still a whole run
            raise RuntimeError(f"rgw run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("FSYNC-STATS "))
        landed = sum(1 for p in (data / "landing").glob("*/*") if p.is_dir())
        return wall, {**json.loads(line.removeprefix("FSYNC-STATS ")), "exit": proc.returncode, "landed": landed}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> dict:
    incoming = _deliveries(SCALE)
    without, with_, stats, plain = [], [], [], []
    for _ in range(ROUNDS):
        wall, counted = _run(incoming, fsync=False)
        without.append(wall)
        plain.append({k: counted[k] for k in ("exit", "landed")})
        wall, counted = _run(incoming, fsync=True)
        with_.append(wall)
        stats.append(counted)
    payload = {
        "scale": SCALE,
        "rounds": ROUNDS,
        "wall_without_fsync_s": without,
        "wall_with_fsync_s": with_,
        "best_without_s": min(without),
        "best_with_s": min(with_),
        "extra_s": min(with_) - min(without),
        "ratio_with_vs_without": min(with_) / min(without),
        "fsyncs_per_run": stats[-1]["fsyncs"],
        "exit_and_landed_deliveries_without": plain,
        "exit_and_landed_deliveries_with": [{k: s[k] for k in ("exit", "landed")} for s in stats],
        "fsync_seconds_per_run": [round(s["fsync_s"], 2) for s in stats],
        "fsync_share_of_run": max(s["fsync_s"] for s in stats) / min(with_),
        "note": "shared 2-core machine: compare the ratio, measured in the same invocation",
    }
    write_result("bench_durable", payload)
    return payload


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
