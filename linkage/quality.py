"""Linkage quality against the synthetic ground truth: what the asset checks and benchmarks report.

The ground truth keys BRP records by plaintext BSN; the pipeline only has pseudonyms. The scorer, which runs inside
the hub with the key store, pseudonymises the truth's keys the same way before comparing. On real data there is no
ground truth and these checks are skipped, saying so.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from linkage.truth_cache import keyed_truth
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


def address_quality_rows(links: pa.Table, ground_truth: Path, keystore: KeyStore) -> dict[str, dict[str, float]]:
    """`address_quality` row by row in Python: the reference the columnar version is tested against."""
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


def entity_quality_rows(links: pa.Table, ground_truth: Path, keystore: KeyStore) -> dict[str, dict[str, float]]:
    """`entity_quality` row by row in Python, pair by pair: the reference the columnar version is tested against."""
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


# --- columnar: what the asset checks run (the city has millions of address rows and a million persons) ------------


def _truth_keys(truth: pa.Table, keystore: KeyStore) -> pa.Array:
    """The record key of every ground-truth row as the pipeline writes it (BSN and EAN keyed in whole columns)."""
    source, entity, key = truth["source"], truth["entity"], pc.cast(truth["source_key"], pa.string())
    historie = pc.and_(pc.equal(source, "brp"), pc.equal(entity, "verblijfplaats_historie"))
    parts = pc.extract_regex(pc.fill_null(key, ""), r"^(?P<plain>[^|]*)(?:\|(?P<volg>.*))?$")  # str.partition
    plain = pc.if_else(historie, pc.struct_field(parts, "plain"), key)
    volg = pc.struct_field(parts, "volg")
    brp = pc.equal(source, "brp")
    bsn = Pseudonymiser(keystore, "bsn").pseudonymise_array(pc.if_else(brp, plain, pa.scalar(None, pa.string())))
    stedin = pc.equal(source, "stedin")
    ean = Pseudonymiser(keystore, "ean").pseudonymise_array(pc.if_else(stedin, key, pa.scalar(None, pa.string())))
    brp_key = pc.if_else(
        historie,
        pc.binary_join_element_wise(pc.fill_null(bsn, "None"), volg, "|"),
        pc.fill_null(bsn, ""),
    )
    return pc.if_else(brp, brp_key, pc.if_else(stedin, ean, key))


def _expected_addresses(ground_truth: Path, keystore: KeyStore) -> pa.Table:
    """The truth's expected nummeraanduiding per record key as the pipeline writes the key (keyed), one row per key:
    of a key given twice the last row counts (as a dict would keep it); keys with no expected address left out."""
    truth = pq.read_table(ground_truth / "addresses.parquet")
    truth = pa.table(
        {
            "source": truth["source"],
            "entity": truth["entity"],
            "truth_key": _truth_keys(truth, keystore),
            "expected": truth["true_nummeraanduiding_id"],
            "row": pa.array(np.arange(truth.num_rows, dtype=np.int64)),
        }
    )
    con = duckdb.connect()
    con.register("truth", truth)
    expected = con.sql(
        """
        select source, entity, truth_key, expected from (
            select source, entity, truth_key, expected from truth
            qualify row_number() over (partition by source, entity, truth_key order by row desc) = 1)
        where expected is not null
        """
    ).to_arrow_table()
    con.close()
    return expected


def address_quality(
    links: pa.Table, ground_truth: Path, keystore: KeyStore, cache: Path | None = None
) -> dict[str, dict[str, float]]:
    """Per source: share resolved correctly among those resolved (precision) and share left unresolved.

    With `cache` (a folder of the hub, `HubPaths.quality_cache`) the keyed truth is kept there and reused while the
    truth file and the key stay the same (linkage/truth_cache.py)."""
    expected = keyed_truth(
        ground_truth / "addresses.parquet",
        "addresses",
        keystore,
        cache,
        lambda: _expected_addresses(ground_truth, keystore),
    )
    con = duckdb.connect()
    con.register("expected", expected)
    con.register("links", links.select(["source", "entity", "record_key", "nummeraanduiding_id"]))
    rows = con.execute(
        """
        select l.source || '.' || l.entity as k, count(*) as total,
               count(*) filter (where coalesce(l.nummeraanduiding_id, '') <> '') as resolved,
               count(*) filter (where coalesce(l.nummeraanduiding_id, '') <> ''
                                  and l.nummeraanduiding_id = e.expected) as correct
        from links l join expected e
          on e.source = l.source and e.entity = l.entity and e.truth_key = l.record_key
        group by all order by k
        """
    ).fetchall()
    con.close()
    return {
        k: {
            "records": t,
            "precision": round(c / res, 5) if res else 1.0,
            "unresolved_share": round(1 - res / t, 5) if t else 0.0,
        }
        for k, t, res, c in rows
    }


def _f1(con: duckdb.DuckDBPyConnection, records: str, cross: bool) -> dict[str, float]:
    """Pairwise precision, recall and F1 from cluster sizes: the pairs inside a cluster are C(n, 2), those a
    predicted and a true cluster share are C(n, 2) of their overlap. `cross`: only pairs of one BRP and one
    corporation record (n_brp * n_corporaties instead of C(n, 2)). The same figures as `pairwise_f1`."""
    pairs = (
        "sum(case when source = 'brp' then 1 else 0 end) * sum(case when source = 'corporaties' then 1 else 0 end)"
        if cross
        else "count(*) * (count(*) - 1) / 2"
    )
    p_pairs, t_pairs, tp = (
        int(
            con.execute(
                f"select coalesce(sum(p), 0) from (select {pairs} as p from {records} group by {by})"
            ).fetchone()[0]
        )
        for by in ("predicted", "truth", "predicted, truth")
    )
    precision = tp / p_pairs if p_pairs else 1.0
    recall = tp / t_pairs if t_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "true_pairs": t_pairs}


# as dicts keyed by (source, entity, key) would keep them: the last row of a key counts, on either side
LAST_ROW = "qualify row_number() over (partition by source, entity, {key} order by {order} desc) = 1"


def _truth_persons(ground_truth: Path, keystore: KeyStore) -> pa.Table:
    """The truth's person of every record, keyed as the pipeline keys it (BRP by BSN pseudonym), one row per key."""
    persons = pq.read_table(ground_truth / "persons.parquet")
    brp = pc.equal(persons["source"], "brp")
    bsn = Pseudonymiser(keystore, "bsn").pseudonymise_array(
        pc.if_else(brp, pc.cast(persons["source_key"], pa.string()), pa.scalar(None, pa.string()))
    )
    con = duckdb.connect()
    con.register(
        "persons",
        pa.table(
            {
                "source": persons["source"],
                "entity": persons["entity"],
                "key": pc.if_else(brp, bsn, pc.cast(persons["source_key"], pa.string())),
                "truth": pc.cast(persons["true_person_id"], pa.string()),
                "row": pa.array(np.arange(persons.num_rows, dtype=np.int64)),
            }
        ),
    )
    table = con.sql(
        f"select source, entity, key, truth from persons {LAST_ROW.format(key='key', order='row')}"
    ).to_arrow_table()
    con.close()
    return table


