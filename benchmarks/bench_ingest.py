"""Ingest of the city-scale synthetic BRP and BAG deliveries: time and peak memory.

Anchors, measured in the same run on the same files: for BAG a bare lxml iterparse that only counts elements (the
least any streaming XML reader must do); for BRP pyarrow's multi-threaded CSV reader loading the whole file as strings
(a fast C++ reader that validates nothing). The report gives our time as a ratio to each anchor, and peak memory,
which for BAG must stay bounded (streaming), whatever the size of the extract.
"""

from __future__ import annotations

import json
import os
import sys

from benchmarks.harness import CACHE, measure, write_result

SCALE = os.environ.get("RGW_BENCH_SCALE", "city")


def ensure_synthetic(scale: str) -> str:
    out = CACHE / f"synth-{scale}"
    if not (out / "incoming").exists():
        code = "from synth import generate\nfrom pathlib import Path\n"
        measure("generate", code + f"generate(scale={scale!r}, seed=7, out=Path({str(out)!r}))")
    return str(out)


def main() -> dict:
    out = ensure_synthetic(SCALE)
    bag = f"{out}/incoming/bag/20261101"
    brp = f"{out}/incoming/brp/20261101"
    bag_anchor = measure(
        "bag_anchor_iterparse",
        f"""
        from lxml import etree
        from pathlib import Path
        n = 0
        for f in sorted(Path({bag!r}).glob('*.xml')):
            for _, el in etree.iterparse(str(f), events=('end',)):
                n += 1
                el.clear()
        out['elements'] = n
        """,
    )
    bag_ours = measure(
        "bag_read",
        f"""
        from connectors.bag import read_bag
        from pathlib import Path
        r = read_bag(Path({bag!r}))
        out['counts'] = r.counts()
        """,
    )
    brp_anchor = measure(
        "brp_anchor_pyarrow_csv",
        f"""
        import pyarrow.csv as pc
        from pathlib import Path
        rows = 0
        for f in Path({brp!r}).glob('*.csv'):
            t = pc.read_csv(f, parse_options=pc.ParseOptions(delimiter=';'),
                            convert_options=pc.ConvertOptions(column_types={{}}, strings_can_be_null=False,
                                                              auto_dict_encode=False))
            rows += t.num_rows
        out['rows'] = rows
        """,
    )
    brp_ours = measure(
        "brp_read",
        f"""
        from connectors.brp import read_brp
        from pathlib import Path
        r = read_brp(Path({brp!r}))
        out['counts'] = r.counts()
        """,
    )
    addresses = bag_ours.extra["counts"]["nummeraanduiding"]["in"]
    persons = brp_ours.extra["counts"]["persoon"]["in"]
    payload = {
        "scale": SCALE,
        "cores": os.cpu_count(),
        "bag": {
            "nummeraanduiding_voorkomens": addresses,
            "seconds": round(bag_ours.seconds, 2),
            "peak_rss_mb": round(bag_ours.peak_rss_mb),
            "anchor_iterparse_seconds": round(bag_anchor.seconds, 2),
            "ratio_to_anchor": round(bag_ours.seconds / bag_anchor.seconds, 2),
            "addresses_per_s": round(addresses / bag_ours.seconds),
        },
        "brp": {
            "persons": persons,
            "seconds": round(brp_ours.seconds, 2),
            "peak_rss_mb": round(brp_ours.peak_rss_mb),
            "anchor_pyarrow_csv_seconds": round(brp_anchor.seconds, 2),
            "anchor_peak_rss_mb": round(brp_anchor.peak_rss_mb),
            "ratio_to_anchor": round(brp_ours.seconds / brp_anchor.seconds, 2),
            "persons_per_s": round(persons / brp_ours.seconds),
        },
    }
    write_result("ingest", payload)
    return payload


if __name__ == "__main__":
    json.dump(main(), sys.stdout, indent=2)
    print()
