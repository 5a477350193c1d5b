"""The national BAG in bounded memory (issue 11): the BAG connector and `rgw address resolve` on synthetic LVBAG
extracts of about 0.33, 1 and 3 million addresses, time and peak memory per size, extrapolated to the real extract's
9.9 million.

The extracts are the city-scale synthetic Rotterdam's BAG (about 330,000 addresses, only its BAG part is generated)
copied k times with its ids rewritten: copy k has gemeente code 0600+k in every object id, woonplaats id 5000+k
named "Rotterdam" (k = 0) or "Plaats k", and postcodes whose first digit is k+1, so every copy is a town of its own
whose street names repeat those of the others (as Dorpsstraat and Kerkstraat do across the country). Copies are
written once under benchmarks/.cache/national/ and hard-linked into one folder per size.

Measured per size, each in a fresh process (benchmarks/harness.py): `read_bag` on the whole extract (every object
type, as `rgw ingest bag` does), and `rgw address resolve` with 100,000 free-text addresses of the first town
(written by benchmarks/address_messy.py): reading the extract (address types only), the address table by DuckDB, the
index of the addresses the input can mean, resolving. Anchor, in the same run: a bare lxml iterparse over the same
files that only counts elements. Goals (issue 11): the national extract streamed in under 10 minutes and under 2 GB
peak; 100,000 addresses resolved against it in under 60 s.

    python -m benchmarks.bench_bag_national          # RGW_NATIONAL_COPIES="1 3 9" by default
    RGW_NATIONAL_PHASES=connector RGW_NATIONAL_WORKERS="1 2" python -m benchmarks.bench_bag_national
    RGW_NATIONAL_PHASES=resolve RGW_NATIONAL_STEPS=resolve python -m benchmarks.bench_bag_national  # saved tables

The connector is measured once per value of RGW_NATIONAL_WORKERS (`read_bag(workers=...)`; the counts must agree);
the other processes report their CPU time and peak (RGW_BAG_PART_USAGE), and "two-core s" is the wall time on two
cores nobody else uses: max(the longest process, all CPU / 2). The extracts are in the real object mix (`ensure_mix`:
3.1 objects an address, ~9,000 streets a town). The resolve phase runs `rgw address resolve` twice per size: on the
extract (read, saved with --save-addresses) and on the saved address table (RGW_NATIONAL_STEPS=resolve: the latter
alone, on tables an earlier run saved), and writes a digest of every answer (`resolve_answers_sha256`) so two runs can
be compared. Figures and their discussion: docs/linkage.md (issue 11).

Connector, three processes, 4 December 2026 (load average 5-10 on 2 shared cores):

    size                  addresses   CPU s per process     two-core s   peak all
    1 town                  340,819   12.0 / 13.7 / 10.0       17.9       711 MB
    3 towns               1,022,457   31.6 / 35.9 / 26.5       47.0       806 MB
    9 towns               3,067,371   98.0 / 110.9 / 80.3     144.6       987 MB
    9.9 M, by the line    9,900,000                           ~462 s      ~1.7 GB   (goals: 600 s, 2 GB)
    9 towns, 5 Dec        3,067,371   80.5 / 90.9 / 66.4       118.9       999 MB   (load 2.7; anchor 76.2 CPU s)

`rgw address resolve`, 100,000 texts against the saved address table, 5 December 2026 (load 2.1-2.9), before
(f710007, same hour) and after the fuzzy street search's letter-signature filter (linkage/address/letter_bounds.py):

    size                  addresses   before: CPU s / peak    after: CPU s / wall s / peak
    1 town                  340,819    10.0 / 503 MB           8.8 /  9.3 / 496 MB
    3 towns               1,022,457    15.3 / 628 MB          11.0 / 11.8 / 636 MB
    9 towns               3,067,371    40.4 / 829 MB          15.4 / 15.9 / 839 MB
    9.9 M, by the line    9,900,000    ~117 CPU s              ~32 CPU s / ~32 s / ~1.7 GB   (goals: 60 s, 2 GB)

The answers are identical before and after at every size (digests e0c34e64..., d591d8b5..., e5129b04...). What still
grows from 1 to 9 towns (+6.6 CPU s): the addresses the texts can mean (334,101 -> 1,816,512 held, ~4.5 s), because
every copied town repeats all of Rotterdam's street names and a text without a woonplaats can mean its street in each;
the real extract's street names recur far less. The street universe (street index, fuzzy search) adds ~1.5 s.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.harness import CACHE, measure, write_result

ROOT = CACHE / "national"
NATIONAL_ADDRESSES = 9_900_000
_ID = re.compile(rb">0599(\d{12})<")
_WOONPLAATS_ID = re.compile(rb">3086<")
_POSTCODE = re.compile(rb"<Objecten:postcode>3(\d{3}[A-Z]{2})<")


def ensure_city_bag() -> Path:
    """The city-scale synthetic Rotterdam's BAG alone (no persons, owners or other registries)."""
    folder = ROOT / "city"
    if not (folder / "Leveringsdocument-BAG-Extract.xml").exists():
        from synth.world import buildings_only
        from synth.write_bag import write_bag

        write_bag(buildings_only("city", 7), folder)
    return folder


