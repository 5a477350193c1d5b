"""Clustering: from scored pairs to decisions (one-to-one) and to entities with ids that stay stable.

- `one_to_one`: each record in at most one pair, the most probable first (greedy). Vectorised as rounds of
  "locally best" pairs: a pair that is the best remaining pair of both its records is the one greedy would take, so
  every round keeps all such pairs at once and drops the pairs they rule out.
- `connected_components`: records joined directly or through others form one entity (label propagation with pointer
  jumping in numpy; no Python loop over edges).
- `EntityMap`: the mapping record key -> entity id. A new entity's id is derived from its smallest member key (a
  hash, so it is the same in every run that sees the same members). Later deliveries are resolved incrementally:
  only the records of the new delivery and the entities they link to are clustered again; everyone else keeps their
  id without being looked at. When a new record joins two existing entities, the one with more members keeps its id
  (ties: the smaller id) and the merge is recorded, so a consumer holding the old id can follow it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def one_to_one(left: np.ndarray, right: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Indices of the pairs kept when each left and each right record may appear once, best score first."""
    n = len(score)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((np.arange(n), -score))  # best first; ties by position, deterministic
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    _, lcode = np.unique(left, return_inverse=True)
    _, rcode = np.unique(right, return_inverse=True)
    lcode, rcode = lcode.reshape(-1), rcode.reshape(-1)
    alive = np.ones(n, dtype=bool)
    kept = []
    while alive.any():
        idx = np.flatnonzero(alive)
        best_l = np.full(lcode.max() + 1, np.iinfo(np.int64).max)
        best_r = np.full(rcode.max() + 1, np.iinfo(np.int64).max)
        np.minimum.at(best_l, lcode[idx], rank[idx])
        np.minimum.at(best_r, rcode[idx], rank[idx])
        take = idx[(best_l[lcode[idx]] == rank[idx]) & (best_r[rcode[idx]] == rank[idx])]
        kept.append(take)
        used_l = np.zeros(len(best_l), dtype=bool)
        used_r = np.zeros(len(best_r), dtype=bool)
        used_l[lcode[take]] = True
        used_r[rcode[take]] = True
        alive[idx[used_l[lcode[idx]] | used_r[rcode[idx]]]] = False
    return np.sort(np.concatenate(kept))


