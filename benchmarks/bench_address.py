"""Address resolution to BAG on a Rotterdam-size BAG: addresses per second, precision and recall.

The BAG is the synthetic Rotterdam's (city scale: about 330,000 addresses, the size of Rotterdam's real BAG), read
once with the BAG connector and cached as the address table. Two sets of written addresses:
- the synthetic Rotterdam's ground truth (`ground_truth/addresses.parquet`: every address any source wrote, with the
  true nummeraanduiding), all of it: most are registry addresses written cleanly, the report desks' are noisy;
- `NOISY` addresses drawn from the BAG and written the way people write them by the synthetic world's address
  grammar (synth/noise.py `noisy_bag_address`: keyboard slips, short names, abbreviated titles and street types,
  floors, letter and addition variants, number words, number or postcode first, wrong or missing postcode, missing or
  variant woonplaats), which does not share the parser's word lists.
Precision is the share of resolved addresses that are the true one; recall the share of all addresses resolved to the
true one. Speed is measured on unique texts (no repeats to cache), in CPU seconds of one process, so that a busy
machine does not flatter or penalise it; wall time is reported too.

Anchor, in the same run on the same texts: a bare exact look-up (a postcode regex, the first number, a dict get on
(postcode, huisnummer)) - the least any resolver does, with none of the parsing, street matching or deciding.
"""

from __future__ import annotations

import json
import os
import random
import sys

from benchmarks.harness import CACHE, measure, write_result

# how people write an address: the synthetic world's grammar (synth/noise.py); the address tests import it from here
from synth.noise import keyboard_typo as typo  # noqa: F401
from synth.noise import noisy_bag_address as noisy_address  # noqa: F401

SCALE = os.environ.get("RGW_BENCH_SCALE", "city")
NOISY = int(os.environ.get("RGW_BENCH_ADDRESS_NOISY", "200000"))

# --- a BAG with Rotterdam's variety of street names ---------------------------------------------------------------

STEMS = [
    "Eiken",
    "Beuken",
    "Linden",
    "Esdoorn",
    "Kastanje",
    "Populier",
    "Wilgen",
    "Berken",
    "Iepen",
    "Platanen",
    "Acacia",
    "Hazelaar",
    "Vlier",
    "Meidoorn",
    "Lijsterbes",
    "Taxus",
    "Rozen",
    "Tulpen",
    "Lelie",
    "Narcis",
    "Dahlia",
    "Aster",
    "Lupine",
    "Anjer",
    "Iris",
    "Violier",
    "Goudsbloem",
    "Klaver",
    "Distel",
    "Heide",
    "Varen",
    "Merel",
    "Lijster",
    "Spreeuw",
    "Mees",
    "Vink",
    "Zwaluw",
    "Reiger",
    "Meeuw",
    "Kievit",
    "Specht",
    "Wielewaal",
    "Roodborst",
    "Kwartel",
    "Fazant",
    "Dordtse",
    "Goudse",
    "Delftse",
    "Schiedamse",
    "Vlaardinger",
    "Bergse",
    "Kralingse",
    "Crooswijkse",
    "Katendrechtse",
    "Charloisse",
    "Overschie",
    "Zevenkamp",
    "Ommoord",
    "Prinsenland",
    "Lombardije",
    "Feijenoord",
    "Afrikaander",
    "Tarwe",
    "Bloemhof",
    "Rembrandt",
    "Vermeer",
    "Erasmus",
    "Spinoza",
    "Huygens",
    "Vondel",
    "Bilderdijk",
    "Tollens",
    "Multatuli",
    "Hobbema",
    "Ruisdael",
    "Breitner",
    "Mesdag",
    "Israels",
    "Maris",
    "Mauve",
    "Jongkind",
    "Toorop",
    "Mondriaan",
    "Escher",
    "Willink",
    "Pieneman",
    "Bakkers",
    "Smeden",
    "Vissers",
    "Schippers",
    "Kuipers",
    "Touwslagers",
    "Zeilmakers",
    "Molenaars",
    "Haringvliet",
    "Hollandsch",
    "Diep",
    "Volkerak",
    "Grevelingen",
    "Oosterschelde",
    "Westerschelde",
    "Noordzee",
    "Waal",
    "Lek",
    "Merwede",
    "Maas",
    "Rotte",
    "Schie",
    "IJssel",
    "Amstel",
    "Vecht",
    "Gouwe",
    "Linge",
    "Dommel",
    "Berkel",
    "Regge",
    "Dinkel",
    "Hunze",
    "Aa",
    "Drentse",
    "Friese",
    "Groningse",
    "Zeeuwse",
    "Brabantse",
    "Limburgse",
    "Utrechtse",
    "Gelderse",
    "Overijsselse",
    "Hoeksche",
    "Goeree",
    "Voorne",
    "Putten",
    "Beijerland",
    "Ketel",
    "Slinge",
    "Sloe",
    "Botter",
    "Tjalk",
    "Schouw",
    "Aak",
    "Hoogaars",
    "Punter",
    "Praam",
    "Kotter",
    "Logger",
]
TYPES = "straat laan weg plein kade singel dijk hof dreef park gracht pad steeg erf baan".split()  # noqa: SIM905
PREFIXES = ["Burgemeester ", "Dokter ", "Mr. ", "Sint ", "Koningin ", "Nieuwe ", "Oude ", "Lange ", "Korte ", "Van "]


