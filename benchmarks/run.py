"""`make bench`: every benchmark in turn; each writes benchmarks/results/<name>.json and prints its figures."""

from __future__ import annotations

import importlib
import json
import sys

BENCHMARKS = [
    "bench_ingest",
    "bench_pseudonyms",
    "bench_linkage",
    "bench_address",
    "bench_serving",
    "bench_report",
    "bench_durable",
]


def main(argv: list[str]) -> int:
    chosen = argv or BENCHMARKS
    failed = []
    for name in chosen:
        print(f"== {name}", flush=True)
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            print(json.dumps(module.main(), indent=2, default=str), flush=True)
        except Exception as e:  # a failing benchmark must not hide the others
            failed.append(name)
            print(f"{name} failed: {e}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