def entity_quality(
    links: pa.Table, ground_truth: Path, keystore: KeyStore, cache: Path | None = None
) -> dict[str, dict[str, float]]:
    """Pairwise F1 of tenants linked to residents and of owner entities, against the synthetic truth.

    With `cache` the keyed person truth is kept and reused as in `address_quality`."""
    persons = keyed_truth(
        ground_truth / "persons.parquet", "persons", keystore, cache, lambda: _truth_persons(ground_truth, keystore)
    )
    con = duckdb.connect()
    con.register("persons", persons)
    owners = pq.read_table(ground_truth / "owners.parquet")
    con.register(
        "owners",
        pa.table(
            {
                "source": owners["source"],
                "entity": owners["entity"],
                "key": pc.cast(owners["source_key"], pa.string()),
                "truth": pc.cast(owners["true_owner_id"], pa.string()),
                "row": pa.array(np.arange(owners.num_rows, dtype=np.int64)),
            }
        ),
    )
    con.register(
        "links",
        links.select(["source", "entity", "record_key", "entity_kind", "entity_id"]).append_column(
            "row", pa.array(np.arange(links.num_rows, dtype=np.int64))
        ),
    )
    last = LAST_ROW
    con.execute(
        f"""create temp table person_records as
        with p as (select source, entity, record_key, entity_id from links where entity_kind = 'persoon'
                   {last.format(key="record_key", order="row")})
        select t.source, p.entity_id as predicted, t.truth
        from persons t join p on p.source = t.source and p.entity = t.entity and p.record_key = t.key"""
    )
    con.execute(
        f"""create temp table owner_records as
        with t as (select * from owners {last.format(key="key", order="row")}),
             p as (select source, entity, record_key, entity_id from links where entity_kind = 'eigenaar'
                   {last.format(key="record_key", order="row")})
        select t.source,
               -- a named landlord that was not linked is its own cluster: it counts against recall
               coalesce(p.entity_id, 'unlinked:' || t.source || '/' || t.entity || '/' || t.key) as predicted,
               t.truth
        from t left join p on p.source = t.source and p.entity = t.entity and p.record_key = t.key
        where p.entity_id is not null or t.source = 'meldpunten'"""
    )
    out = {
        "tenants_to_residents": _f1(con, "person_records", cross=True),
        "owners": _f1(con, "owner_records", cross=False),
    }
    con.close()
    return out