def street_names(count: int, seed: int = 1) -> list[str]:
    """`count` distinct street names built the way Dutch ones are (stem, type, sometimes a title or an adjective),
    near namesakes included (Merelstraat, Merellaan, Nieuwe Merelstraat)."""
    r = random.Random(seed)
    combos = [f"{stem}{kind}" for stem in STEMS for kind in TYPES]
    r.shuffle(combos)
    names = []
    for name in combos:
        names.append(name)
        if r.random() < 0.4:
            names.append(r.choice(PREFIXES) + name)
    more = [prefix + name for prefix in PREFIXES for name in combos]
    r.shuffle(more)
    return list(dict.fromkeys(names + more))[:count]


def with_realistic_streets(addresses, per_street: int = 60, seed: int = 1):
    """The address table with its streets split into streets of about `per_street` addresses (Rotterdam has some
    5,500 streets for 330,000 addresses; the synthetic city has a few hundred), each with its own name."""
    import pyarrow as pa

    groups: dict[tuple, list[int]] = {}
    rows = addresses.select(["straatnaam", "postcode", "huisnummer"]).to_pylist()
    for i, row in enumerate(rows):
        groups.setdefault((row["straatnaam"], row["postcode"], row["huisnummer"] // 40), []).append(i)
    merged: list[list[int]] = []
    for members in groups.values():  # merge small neighbouring groups up to about per_street addresses
        if (
            merged
            and len(merged[-1]) + len(members) <= per_street
            and rows[merged[-1][0]]["straatnaam"] == rows[members[0]]["straatnaam"]
        ):
            merged[-1].extend(members)
        else:
            merged.append(list(members))
    names = street_names(len(merged), seed)
    if len(names) < len(merged):
        raise ValueError(f"only {len(names)} street names for {len(merged)} streets")
    new = [None] * len(rows)
    for name, members in zip(names, merged, strict=False):
        for i in members:
            new[i] = name
    table = addresses.set_column(addresses.column_names.index("straatnaam"), "straatnaam", pa.array(new, pa.string()))
    return table.set_column(
        table.column_names.index("verkorte_naam"), "verkorte_naam", pa.nulls(table.num_rows, pa.string())
    )


# --- the benchmark ----------------------------------------------------------------------------------------------------


def ensure_addresses(scale: str) -> tuple[str, str]:
    """The synthetic Rotterdam of this scale (generated once, shared with bench_ingest) and its BAG address table
    (read once with the BAG connector, cached)."""
    from benchmarks.bench_ingest import ensure_synthetic

    out = ensure_synthetic(scale)
    table = CACHE / f"addresses-{scale}.parquet"
    if not table.exists():
        measure(
            "bag_addresses",
            f"""
            import pyarrow.parquet as pq
            from pathlib import Path
            from linkage.address.index import load_bag_addresses
            t = load_bag_addresses(Path({out!r}) / "incoming" / "bag" / "20261101")
            pq.write_table(t, {str(table)!r})
            out["rows"] = t.num_rows
            """,
        )
    return out, str(table)


def evaluate(index, texts: list[str], expected: list[str], groups: list[str]) -> dict:
    """Resolve the distinct texts once (as resolve_addresses does; speed is per distinct text) and score every text
    against its true nummeraanduiding: precision, recall, unresolved share, per group, per confidence band and per
    method, and the reasons of the unresolved."""
    import time

    import pyarrow as pa

    from linkage.address import resolve_addresses

    unique = list(dict.fromkeys(texts))
    t0, c0 = time.perf_counter(), time.process_time()
    resolved = resolve_addresses(pa.table({"adres": unique}), index, text_column="adres")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    columns = {c: dict(zip(unique, resolved[c].to_pylist(), strict=True)) for c in resolved.column_names}
    got, conf, meth, reason = (columns[c] for c in ("nummeraanduiding_id", "confidence", "method", "unresolved_reason"))
    per: dict[str, list[int]] = {}
    bands: dict[float, list[int]] = {}
    methods: dict[str, list[int]] = {}
    reasons: dict[str, int] = {}
    for text, want, group in zip(texts, expected, groups, strict=True):
        g = per.setdefault(group, [0, 0, 0])
        g[0] += 1
        if got[text] is None:
            reasons[reason[text]] = reasons.get(reason[text], 0) + 1
            continue
        right = got[text] == want
        g[1] += 1
        g[2] += right
        for stats in (
            bands.setdefault(min(int(conf[text] * 20) / 20, 0.95), [0, 0]),
            methods.setdefault(meth[text], [0, 0]),
        ):
            stats[0] += 1
            stats[1] += right
    total = [sum(v[i] for v in per.values()) for i in range(3)]
    return {
        "addresses": total[0],
        "distinct_texts": len(unique),
        "precision": round(total[2] / total[1], 5) if total[1] else None,
        "recall": round(total[2] / total[0], 5),
        "unresolved_share": round(1 - total[1] / total[0], 5),
        "cpu_seconds": round(cpu, 2),
        "wall_seconds": round(wall, 2),
        "addresses_per_cpu_s": round(len(unique) / cpu),
        "addresses_per_wall_s": round(len(unique) / wall),
        "per_group": {
            k: {
                "addresses": v[0],
                "precision": round(v[2] / v[1], 5) if v[1] else None,
                "recall": round(v[2] / v[0], 5),
            }
            for k, v in sorted(per.items())
        },
        "precision_by_confidence": {
            f"{k:.2f}-{k + 0.05:.2f}": {"n": v[0], "precision": round(v[1] / v[0], 4)} for k, v in sorted(bands.items())
        },
        "precision_by_method": {k: {"n": v[0], "precision": round(v[1] / v[0], 4)} for k, v in sorted(methods.items())},
        "unresolved_reasons": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
    }


RESOLVE = """
import random, time
import pyarrow as pa, pyarrow.compute as pc, pyarrow.parquet as pq
from linkage.address import BagIndex
from benchmarks.bench_address import evaluate, noisy_address, with_realistic_streets

addresses = pq.read_table({table!r})
t0, c0 = time.perf_counter(), time.process_time()
index = BagIndex(addresses)
out["index"] = {{"addresses": index.size, "streets": len(index.all_streets),
                 "seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0}}

truth = pq.read_table({truth!r})
known = pc.and_(pc.is_valid(truth["address_text_as_written"]), pc.is_valid(truth["true_nummeraanduiding_id"]))
truth = truth.filter(known)
groups = [f"{{s}}.{{e}}" for s, e in zip(truth["source"].to_pylist(), truth["entity"].to_pylist())]
out["ground_truth"] = evaluate(index, truth["address_text_as_written"].to_pylist(),
                               truth["true_nummeraanduiding_id"].to_pylist(), groups)

r = random.Random(1)
rows = addresses.to_pylist()
sample = [rows[i] for i in r.sample(range(len(rows)), min({noisy}, len(rows)))]
written = [noisy_address(r, row) for row in sample]
out["noisy"] = evaluate(index, [t for t, _ in written], [row["nummeraanduiding_id"] for row in sample],
                        ["noisy"] * len(sample))
del index

realistic = with_realistic_streets(addresses)
t0, c0 = time.perf_counter(), time.process_time()
index = BagIndex(realistic)
out["index_realistic_streets"] = {{"addresses": index.size, "streets": len(index.all_streets),
                                   "seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0}}
rows = realistic.to_pylist()
sample = [rows[i] for i in r.sample(range(len(rows)), min({noisy}, len(rows)))]
written = [noisy_address(r, row) for row in sample]
out["noisy_realistic_streets"] = evaluate(
    index, [t for t, _ in written], [row["nummeraanduiding_id"] for row in sample], ["noisy"] * len(sample)
)
"""

ANCHOR = """
import re, time
import pyarrow as pa, pyarrow.parquet as pq
addresses = pq.read_table({table!r}, columns=["postcode", "huisnummer", "nummeraanduiding_id"])
index = {{}}
for pc, nr, num in zip(*(addresses[c].to_pylist() for c in addresses.column_names)):
    index.setdefault((pc, nr), num)
truth = pq.read_table({truth!r}, columns=["address_text_as_written"])
texts = list(dict.fromkeys(t for t in truth["address_text_as_written"].to_pylist() if t))
postcode = re.compile(r"([1-9][0-9]{{3}}) ?([A-Za-z]{{2}})")
number = re.compile(r"(?<![0-9])([0-9]{{1,5}})(?![0-9])")
t0, c0 = time.perf_counter(), time.process_time()
found = 0
for text in texts:
    p, n = postcode.search(text), number.search(text)
    if p and n and index.get((p.group(1) + p.group(2).upper(), int(n.group(1)))):
        found += 1
out["cpu_seconds"], out["wall_seconds"] = time.process_time() - c0, time.perf_counter() - t0
out["texts"], out["found"] = len(texts), found
"""


def main() -> dict:
    out, table = ensure_addresses(SCALE)
    truth = f"{out}/ground_truth/addresses.parquet"
    anchor = measure("address_anchor_exact_lookup", ANCHOR.format(table=table, truth=truth))
    ours = measure("address_resolve", RESOLVE.format(table=table, truth=truth, noisy=NOISY))
    e = ours.extra
    anchor_rate = anchor.extra["texts"] / anchor.extra["cpu_seconds"]
    sets = ("ground_truth", "noisy", "noisy_realistic_streets")
    payload = {
        "scale": SCALE,
        "cores": os.cpu_count(),
        "index": {k: round(v, 2) if isinstance(v, float) else v for k, v in e["index"].items()},
        "index_realistic_streets": {
            k: round(v, 2) if isinstance(v, float) else v for k, v in e["index_realistic_streets"].items()
        },
        "peak_rss_mb": round(ours.peak_rss_mb),
        **{name: e[name] for name in sets},
        "anchor_exact_lookup_per_cpu_s": round(anchor_rate),
        "ratio_to_anchor_ground_truth": round(anchor_rate / e["ground_truth"]["addresses_per_cpu_s"], 2),
        "goals": {
            "addresses_per_cpu_s >= 20000": {n: e[n]["addresses_per_cpu_s"] >= 20_000 for n in sets},
            "precision >= 0.995": {n: e[n]["precision"] >= 0.995 for n in sets},
            "unresolved <= 1%": {n: e[n]["unresolved_share"] <= 0.01 for n in sets},
        },
    }
    write_result("address", payload)
    return payload


if __name__ == "__main__":
    json.dump(main(), sys.stdout, indent=2)
    print()
