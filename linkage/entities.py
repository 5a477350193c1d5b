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
4. **Entity ids** come from linkage.clustering.EntityMap: derived from the smallest member key, and BSN and KvK nodes
   sort first, so a person's id is derived from their BSN pseudonym and is the same in every run; a natural person's
   owner entity is their person entity. Given the previous run's table, records linked before keep their entity and
   are not compared again: a new delivery links incrementally. Each link row carries the fingerprint of the landed
   record it was made from (`input_fingerprint`); a record whose fingerprint changed since (a corrected name, a BSN
   added by the corporation) leaves its old entity and is linked afresh, so no stale link is carried.

Name scores are on the scale of the landed filters: Dice above chance on plain keyed filters, agreement above chance
on diffused ones (the boundary's choice, `_encoding.taps` in pseudonymisation/policy.yaml; see `_dice_rows`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from connectors.delivery import latest_delivery
from linkage.blocking import candidate_pairs, lsh_bands
from linkage.clustering import EntityMap
from linkage.comparison import Comparison, FieldValues, encoded_values
from linkage.config import Field
from linkage.prediction import partial_weights, probability
from linkage.training import Model, estimate_u

LINK_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("entity", pa.string()),
        ("record_key", pa.string()),
        ("entity_kind", pa.string()),
        ("entity_id", pa.string()),
        ("match_probability", pa.float64()),
        ("method", pa.string()),
        ("evidence", pa.string()),
        ("input_fingerprint", pa.string()),
    ]
)
# The records whose links depend on their own content: (source, entity, key column). Their fingerprint is the md5 of
# the landed row without its delivery bookkeeping (source_file, record_ref), so a re-delivered unchanged record keeps
# its fingerprint. BRP persons are keyed by their BSN pseudonym itself and need none.
FINGERPRINTED = (
    ("brk", "persoon", "persoon_id"),
    ("corporaties", "relatie", "relatie_id"),
    ("meldpunten", "melding", "melding_id"),
    ("meldpunten", "zaak", "zaak_id"),
)
BOOKKEEPING = ("source_file", "record_ref")
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


@dataclass
class Link:
    source: str
    entity: str
    record_key: str
    entity_kind: str
    match_probability: float
    method: str
    evidence: dict
    node: str = ""  # the record's node in the entity graph

    def row(self, entity_id: str, fingerprint: str | None = None) -> dict:
        return {
            "source": self.source,
            "entity": self.entity,
            "record_key": self.record_key,
            "entity_kind": self.entity_kind,
            "entity_id": entity_id,
            "match_probability": self.match_probability,
            "method": self.method,
            "evidence": json.dumps(self.evidence, sort_keys=True) if self.evidence else "{}",
            "input_fingerprint": fingerprint,
        }


def node(source: str, entity: str, key: str) -> str:
    return f"1:{source}:{entity}:{key}"


def bsn_node(psn: str) -> str:
    return f"0:bsn:{psn}"


def kvk_node(psn: str) -> str:
    return f"0:kvk:{psn}"


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


def _columns(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, np.ndarray]:
    table = con.sql(sql).to_arrow_table()
    out = {}
    for c in table.column_names:
        column = np.empty(table.num_rows, dtype=object)
        column[:] = table.column(c).to_pylist()
        out[c] = column
    return out


def _nbytes(column: np.ndarray, default: int) -> int:
    for v in column:
        if v is not None:
            return len(v)
    return default


# --- persons -------------------------------------------------------------------------------------------------------


def _person_values(left: dict[str, np.ndarray], right: dict[str, np.ndarray]) -> list[FieldValues]:
    """The four compared fields of persons, left (tenants) against right (BRP persons), coded jointly."""
    names = ("achternaam", "voornaam", "geboortedatum")
    out = [encoded_values(left[n], right[n], _nbytes(np.concatenate([left[n], right[n]]), 64)) for n in names]
    out.append(encoded_values(left["woning"], right["woning"], None))
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


