"""Messy addresses the way Dutch registries, forms and reporters write them, for measuring the resolver (issue 11).

This writer is on purpose independent of the resolver: its vocabulary (floor words, abbreviations, woonplaats
spellings, styles of letters and additions) is its own, not taken from linkage/address/normalise.py, synth/noise.py
or benchmarks/bench_address.py. Each written address knows what a person checking would expect:
- `resolvable`: what was written fits one address (`want`);
- `ambiguous`: what was written fits several (the letter or addition left out where several exist), so any answer is
  a guess.

The forms are those a trial met (issue 11): postcode and number without a street ("3086WE 97C", "3085SG 159a 03",
"3073FK 177 1-hoog"), the number before the street ("5b Putselaan, Rotterdam", "225A-02 Slinge", "33 beneden
Pleinweg"), floor words before, between and after, an earlier postcode of the address, and the everyday "street
number, postcode woonplaats" with its variants.

    python -m benchmarks.address_messy            # focus-scale synthetic Rotterdam-Zuid, 100,000 addresses

Run of 4 December 2026, focus scale (34,947 addresses, read by the BAG connector), 100,000 written (90,149 resolvable,
9,851 ambiguous): right among resolved 1.0000, unresolved among resolvable 0.0000, answered among ambiguous 0.0000,
in every form (docs/linkage.md has the table). Goals: >= 0.995, <= 0.01, <= 0.10. Against the 1- and 3-town
national extracts (benchmarks/bench_bag_national.py, 100,000 other texts): right among resolved 1.0000 at both.
"""

from __future__ import annotations

import json
import os
import random
import sys
from collections import defaultdict
from dataclasses import dataclass

ORDINALS = {1: "eerste", 2: "tweede", 3: "derde", 4: "vierde"}
ROMANS = {1: "I", 2: "II", 3: "III", 4: "IV"}
GROUND = ["hs", "huis", "beneden", "bg", "begane grond", "parterre", "benedenwoning", "HS", "Beneden"]
UPSTAIRS = ["boven", "bov", "bovenwoning", "Boven"]
STREET_SHORT = [("straat", "str."), ("straat", "str"), ("laan", "ln"), ("weg", "wg"), ("Burgemeester ", "Burg. ")]
PLACE = ["", "", ", Rotterdam", " Rotterdam", ", ROTTERDAM", " R'dam", ", rotterdam"]


@dataclass(frozen=True)
class Written:
    text: str
    want: str | None  # the nummeraanduiding meant; None when ambiguous
    kind: str  # resolvable | ambiguous
    form: str


def floor_words(n: int, r: random.Random) -> str:
    """A floor as people write it: 2-hoog, 2 hoog, 2e etage, 2e verd., tweede verdieping, 2hoog."""
    return r.choice(
        [
            f"{n}-hoog",
            f"{n} hoog",
            f"{n}hoog",
            f"{n}e etage",
            f"{n}e verd.",
            f"{n}e verdieping",
            f"{n}ste etage" if n in (1, 8) else f"{n}de etage",
            f"{ORDINALS[n]} etage",
            f"{ORDINALS[n]} verdieping",
        ]
    )


def floor_of_addition(addition: str | None) -> int | str | None:
    """The floor an addition stands for when it is one (hs, bv, 1-4, I-IV); None otherwise (01, A, bis)."""
    if addition is None:
        return None
    a = addition.lower()
    if a in ("hs", "h"):
        return "hs"
    if a in ("bv", "bov"):
        return "bv"
    if a.isdigit() and len(a) == 1 and 1 <= int(a) <= 4:
        return int(a)
    romans = {v.lower(): k for k, v in ROMANS.items()}
    return romans.get(a)


def floor_text(floor: int | str, r: random.Random) -> str:
    if floor == "hs":
        return r.choice(GROUND)
    if floor == "bv":
        return r.choice(UPSTAIRS)
    return floor_words(int(floor), r)


