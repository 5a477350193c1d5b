"""Persons and owners resolved to entities across sources, on pseudonymised and encoded data only.

What the Dagster layer calls: `entity_links_table(landing, previous=None)`, one row per (record, role) with the entity
it belongs to, the match probability, the method and the evidence (LINK_SCHEMA). The stages, kept apart as in the
generic linker:

1. **Exact on pseudonyms.** The same BSN pseudonym (BRP persoon, BRK natural person, a corporation tenant who
   carries one) or the same KvK pseudonym (a BRK company, a corporation's relation of soort rechtspersoon) is one
   entity: the pseudonym itself is a node every such record hangs from.
2. **Persons without a BSN pseudonym** (tenants, rare Kadaster persons) are linked to BRP persons by Fellegi-Sunter
   on encodings: surname, given name and birth date (Dice levels on keyed Bloom filters) and "registered at the
   tenant's dwelling". Candidates: the persons registered at the dwelling of the tenant's contract, and everyone
   with the same encoded birth date (a tenant may live elsewhere: that is the signal). The m-probabilities are
   *supervised by the BSN pseudonym*: the tenants that do carry one show how a true match's encodings differ between
   VERA and the BRP; u comes from random pairs, and the prior from the share of tenants found in the BRP.
3. **Landlords named in reports and cases** (`verhuurder_genoemd`, `eigenaar_genoemd`, normalised by
   linkage.companies before encoding) are linked to Kadaster owners by the Dice (above chance) of the encoded names:
   first with the owners of the reported dwelling (a loose cut-off: there are one or two candidates and the reporter
   wrote "Zuidhaven Holding" for "Zuidhaven Vastgoed B.V."), then with any owner found by locality-sensitive hashing
   of the filters (a strict cut-off). A corporation relation of soort rechtspersoon links by KvK pseudonym, or else
   by name.
4. **Entity ids** follow linkage.clustering.EntityMap's rules (applied on columns by `resolve_ids`): derived from the
   smallest member key, and BSN and KvK nodes sort first, so a person's id is derived from their BSN pseudonym and is
   the same in every run; a natural person's owner entity is their person entity. Given the previous run's table,
   records linked before keep their entity and are not compared again: a new delivery links incrementally. Each link
   row carries the fingerprint of the landed record it was made from (`input_fingerprint`); a record whose
   fingerprint changed since (a corrected name, a BSN added by the corporation) leaves its old entity and is linked
   afresh, so no stale link is carried.

The table is made as Arrow columns per kind of record (linkage.link_rows), never as a Python object per row: at city
scale it has over a million rows, and a re-delivery should pay for the records that changed, not for the city.

Name scores are on the scale of the landed filters: Dice above chance on plain keyed filters, agreement above chance
on diffused ones (the boundary's choice, `_encoding.taps` in pseudonymisation/policy.yaml; see `_dice_rows`).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from connectors.delivery import latest_delivery
from linkage.blocking import _pairs_of_rule, candidate_pairs, lsh_bands
from linkage.clustering import resolve_ids, resolve_touched_ids
from linkage.comparison import Comparison, FieldValues, encoded_values
from linkage.config import Field
from linkage.link_rows import (
    FINGERPRINTED,
    LINK_SCHEMA,
    carried_links,
    last_rows,
    link_rows,
    lookup,
    nodes_of,
    one_array,
    present,
    pseudonym_nodes,
    record_fingerprints,
    strings,
)
from linkage.prediction import partial_weights, probability
from linkage.training import Model, estimate_u

__all__ = ["FINGERPRINTED", "LINK_SCHEMA", "entity_links_table", "match_names"]
PERSON_THRESHOLD = 0.5  # match probability for a person link without BSN
AMBIGUOUS_BITS = 1.0  # a runner-up within this many bits of the best candidate: no link (twins, father and son)
M_FLOOR = 0.01  # least m of any level: the labelled records (with a BSN) are tidier than the ones we link
PARTY_THRESHOLD = 0.25  # Dice above chance of a written landlord name with an owner of the reported dwelling
PARTY_GLOBAL_THRESHOLD = 0.7  # ... with any owner, when no owner of the reported dwelling matches
# On diffused filters (policy `_encoding.taps` > 0) the score is agreement above chance, 1 - 2 x (Hamming share):
# random pairs score 0 +- 0.022 on the 2,048 bits of a party name, equal names 1. The cut-offs on that scale, chosen
# on the focus world (owner F1 1.0 for a local cut from 0.0 to 0.15, 0.994 at 0.3; any-owner cut 0.4 to 0.7 alike):
DIFFUSED_PARTY_THRESHOLD = 0.15  # 7 standard deviations above a random pair
DIFFUSED_PARTY_GLOBAL_THRESHOLD = 0.5
# A name matched against any owner (the reported dwelling unknown or none of its owners matching) must lead the
# runner-up owner by this much on the score's scale: "S. Bakker" with two owners of that name, or "Waalhaven Holding"
# with a Waalhaven Holding B.V. and a Waalhaven Vastgoed B.V., stays unlinked rather than guessed.
GLOBAL_MARGIN = 0.1


def party_cuts() -> tuple[float, float]:
    """(cut at the reported dwelling, cut for any owner) on the scale of the landed filters."""
    from pseudonymisation.policy import encoding_taps

    if encoding_taps() > 0:
        return DIFFUSED_PARTY_THRESHOLD, DIFFUSED_PARTY_GLOBAL_THRESHOLD
    return PARTY_THRESHOLD, PARTY_GLOBAL_THRESHOLD


MIN_LABELLED = 30  # labelled (BSN-linked) pairs needed to estimate m; fewer: DEFAULT_M
# m per level (else ... exact) when too few labelled pairs exist: what FEBRL4 and the synthetic city both show.
DEFAULT_M = {2: [0.05, 0.95], 4: [0.03, 0.03, 0.09, 0.85]}
PERSON_FIELDS = (
    Field("achternaam", "name"),
    Field("voornaam", "name"),
    Field("geboortedatum", "date"),
    Field("woning", "exact"),
)
# methods whose links a later run carries instead of comparing again
LINKED_METHODS = {
    "fellegi_sunter",
    "encoded_name_owner_of_dwelling",
    "encoded_name_owner_in_buurt",
    "encoded_name_any_owner",
}


# methods whose link an unchanged record implies by itself (its own pseudonym): the same link as in the earlier run
SELF_IMPLIED_LINKS = pa.array(["bsn_pseudonym", "kvk_pseudonym", "kadaster_owner"])


def node(source: str, entity: str, key: str) -> str:
    return f"1:{source}:{entity}:{key}"


def id_prefix(smallest_key: str) -> str:
    """Entity ids read as what they are: a person (BSN), a company (KvK), or an entity known only by its records."""
    if smallest_key.startswith("0:bsn:"):
        return "persoon"
    if smallest_key.startswith("0:kvk:"):
        return "bedrijf"
    return "entiteit"


# --- reading the landing zone --------------------------------------------------------------------------------------


def _latest(landing: Path, source: str, entity: str) -> str | None:
    folder = latest_delivery(landing, source)
    if folder is None or not (folder / f"{entity}.parquet").exists():
        return None
    return str(folder / f"{entity}.parquet")


def _required(landing: Path, source: str, entity: str) -> str:
    path = _latest(landing, source, entity)
    if path is None:
        raise FileNotFoundError(f"nothing landed for {source}.{entity} in {landing}")
    return path


def _arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """A query's result as one contiguous Arrow table (no Python object per value)."""
    return con.sql(sql).to_arrow_table().combine_chunks()


