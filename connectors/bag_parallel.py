"""Reading an LVBAG extract's object types in up to three processes: one reads the addresses, streets and
woonplaatsen, one the verblijfsobjecten, ligplaatsen and standplaatsen, one the panden.

Why by object type: the versions of one object are compared with each other only (`CurrentVersions`), so each
process can pick the current versions of its types, validate them and write their Parquet on its own, and nothing
has to be merged but the counts and the list of files. Kadaster names every file (and every inner zip) for its
type, so neither process opens the other's files; a file whose name says no type is read by both, each keeping
its own types. What could differ from a one-process read is a file named for one type that holds objects of a type
the other process reads: the process that opens it counts them (`ParseStats.skipped_in_named_files`) and
`read_bag` then reads the extract again in one process, so the landed result is the same either way.

Why three groups on two cores: the real extract has some 9.9 M addresses, 10 M verblijfsobjecten and 11 M panden
(about 3.2 objects an address). In two groups the panden fall to one of the two and that process carries two thirds
of the work; three groups of about a third each, run at once, are shared by the operating system over the two cores
so that both stay busy to the end. Fewer workers than groups take the groups in turn (two workers: addresses and
panden in one, verblijfsobjecten in the other).

The other processes are fresh interpreters (no fork of a process that may hold DuckDB or Dagster threads, no
re-import of the caller's script) and read while this one reads its own part. Memory: the budget of objects held
before spilling sorted runs is split between the processes, so together they hold what one process held.
"""

from __future__ import annotations

import json
import os
import pickle
import resource
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.bag_xml import ENTITIES, ParseStats
from connectors.delivery import DeliveryError

if TYPE_CHECKING:
    from connectors.bag import PartOutcome

# The groups of object types, about a third each of a national extract (9.9 M addresses, 10 M verblijfsobjecten,
# 11 M panden); openbare ruimten, woonplaatsen, lig- and standplaatsen are few.
ENTITY_GROUPS: tuple[tuple[str, ...], ...] = (
    ("nummeraanduiding", "openbare_ruimte", "woonplaats"),
    ("verblijfsobject", "ligplaats", "standplaats"),
    ("pand",),
)
# Below this many bytes of XML a second process costs more (its start, about a second of imports) than it saves.
PARALLEL_FROM_BYTES = 64 * 2**20
WORKERS_VARIABLE = "RGW_BAG_WORKERS"
# For benchmarks: a folder where each other reading process writes its CPU seconds and peak memory when done
# (benchmarks/bench_bag_national.py; RUSAGE_CHILDREN gives only the sum of their CPU and the largest peak).
USAGE_VARIABLE = "RGW_BAG_PART_USAGE"
_CODE_ROOT = Path(__file__).resolve().parents[1]


def choose_workers(path: Path, workers: int | None) -> int:
    """The processes to read with: `workers` when given, else RGW_BAG_WORKERS, else one per group of object types
    (three) for a large extract on a machine with two cores or more, 1 otherwise. Never more than the groups."""
    if workers is None:
        setting = os.environ.get(WORKERS_VARIABLE, "").strip()
        if setting:
            if not setting.isdigit() or int(setting) < 1:
                raise ValueError(f"{WORKERS_VARIABLE} must be a whole number of processes, 1 or more: {setting!r}")
            workers = int(setting)
        else:
            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
            workers = len(ENTITY_GROUPS) if cores >= 2 and extract_bytes(path) >= PARALLEL_FROM_BYTES else 1
    if workers < 1:
        raise ValueError(f"workers must be 1 or more, not {workers}")
    return min(workers, len(ENTITY_GROUPS))


