"""Measuring a step in a fresh subprocess: wall time and peak memory, so one measurement cannot inflate the next.

Goals are stated as ratios against an anchor measured in the same run on the same machine (a bare parse of the same
file, a naive loop), never as absolute times: a slower or busier machine moves both sides alike.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
CACHE = REPO / "benchmarks" / ".cache"

_RUNNER = textwrap.dedent(
    """
    import json, resource, sys, time
    sys.path.insert(0, {repo!r})
    started = time.perf_counter()
    out = {{}}
    exec(compile({code!r}, "<bench>", "exec"), {{"out": out}})
    out["seconds"] = time.perf_counter() - started
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("BENCH-RESULT " + json.dumps(out))
    """
)


@dataclass
class Measurement:
    name: str
    seconds: float
    peak_rss_mb: float
    extra: dict

    def rate(self, items: int) -> float:
        return items / self.seconds if self.seconds else float("inf")


def measure(name: str, code: str, env: dict[str, str] | None = None) -> Measurement:
    """Run `code` (which may fill the dict `out`) in a new Python process; return time and peak RSS."""
    script = _RUNNER.format(repo=str(REPO), code=textwrap.dedent(code))
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH-RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"benchmark step {name} failed:\n{proc.stderr[-3000:]}")
    out = json.loads(line.removeprefix("BENCH-RESULT "))
    seconds, peak = out.pop("seconds"), out.pop("peak_rss_mb")
    return Measurement(name, seconds, peak, out)


def _jsonable(o: object) -> object:
    return asdict(o) if hasattr(o, "__dataclass_fields__") else str(o)


def write_result(bench: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{bench}.json"
    path.write_text(
        json.dumps(payload, indent=2, default=lambda o: asdict(o) if hasattr(o, "__dataclass_fields__") else str(o))
    )
    return path