def rewrite(data: bytes, k: int) -> bytes:
    """One file of the city extract as copy k: ids, woonplaats and postcodes rewritten (see the module docstring)."""
    data = _ID.sub(b">%04d\\1<" % (600 + k), data)
    data = _WOONPLAATS_ID.sub(b">%d<" % (5000 + k), data)
    data = _POSTCODE.sub(b"<Objecten:postcode>%d\\1<" % (k + 1), data)
    if k:
        data = data.replace(
            b"<Objecten:naam>Rotterdam</Objecten:naam>", b"<Objecten:naam>Plaats %d</Objecten:naam>" % k
        )
    return data


def ensure_copy(k: int) -> Path:
    """Copy k of the city extract, rewritten line by line (one bagObject per line)."""
    folder = ROOT / f"copy-{k}"
    done = folder / "_done"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for src in sorted(ensure_city_bag().glob("*.xml")):
        name = src.name.replace("0599", f"{600 + k:04d}", 1) if src.name.startswith("0599") else src.name
        if name.startswith("Leveringsdocument") and k:
            continue
        with open(src, "rb") as fin, open(folder / name, "wb") as fout:
            for line in fin:
                fout.write(rewrite(line, k))
    done.write_text("")
    return folder


# The real extract's object mix, per address (our round figures for the LVBAG of 2026: 9.9 M nummeraanduidingen,
# some 11 M panden, 10 M verblijfsobjecten, 270,000 openbare ruimten, 2,500 woonplaatsen; about 3.2 objects an
# address with history). The city extract has 0.33 panden, 0.001 openbare ruimten and one woonplaats per address
# count; `ensure_mix` adds the difference to every copy as files of their own.
PANDEN_PER_ADDRESS = 1.11
OPENBARE_RUIMTEN_PER_ADDRESS = 0.027
WOONPLAATSEN_PER_ADDRESS = 0.00025
_SYLLABLES = tuple(
    [
        "al",
        "bar",
        "bel",
        "ber",
        "bo",
        "brak",
        "bur",
        "dam",
        "del",
        "der",
        "dor",
        "e",
        "ek",
        "el",
        "em",
        "en",
        "er",
        "gel",
        "ger",
        "ha",
        "hal",
        "ham",
        "hem",
        "her",
        "hol",
        "hoorn",
        "hui",
        "ke",
        "ker",
        "kol",
        "kum",
        "la",
        "lan",
        "le",
        "lin",
        "lo",
        "loo",
        "ma",
        "mer",
        "mo",
        "mun",
        "na",
        "ne",
        "nes",
        "nie",
        "o",
        "ol",
        "om",
        "on",
        "oo",
        "ra",
        "re",
        "rijn",
        "ro",
        "rum",
        "sa",
        "sel",
        "so",
        "sta",
        "ste",
        "ter",
        "to",
        "tu",
        "ul",
        "um",
        "ve",
        "vel",
        "ven",
        "vo",
        "wa",
        "wer",
        "wes",
        "wij",
        "wol",
        "zan",
        "ze",
        "zo",
    ]
)
STAMP = "01112026"
_KINDS = ("straat", "weg", "laan", "plein", "dijk", "kade", "singel", "hof", "pad", "steeg", "dreef", "erf")


