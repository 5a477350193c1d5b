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
