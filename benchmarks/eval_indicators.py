"""Recall and precision of each indicator on a demo run (`RGW_DATA` or the folder given); see
governance/indicator_quality.py for the truth each indicator is scored against."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from governance.indicator_quality import evaluate

if __name__ == "__main__":
    data = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("RGW_DATA", "data"))
    json.dump(
        evaluate(data / "warehouse" / "rgw.duckdb", data / "ground_truth", data / "incoming"), sys.stdout, indent=2
    )
    print()