def _name(r: random.Random, kinds: tuple[str, ...] = ("",)) -> str:
    """A made-up Dutch-sounding name of three to four syllables ("Velkumerlaan"), far from most real streets."""
    word = "".join(r.choice(_SYLLABLES) for _ in range(r.choice((3, 3, 4))))
    return word.capitalize() + r.choice(kinds)


def _objects(path: Path) -> tuple[list[bytes], list[bytes], list[bytes]]:
    """A copy's file as (the lines before the first object, its object lines, the lines after the last)."""
    lines = path.read_bytes().splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if b"<sl:stand>" in line)
    last = max(i for i, line in enumerate(lines) if b"</sl:stand>" in line)
    return lines[:first], [line for line in lines[first:last] if b"bagObject>" in line], lines[last + 1 :]


def _head_and_tail(path: Path) -> tuple[list[bytes], list[bytes]]:
    """The lines before the first object and after the last, without reading the objects into memory."""
    head: list[bytes] = []
    tail: list[bytes] = []
    with open(path, "rb") as f:
        for line in f:
            if b"<sl:stand>" in line:
                break
            head.append(line)
        for line in f:
            tail = [] if b"</sl:stand>" in line else [*tail, line]
    return head, tail


def _write_objects(path: Path, head: list[bytes], objects: Iterable[bytes], tail: list[bytes]) -> None:
    with open(path, "wb") as out:
        out.writelines(head)
        for line in objects:
            out.write(b"        <sl:stand>\n" + line + b"        </sl:stand>\n")
        out.writelines(tail)


