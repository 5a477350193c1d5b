"""Linkage quality against the synthetic ground truth: what the asset checks and benchmarks report.

The ground truth keys BRP records by plaintext BSN; the pipeline only has pseudonyms. The scorer, which runs inside
the hub with the key store, pseudonymises the truth's keys the same way before comparing. On real data there is no
ground truth and these checks are skipped, saying so.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pseudonymisation.keys import KeyStore
from pseudonymisation.pseudonyms import Pseudonymiser


def _truth_key(row: dict, bsn: Pseudonymiser) -> str:
    if row["source"] == "brp":
        if row["entity"] == "verblijfplaats_historie":
            plain, _, volg = row["source_key"].partition("|")
            return f"{bsn.pseudonym(plain)}|{volg}"
        return bsn.pseudonym(row["source_key"]) or ""
    if row["source"] == "stedin":
        return row["_ean"]
    return row["source_key"]


def address_quality(links: pa.Table, ground_truth: Path, keystore: KeyStore) -> dict[str, dict[str, float]]:
    """Per source: share resolved correctly among those resolved (precision) and share left unresolved."""
    truth = pq.read_table(ground_truth / "addresses.parquet").to_pylist()
    bsn = Pseudonymiser(keystore, "bsn")
    ean = Pseudonymiser(keystore, "ean")
    expected = {}
    for r in truth:
        if r["source"] == "stedin":
            r["_ean"] = ean.pseudonym(r["source_key"])
        expected[(r["source"], r["entity"], _truth_key(r, bsn))] = r["true_nummeraanduiding_id"]
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # total, resolved, correct
    for r in links.to_pylist():
        key = (r["source"], r["entity"], r["record_key"])
        if key not in expected or expected[key] is None:
            continue
        stats = per[f"{r['source']}.{r['entity']}"]
        stats[0] += 1
        if r["nummeraanduiding_id"]:
            stats[1] += 1
            stats[2] += r["nummeraanduiding_id"] == expected[key]
    return {
        k: {
            "records": t,
            "precision": round(c / res, 5) if res else 1.0,
            "unresolved_share": round(1 - res / t, 5) if t else 0.0,
        }
        for k, (t, res, c) in sorted(per.items())
    }


def _pairs(clusters: dict[str, set[str]]) -> set[tuple[str, str]]:
    out = set()
    for members in clusters.values():
        out.update(itertools.combinations(sorted(members), 2))
    return out


def pairwise_f1(predicted: dict[str, str], truth: dict[str, str], restrict=None) -> dict[str, float]:
    """Pairwise precision, recall and F1 of a clustering over the records both sides know."""
    records = set(predicted) & set(truth)
    pc, tc = defaultdict(set), defaultdict(set)
    for r in records:
        pc[predicted[r]].add(r)
        tc[truth[r]].add(r)
    p_pairs, t_pairs = _pairs(pc), _pairs(tc)
    if restrict:
        p_pairs = {p for p in p_pairs if restrict(p)}
        t_pairs = {p for p in t_pairs if restrict(p)}
    tp = len(p_pairs & t_pairs)
    precision = tp / len(p_pairs) if p_pairs else 1.0
    recall = tp / len(t_pairs) if t_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "true_pairs": len(t_pairs),
    }


def entity_quality(links: pa.Table, ground_truth: Path, keystore: KeyStore) -> dict[str, dict[str, float]]:
    bsn = Pseudonymiser(keystore, "bsn")
    rows = links.to_pylist()
    persons_truth = {}
    for r in pq.read_table(ground_truth / "persons.parquet").to_pylist():
        key = bsn.pseudonym(r["source_key"]) if r["source"] == "brp" else r["source_key"]
        persons_truth[(r["source"], r["entity"], key)] = r["true_person_id"]
    predicted_persons = {
        (r["source"], r["entity"], r["record_key"]): r["entity_id"] for r in rows if r["entity_kind"] == "persoon"
    }
    cross = lambda pair: {pair[0][0], pair[1][0]} == {"brp", "corporaties"}  # noqa: E731 - tenants to residents
    owners_truth = {
        (r["source"], r["entity"], r["source_key"]): r["true_owner_id"]
        for r in pq.read_table(ground_truth / "owners.parquet").to_pylist()
    }
    predicted_owners = {
        (r["source"], r["entity"], r["record_key"]): r["entity_id"] for r in rows if r["entity_kind"] == "eigenaar"
    }
    # a named landlord that was not linked is its own cluster: it counts against recall
    for key in owners_truth:
        if key[0] == "meldpunten":
            predicted_owners.setdefault(key, f"unlinked:{key}")
    return {
        "tenants_to_residents": pairwise_f1(predicted_persons, persons_truth, restrict=cross),
        "owners": pairwise_f1(predicted_owners, owners_truth),
    }
