"""Pseudonyms and encodings per second, against the naive anchor measured in the same run.

Anchor: `hmac.new(key, value, sha256)` per item in a Python loop (what one would write first). Ours: the pre-keyed
`cryptography` HMAC object copied per item, each distinct value keyed once (Arrow dictionary encoding), on an Arrow
column of one million BSNs of which a realistic share repeat (a person appears in several rows).
Encodings: keyed Bloom filters of surnames.
"""

from __future__ import annotations

import json
import os
import sys

from benchmarks.harness import measure, write_result

N = 10_000_000
SETUP = f"""
import random
from connectors.identifiers import elfproef
r = random.Random(1)
pool = []
n = 900_000_000
while len(pool) < {N} * 6 // 10:
    n += r.randrange(1, 30)
    s = f"{{n:09d}}"
    if elfproef(s):
        pool.append(s)
values = [r.choice(pool) for _ in range({N})]
"""


def main() -> dict:
    anchor = measure(
        "hmac_new_per_item",
        SETUP
        + """
import hmac, hashlib, time
key = b"k" * 32
t = time.perf_counter()
out_list = [hmac.new(key, v.encode(), hashlib.sha256).digest()[:16] for v in values]
out["core_seconds"] = time.perf_counter() - t
""",
    )
    ours = measure(
        "pseudonymise_array",
        SETUP
        + """
import os, time, warnings
os.environ["RGW_MASTER_KEY"] = "ab" * 32
from pseudonymisation.keys import KeyStore
from pseudonymisation.pseudonyms import Pseudonymiser
import tempfile
import pyarrow as pa
p = Pseudonymiser(KeyStore(tempfile.mkdtemp()), "bsn")
column = pa.array(values)  # the boundary reads columns from Parquet: Arrow is its natural input
t = time.perf_counter()
arr = p.pseudonymise_array(column)
out["core_seconds"] = time.perf_counter() - t
""",
    )
    enc = measure(
        "encode_surnames",
        """
import os, time, random, tempfile
os.environ["RGW_MASTER_KEY"] = "ab" * 32
from pseudonymisation.keys import KeyStore
from pseudonymisation.encodings import FieldEncoder
from synth.names import GROUPS
names = [s for _, surnames, _ in GROUPS.values() for _, s in surnames]
r = random.Random(2)
values = [r.choice(names) + ("" if r.random() < 0.7 else r.choice(["a", "e", "s"])) for _ in range(200_000)]
e = FieldEncoder(KeyStore(tempfile.mkdtemp()), "achternaam", "name")
t = time.perf_counter()
e.encode_array(values)
out["core_seconds"] = time.perf_counter() - t
""",
    )
    payload = {
        "values": N,
        "cores": os.cpu_count(),
        "goal": "at least 2 M/s and at least 4 times the naive loop",
        "anchor_hmac_new_per_item_per_s": round(N / anchor.extra["core_seconds"]),
        "ours_per_s": round(N / ours.extra["core_seconds"]),
        "ratio_ours_to_anchor_speed": round(anchor.extra["core_seconds"] / ours.extra["core_seconds"], 2),
        "encodings_per_s": round(200_000 / enc.extra["core_seconds"]),
        "peak_rss_mb": round(ours.peak_rss_mb),
    }
    write_result("pseudonyms", payload)
    return payload


if __name__ == "__main__":
    json.dump(main(), sys.stdout, indent=2)
    print()
