"""Blocking: which pairs of records are compared at all.

Comparing every left record with every right record is quadratic (25 million pairs for FEBRL4's 5,000 x 5,000, 10^11
for a city). A blocking rule is a conjunction of keys (`[soundex(surname), year(date_of_birth)]`); a pair is a
candidate when it agrees on every key of at least one rule. Several loose rules keep recall: a typo in the surname
breaks one rule, not all of them.

Everything here works on integer codes: each rule's key is turned into one code per record, shared between the two
sides, and pairs come from a sort and a binary search (no Python loop over records or pairs, no string join on pairs).
On encoded data the key is made from the plaintext once, at encoding time, and replaced by a keyed token (keyed BLAKE2b
under a key derived for blocking from the hub's key store), so the linker only ever sees the tokens; see
`rule_tokens`. Without any token, Bloom filters can still be blocked by locality-sensitive hashing (`lsh_bands`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from linkage.config import BlockKey

SEPARATOR = "|"  # joins the keys of one rule; cannot occur in a folded value (letters, digits, spaces)
_SOUNDEX_CODES = {
    **dict.fromkeys("bfpv", "1"),
    **dict.fromkeys("cgjkqsxz", "2"),
    **dict.fromkeys("dt", "3"),
    "l": "4",
    **dict.fromkeys("mn", "5"),
    "r": "6",
}


def soundex(value: str) -> str:
    """American Soundex of a folded value ('' for an empty one): a surname's sound, robust to many typos."""
    s = "".join(ch for ch in value if ch.isalpha())
    if not s:
        return ""
    out, last = s[0], _SOUNDEX_CODES.get(s[0], "")
    for ch in s[1:]:
        code = _SOUNDEX_CODES.get(ch, "")
        if code and code != last:
            out += code
        if ch not in "hw":
            last = code
    return (out + "000")[:4]


def factorize(values) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 for None) and the distinct values, by hashing (object arrays) or sorting (integers).

    Linkage works on these codes throughout. Plain numpy and a dict on purpose: pyarrow imports pandas the first time
    it converts Python or numpy data (most of a second), and the linker never needs pandas.
    """
    values = np.asarray(values)
    if values.dtype.kind in "iu":
        uniques, codes = np.unique(values, return_inverse=True)
        return codes.astype(np.int64).reshape(-1), uniques
    seen: dict = {}
    codes = np.fromiter(
        (-1 if v is None else seen.setdefault(v, len(seen)) for v in values.tolist()), dtype=np.int64, count=len(values)
    )
    uniques = np.empty(len(seen), dtype=object)
    uniques[:] = list(seen)
    return codes, uniques


# --- Arrow without pandas --------------------------------------------------------------------------------------------
# pa.array(), pa.scalar(), Array.to_numpy() and compute calls with Python scalars import pandas on first use; arrays
# made from buffers, compute kernels on Arrow data and to_pylist() do not. The linker keeps to the latter.


def _validity(present: np.ndarray | None) -> tuple[pa.Buffer | None, int]:
    if present is None or present.all():
        return None, 0
    return pa.py_buffer(np.packbits(present, bitorder="little")), int((~present).sum())


def arrow_strings(values, binary: bool = False) -> pa.Array:
    """A string (or binary) Arrow array of a sequence of str/bytes/None, built from buffers."""
    values = list(values)
    data = [v.encode() if isinstance(v, str) else (v or b"") for v in values]
    lengths = np.fromiter(map(len, data), dtype=np.int64, count=len(data))
    offsets = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    large = offsets[-1] >= 2**31
    kind = (pa.large_binary() if large else pa.binary()) if binary else (pa.large_string() if large else pa.string())
    validity, nulls = _validity(np.fromiter((v is not None for v in values), dtype=bool, count=len(values)))
    buffers = [validity, pa.py_buffer(offsets if large else offsets.astype(np.int32)), pa.py_buffer(b"".join(data))]
    return pa.Array.from_buffers(kind, len(data), buffers, null_count=nulls)


def arrow_numbers(values: np.ndarray, present: np.ndarray | None = None) -> pa.Array:
    """An int64 or float64 Arrow array of a numpy array (nulls where `present` is False), built from buffers."""
    values = np.ascontiguousarray(values)
    kind = pa.float64() if values.dtype.kind == "f" else pa.int64()
    values = values.astype(np.float64 if kind == pa.float64() else np.int64, copy=False)
    validity, nulls = _validity(present)
    return pa.Array.from_buffers(kind, len(values), [validity, pa.py_buffer(values)], null_count=nulls)


def numpy_ints(array: pa.Array, missing: int = -1) -> np.ndarray:
    """An Arrow integer array as int64 numpy, `missing` where null, read from its buffers."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    width = array.type.bit_width // 8
    raw = np.frombuffer(array.buffers()[1], dtype=f"<i{width}")[array.offset : array.offset + len(array)]
    out = raw.astype(np.int64)
    if array.null_count:
        bits = np.unpackbits(np.frombuffer(array.buffers()[0], dtype=np.uint8), bitorder="little")
        out[~bits[array.offset : array.offset + len(array)].astype(bool)] = missing
    return out