def _by_key(table: pa.Table, key: str) -> pa.Table:
    """The rows in the order of their (unique) key, as `order by key` gives them: Arrow sorts the key column and
    takes the rows once, where DuckDB's sort would carry every row's filters through it."""
    return table.take(pc.sort_indices(table[key])).combine_chunks()


def _nbytes(*columns: pa.Array, default: int) -> int:
    """The length of the first filter present in `columns` (all filters of a field have one length)."""
    for column in columns:
        lengths = pc.drop_null(pc.binary_length(column))
        if len(lengths):
            return int(lengths[0].as_py())
    return default


# --- persons -------------------------------------------------------------------------------------------------------


def _person_values(left: dict[str, pa.Array], right: dict[str, pa.Array]) -> list[FieldValues]:
    """The four compared fields of persons, left (tenants) against right (BRP persons), coded jointly. The dwellings
    are coded in Arrow as tokens (1 + their order of first appearance, 0 where missing)."""
    names = ("achternaam", "voornaam", "geboortedatum")
    out = [encoded_values(left[n], right[n], _nbytes(left[n], right[n], default=64)) for n in names]
    both = pc.dictionary_encode(pa.concat_arrays([strings(left["woning"]), strings(right["woning"])]))
    tokens = (pc.fill_null(both.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64) + 1).astype(np.uint64)
    out.append(encoded_values(tokens[: len(left["woning"])], tokens[len(left["woning"]) :], None))
    return out