def ensure_mix(k: int) -> Path:
    """Copy k with the real extract's object mix: extra panden (the city's panden again with other ids: twice, and
    a share a third time), and extra woonplaatsen with openbare ruimten of made-up names, one address each (no
    object), so the street universe grows as nationally (some 9,000 streets per 330,000 addresses)."""
    folder = ensure_copy(k)
    done = folder / "_mix_done"
    if done.exists():
        return folder
    gem = f"{600 + k:04d}".encode()
    with open(next(folder.glob("*NUM*-000001.xml")), "rb") as f:
        addresses = sum(1 for line in f if b"bagObject>" in line)
    head, panden, tail = _objects(next(folder.glob("*PND*-000001.xml")))
    extra = PANDEN_PER_ADDRESS * addresses / len(panden) - 1  # copies of the panden to add, e.g. 2.4
    pand_id = re.compile(rb'(domein="NL\.IMBAG\.Pand">' + gem + rb"10000)0")

    def more_panden() -> Iterator[bytes]:
        for j in range(1, int(extra) + 2):
            share = min(1.0, extra - (j - 1))
            for i, line in enumerate(panden):
                if (i % 1000) < share * 1000:
                    yield pand_id.sub(rb"\g<1>%d" % j, line)

    _write_objects(folder / f"{gem.decode()}PND{STAMP}-000002.xml", head, more_panden(), tail)
    r = random.Random(600 + k)
    places = [
        (6000 + 100 * k + i, _name(r, ("", "", "broek", "dorp", "veen", "wijk")))
        for i in range(round(WOONPLAATSEN_PER_ADDRESS * addresses) - 1)
    ]
    head, plaats, tail = _objects(next(folder.glob("*WPL*-000001.xml")))
    template = plaats[0]
    _write_objects(
        folder / f"{gem.decode()}WPL{STAMP}-000002.xml",
        head,
        (
            re.sub(rb">\d{4}<", b">%d<" % wid, template, count=1).replace(
                re.search(rb"<Objecten:naam>[^<]*<", template).group(0), b"<Objecten:naam>%s<" % name.encode()
            )
            for wid, name in places
        ),
        tail,
    )
    streets: dict[str, int] = {}
    while len(streets) < round(OPENBARE_RUIMTEN_PER_ADDRESS * addresses) - 353:
        streets.setdefault(_name(r, _KINDS), places[len(streets) % len(places)][0])
    head, ruimten, tail = _objects(next(folder.glob("*OPR*-000001.xml")))
    template = ruimten[0]
    naam = re.search(rb"<Objecten:naam>[^<]*<", template).group(0)
    opr_ids = [gem + b"30%010d" % (9_000_000 + i) for i in range(len(streets))]
    _write_objects(
        folder / f"{gem.decode()}OPR{STAMP}-000002.xml",
        head,
        (
            re.sub(
                rb"(NL\.IMBAG\.Woonplaats\">)\d{4}<",
                rb"\g<1>%d<" % wid,
                re.sub(rb"(NL\.IMBAG\.Openbareruimte\">)\d{16}<", rb"\g<1>" + oid + b"<", template, count=1),
            ).replace(naam, b"<Objecten:naam>%s<" % name.encode())
            for oid, (name, wid) in zip(opr_ids, streets.items(), strict=True)
        ),
        tail,
    )
    head, tail = _head_and_tail(next(folder.glob("*NUM*-000001.xml")))
    _write_objects(
        folder / f"{gem.decode()}NUM{STAMP}-000002.xml",
        head,
        (_extra_address(gem, i, oid, k) for i, oid in enumerate(opr_ids)),
        tail,
    )
    done.write_text("")
    return folder


_EXTRA_ADDRESS = (
    '            <sl-bag-extract:bagObject><Objecten:Nummeraanduiding><Objecten:identificatie domein="NL.IMBAG.'
    'Nummeraanduiding">{id}</Objecten:identificatie><Objecten:huisnummer>1</Objecten:huisnummer>'
    "<Objecten:postcode>{postcode}</Objecten:postcode><Objecten:typeAdresseerbaarObject>Verblijfsobject"
    "</Objecten:typeAdresseerbaarObject><Objecten:status>Naamgeving uitgegeven</Objecten:status>"
    "<Objecten:geconstateerd>N</Objecten:geconstateerd><Objecten:documentdatum>2001-05-01</Objecten:documentdatum>"
    "<Objecten:documentnummer>BAG/NUM9{i:07d}</Objecten:documentnummer><Objecten:voorkomen><Historie:Voorkomen>"
    "<Historie:voorkomenidentificatie>1</Historie:voorkomenidentificatie><Historie:beginGeldigheid>2001-05-01"
    "</Historie:beginGeldigheid><Historie:tijdstipRegistratie>2001-05-01T09:00:00.000</Historie:tijdstipRegistratie>"
    "<Historie:BeschikbaarLV><Historie:tijdstipRegistratieLV>2001-05-01T09:15:00.000</Historie:tijdstipRegistratieLV>"
    "</Historie:BeschikbaarLV></Historie:Voorkomen></Objecten:voorkomen><Objecten:ligtAan>"
    '<Objecten-ref:OpenbareRuimteRef domein="NL.IMBAG.Openbareruimte">{opr}</Objecten-ref:OpenbareRuimteRef>'
    "</Objecten:ligtAan></Objecten:Nummeraanduiding></sl-bag-extract:bagObject>\n"
)


