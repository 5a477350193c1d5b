"""Entry point of the second BAG reading process: `python -m connectors.bag_part_process JOB ANSWER`.

Kept apart from connectors/bag_parallel.py so the module that the connector imports is never also `__main__`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from connectors.bag_parallel import read_part_answer

if __name__ == "__main__":
    read_part_answer(Path(sys.argv[1]), Path(sys.argv[2]))