def _levels(comparisons: list[Comparison], values: list[FieldValues], li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    out = np.empty((len(li), len(comparisons)), dtype=np.int8)
    for f, comp in enumerate(comparisons):
        out[:, f] = comp.levels(values[f], li, ri)
    return out


def _supervised_m(levels: np.ndarray, comparisons: list[Comparison]) -> np.ndarray:
    """m per field and level from labelled true pairs (smoothed, floored); DEFAULT_M for a field seen too rarely."""
    width = max(c.n_levels for c in comparisons)
    m = np.zeros((len(comparisons), width))
    for f, comp in enumerate(comparisons):
        col = levels[:, f]
        col = col[col >= 0]
        if len(col) >= MIN_LABELLED:
            counts = np.bincount(col, minlength=comp.n_levels)[: comp.n_levels] + 0.5
            share = np.maximum(counts / counts.sum(), M_FLOOR)  # records with a BSN are the tidier ones
            m[f, : comp.n_levels] = share / share.sum()
        else:
            m[f, : comp.n_levels] = DEFAULT_M[comp.n_levels]
    return m


def person_model(
    left: dict[str, np.ndarray],
    right: dict[str, np.ndarray],
    labelled: tuple[np.ndarray, np.ndarray],
    with_bsn: int,
    seed: int = 1,
) -> tuple[Model, list[Comparison], list[FieldValues]]:
    """The Fellegi-Sunter model of persons: m from the BSN-labelled pairs, u from random pairs, the prior from the
    share of labelled records found on the right."""
    comparisons = [Comparison.of(f, encoded=True) for f in PERSON_FIELDS]
    values = _person_values(left, right)
    nl, nr = len(left["achternaam"]), len(right["achternaam"])
    li, ri = labelled
    m = _supervised_m(_levels(comparisons, values, li, ri), comparisons)
    rng = np.random.default_rng(seed)
    n_random = int(min(200_000, nl * nr))
    random_levels = _levels(comparisons, values, rng.integers(0, nl, n_random), rng.integers(0, nr, n_random))
    u = estimate_u(random_levels, comparisons, values)
    found = len(li) / max(with_bsn, 1)  # share of the labelled records that the right side knows
    prior = float(np.clip(min(found, 0.99) / max(nr, 1), 1e-9, 0.5))
    model = Model(tuple(c.name for c in comparisons), tuple(c.labels for c in comparisons), m, u, prior, 0, True)
    return model, comparisons, values


def _best_per_left(li: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Index of the best-scoring pair of every left record (ties: the first)."""
    order = np.lexsort((np.arange(len(li)), -score))
    _, first = np.unique(li[order], return_index=True)
    return np.sort(order[first])


def _runner_up(li: np.ndarray, weight: np.ndarray, best: np.ndarray) -> np.ndarray:
    """For each best pair, the weight of the second-best candidate of its left record (-inf if it has none)."""
    rest = np.ones(len(li), dtype=bool)
    rest[best] = False
    second = np.full(int(li.max()) + 1 if len(li) else 0, -np.inf)
    np.maximum.at(second, li[rest], weight[rest])
    return second[li[best]]


def match_people(
    left: dict[str, np.ndarray],
    right: dict[str, np.ndarray],
    todo: np.ndarray,
    labelled: tuple[np.ndarray, np.ndarray],
    with_bsn: int,
) -> list[tuple[int, int, float, dict]]:
    """(left row, right row, probability, evidence) for the left rows in `todo` that link.

    Candidates: the right records at the same dwelling, and those with the same encoded birth date. A link needs
    PERSON_THRESHOLD and a lead of AMBIGUOUS_BITS over the runner-up.
    """
    if not len(todo) or not len(right["achternaam"]):
        return []
    model, comparisons, values = person_model(left, right, labelled, with_bsn)
    sub = np.zeros(len(left["achternaam"]), dtype=bool)
    sub[todo] = True
    # blocks: the same dwelling (field 3), the same encoded birth date (field 2); only the rows to do
    rules = [(np.where(sub, values[f].left, -1), values[f].right) for f in (3, 2)]
    li, ri, rule = candidate_pairs(rules, len(right["achternaam"]), 50_000_000)
    if not len(li):
        return []
    levels = _levels(comparisons, values, li, ri)
    partial = partial_weights(levels, model)
    weight = model.prior_weight + partial.sum(axis=1)
    prob = probability(weight)
    best = _best_per_left(li, weight)
    runner_up = _runner_up(li, weight, best)
    best = best[(prob[best] >= PERSON_THRESHOLD) & (weight[best] - runner_up >= AMBIGUOUS_BITS)]
    blocks = ("registered at the contract's dwelling", "same encoded birth date")
    out = []
    for k in best:
        evidence = {
            "block": blocks[int(rule[k])],
            "prior": round(model.prior_weight, 2),
            "fields": {
                c.name: {
                    "level": c.labels[levels[k, f]] if levels[k, f] >= 0 else "missing",
                    "weight": round(float(partial[k, f]), 2),
                }
                for f, c in enumerate(comparisons)
            },
            "match_weight": round(float(weight[k]), 2),
        }
        out.append((int(li[k]), int(ri[k]), round(float(prob[k]), 6), evidence))
    return out


def _person_sources(con, landing: Path) -> tuple[pa.Table, pa.Table, pa.Table]:
    # the current dwelling per person first, then the persons: no grouping on their filters; sorted by key in Arrow,
    # so the sort moves row numbers, not the kilobyte of filters per row (half the query's time at city scale)
    brp = _by_key(
        _arrow(
            con,
            f"""
            with woning as (
                select bsn_psn, any_value(adres_verblijfsobject_id) as woning
                from read_parquet('{_required(landing, "brp", "verblijfplaats_historie")}')
                where is_current group by bsn_psn
            )
            select p.bsn_psn, p.voornamen_bf as voornaam, p.geslachtsnaam_bf as achternaam,
                   p.geboortedatum_bf as geboortedatum, w.woning
            from read_parquet('{_required(landing, "brp", "persoon")}') p left join woning w on w.bsn_psn = p.bsn_psn
            where p.bsn_psn is not null
            """,
        ),
        "bsn_psn",
    )
    brk = _arrow(
        con,
        f"""
        select persoon_id, bsn_psn, voornamen_bf as voornaam, geslachtsnaam_bf as achternaam,
               geboortedatum_bf as geboortedatum, null::varchar as woning
        from read_parquet('{_required(landing, "brk", "persoon")}') where persoon_type = 'natuurlijk'
        order by persoon_id
        """,
    )
    relaties = _required(landing, "corporaties", "relatie")
    contracts = _required(landing, "corporaties", "huurovereenkomst")
    contract_rel = _latest(landing, "corporaties", "huurovereenkomst_relatie")
    units = _required(landing, "corporaties", "eenheid")
    if contract_rel:
        join = (
            f"left join read_parquet('{contract_rel}') hr on hr.relatie_id = r.relatie_id "
            f"left join read_parquet('{contracts}') h on h.huurovereenkomst_id = hr.huurovereenkomst_id"
        )
    else:
        join = f"left join read_parquet('{contracts}') h on h.relatie_id = r.relatie_id"
    tenants = _arrow(
        con,
        f"""
        select r.relatie_id, r.bsn_psn, r.voornaam_bf as voornaam, r.achternaam_bf as achternaam,
               r.geboortedatum_bf as geboortedatum, min(e.adres_verblijfsobject_id) as woning
        from read_parquet('{relaties}') r
        {join}
        left join read_parquet('{units}') e on e.eenheid_id = h.eenheid_id
        where r.soort = 'natuurlijk_persoon'
        group by all order by r.relatie_id
        """,
    )
    return brp, brk, tenants


NO_NODE = pa.scalar(None, pa.string())
IN_BRP = ('{"in_brp": false}', '{"in_brp": true}')  # json.dumps({"in_brp": ...}, sort_keys=True)


def _person_columns(table: pa.Table) -> dict[str, pa.Array]:
    return {n: one_array(table[n]) for n in ("achternaam", "voornaam", "geboortedatum", "woning")}


def _brp_rows(psn: pa.Array, *sides: pa.Array) -> list[np.ndarray]:
    """Per side, the BRP row of each BSN pseudonym (-1: none): one hash table over the BRP's 650,000 pseudonyms for
    all sides, not one per side. The BRP's pseudonyms are its keys, so unique: encoded first, their codes are their
    rows (checked; else looked up per side)."""
    encoded = pc.dictionary_encode(pa.concat_arrays([psn, *sides]))
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    n = len(psn)
    if not np.array_equal(codes[:n], np.arange(n)):  # a pseudonym twice: look up the first row as index_in does
        return [
            pc.fill_null(pc.index_in(side, value_set=psn), -1).to_numpy(zero_copy_only=False).astype(np.int64)
            for side in sides
        ]
    bounds = np.cumsum([n, *[len(side) for side in sides]])
    return [np.where(codes[a:b] < n, codes[a:b], -1) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def link_persons(con: duckdb.DuckDBPyConnection, landing: Path, done: pa.Array) -> pa.Table:
    """Person links (BRP persons, BRK natural persons, corporation tenants) as rows under construction (BUILDING).

    `done`: nodes linked in an earlier run and unchanged since; they are carried, not compared again. The model is
    still trained on all records, so a record compared now is scored as a run from scratch would score it.
    """
    brp, brk, tenants = _person_sources(con, landing)
    psn = strings(brp["bsn_psn"])
    parts = [link_rows("brp", "persoon", psn, "persoon", 1.0, "bsn_pseudonym", "{}", pseudonym_nodes("bsn", psn))]
    right = _person_columns(brp)
    brp_nodes = nodes_of("brp", "persoon", psn)
    sides = ((brk, "brk", "persoon", "persoon_id"), (tenants, "corporaties", "relatie", "relatie_id"))
    rows_in_brp = _brp_rows(psn, *(strings(side["bsn_psn"]) for side, *_ in sides))
    for (side, source, entity, key), in_brp in zip(sides, rows_in_brp, strict=True):
        keys, bsn = strings(side[key]), strings(side["bsn_psn"])
        has_bsn = pc.is_valid(bsn).to_numpy(zero_copy_only=False)
        with_bsn = pa.array(np.flatnonzero(has_bsn))
        evidence = np.where(in_brp[has_bsn] >= 0, IN_BRP[1], IN_BRP[0]).astype(object)
        to = pseudonym_nodes("bsn", bsn.take(with_bsn))
        parts.append(link_rows(source, entity, keys.take(with_bsn), "persoon", 1.0, "bsn_pseudonym", evidence, to))
        labelled_rows = np.flatnonzero(has_bsn & (in_brp >= 0))
        labelled = (labelled_rows, in_brp[labelled_rows])
        carried = pc.is_in(nodes_of(source, entity, keys), value_set=done).to_numpy(zero_copy_only=False)
        todo = np.flatnonzero(~has_bsn & ~carried)
        matched = match_people(_person_columns(side), right, todo, labelled, int(has_bsn.sum()))
        rows = np.flatnonzero(~has_bsn)
        position = np.full(len(keys), -1, dtype=np.int64)
        position[rows] = np.arange(len(rows))
        method = np.where(carried[rows], "previous_run", "no_match").astype(object)
        prob = np.ones(len(rows))
        evidence = np.full(len(rows), "{}", dtype=object)
        target = np.full(len(rows), -1, dtype=np.int64)
        for i, j, p, ev in matched:
            k = position[i]
            method[k], prob[k], evidence[k], target[k] = "fellegi_sunter", p, json.dumps(ev, sort_keys=True), j
        to = brp_nodes.take(pa.array(target, mask=target < 0))
        parts.append(link_rows(source, entity, keys.take(pa.array(rows)), "persoon", prob, method, evidence, to))
    return pa.concat_tables(parts)


# --- owners --------------------------------------------------------------------------------------------------------


def _dice_rows(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise Dice of two aligned (n, nbytes) uint8 filter matrices, and a score above chance; 0 where either is
    empty.

    Plain filters: a long name fills half of a 512-bit filter, and two unrelated half-full filters already share a
    quarter of their bits: Dice 0.5 by chance, where two short names score 0.15. Dice above chance, (Dice - e) /
    (1 - e) with e = 2 p q / (p + q) the Dice two random filters of these densities p, q would have, puts long and
    short names on one scale, so one cut-off serves both. Diffused filters are about half ones whatever the name,
    so the score is agreement above chance, 1 - 2 h with h the share of differing bits (clipped at 0).
    """
    from pseudonymisation.policy import encoding_taps

    nbits = a.shape[1] * 8
    ca = np.bitwise_count(a).sum(axis=1, dtype=np.int64)
    cb = np.bitwise_count(b).sum(axis=1, dtype=np.int64)
    inter = np.bitwise_count(a & b).sum(axis=1, dtype=np.int64)
    total = np.maximum(ca + cb, 1)
    dice = np.where(ca + cb > 0, 2.0 * inter / total, 0.0)
    if encoding_taps() > 0:
        agreement = 1.0 - 2.0 * (ca + cb - 2 * inter) / nbits
        return dice, np.where(ca * cb > 0, np.clip(agreement, 0.0, 1.0), 0.0)
    p, q = ca / nbits, cb / nbits
    chance = np.where(p + q > 0, 2 * p * q / np.maximum(p + q, 1e-12), 0.0)
    return dice, np.where(ca * cb > 0, (dice - chance) / np.maximum(1 - chance, 1e-12), 0.0)


def _matrix(column: pa.Array, nbytes: int) -> np.ndarray:
    """(n, nbytes) uint8 matrix of a column of filters, all zeros where missing: the fixed-width Arrow buffer itself."""
    column = one_array(column)
    if not len(column):
        return np.zeros((0, nbytes), dtype=np.uint8)
    filled = pc.fill_null(column.cast(pa.binary()), pa.scalar(bytes(nbytes), pa.binary()))
    fixed = filled.cast(pa.binary(nbytes))
    raw = np.frombuffer(fixed.buffers()[1], dtype=np.uint8)[fixed.offset * nbytes :][: len(fixed) * nbytes]
    return raw.reshape(len(fixed), nbytes).copy()


def _best_links(
    named: np.ndarray, owners: np.ndarray, pairs: tuple[np.ndarray, np.ndarray], cut: float, margin: float | None
) -> list[tuple[int, int, float, float]]:
    """(named row, owner row, Dice, score) of each named row's best candidate pair at or over `cut`; with a margin,
    only where it leads the named row's runner-up by that much."""
    li, oi = pairs
    if not len(li):
        return []
    dice, score = _dice_rows(named[li], owners[oi])
    keep = _best_per_left(li, score)
    ok = score[keep] >= cut
    if margin is not None:
        ok &= score[keep] - _runner_up(li, score, keep) >= margin
    return [(int(li[k]), int(oi[k]), float(dice[k]), float(score[k])) for k in keep[ok]]


def match_names(
    named: np.ndarray,
    owners: np.ndarray,
    local: tuple[np.ndarray, np.ndarray],
    *,
    local_cut: float | None = None,
    global_cut: float | None = None,
    area: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[int, tuple[int, float, float, str]]:
    """Best owner per written name: {named row: (owner row, Dice, Dice above chance, block)}.

    `named`, `owners`: (n, nbytes) filter matrices. `local`: candidate pairs (named row, owner row) of the reported
    dwelling. A name without a local match at `local_cut` is compared with the owners of a dwelling in the reported
    neighbourhood (`area` pairs, when the dwelling is unknown), then with the owners that share an LSH band with it;
    those must reach `global_cut` and lead the runner-up by GLOBAL_MARGIN.
    """
    local_cut = party_cuts()[0] if local_cut is None else local_cut
    global_cut = party_cuts()[1] if global_cut is None else global_cut
    out: dict[int, tuple[int, float, float, str]] = {}
    for i, j, dice, score in _best_links(named, owners, local, local_cut, None):
        out[i] = (j, dice, score, "owner of the reported dwelling")
    if area is not None and len(area[0]):
        todo = ~np.isin(area[0], list(out))
        for i, j, dice, score in _best_links(named, owners, (area[0][todo], area[1][todo]), global_cut, GLOBAL_MARGIN):
            out[i] = (j, dice, score, "owner in the reported buurt")
    unmatched = np.ones(len(named), dtype=bool)
    unmatched[list(out)] = False
    rest = np.flatnonzero(unmatched & named.any(axis=1))
    if len(rest) and len(owners):
        sub = np.zeros(len(named), dtype=bool)
        sub[rest] = True
        rules = [(np.where(sub, lc, -1), rc) for lc, rc in lsh_bands(named, owners)]
        gl, go, _ = candidate_pairs(rules, len(owners), 200_000_000)
        for i, j, dice, score in _best_links(named, owners, (gl, go), global_cut, GLOBAL_MARGIN):
            out[i] = (j, dice, score, "any owner (LSH on the encoded name)")
    return out


def _evidence(dice: float, score: float, cut: float, block: str) -> dict:
    return {"dice_partij_naam": round(dice, 3), "dice_above_chance": round(score, 3), "threshold": cut, "block": block}


def _owner_method(block: str) -> str:
    if block == "owner of the reported dwelling":
        return "encoded_name_owner_of_dwelling"
    return "encoded_name_owner_in_buurt" if block.endswith("buurt") else "encoded_name_any_owner"


def _joint_codes(left: pa.Array, right: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Codes of two string columns from one dictionary, -1 where missing."""
    both = pc.dictionary_encode(pa.concat_arrays([strings(left), strings(right)]))
    codes = pc.fill_null(both.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes[: len(left)], codes[len(left) :]


def link_owners(con: duckdb.DuckDBPyConnection, landing: Path, done: pa.Array) -> pa.Table:
    """Owner links (Kadaster owners, landlords named in reports and cases, corporation relations of soort
    rechtspersoon) as rows under construction (BUILDING). Only the named landlords not in `done` are compared."""
    owners = _by_key(
        _arrow(
            con,
            f"""
            with owned as (
                select z.persoon_id,
                       list(distinct a.adres_verblijfsobject_id) filter (where a.adres_verblijfsobject_id is not null)
                           as vbos
                from read_parquet('{_required(landing, "brk", "zakelijk_gerechtigde")}') z
                join read_parquet('{_required(landing, "brk", "kadastraal_object_adres")}') a
                    on a.kadastraal_object_id = z.kadastraal_object_id
                where z.type = 'eigenaar' group by z.persoon_id
            )
            select p.persoon_id, p.persoon_type, p.bsn_psn, p.kvk_nummer_psn, p.partij_naam_bf, o.vbos
            from read_parquet('{_required(landing, "brk", "persoon")}') p left join owned o using (persoon_id)
            """,
        ),
        "persoon_id",
    )
    pid = strings(owners["persoon_id"])
    onodes = nodes_of("brk", "persoon", pid)
    bsn, kvk = strings(owners["bsn_psn"]), strings(owners["kvk_nummer_psn"])
    kvk_nodes = pc.if_else(pa.array(present(kvk)), pseudonym_nodes("kvk", kvk), NO_NODE)
    to = pc.if_else(pa.array(present(bsn)), pseudonym_nodes("bsn", bsn), kvk_nodes)
    parts = [link_rows("brk", "persoon", pid, "eigenaar", 1.0, "kadaster_owner", "{}", to)]
    nbytes = _nbytes(owners["partij_naam_bf"], default=64)
    owner_names = _matrix(owners["partij_naam_bf"], nbytes)
    vbos = one_array(owners["vbos"])
    owned = pc.list_flatten(vbos)
    owner_of = pc.list_parent_indices(vbos).to_numpy(zero_copy_only=False).astype(np.int64)

    named = _named_landlords(con, landing)
    keys, entity = strings(named["key"]), strings(named["entity"])
    nodes = pc.binary_join_element_wise("1", "meldpunten", entity, keys, ":")
    carried = pc.is_in(nodes, value_set=done).to_numpy(zero_copy_only=False)
    lc, rc = _joint_codes(named["vbo"], owned)
    li, oi = _pairs_of_rule(np.where(carried, -1, lc), rc)
    local = (li, owner_of[oi])
    area = _area_pairs(con, landing, named, carried, owned, owner_of)
    names = _matrix(named["bf"], nbytes)
    names[carried] = 0  # carried records are not compared again
    matched = match_names(names, owner_names, local, area=area)
    n = len(keys)
    method = np.where(carried, "previous_run", "no_match").astype(object)
    prob, evidence, target = np.ones(n), np.full(n, "{}", dtype=object), np.full(n, -1, dtype=np.int64)
    for i, (j, dice, score, block) in matched.items():
        cut = party_cuts()[0] if block == "owner of the reported dwelling" else party_cuts()[1]
        evidence[i] = json.dumps(_evidence(dice, score, cut, block), sort_keys=True)
        method[i], prob[i], target[i] = _owner_method(block), round(score, 3), j
    to = onodes.take(pa.array(target, mask=target < 0))
    parts.append(link_rows("meldpunten", entity, keys, "eigenaar", prob, method, evidence, to, nodes))
    relations = _link_corporate_relations(con, landing, owner_names, onodes, done)
    return pa.concat_tables([*parts, *([relations] if relations is not None else [])])


def _area_pairs(
    con, landing: Path, named: pa.Table, carried: np.ndarray, owned: pa.Array, owner_of: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(named row, owner row) for the named landlords without a dwelling and the owners of a dwelling in the buurt
    the report names, ordered by named row then owner; none when linkage/vbo_buurt or the buurten have not landed."""
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    vbo_buurt = landing / "linkage" / "vbo_buurt.parquet"
    buurten = _latest(landing, "gebieden", "buurt")
    if not vbo_buurt.exists() or buurten is None:
        return empty
    without_dwelling = pc.and_(pc.is_null(strings(named["vbo"])), pa.array(~carried))
    asked = pc.if_else(without_dwelling, strings(named["buurtnaam"]), NO_NODE)
    if asked.null_count == len(asked):  # no landlord to look for in a buurt: the buurten are not read
        return empty
    naam = _arrow(
        con,
        f"select v.verblijfsobject_id, b.buurtnaam from read_parquet('{vbo_buurt}') v "
        f"join read_parquet('{buurten}') b using (buurtcode)",
    )
    owned_buurt = lookup(strings(owned), naam, "verblijfsobject_id", "buurtnaam")
    lc, rc = _joint_codes(asked, owned_buurt)
    width = len(owner_of) + 1
    pair = np.unique((rc * width + owner_of)[rc >= 0])  # each owner once per buurt name, by name then owner
    li, pi = _pairs_of_rule(lc, pair // width)
    return li, (pair % width)[pi]


def _named_landlords(con, landing: Path) -> pa.Table:
    parts = []
    for entity, column, key, buurt in (
        ("melding", "verhuurder_genoemd_bf", "melding_id", "buurtnaam"),
        ("zaak", "eigenaar_genoemd_bf", "zaak_id", "null::varchar"),
    ):
        path = _latest(landing, "meldpunten", entity)
        if path and buurt not in pq.read_schema(path).names:
            buurt = "null::varchar"  # a delivery without the form's buurt
        if path:
            parts.append(
                f"select '{entity}' as entity, {key} as key, {column}::blob as bf, "
                f"adres_verblijfsobject_id::varchar as vbo, {buurt}::varchar as buurtnaam "
                f"from read_parquet('{path}') where {column} is not null"
            )
    if not parts:
        parts = [
            "select ''::varchar as entity, ''::varchar as key, ''::blob as bf, ''::varchar as vbo, "
            "''::varchar as buurtnaam where false"
        ]
    return _arrow(con, " union all ".join(parts) + " order by entity, key")


def _link_corporate_relations(con, landing, owner_names, onodes: pa.Array, done: pa.Array) -> pa.Table | None:
    """Corporation relations of soort rechtspersoon: by KvK pseudonym where present, else by name (strict)."""
    path = _latest(landing, "corporaties", "relatie")
    if path is None:
        return None
    rel = _arrow(
        con,
        f"select relatie_id, kvk_nummer_psn, naam_bf from read_parquet('{path}') "
        "where soort <> 'natuurlijk_persoon' order by relatie_id",
    )
    keys, kvk = strings(rel["relatie_id"]), strings(rel["kvk_nummer_psn"])
    has_kvk = present(kvk)
    carried = pc.is_in(nodes_of("corporaties", "relatie", keys), value_set=done).to_numpy(zero_copy_only=False)
    names = _matrix(rel["naam_bf"], owner_names.shape[1])
    names[pc.is_valid(kvk).to_numpy(zero_copy_only=False) | carried] = 0  # linked by KvK, or carried
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    matched = match_names(names, owner_names, empty)
    n = len(keys)
    method = np.where(has_kvk, "kvk_pseudonym", np.where(carried, "previous_run", "no_match")).astype(object)
    prob, evidence, target = np.ones(n), np.full(n, "{}", dtype=object), np.full(n, -1, dtype=np.int64)
    for i, (j, dice, score, block) in matched.items():
        if has_kvk[i] or carried[i]:
            continue
        evidence[i] = json.dumps(_evidence(dice, score, party_cuts()[1], block), sort_keys=True)
        method[i], prob[i], target[i] = "encoded_name_any_owner", round(score, 3), j
    to = pc.if_else(pa.array(has_kvk), pseudonym_nodes("kvk", kvk), onodes.take(pa.array(target, mask=target < 0)))
    return link_rows("corporaties", "relatie", keys, "eigenaar", prob, method, evidence, to)


# --- entities ------------------------------------------------------------------------------------------------------


def entity_links_table(landing: Path, previous: pa.Table | None = None, *, whole: bool = False) -> pa.Table:
    """Every person and owner record with its entity (LINK_SCHEMA). With `previous` (the table of an earlier run),
    records linked then and unchanged since keep their entity, probability and evidence and are not compared again;
    new and changed records are linked, joining existing entities, and a record that joins two entities merges them
    (the larger keeps its id). Entity ids are then resolved only for the components a new, changed or newly linked
    record touches (`resolve_touched_ids`); `whole` resolves every component again, the reference that path is
    tested against (the same ids)."""
    con = duckdb.connect()
    fingerprints = record_fingerprints(con, landing, _latest)
    carried = carried_links(previous, fingerprints)
    linked = carried.filter(pc.is_in(carried["method"], value_set=pa.array(sorted(LINKED_METHODS))))
    done = one_array(linked["node"])
    links = pa.concat_tables([link_persons(con, landing, done), link_owners(con, landing, done)]).combine_chunks()
    con.close()
    previous_ids = (one_array(carried["node"]), one_array(carried["entity_id"]))
    nodes, to = one_array(links["node"]), one_array(links["to"])
    if previous is None or whole:
        ids = resolve_ids(nodes, to, previous_ids, id_prefix)
    else:
        earlier = one_array(carried["entity_id"]).take(last_rows(nodes, carried["node"]))
        stable = pc.or_(pc.is_null(to), pc.is_in(links["method"], value_set=SELF_IMPLIED_LINKS))
        ids = resolve_touched_ids(nodes, to, earlier, stable.to_numpy(zero_copy_only=False), previous_ids, id_prefix)
    again = pc.equal(links["method"], "previous_run")  # carried: the probability, method and evidence of then
    at = last_rows(nodes, linked["node"])
    columns = {}
    for name in ("match_probability", "method", "evidence"):
        columns[name] = pc.if_else(again, one_array(linked[name]).take(at), links[name])
    return pa.table(
        {
            "source": links["source"],
            "entity": links["entity"],
            "record_key": links["record_key"],
            "entity_kind": links["entity_kind"],
            "entity_id": ids,
            **columns,
            "input_fingerprint": lookup(links["node"], fingerprints, "node", "input_fingerprint"),
        },
        schema=LINK_SCHEMA,
    )