def _extra_address(gem: bytes, i: int, opr_id: bytes, k: int) -> bytes:
    """Number 1 of an extra street: postcode k+1, 9, two digits and two letters (no city postcode has a 9 there)."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    postcode = f"{k + 1}9{i // 676 % 100:02d}{letters[i // 26 % 26]}{letters[i % 26]}"
    number_id = f"{gem.decode()}20{9_000_000 + i:010d}"
    return _EXTRA_ADDRESS.format(id=number_id, postcode=postcode, i=i, opr=opr_id.decode()).encode()


def ensure_extract(copies: int) -> Path:
    """An extract of `copies` towns in the real object mix: a folder of hard links to the copies' files."""
    folder = ROOT / f"extract-{copies}x-mix"
    if (folder / "_done").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(copies):
        for f in ensure_mix(k).glob("*.xml"):
            target = folder / f.name
            if not target.exists():
                os.link(f, target)
    (folder / "_done").write_text("")
    return folder


def ensure_input(n: int = 100_000) -> Path:
    """`n` messy free-text addresses of the first town (its address table read once with the connector)."""
    path = ROOT / f"input-{n}.csv"
    if path.exists():
        return path
    measure(
        "national_input",
        f"""
        import pyarrow as pa, pyarrow.csv as pacsv
        from pathlib import Path
        from benchmarks.address_messy import messy_addresses
        from linkage.address.index import load_bag_addresses
        addresses = load_bag_addresses(Path({str(ensure_copy(0))!r}))
        written = messy_addresses(addresses, {n}, seed=99)
        pacsv.write_csv(pa.table({{"id": list(range(len(written))), "adres": [w.text for w in written],
                                   "want": [w.want for w in written], "kind": [w.kind for w in written]}}),
                        {str(path)!r})
        """,
    )
    return path


# CPU seconds of the process (user + system, DuckDB's threads included): on a shared machine the wall time says more
# about the neighbours than about the code.
# The connector's second process (workers=2) is a child of the measured one: its CPU time is added, and its peak to
# the measured process's peak (a sum of peaks, so at least the peak of the sum).
CPU = """
import resource as _r
_u = _r.getrusage(_r.RUSAGE_SELF)
_c = _r.getrusage(_r.RUSAGE_CHILDREN)
out["cpu_seconds"] = _u.ru_utime + _u.ru_stime + _c.ru_utime + _c.ru_stime
out["own_cpu_seconds"] = _u.ru_utime + _u.ru_stime
out["children_cpu_seconds"] = _c.ru_utime + _c.ru_stime
out["children_peak_mb"] = _c.ru_maxrss / 1024
"""

CONNECTOR = """
import json, os, shutil, tempfile
from pathlib import Path
from connectors.bag import read_bag
usage = Path(tempfile.mkdtemp())
os.environ["RGW_BAG_PART_USAGE"] = str(usage)  # each other reading process reports its CPU and peak here
r = read_bag(Path({extract!r}), staging_root=Path({staging!r}), workers={workers})
out["counts"] = r.counts()
out["parts"] = [json.loads(p.read_text()) for p in sorted(usage.glob("*.json"))]
shutil.rmtree(usage)
shutil.rmtree(r.staging_dir, ignore_errors=True)
"""

ANCHOR = """
from lxml import etree
from pathlib import Path
n = 0
for f in sorted(Path({extract!r}).glob('*.xml')):
    for _, el in etree.iterparse(str(f), events=('end',), tag='{{*}}bagObject'):
        n += 1
        el.clear()
        while el.getprevious() is not None:
            del el.getparent()[0]
out['objects'] = n
"""