def extract_bytes(path: Path) -> int:
    """The size on disk of the extract's XML and zip files."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".xml", ".zip"))
    return path.stat().st_size


def split_entities(wanted: frozenset[str] | None, workers: int) -> list[frozenset[str] | None]:
    """The object types each process reads: one part (`wanted` itself) for one worker, else the groups' shares of
    `wanted` (None: all types), the groups dealt to the workers in turn, leaving out empty parts."""
    if workers < 2:
        return [wanted]
    workers = min(workers, len(ENTITY_GROUPS))
    dealt = [frozenset(e for g in ENTITY_GROUPS[w::workers] for e in g) for w in range(workers)]
    parts = [g if wanted is None else g & wanted for g in dealt]
    nonempty: list[frozenset[str] | None] = [p for p in parts if p]
    return nonempty if len(nonempty) > 1 else [wanted]


def read_parts_in_processes(
    path: Path, staging_dir: Path, parts: Sequence[frozenset[str] | None], max_objects: int
) -> PartOutcome:
    """Read the first part here and each other part in a process of its own, at the same time; merge the outcomes.

    The other processes are fresh interpreters (`python -m connectors.bag_part_process`), not multiprocessing
    children: those re-import the caller's main script, which breaks any script without a `__main__` guard. A
    failure in any process ends the others and is raised here (a DeliveryError as the reading process raised it).
    """
    from connectors.bag import read_part

    budget = max(1, max_objects // len(parts))
    children: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        for i, part in enumerate(parts[1:], start=1):
            job, answer = staging_dir / f".part-{i}.job", staging_dir / f".part-{i}.answer"
            job.write_bytes(pickle.dumps((path, staging_dir, part, budget, f".spill-{i}")))
            children.append((_start_child(job, answer), answer))
        outcomes = [read_part(path, staging_dir, parts[0], own_entities(parts[0]), budget, ".spill-0")]
        for child, answer in children:
            code = child.wait()
            if code != 0 or not answer.exists():
                raise RuntimeError(
                    f"a second process reading the BAG extract {path} stopped with exit code {code} (out of "
                    f"memory? its error is above); {WORKERS_VARIABLE}=1 reads it in one process"
                )
            outcomes.append(_unwrap(pickle.loads(answer.read_bytes())))
    except BaseException:
        for child, _ in children:
            if child.poll() is None:
                child.kill()
                child.wait()
        raise
    finally:
        for leftover in staging_dir.glob(".part-*"):
            leftover.unlink(missing_ok=True)
    return merge_outcomes(outcomes)


def _start_child(job: Path, answer: Path) -> subprocess.Popen[bytes]:
    """A fresh interpreter running this checkout's code (its folder first on the path), errors to our stderr."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_CODE_ROOT), env.get("PYTHONPATH", "")]))
    return subprocess.Popen(
        [sys.executable, "-m", "connectors.bag_part_process", str(job), str(answer)], env=env, stdin=subprocess.DEVNULL
    )


def own_entities(part: frozenset[str] | None) -> tuple[str, ...]:
    """The entities a part lands, in ENTITIES order."""
    return tuple(e for e in ENTITIES if part is None or e in part)


def read_part_answer(job: Path, answer: Path) -> None:
    """In the other process: read the part the job file describes and write the outcome (or the DeliveryError's
    fields: its constructor does not unpickle) to the answer file, whole or not at all."""
    from connectors.bag import read_part

    path, staging_dir, part, budget, spill_name = pickle.loads(job.read_bytes())
    try:
        result: tuple[str, Any] = ("ok", read_part(path, staging_dir, part, own_entities(part), budget, spill_name))
    except DeliveryError as exc:
        result = ("delivery_error", (exc.file, exc.place, exc.message, exc.field))
    partial = answer.with_suffix(".partial")
    partial.write_bytes(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    partial.rename(answer)
    _report_usage(spill_name, part)


def _report_usage(name: str, part: frozenset[str] | None) -> None:
    """This process's CPU seconds and peak memory to USAGE_VARIABLE's folder, when it is set."""
    folder = os.environ.get(USAGE_VARIABLE)
    if folder:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        report = {
            "entities": sorted(part or ()),
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "peak_mb": usage.ru_maxrss / 1024,
        }
        (Path(folder) / f"{name.strip('.')}.json").write_text(json.dumps(report))


def _unwrap(answer: tuple[str, Any]) -> PartOutcome:
    kind, value = answer
    if kind == "delivery_error":
        file, place, message, field = value
        raise DeliveryError(file, place, message, field)
    return value


def merge_outcomes(outcomes: Sequence[PartOutcome]) -> PartOutcome:
    """One outcome as a one-process read would give it: files in reading order, a file without objects only when
    no process found any in it, counts per entity in ENTITIES order."""
    from connectors.bag import PartOutcome

    stats = ParseStats()
    empty: dict[str, bool] = {}
    for outcome in outcomes:
        part = outcome.stats
        stats.file_positions.update(part.file_positions)
        without = set(part.files_without_objects)
        for name in part.files:
            empty[name] = empty.get(name, True) and name in without
        stats.namespace_versions |= part.namespace_versions
        stats.unknown_elements |= part.unknown_elements
        for entity, count in part.skipped_in_named_files.items():
            stats.skipped_in_named_files[entity] = stats.skipped_in_named_files.get(entity, 0) + count
    stats.files = sorted(stats.file_positions, key=stats.file_positions.__getitem__)
    stats.files_without_objects = [name for name in stats.files if empty[name]]

    def total(attribute: str) -> dict[str, int]:
        return {e: sum(getattr(o, attribute).get(e, 0) for o in outcomes) for e in ENTITIES}

    return PartOutcome(
        batches={e: b for o in outcomes for e, b in o.batches.items()},
        versions_read=total("versions_read"),
        superseded=total("superseded"),
        duplicates=total("duplicates"),
        stats=stats,
    )