def connected_components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Component label of each of n nodes given edges (a[i], b[i]): the smallest node index in its component."""
    labels = np.arange(n, dtype=np.int64)
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    if len(a) == 0:
        return labels
    while True:
        low = np.minimum(labels[a], labels[b])
        new = labels.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        while True:  # pointer jumping: follow labels to their own labels
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, labels):
            return labels
        labels = new


def derive_id(prefix: str, key: str, salt: int = 0) -> str:
    """An entity id derived from a member key: prefix + 20 hex characters of BLAKE2b (salt only on a collision)."""
    text = key if salt == 0 else f"{key}#{salt}"
    return f"{prefix}:{hashlib.blake2b(text.encode(), digest_size=10).hexdigest()}"


@dataclass
class EntityMap:
    """Record key -> entity id, with the merges that retired ids. Build with `resolve`; store with `to_table`.

    `prefix` names new ids: a string, or a function of the smallest member key (so that, say, an entity whose
    smallest key is a BSN pseudonym reads "persoon:...").
    """

    prefix: str | Callable[[str], str] = "entity"
    ids: dict[str, str] = field(default_factory=dict)
    merged: dict[str, str] = field(default_factory=dict)  # retired id -> the id it was merged into

    def __len__(self) -> int:
        return len(self.ids)

    def entity_of(self, key: str) -> str | None:
        return self.ids.get(key)

    def to_table(self) -> pa.Table:
        keys = sorted(self.ids)
        return pa.table(
            {
                "record_key": pa.array(keys, pa.string()),
                "entity_id": pa.array([self.ids[k] for k in keys], pa.string()),
            }
        )

    def merges_table(self) -> pa.Table:
        old = sorted(self.merged)
        return pa.table(
            {
                "retired_id": pa.array(old, pa.string()),
                "entity_id": pa.array([self.merged[o] for o in old], pa.string()),
            }
        )

    @classmethod
    def from_table(
        cls, table: pa.Table, prefix: str | Callable[[str], str] = "entity", merges: pa.Table | None = None
    ) -> EntityMap:
        ids = dict(zip(table["record_key"].to_pylist(), table["entity_id"].to_pylist(), strict=True))
        merged = {}
        if merges is not None:
            merged = dict(zip(merges["retired_id"].to_pylist(), merges["entity_id"].to_pylist(), strict=True))
        return cls(prefix, ids, merged)

    def resolve(self, keys: Sequence[str], pairs_a: Sequence[str], pairs_b: Sequence[str]) -> EntityMap:
        """A new map with `keys` (new or re-delivered records) placed, given the linked pairs (a[i], b[i]).

        Pairs may join new records with each other or with records already in the map. Records the pairs do not
        touch keep their ids untouched; this map is not changed. Groups are visited in the order their first member
        was given, so the same input gives the same ids (the order only matters on a hash collision, 2^-80).
        """
        pairs_a, pairs_b = [str(x) for x in pairs_a], [str(x) for x in pairs_b]
        ids_get = self.ids.get
        touched_ids = {e for e in map(ids_get, (*pairs_a, *pairs_b, *keys)) if e is not None}
        members = [k for k, e in self.ids.items() if e in touched_ids] if touched_ids else []
        index: dict[str, int] = {}
        for k in (*members, *map(str, keys), *pairs_a, *pairs_b):
            index.setdefault(k, len(index))
        nodes = list(index)
        ea = [index[x] for x in pairs_a]
        eb = [index[x] for x in pairs_b]
        first_of: dict[str, int] = {}
        for k in members:  # members of one existing entity stay together
            e = self.ids[k]
            if e in first_of:
                ea.append(first_of[e])
                eb.append(index[k])
            else:
                first_of[e] = index[k]
        labels = connected_components(len(nodes), np.array(ea, dtype=np.int64), np.array(eb, dtype=np.int64))
        order = np.argsort(labels, kind="stable")
        bounds = np.flatnonzero(np.diff(labels[order])) + 1
        ids, merged = dict(self.ids), dict(self.merged)
        used = set(self.ids.values()) - touched_ids
        for positions in np.split(order, bounds) if len(order) else []:
            group = [nodes[i] for i in positions.tolist()]
            old = [e for e in map(ids_get, group) if e is not None] if self.ids else []
            distinct = set(old)
            if len(distinct) == 1:
                keep = old[0]
            elif old:  # a merge: the entity with most members here keeps its id (ties: the smaller id)
                counts = Counter(old)
                top = max(counts.values())
                keep = min(e for e, c in counts.items() if c == top)
                for retired in distinct - {keep}:
                    merged[retired] = keep
            else:
                smallest = min(group)
                prefix = self.prefix(smallest) if callable(self.prefix) else self.prefix
                salt, keep = 0, derive_id(prefix, smallest)
                while keep in used:  # a collision or an id retired by a split: derive another
                    salt += 1
                    keep = derive_id(prefix, smallest, salt)
            used.add(keep)
            for k in group:
                ids[k] = keep
        return EntityMap(self.prefix, ids, merged)


def cluster_ids(keys: Sequence[str], pairs_a: Sequence[str], pairs_b: Sequence[str], prefix: str) -> dict[str, str]:
    """Entity id per key from scratch: components of the pairs, each named after its smallest member key."""
    return EntityMap(prefix).resolve(keys, pairs_a, pairs_b).ids


# --- the entity graph as columns -------------------------------------------------------------------------------------


def _codes(parts: Sequence[pa.Array]) -> tuple[pa.Array, list[np.ndarray]]:
    """The distinct strings of `parts` (hashed, in no particular order), and each part as indices into them."""
    kind = pa.large_string() if any(p.type == pa.large_string() for p in parts) else pa.string()
    encoded = pc.dictionary_encode(pa.concat_arrays([p.cast(kind) for p in parts]))
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    bounds = np.cumsum([0, *[len(p) for p in parts]])
    return encoded.dictionary, [codes[bounds[i] : bounds[i + 1]] for i in range(len(parts))]


def _kept_ids(labels: np.ndarray, old: np.ndarray, entity_ids: pa.Array) -> np.ndarray:
    """Per component label, the old entity (code) it keeps, -1 if none of its members had one: the one old entity, or
    on a merge the one with most members here (ties: the smaller id), as EntityMap.resolve decides."""
    keep = np.full(len(labels), -1, dtype=np.int64)
    has = np.flatnonzero(old >= 0)
    if not len(has):
        return keep
    width = len(entity_ids) + 1
    distinct, counts = np.unique(labels[has] * width + old[has], return_counts=True)
    label, entity = distinct // width, distinct % width
    single = np.ones(len(label), dtype=bool)
    single[1:] &= label[1:] != label[:-1]
    single[:-1] &= label[:-1] != label[1:]
    keep[label[single]] = entity[single]
    merged = np.flatnonzero(~single)  # a merge (rare): most members here, ties the smaller id
    if len(merged):
        names = entity_ids.take(pa.array(entity[merged])).to_pylist()
        best: dict[int, tuple[int, str, int]] = {}
        for k, name in zip(merged.tolist(), names, strict=True):
            candidate = (-int(counts[k]), name, int(entity[k]))
            if int(label[k]) not in best or candidate < best[int(label[k])]:
                best[int(label[k])] = candidate
        for lab, (_, _, code) in best.items():
            keep[lab] = code
    return keep


def _salted(smallest_keys: list[str], prefix: Callable[[str], str], in_use: set[str]) -> list[str]:
    """Ids derived from the smallest keys, salted where one clashes with an id in use (or retired by a split) or
    with one derived before it (a hash collision, 2^-80)."""
    out = []
    for key in smallest_keys:
        salt, made = 0, derive_id(prefix(key), key)
        while made in in_use:
            salt += 1
            made = derive_id(prefix(key), key, salt)
        in_use.add(made)
        out.append(made)
    return out


def _smallest_keys(labels: np.ndarray, keys: pa.Array, wanted: np.ndarray) -> list[str]:
    """The smallest member key of each of the components `wanted`, by a hash aggregation over their members only."""
    member = np.flatnonzero(np.isin(labels, wanted))
    table = pa.table({"label": labels[member], "key": keys.take(pa.array(member))})
    smallest = table.group_by("label").aggregate([("key", "min")])
    at = pc.index_in(pa.array(wanted), value_set=smallest["label"]).to_numpy(zero_copy_only=False)
    return smallest["key_min"].take(pa.array(at)).to_pylist()


def resolve_ids(
    nodes: pa.Array,
    linked_to: pa.Array,
    previous: tuple[pa.Array, pa.Array] | None,
    prefix: Callable[[str], str],
    kept_elsewhere: pa.Array | None = None,
) -> pa.Array:
    """The entity id of each of `nodes`, EntityMap.resolve's rules on Arrow columns (no Python object per record).

    `linked_to`: per node the node it is linked to this run (a pseudonym, another record), null if none (a record
    with two roles may be listed twice); `previous`: (node, entity id) of the records an earlier run placed and that
    are unchanged since. Members of one earlier entity stay together; a component keeps the earlier id of its
    members, on a merge the id with most members here (ties: the smaller id); a component without any earlier id
    gets one derived from its smallest key (salted on a clash with an id in use). The grouping is numpy on integer
    codes; only the components without an earlier id are looked at as strings (their smallest key, hashed into an
    id), so a re-delivery that adds a few records derives a few ids.

    `kept_elsewhere`: ids that entities outside this call keep (`resolve_touched_ids` resolves only the touched part
    of the graph); a new id must not clash with them either.
    """
    prev_nodes, prev_ids = previous if previous is not None else (pa.array([], pa.string()), pa.array([], pa.string()))
    linked = np.flatnonzero(pc.is_valid(linked_to).to_numpy(zero_copy_only=False))
    keys, (at, eb, pn) = _codes([nodes, linked_to.filter(pc.is_valid(linked_to)), prev_nodes])
    ea = at[linked]
    n = len(keys)
    entities = pc.dictionary_encode(prev_ids.cast(pa.large_string()))
    old = np.full(n, -1, dtype=np.int64)
    old[pn] = entities.indices.to_numpy(zero_copy_only=False).astype(np.int64)  # twice (two roles): the last row
    members = np.flatnonzero(old >= 0)
    by_entity = members[np.argsort(old[members], kind="stable")]
    first = np.full(len(entities.dictionary), -1, dtype=np.int64)
    first[old[by_entity[::-1]]] = by_entity[::-1]  # each earlier entity's first member
    labels = connected_components(n, np.concatenate([ea, first[old[members]]]), np.concatenate([eb, members]))
    keep = _kept_ids(labels, old, entities.dictionary)
    wanted, where = np.unique(labels[at], return_inverse=True)
    kept = keep[wanted]
    fresh = np.flatnonzero(kept < 0)
    smallest = _smallest_keys(labels, keys, wanted[fresh]) if len(fresh) else []
    new_ids = [derive_id(prefix(k), k) for k in smallest]
    earlier = pc.any(pc.is_in(pa.array(new_ids, pa.large_string()), entities.dictionary)).as_py() if new_ids else False
    elsewhere = kept_elsewhere if kept_elsewhere is not None else pa.array([], pa.string())
    if new_ids and not earlier and len(elsewhere):  # probe the (long) ids kept elsewhere against the few new ones
        earlier = pc.any(pc.is_in(elsewhere, value_set=pa.array(new_ids, elsewhere.type))).as_py()
    if len(set(new_ids)) < len(new_ids) or earlier:  # a clash (rare): with the ids kept now, or among the new
        in_use = entities.dictionary.take(pa.array(np.unique(keep[keep >= 0])))
        new_ids = _salted(smallest, prefix, {*in_use.to_pylist(), *elsewhere.to_pylist()})
    ids = pa.concat_arrays([entities.dictionary.take(pa.array(kept[kept >= 0])), pa.array(new_ids, pa.large_string())])
    position = np.empty(len(wanted), dtype=np.int64)
    position[np.flatnonzero(kept >= 0)] = np.arange(int((kept >= 0).sum()))
    position[fresh] = np.arange(len(fresh)) + int((kept >= 0).sum())
    return ids.take(pa.array(position[where])).cast(pa.string())


def _touched_entities(
    nodes: pa.Array, linked_to: pa.Array, earlier: pa.Array, dirty: np.ndarray, previous: tuple[pa.Array, pa.Array]
) -> pa.Array:
    """The earlier entities a re-linked row can join: its own, the one of the record it links to, and the ones of
    unchanged rows linked to the same node (a BSN or KvK pseudonym)."""
    prev_nodes, prev_ids = previous
    targets = pc.drop_null(linked_to.filter(pa.array(dirty)))
    clean = pa.array(~dirty)
    parts = [pc.drop_null(earlier.filter(pa.array(dirty)))]
    if len(targets):
        parts.append(prev_ids.filter(pc.is_in(prev_nodes, value_set=targets)))
        parts.append(earlier.filter(pc.and_(clean, pc.fill_null(pc.is_in(linked_to, value_set=targets), False))))
    return pc.unique(pa.concat_arrays([p.cast(pa.string()) for p in parts]))


def resolve_touched_ids(
    nodes: pa.Array,
    linked_to: pa.Array,
    earlier: pa.Array,
    stable: np.ndarray,
    previous: tuple[pa.Array, pa.Array],
    prefix: Callable[[str], str],
) -> pa.Array:
    """`resolve_ids` over the touched part of the graph only; the rest keeps its earlier ids without being looked at.

    `earlier`: per row the entity id of its record in `previous` (null: a new or changed record); `stable`: per row,
    whether its link this run is one the earlier run already had (none, or one its unchanged record implies, such as
    its own BSN pseudonym). A row that has no earlier id or is not stable is re-linked, and the earlier entities it
    can reach are touched: those and the re-linked rows are resolved by `resolve_ids`, with the earlier members of the
    touched entities (records no longer delivered too), so counts, merges and new ids are decided on the same
    components as over the whole graph. The touched part is grown until no row outside it shares a node with it, so
    an untouched entity is a component of its own and keeps its id, as `resolve_ids` over everything decides. A 1%
    re-delivery resolves a few thousand components instead of hashing a million node strings.
    """
    prev_nodes, prev_ids = (one.cast(pa.string()) for one in previous)
    earlier = earlier.cast(pa.string())
    dirty = ~np.asarray(stable, dtype=bool) | pc.is_null(earlier).to_numpy(zero_copy_only=False)
    if not dirty.any():
        return earlier
    touched = _touched_entities(nodes, linked_to, earlier, dirty, (prev_nodes, prev_ids))
    while True:
        part = dirty | pc.fill_null(pc.is_in(earlier, value_set=touched), False).to_numpy(zero_copy_only=False)
        prev_part = pc.is_in(prev_ids, value_set=touched).to_numpy(zero_copy_only=False)
        mask, prev_mask = pa.array(part), pa.array(prev_part)
        reach = pc.unique(
            pa.concat_arrays([nodes.filter(mask), pc.drop_null(linked_to.filter(mask)), prev_nodes.filter(prev_mask)])
        )
        rest, prev_rest = pa.array(~part), pa.array(~prev_part)
        meets = pc.or_(pc.is_in(nodes, value_set=reach), pc.fill_null(pc.is_in(linked_to, value_set=reach), False))
        joining = [
            earlier.filter(pc.and_(rest, meets)),
            prev_ids.filter(pc.and_(prev_rest, pc.is_in(prev_nodes, value_set=reach))),
        ]
        joining = pc.drop_null(pa.concat_arrays(joining))
        if not len(joining):
            break
        touched = pc.unique(pa.concat_arrays([touched, joining]))
    ids = resolve_ids(
        nodes.filter(mask),
        linked_to.filter(mask),
        (prev_nodes.filter(prev_mask), prev_ids.filter(prev_mask)),
        prefix,
        kept_elsewhere=prev_ids.filter(prev_rest),
    )
    return pc.replace_with_mask(earlier, mask, ids)