RESOLVE = """
import time
import pyarrow.parquet as pq, pyarrow.csv as pacsv, pyarrow.compute as pc
from click.testing import CliRunner
from rgw.cli import main
from benchmarks.bench_bag_national import answers_digest
t0 = time.perf_counter()
result = CliRunner().invoke(main, ["address", "resolve", "--bag", {bag!r}, "--input", {input!r},
                                   "--address-column", "adres", "--out", {output!r}, *{save!r}])
out["seconds_total"] = time.perf_counter() - t0
assert result.exit_code == 0, result.output
out["report"] = result.output
t = pq.read_table({output!r})
out["answers_sha256"] = answers_digest(t)
want, got, kind = (t[c].to_pylist() for c in ("want", "nummeraanduiding_id", "kind"))
resolvable = [(w, g) for w, g, k in zip(want, got, kind) if k == "resolvable"]
resolved = [(w, g) for w, g in resolvable if g is not None]
out["right_among_resolved"] = sum(str(w) == g for w, g in resolved) / max(len(resolved), 1)
out["unresolved_among_resolvable"] = 1 - len(resolved) / max(len(resolvable), 1)
ambiguous = [g for g, k in zip(got, kind) if k == "ambiguous"]
out["answered_among_ambiguous"] = sum(g is not None for g in ambiguous) / max(len(ambiguous), 1)
"""


def answers_digest(table: pa.Table) -> str:
    """A digest of every cell of a resolve output: two runs (before and after a change) answered alike when their
    digests are equal; compare them column by column (pyarrow's Table.equals, per column) when not."""
    return hashlib.sha256(json.dumps(table.to_pydict(), sort_keys=True, default=str).encode()).hexdigest()


def main() -> dict:
    copies = [int(c) for c in os.environ.get("RGW_NATIONAL_COPIES", "1 3 9").split()]
    phases = os.environ.get("RGW_NATIONAL_PHASES", "connector resolve").split()
    # the resolve phase's steps; "resolve" alone measures against the address table an earlier run saved
    steps = os.environ.get("RGW_NATIONAL_STEPS", "read resolve").split()
    input_csv = ensure_input() if "resolve" in phases else None
    workers = [int(w) for w in os.environ.get("RGW_NATIONAL_WORKERS", "2 3").split()]
    sizes = []
    anchor = None
    if "connector" in phases:
        anchor = measure("national_anchor", ANCHOR.format(extract=str(ensure_extract(copies[0]))) + CPU)
    for n in copies:
        extract = ensure_extract(n)
        staging = ROOT / "staging"
        staging.mkdir(exist_ok=True)
        size: dict = {"copies": n}
        for w in workers if anchor is not None else ():
            connector = measure(
                "national_connector", CONNECTOR.format(extract=str(extract), staging=str(staging), workers=w) + CPU
            )
            counts = connector.extra["counts"]
            if "counts" in size:
                assert counts == size["counts"], f"workers={w} landed other counts than workers={workers[0]}"
            tag = "connector" if w == 1 else f"connector_{w}p"
            size.update(
                counts=counts,
                addresses=counts["nummeraanduiding"]["clean"],
                objects=sum(c["in"] for c in counts.values()),
            )
            own_cpu = connector.extra["own_cpu_seconds"]
            cpus = [own_cpu] + [part["cpu_seconds"] for part in connector.extra["parts"]]
            size.update(
                {
                    f"{tag}_seconds": round(connector.seconds, 1),
                    f"{tag}_cpu_seconds": round(connector.extra["cpu_seconds"], 1),
                    f"{tag}_process_cpu_seconds": [round(c, 1) for c in cpus],
                    # the longest process's CPU time: the wall time with a core per process
                    f"{tag}_critical_cpu_seconds": round(max(cpus), 1),
                    # the wall time on two cores nobody else uses: the longest process, or the work shared by two
                    f"{tag}_two_core_seconds": round(max(max(cpus), sum(cpus) / 2), 1),
                    f"{tag}_peak_mb": round(
                        connector.peak_rss_mb + sum(part["peak_mb"] for part in connector.extra["parts"])
                    ),
                    f"{tag}_cpu_over_anchor": round(
                        connector.extra["cpu_seconds"] / (anchor.extra["cpu_seconds"] * n / copies[0]), 2
                    ),
                    f"{tag}_load_average": round(os.getloadavg()[0], 1),
                }
            )
        if "resolve" in phases:
            saved = ROOT / f"addresses-{n}x.parquet"
            for step, bag, save in (
                ("read", extract, ["--save-addresses", str(saved)]),  # extract -> address table -> resolve
                ("resolve", saved, []),  # against the saved table of the whole extract
            ):
                if step not in steps or (step == "resolve" and not saved.exists()):
                    continue
                output = ROOT / f"resolved-{n}x-{step}.parquet"
                m = measure(
                    f"national_{step}",
                    RESOLVE.format(bag=str(bag), input=str(input_csv), output=str(output), save=save) + CPU,
                    env={"RGW_DATA": str(ROOT / "data")},
                )
                size.update(
                    {
                        f"{step}_seconds": round(m.seconds, 1),
                        f"{step}_cpu_seconds": round(m.extra["cpu_seconds"], 1),
                        # the read's second process (verblijfsobjecten) is a child: its peak is added
                        f"{step}_peak_mb": round(m.peak_rss_mb + m.extra["children_peak_mb"]),
                        f"{step}_report": m.extra["report"].strip(),
                        f"{step}_answers_sha256": m.extra["answers_sha256"],
                        f"{step}_rates": {
                            k: round(m.extra[k], 5)
                            for k in ("right_among_resolved", "unresolved_among_resolvable", "answered_among_ambiguous")
                        },
                    }
                )
            if saved.exists():  # a resolve-only run has no connector counts: the saved table's rows
                size.setdefault("addresses", pq.ParquetFile(saved).metadata.num_rows)
        sizes.append(size)
        print(json.dumps(size), flush=True)
    payload = {"cores": os.cpu_count(), "load_average": os.getloadavg(), "sizes": sizes}
    if anchor is not None:
        payload["anchor_iterparse"] = {
            "copies": copies[0],
            "seconds": round(anchor.seconds, 1),
            "cpu_seconds": round(anchor.extra["cpu_seconds"], 1),
            "objects": anchor.extra["objects"],
        }
    if all("addresses" in size for size in sizes):
        payload["national"] = extrapolate(sizes)
    write_result("bag_national", payload)
    return payload