def slip(name: str, r: random.Random) -> str:
    """One slip of the keys in a long name, never in its first three letters: two letters swapped or one dropped."""
    spots = [i for i in range(3, len(name) - 1) if name[i].isalpha() and name[i + 1].isalpha()]
    if len(name) < 9 or not spots:
        return name
    i = r.choice(spots)
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :] if r.random() < 0.5 else name[:i] + name[i + 1 :]


def street_as_written(name: str, r: random.Random) -> str:
    if r.random() < 0.04:
        name = slip(name, r)
    roll = r.random()
    if roll < 0.15:
        name = name.lower()
    elif roll < 0.2:
        name = name.upper()
    if r.random() < 0.15:
        for full, short in STREET_SHORT:
            if full in name:
                name = name.replace(full, short, 1)
                break
    return name


def suffix_as_written(letter: str | None, addition: str | None, r: random.Random) -> str:
    """'97C', '97 c', '159a 03', '225A-02', '5-b', '12/3', '12 01' ... the part after the number."""
    out = ""
    if letter:
        out = r.choice(
            [letter.upper(), letter.lower(), f" {letter.upper()}", f"-{letter.lower()}", f" {letter.lower()}"]
        )
    if addition:
        shown = addition
        if addition.isdigit() and r.random() < 0.3:
            shown = addition.lstrip("0") or "0" if addition.startswith("0") else addition.zfill(2)
        elif r.random() < 0.3:
            shown = addition.lower()
        out += r.choice([f"-{shown}", f" {shown}", f"/{shown}"] if letter is None else [f"-{shown}", f" {shown}"])
    return out


def postcode_as_written(pc: str, r: random.Random) -> str:
    return r.choice([pc, pc, f"{pc[:4]} {pc[4:]}", pc.lower()])


def messy_addresses(addresses, n: int, seed: int = 11) -> list[Written]:
    """`n` written addresses drawn from an address table (linkage.address.index.ADDRESS_COLUMNS): current
    addresses with a postcode and a street, each written in one of the forms, with what it should resolve to."""
    r = random.Random(seed)
    rows = [
        x
        for x in addresses.to_pylist()
        if x["postcode"] and x["straatnaam"] and (x["status"] or "").lower() == "naamgeving uitgegeven"
    ]
    at_number: dict[tuple, list[dict]] = defaultdict(list)
    by_postcode: dict[tuple, list[dict]] = defaultdict(list)
    for x in rows:
        at_number[(x["straatnaam"], x["woonplaats"], x["huisnummer"])].append(x)
        if not any(y["woonplaats"] == x["woonplaats"] for y in at_number[(x["straatnaam"], "*", x["huisnummer"])]):
            at_number[(x["straatnaam"], "*", x["huisnummer"])].append(x)
        by_postcode[(x["postcode"], x["huisnummer"])].append(x)
    with_history = [x for x in rows if x.get("historic_postcodes")]
    by_old_postcode: dict[tuple, list[dict]] = defaultdict(list)
    for x in with_history:
        for old in x["historic_postcodes"]:
            by_old_postcode[(old, x["huisnummer"])].append(x)
    out: list[Written] = []
    while len(out) < n:
        form = r.choices(
            ["pc_nr", "nr_street", "floor_anywhere", "everyday", "historic_pc", "left_out"], [22, 22, 22, 16, 6, 12]
        )[0]
        x = r.choice(with_history if form == "historic_pc" and with_history else rows)
        written = _write(form, x, at_number, by_postcode, by_old_postcode, r)
        if written is not None:
            out.append(written)
    return out