# --- keys ------------------------------------------------------------------------------------------------------------


def _on_distinct(values: np.ndarray, func) -> np.ndarray:
    """`func` applied once per distinct value: a column of 10^6 rows has far fewer distinct values."""
    if not len(values):
        return np.array([], dtype=object)
    codes, uniques = factorize(values)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [func(v) for v in uniques]
    mapped[-1] = ""
    return mapped[codes]


def key_values(canonical: np.ndarray, key: BlockKey) -> np.ndarray:
    """One blocking key of every record, from the field's canonical values ('' where missing)."""
    if key.func is None:
        return canonical
    if key.func == "first":
        return _on_distinct(canonical, lambda v: v[: key.n] if len(v) >= key.n else "")
    if key.func == "last":
        return _on_distinct(canonical, lambda v: v[-key.n :] if len(v) >= key.n else "")
    if key.func == "soundex":
        return _on_distinct(canonical, soundex)
    if key.func == "year":  # canonical dates start with the year (YYYYMMDD, YYYYMM or YYYY)
        return _on_distinct(canonical, lambda v: v[:4] if len(v) >= 4 and v[:4].isdigit() else "")
    raise ValueError(f"unknown blocking function {key.func!r}")


def codes_of(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of one column (-1 for '' and None) and its distinct non-empty values."""
    codes, uniques = factorize(values)
    uniques = np.asarray(uniques, dtype=object)
    empty = np.array([u is None or u == "" for u in uniques], dtype=bool)
    if empty.any():
        remap = np.cumsum(~empty) - 1
        remap[empty] = -1
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
        uniques = uniques[~empty]
    return codes, uniques


def _combine(parts: Sequence[np.ndarray]) -> np.ndarray:
    """One code per record for a conjunction of keys (-1 when any key is missing), compressed after each step so
    that three keys of a million values each cannot overflow."""
    out = parts[0]
    for p in parts[1:]:
        merged = np.where((out >= 0) & (p >= 0), out * (int(p.max(initial=0)) + 1) + p, -1)
        present = merged >= 0
        out = np.full(len(merged), -1, dtype=np.int64)
        if present.any():
            _, out[present] = np.unique(merged[present], return_inverse=True)
    return out


def joint_codes(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of two columns from one shared dictionary; -1 for '' or None (no block, no match)."""
    codes, _ = codes_of(np.concatenate([np.asarray(left, dtype=object), np.asarray(right, dtype=object)]))
    return codes[: len(left)], codes[len(left) :]


def rule_codes(
    left: dict[str, np.ndarray], right: dict[str, np.ndarray], rules: Sequence[Sequence[BlockKey]]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per rule, the (left, right) codes of its whole key, from the fields' canonical values on both sides.

    Each distinct key (a field through a function) is coded once over both sides; a rule's code combines its keys'
    codes as integers: no strings are joined.
    """
    keys: dict[BlockKey, tuple[np.ndarray, np.ndarray]] = {}
    for rule in rules:
        for k in rule:
            if k not in keys:
                keys[k] = joint_codes(key_values(left[k.field], k), key_values(right[k.field], k))
    out = []
    n_left = len(next(iter(left.values()))) if left else 0
    for rule in rules:
        both = _combine([np.concatenate(keys[k]) for k in rule])
        out.append((both[:n_left], both[n_left:]))
    return out


# --- keyed tokens ----------------------------------------------------------------------------------------------------


def keyed_hashes(texts: Sequence[str], key: bytes) -> np.ndarray:
    """64-bit keyed tokens of texts: keyed BLAKE2b (a MAC, RFC 7693), 8 bytes, as uint64; never 0 (0 = missing).

    Without the key nobody can compute the token of a guessed value; with it, equal texts give equal tokens. One C
    call per distinct text, and integers downstream instead of strings.
    """
    digests = b"".join(hashlib.blake2b(t.encode(), key=key, digest_size=8).digest() for t in texts)
    out = np.frombuffer(digests, dtype=np.uint64).copy() if len(texts) else np.zeros(0, dtype=np.uint64)
    out[out == 0] = 1
    return out


def keyed_column(values: np.ndarray, key: bytes, label: str) -> np.ndarray:
    """Keyed tokens (uint64, 0 where missing) of a column of canonical values, keyed once per distinct value."""
    codes, uniques = codes_of(values)
    tokens = keyed_hashes([f"{label}{SEPARATOR}{u}" for u in uniques], key)
    if not len(tokens):
        return np.zeros(len(codes), dtype=np.uint64)
    return np.where(codes >= 0, tokens[np.maximum(codes, 0)], 0).astype(np.uint64)


def rule_tokens(columns: dict[str, np.ndarray], rule: Sequence[BlockKey], key: bytes, rule_text: str) -> np.ndarray:
    """One table's keyed token of a rule's whole key per record (uint64; 0 where a key is missing).

    The whole key's text is built and keyed once per distinct combination of key values, so the linker sees one
    token per rule and record, not the separate keys (a token per surname would show the surnames' frequencies).
    The rule text is part of what is keyed: equal keys of two rules give unrelated tokens.
    """
    coded = [codes_of(key_values(columns[k.field], k)) for k in rule]
    combined = _combine([c for c, _ in coded])
    present = combined >= 0
    out = np.zeros(len(combined), dtype=np.uint64)
    if not present.any():
        return out
    distinct, first = np.unique(combined[present], return_index=True)
    rows = np.flatnonzero(present)[first]
    texts = np.full(len(rows), rule_text, dtype=object)
    for c, u in coded:  # object arrays: one C loop per key, not a Python loop per record
        texts = texts + SEPARATOR + np.asarray(u, dtype=object)[c[rows]]
    lookup = np.zeros(int(distinct.max()) + 1, dtype=np.uint64)
    lookup[distinct] = keyed_hashes(texts.tolist(), key)
    out[present] = lookup[combined[present]]
    return out


def token_codes(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of two token columns (uint64, 0 = missing) from one dictionary; -1 where missing."""
    both = np.concatenate([left, right]).astype(np.uint64)
    present = both != 0
    codes = np.full(len(both), -1, dtype=np.int64)
    if present.any():
        _, codes[present] = np.unique(both[present], return_inverse=True)
    return codes[: len(left)], codes[len(left) :]


# --- pairs -----------------------------------------------------------------------------------------------------------


def _pairs_of_rule(lcodes: np.ndarray, rcodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (left, right) row pairs with equal non-negative codes, by sorting the right side once."""
    order = np.argsort(rcodes, kind="stable")
    sorted_codes = rcodes[order]
    start = np.searchsorted(sorted_codes, lcodes, side="left")
    end = np.searchsorted(sorted_codes, lcodes, side="right")
    counts = np.where(lcodes >= 0, end - start, 0)
    total = int(counts.sum())
    left = np.repeat(np.arange(len(lcodes), dtype=np.int64), counts)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    right = order[np.repeat(start, counts) + offsets]
    return left, right.astype(np.int64)


def block_sizes(lcodes: np.ndarray, rcodes: np.ndarray) -> int:
    """Candidate pairs one rule yields, counted without making them (to refuse a runaway rule early)."""
    lc = np.bincount(lcodes[lcodes >= 0]) if (lcodes >= 0).any() else np.zeros(0, np.int64)
    rc = np.bincount(rcodes[rcodes >= 0]) if (rcodes >= 0).any() else np.zeros(0, np.int64)
    n = min(len(lc), len(rc))
    return int((lc[:n].astype(np.int64) * rc[:n]).sum())


def candidate_pairs(
    rules: Sequence[tuple[np.ndarray, np.ndarray]], n_right: int, max_pairs: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(left rows, right rows, first rule) of every pair some rule blocks together, each pair once.

    The first rule that found a pair is kept as evidence (Splink's `match_key`). Raises ValueError naming the rule when
    one rule alone would yield more than `max_pairs` pairs.
    """
    ids, which = [], []
    for i, (lc, rc) in enumerate(rules):
        size = block_sizes(lc, rc)
        if size > max_pairs:
            raise ValueError(f"blocking rule {i + 1} yields {size:,} pairs, over max_pairs {max_pairs:,}: tighten it")
        left, right = _pairs_of_rule(lc, rc)
        ids.append(left * n_right + right)
        which.append(np.full(len(left), i, dtype=np.int16))
    if not ids:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0, np.int16)
    pair_ids, first = np.unique(np.concatenate(ids), return_index=True)
    if len(pair_ids) > max_pairs:
        raise ValueError(f"blocking yields {len(pair_ids):,} pairs, over max_pairs {max_pairs:,}: tighten it")
    return pair_ids // n_right, pair_ids % n_right, np.concatenate(which)[first]


def lsh_bands(
    left: np.ndarray, right: np.ndarray, *, bands: int = 16, rows: int = 16, seed: int = 20261101
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Blocking on Bloom filters without any token: Hamming locality-sensitive hashing (bit sampling).

    `left` and `right` are (n, nbytes) uint8 filter matrices (all zeros where missing). Each band samples `rows` bit
    positions; records whose filters agree on all of them share a block. Two filters that agree on a share s of their
    bits meet in a band with chance s^rows, in any of `bands` bands with 1 - (1 - s^rows)^bands: for name filters
    (about a third of the bits set) a near-identical pair (s = 0.95) meets with 0.9999, a random pair (s ~ 0.56) with
    ~0.002. Returns per band the (left, right) codes for `candidate_pairs`. The positions need no secret: without the
    filters' key they say nothing.
    """
    rng = np.random.default_rng(seed)
    nbits = left.shape[1] * 8
    lempty, rempty = ~left.any(axis=1), ~right.any(axis=1)
    weights = (1 << np.arange(rows, dtype=np.int64))[::-1]
    out = []
    for _ in range(bands):
        pos = rng.choice(nbits, size=rows, replace=False)
        lk = _bits(left, pos) @ weights
        rk = _bits(right, pos) @ weights
        out.append((np.where(lempty, -1, lk), np.where(rempty, -1, rk)))
    return out


def _bits(filters: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """(n, len(positions)) int64 of the filters' bits at `positions` (bit 0 the highest bit of byte 0, as
    np.unpackbits numbers them), without unpacking the other bits: a city's owners unpacked were 300 MB."""
    return ((filters[:, positions // 8] >> (7 - positions % 8).astype(np.uint8)) & 1).astype(np.int64)