def _person_sources(con, landing: Path) -> tuple[dict, dict, dict]:
    brp = _columns(
        con,
        f"""
        select p.bsn_psn, p.voornamen_bf as voornaam, p.geslachtsnaam_bf as achternaam,
               p.geboortedatum_bf as geboortedatum, any_value(s.adres_verblijfsobject_id) as woning
        from read_parquet('{_required(landing, "brp", "persoon")}') p
        left join read_parquet('{_required(landing, "brp", "verblijfplaats_historie")}') s
            on s.bsn_psn = p.bsn_psn and s.is_current
        where p.bsn_psn is not null
        group by all order by p.bsn_psn
        """,
    )
    brk = _columns(
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
    tenants = _columns(
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


def link_persons(landing: Path, done: set[str] | None = None) -> tuple[list[Link], list[tuple[str, str]]]:
    """Person links (BRP persons, BRK natural persons, corporation tenants) and the graph's edges.

    `done`: nodes linked in an earlier run; they are carried, not compared again.
    """
    done = done or set()
    con = duckdb.connect()
    brp, brk, tenants = _person_sources(con, landing)
    links: list[Link] = []
    edges: list[tuple[str, str]] = []
    index = {psn: i for i, psn in enumerate(brp["bsn_psn"])}
    for psn in brp["bsn_psn"]:
        n = node("brp", "persoon", psn)
        links.append(Link("brp", "persoon", psn, "persoon", 1.0, "bsn_pseudonym", {}, n))
        edges.append((n, bsn_node(psn)))
    sides = ((brk, "brk", "persoon", "persoon_id"), (tenants, "corporaties", "relatie", "relatie_id"))
    for side, source, entity, key in sides:
        has_bsn = np.array([v is not None for v in side["bsn_psn"]], dtype=bool)
        nodes = [node(source, entity, k) for k in side[key]]
        for i in np.flatnonzero(has_bsn):
            psn = side["bsn_psn"][i]
            ev = {"in_brp": psn in index}
            links.append(Link(source, entity, side[key][i], "persoon", 1.0, "bsn_pseudonym", ev, nodes[i]))
            edges.append((nodes[i], bsn_node(psn)))
        labelled_rows = np.array([i for i in np.flatnonzero(has_bsn) if side["bsn_psn"][i] in index], dtype=np.int64)
        labelled = (labelled_rows, np.array([index[side["bsn_psn"][i]] for i in labelled_rows], dtype=np.int64))
        todo = np.array([i for i in np.flatnonzero(~has_bsn) if nodes[i] not in done], dtype=np.int64)
        matched = {i: (j, p, ev) for i, j, p, ev in match_people(side, brp, todo, labelled, int(has_bsn.sum()))}
        for i in np.flatnonzero(~has_bsn):
            if nodes[i] in done:
                links.append(Link(source, entity, side[key][i], "persoon", 1.0, "previous_run", {}, nodes[i]))
            elif i in matched:
                j, p, ev = matched[i]
                links.append(Link(source, entity, side[key][i], "persoon", p, "fellegi_sunter", ev, nodes[i]))
                edges.append((nodes[i], node("brp", "persoon", brp["bsn_psn"][j])))
            else:
                links.append(Link(source, entity, side[key][i], "persoon", 1.0, "no_match", {}, nodes[i]))
    return links, edges


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


def _matrix(column: np.ndarray, nbytes: int) -> np.ndarray:
    out = np.zeros((len(column), nbytes), dtype=np.uint8)
    for i, v in enumerate(column):
        if v is not None:
            out[i] = np.frombuffer(v, dtype=np.uint8)
    return out


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
    rest = np.array([i for i in range(len(named)) if i not in out and named[i].any()], dtype=np.int64)
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


def link_owners(landing: Path, done: set[str] | None = None) -> tuple[list[Link], list[tuple[str, str]]]:
    """Owner links (Kadaster owners, landlords named in reports and cases, corporation relations of soort
    rechtspersoon) and the graph's edges."""
    done = done or set()
    con = duckdb.connect()
    owners = _columns(
        con,
        f"""
        select p.persoon_id, p.persoon_type, p.bsn_psn, p.kvk_nummer_psn, p.partij_naam_bf,
               list(distinct a.adres_verblijfsobject_id) filter (where a.adres_verblijfsobject_id is not null) as vbos
        from read_parquet('{_required(landing, "brk", "persoon")}') p
        left join read_parquet('{_required(landing, "brk", "zakelijk_gerechtigde")}') z
            on z.persoon_id = p.persoon_id and z.type = 'eigenaar'
        left join read_parquet('{_required(landing, "brk", "kadastraal_object_adres")}') a
            on a.kadastraal_object_id = z.kadastraal_object_id
        group by all order by p.persoon_id
        """,
    )
    links: list[Link] = []
    edges: list[tuple[str, str]] = []
    onodes = [node("brk", "persoon", k) for k in owners["persoon_id"]]
    for i, pid in enumerate(owners["persoon_id"]):
        if owners["bsn_psn"][i]:
            edges.append((onodes[i], bsn_node(owners["bsn_psn"][i])))
        elif owners["kvk_nummer_psn"][i]:
            edges.append((onodes[i], kvk_node(owners["kvk_nummer_psn"][i])))
        links.append(Link("brk", "persoon", pid, "eigenaar", 1.0, "kadaster_owner", {}, onodes[i]))
    nbytes = _nbytes(owners["partij_naam_bf"], 64)
    owner_names = _matrix(owners["partij_naam_bf"], nbytes)
    owned_by: dict[str, list[int]] = {}
    for i, vbos in enumerate(owners["vbos"]):
        for v in vbos or []:
            owned_by.setdefault(v, []).append(i)

    named = _named_landlords(con, landing)
    nodes = [node("meldpunten", e, k) for e, k in zip(named["entity"], named["key"], strict=True)]
    todo = np.array([i for i, n in enumerate(nodes) if n not in done], dtype=np.int64)
    pairs = [(i, j) for i in todo for j in owned_by.get(named["vbo"][i], [])]
    local = (np.array([p[0] for p in pairs], dtype=np.int64), np.array([p[1] for p in pairs], dtype=np.int64))
    in_buurt = _owners_per_buurtnaam(con, landing, owners["vbos"])
    area_pairs = [
        (i, j) for i in todo if named["vbo"][i] is None for j in in_buurt.get(named["buurtnaam"][i] or "", [])
    ]
    area = (
        np.array([p[0] for p in area_pairs], dtype=np.int64),
        np.array([p[1] for p in area_pairs], dtype=np.int64),
    )
    names = _matrix(named["bf"], nbytes)
    names[np.setdiff1d(np.arange(len(nodes)), todo)] = 0  # carried records are not compared again
    matched = match_names(names, owner_names, local, area=area)
    for i, n in enumerate(nodes):
        entity, key = named["entity"][i], named["key"][i]
        if n in done:
            links.append(Link("meldpunten", entity, key, "eigenaar", 1.0, "previous_run", {}, n))
        elif i in matched:
            j, dice, score, block = matched[i]
            local_block = block == "owner of the reported dwelling"
            method = {"owner of the reported dwelling": "encoded_name_owner_of_dwelling"}.get(
                block, "encoded_name_owner_in_buurt" if block.endswith("buurt") else "encoded_name_any_owner"
            )
            ev = _evidence(dice, score, party_cuts()[0] if local_block else party_cuts()[1], block)
            links.append(Link("meldpunten", entity, key, "eigenaar", round(score, 3), method, ev, n))
            edges.append((n, onodes[j]))
        else:
            links.append(Link("meldpunten", entity, key, "eigenaar", 1.0, "no_match", {}, n))
    links += _link_corporate_relations(con, landing, owner_names, onodes, done, edges)
    return links, edges


def _owners_per_buurtnaam(con, landing: Path, vbos_per_owner: np.ndarray) -> dict[str, list[int]]:
    """Buurt name -> owner rows with a dwelling there, from the BAG objects' buurten (linkage/vbo_buurt) and the
    buurten map; empty when either has not landed yet."""
    vbo_buurt = landing / "linkage" / "vbo_buurt.parquet"
    buurten = _latest(landing, "gebieden", "buurt")
    if not vbo_buurt.exists() or buurten is None:
        return {}
    naam = dict(
        con.execute(
            f"select v.verblijfsobject_id, b.buurtnaam from read_parquet('{vbo_buurt}') v "
            f"join read_parquet('{buurten}') b using (buurtcode)"
        ).fetchall()
    )
    out: dict[str, set[int]] = {}
    for j, vbos in enumerate(vbos_per_owner):
        for v in vbos or []:
            if v in naam:
                out.setdefault(naam[v], set()).add(j)
    return {k: sorted(v) for k, v in out.items()}


def _named_landlords(con, landing: Path) -> dict[str, np.ndarray]:
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
                f"select '{entity}' as entity, {key} as key, {column} as bf, adres_verblijfsobject_id as vbo, "
                f"{buurt} as buurtnaam from read_parquet('{path}') where {column} is not null"
            )
    if not parts:
        empty = np.array([], dtype=object)
        return {"entity": empty, "key": empty, "bf": empty, "vbo": empty, "buurtnaam": empty}
    return _columns(con, " union all ".join(parts) + " order by entity, key")


def _link_corporate_relations(con, landing, owner_names, onodes, done, edges) -> list[Link]:
    """Corporation relations of soort rechtspersoon: by KvK pseudonym where present, else by name (strict)."""
    path = _latest(landing, "corporaties", "relatie")
    if path is None:
        return []
    rel = _columns(
        con,
        f"select relatie_id, kvk_nummer_psn, naam_bf from read_parquet('{path}') "
        "where soort <> 'natuurlijk_persoon' order by relatie_id",
    )
    links = []
    names = _matrix(rel["naam_bf"], owner_names.shape[1])
    no_kvk = np.array([v is None for v in rel["kvk_nummer_psn"]], dtype=bool)
    names[~no_kvk] = 0
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    matched = match_names(names, owner_names, empty)
    for i, rid in enumerate(rel["relatie_id"]):
        n = node("corporaties", "relatie", rid)
        if rel["kvk_nummer_psn"][i]:
            links.append(Link("corporaties", "relatie", rid, "eigenaar", 1.0, "kvk_pseudonym", {}, n))
            edges.append((n, kvk_node(rel["kvk_nummer_psn"][i])))
        elif n in done:
            links.append(Link("corporaties", "relatie", rid, "eigenaar", 1.0, "previous_run", {}, n))
        elif i in matched:
            j, dice, score, block = matched[i]
            ev = _evidence(dice, score, party_cuts()[1], block)
            method = "encoded_name_any_owner"
            links.append(Link("corporaties", "relatie", rid, "eigenaar", round(score, 3), method, ev, n))
            edges.append((n, onodes[j]))
        else:
            links.append(Link("corporaties", "relatie", rid, "eigenaar", 1.0, "no_match", {}, n))
    return links


# --- entities ------------------------------------------------------------------------------------------------------


def record_fingerprints(landing: Path) -> dict[str, str]:
    """node -> fingerprint of the record's latest landed row, for the FINGERPRINTED records."""
    con = duckdb.connect()
    out: dict[str, str] = {}
    for source, entity, key in FINGERPRINTED:
        path = _latest(landing, source, entity)
        if path is None:
            continue
        names = [d[0] for d in con.execute(f"select * from read_parquet('{path}') limit 0").description]
        keep = ", ".join(f'"{n}"' for n in names if n not in BOOKKEEPING)
        rows = con.execute(
            f"select {key}::varchar, md5(to_json(t)::varchar) from (select {keep} from read_parquet('{path}')) as t"
        ).fetchall()
        out.update((node(source, entity, k), fp) for k, fp in rows)
    con.close()
    return out


def previous_map(
    previous: pa.Table | None, fingerprints: dict[str, str] | None = None
) -> tuple[EntityMap, dict[str, dict]]:
    """The entity map of an earlier run's entity-links table, and its linked rows by node (empty for a first run).

    With `fingerprints` (of the records as they are now), a record whose fingerprint differs from the one its link
    was made from is left out of both: it is placed and linked afresh.
    """
    emap = EntityMap(id_prefix)
    if previous is None or previous.num_rows == 0:
        return emap, {}
    fingerprints = fingerprints or {}
    done = {}
    for r in previous.to_pylist():
        n = node(r["source"], r["entity"], r["record_key"])
        now = fingerprints.get(n)
        if now is not None and now != r.get("input_fingerprint"):
            continue  # changed since: relink
        emap.ids[n] = r["entity_id"]
        if r["method"] in LINKED_METHODS:
            done[n] = r
    return emap, done


def entity_links_table(landing: Path, previous: pa.Table | None = None) -> pa.Table:
    """Every person and owner record with its entity (LINK_SCHEMA). With `previous` (the table of an earlier run),
    records linked then and unchanged since keep their entity, probability and evidence and are not compared again;
    new and changed records are linked, joining existing entities, and a record that joins two entities merges them
    (the larger keeps its id)."""
    fingerprints = record_fingerprints(landing)
    emap, done = previous_map(previous, fingerprints)
    person_links, person_edges = link_persons(landing, set(done))
    owner_links, owner_edges = link_owners(landing, set(done))
    links = person_links + owner_links
    edges = person_edges + owner_edges
    new_nodes = [lk.node for lk in links if lk.node not in emap.ids]
    emap = emap.resolve(new_nodes, [a for a, _ in edges], [b for _, b in edges])
    rows = []
    for lk in links:
        row = lk.row(emap.ids[lk.node], fingerprints.get(lk.node))
        if lk.method == "previous_run":
            old = done[lk.node]
            row.update(match_probability=old["match_probability"], method=old["method"], evidence=old["evidence"])
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=LINK_SCHEMA)