def _write(form: str, x: dict, at_number, by_postcode, by_old_postcode, r: random.Random) -> Written | None:
    street, nr, letter, addition, pc = (
        x["straatnaam"],
        x["huisnummer"],
        x["huisletter"],
        x["huisnummertoevoeging"],
        x["postcode"],
    )
    same_number = at_number[(street, x["woonplaats"], nr)]
    sfx = suffix_as_written(letter, addition, r)
    place = r.choice(PLACE) if x["woonplaats"] == "Rotterdam" else f", {x['woonplaats']}"
    st = street_as_written(street, r)
    want, kind = x["nummeraanduiding_id"], "resolvable"
    alone = {
        (y["huisletter"] or y["huisnummertoevoeging"] or "").lower()
        for y in same_number
        if not (y["huisletter"] and y["huisnummertoevoeging"])
    }
    if len(alone) < sum(1 for y in same_number if not (y["huisletter"] and y["huisnummertoevoeging"])):
        return None  # "12 A" where 12A and 12-A both exist: no written form tells them apart
    if form == "pc_nr":
        floor = floor_of_addition(addition)
        if floor is not None and r.random() < 0.6:
            sfx = (letter or "") + r.choice([" ", ", ", " (", " - "]) + floor_text(floor, r)
            sfx += ")" if "(" in sfx else ""
        text = f"{postcode_as_written(pc, r)} {nr}{sfx}"
        if len(by_postcode[(pc, nr)]) != len(same_number):
            return None  # a postcode shared at this number by two streets: the street is needed
    elif form == "nr_street":
        floor = floor_of_addition(addition)
        if floor is not None and r.random() < 0.5:
            sfx = (letter or "") + " " + floor_text(floor, r)
        text = f"{nr}{sfx} {st}{place}"
        if r.random() < 0.3:
            text += f" {postcode_as_written(pc, r)}"
    elif form == "floor_anywhere":
        floor = floor_of_addition(addition)
        if floor is None:
            return None
        words = floor_text(floor, r)
        number = f"{nr}{letter or ''}"
        text = r.choice(
            [
                f"{st} {number} {words}{place}",
                f"{st} {number}, {words}{place}",
                f"{words} {st} {number}{place}",
                f"{words}, {st} {number}{place}",
                f"{st} {words} {number}{place}",
                f"{st} {number} ({words})",
                f"{st} {number}, {postcode_as_written(pc, r)}, {words}",
            ]
        )
    elif form == "everyday":
        text = r.choice(
            [
                f"{st} {nr}{sfx}, {postcode_as_written(pc, r)}{place}",
                f"{st} {nr}{sfx}{place}",
                f"{st} nr. {nr}{sfx}",
                f"{st} {nr}{sfx} {postcode_as_written(pc, r)}",
            ]
        )
    elif form == "historic_pc":
        old = r.choice(x["historic_postcodes"])
        if by_postcode.get((old, nr)):
            return None  # the old postcode is another address's now: the current one is meant by BAG
        text = f"{st} {nr}{sfx}, {postcode_as_written(old, r)}{place}"
        shared = {(y["straatnaam"], y["woonplaats"]) for y in by_old_postcode[(old, nr)]}
        if len(shared) == 1 and r.random() < 0.5:  # no street written, where the old postcode tells the street
            text = f"{old} {nr}{sfx}"
    else:  # left_out: the letter and addition not written
        bare = [y for y in same_number if y["huisletter"] is None and y["huisnummertoevoeging"] is None]
        if bare:
            want = bare[0]["nummeraanduiding_id"]
        elif len(same_number) > 1:
            want, kind = None, "ambiguous"
        text = r.choice(
            [f"{st} {nr}{place}", f"{postcode_as_written(pc, r)} {nr}", f"{nr} {st}{place}", f"{st} {nr}, {pc}"]
        )
        if text.startswith(postcode_as_written(pc, r)[:4]) and len(by_postcode[(pc, nr)]) != len(same_number):
            return None
    elsewhere = len(at_number[(street, "*", nr)]) > 1  # the same street and number in another woonplaats
    if elsewhere and x["woonplaats"].lower() not in text.lower() and pc[:4] not in text.replace(" ", ""):
        return None  # nothing written tells which woonplaats
    return Written(text, want, kind, form)


