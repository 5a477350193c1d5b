"""Every quality figure of a demo run against the synthetic ground truth, per source and per indicator: addresses
(share right among resolved, share unresolved), persons and owners (pairwise F1), indicators (recall, precision).
What the asset checks compute, in one JSON, so a before/after comparison of the world or the linker reads one file.

    python -m benchmarks.eval_quality [DATA]    (DATA: RGW_DATA or data/)
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pyarrow.parquet as pq

from governance.indicator_quality import evaluate
from linkage.quality import address_quality, entity_quality
from pseudonymisation.keys import KeyStore


def quality(data: Path) -> dict:
    truth, keys = data / "ground_truth", KeyStore(data / "keys")
    links = data / "landing" / "linkage"
    addresses = address_quality(pq.read_table(links / "address_links.parquet"), truth, keys)
    entities = entity_quality(pq.read_table(links / "entity_links.parquet"), truth, keys)
    indicators = evaluate(data / "warehouse" / "rgw.duckdb", truth, data / "incoming")
    return {"addresses": addresses, "entities": entities, "indicators": indicators}


if __name__ == "__main__":
    data = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("RGW_DATA", "data"))
    json.dump(quality(data), sys.stdout, indent=1)
    print()