def extrapolate(sizes: list[dict]) -> dict:
    """Time and memory at 9.9 million addresses from a straight line through the smallest and largest size."""
    if len(sizes) < 2:
        return {}
    a, b = sizes[0], sizes[-1]
    out = {}
    keys = [k for k in a if k.endswith(("_seconds", "_peak_mb")) and k in b and isinstance(a[k], (int, float))]
    for key in keys:
        slope = (b[key] - a[key]) / (b["addresses"] - a["addresses"])
        out[key] = round(b[key] + slope * (NATIONAL_ADDRESSES - b["addresses"]), 1)
    goals = {
        "connector under 600 CPU s": ("connector_cpu_seconds", 600),
        "connector under 2048 MB": ("connector_peak_mb", 2048),
        "two-process connector under 600 s on two free cores": ("connector_2p_two_core_seconds", 600),
        "two-process connector under 2048 MB, both processes": ("connector_2p_peak_mb", 2048),
        "three-process connector under 600 s on two free cores": ("connector_3p_two_core_seconds", 600),
        "three-process connector under 2048 MB, all processes": ("connector_3p_peak_mb", 2048),
        "resolve 100k under 60 CPU s": ("resolve_cpu_seconds", 60),
        "resolve 100k under 2048 MB": ("resolve_peak_mb", 2048),
    }
    out["goals"] = {name: out[key] < limit for name, (key, limit) in goals.items() if key in out}  # measured ones
    return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["prepare"]:
        for n in [int(c) for c in os.environ.get("RGW_NATIONAL_COPIES", "1 3 9").split()]:
            print(ensure_extract(n), flush=True)
        sys.exit(0)
    json.dump(main(), sys.stdout, indent=2)
    print()