def score(index, written: list[Written]) -> dict:
    """The issue-11 rates: right among resolved, unresolved among resolvable, answered among ambiguous; per form too.
    Resolved through resolve_addresses (each distinct text once), timed."""
    import time

    import pyarrow as pa

    from linkage.address import resolve_addresses

    unique = list(dict.fromkeys(w.text for w in written))
    t0 = time.perf_counter()
    table = resolve_addresses(pa.table({"adres": unique}), index, text_column="adres")
    seconds = time.perf_counter() - t0
    got = dict(zip(unique, table["nummeraanduiding_id"].to_pylist(), strict=True))
    reason = dict(zip(unique, table["unresolved_reason"].to_pylist(), strict=True))
    per: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    wrong, missed = [], []
    for w in written:
        for key in ("all", w.form):
            c = per[key]
            c[w.kind] += 1
            if w.kind == "ambiguous":
                c["ambiguous_answered"] += got[w.text] is not None
                continue
            c["resolved"] += got[w.text] is not None
            c["right"] += got[w.text] == w.want
        if w.kind == "resolvable" and got[w.text] is None:
            missed.append((w.text, reason[w.text]))
        elif w.kind == "resolvable" and got[w.text] != w.want:
            wrong.append(w.text)

    def rates(c: dict[str, int]) -> dict:
        return {
            "resolvable": c["resolvable"],
            "ambiguous": c["ambiguous"],
            "right_among_resolved": round(c["right"] / c["resolved"], 5) if c["resolved"] else None,
            "unresolved_among_resolvable": round(1 - c["resolved"] / c["resolvable"], 5) if c["resolvable"] else None,
            "answered_among_ambiguous": round(c["ambiguous_answered"] / c["ambiguous"], 5) if c["ambiguous"] else None,
        }

    result = {k: rates(v) for k, v in sorted(per.items())}
    result["seconds"] = round(seconds, 2)
    result["distinct_texts"] = len(unique)
    result["examples_unresolved"] = missed[:15]
    result["examples_wrong"] = wrong[:15]
    return result


def goals_met(rates: dict) -> dict[str, bool]:
    return {
        "right_among_resolved >= 0.995": rates["right_among_resolved"] >= 0.995,
        "unresolved_among_resolvable <= 0.01": rates["unresolved_among_resolvable"] <= 0.01,
        "answered_among_ambiguous <= 0.10": rates["answered_among_ambiguous"] <= 0.10,
    }


def main() -> dict:
    """The focus-scale synthetic Rotterdam-Zuid (seed 3), its BAG read by the connector, N messy addresses."""
    from pathlib import Path

    import pyarrow.parquet as pq

    from benchmarks.harness import CACHE, write_result
    from linkage.address import BagIndex
    from linkage.address.index import load_bag_addresses

    scale, n = os.environ.get("RGW_MESSY_SCALE", "focus"), int(os.environ.get("RGW_MESSY_N", "100000"))
    table_path = CACHE / f"messy-addresses-{scale}.parquet"
    if not table_path.exists():
        from synth.world import build
        from synth.write_bag import write_bag

        folder = CACHE / f"messy-bag-{scale}"
        write_bag(build(scale, 3), folder)
        CACHE.mkdir(parents=True, exist_ok=True)
        pq.write_table(load_bag_addresses(Path(folder)), table_path)
    addresses = pq.read_table(table_path)
    written = messy_addresses(addresses, n)
    result = score(BagIndex(addresses), written)
    payload = {"scale": scale, "addresses_in_bag": addresses.num_rows, "written": n, **result}
    payload["goals"] = goals_met(result["all"])
    write_result("address_messy", payload)
    return payload


if __name__ == "__main__":
    json.dump(main(), sys.stdout, indent=2)
    print()
