"""Letter signatures: a lower bound on the typos between two street keys that costs a few machine operations.

The fuzzy street search (`_Choices.similar` in linkage/address/index.py) compares a written street with every
street of a bucket by rapidfuzz's OSA distance (insert, delete, substitute, swap two adjacent letters). Nationally a
bucket holds tens of thousands of streets, so most of them must be set aside before that comparison, and only those
that cannot be within the allowed typos: then the search returns exactly what it did without the filter.

The bound. For strings x and y let D(x, y) be the size of the multiset difference of their letters (the letters of x
left over after taking away, one for one, those of y). D(x, z) <= D(x, y) + D(y, z), and one edit changes D by at
most one: a deletion or a substitution takes one letter away from x, an insertion takes none, a swap keeps the
letters. So D(x, y) <= OSA(x, y) and D(y, x) <= OSA(x, y): a street whose letters differ from the written ones by more
than the allowed typos, either way, cannot be that close.

The signature keeps D in 64 bits. Letters are grouped in classes (each letter a class of its own; the digits one
class; anything else one class), and a class's count is kept as saturated levels: bit "at least j letters of this
class" for j up to 1, 2 or 3 (more levels for the letters Dutch street names repeat). For two signatures a and b,
popcount(a & ~b) = sum over classes of (min(n_a, J) - min(n_b, J))+ <= sum of (n_a - n_b)+ <= D: grouping letters
can only lose differences (|u + v| <= |u| + |v|) and so can saturating (min(., J) moves by at most what its argument
moves). Hence popcount(a & ~b) <= allowed and popcount(b & ~a) <= allowed hold for every street within the allowed
typos; a street failing either is never one of the answers.
"""

from __future__ import annotations

import numpy as np

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_FREQUENT = "earstnoli"  # the letters street keys most often hold three times or more ("straat", "eerste")
_DIGITS, _OTHER = 26, 27  # classes of the digits and of any other character
_CLASSES = 28
_LEVELS = np.ones(_CLASSES, np.int64)  # how many "at least j" bits each class has
_LEVELS[:26] = 2
for _c in _FREQUENT:
    _LEVELS[_LETTERS.index(_c)] = 3
_FIRST_BIT = np.concatenate([[0], np.cumsum(_LEVELS)[:-1]])  # bit of "at least one" of each class
assert int(_LEVELS.sum()) <= 64
_CLASS_OF_BYTE = np.full(256, _OTHER, np.int64)  # characters are encoded one byte each ("?" for non-ASCII)
for _i, _c in enumerate(_LETTERS):
    _CLASS_OF_BYTE[ord(_c)] = _i
for _c in "0123456789":
    _CLASS_OF_BYTE[ord(_c)] = _DIGITS


def signatures(keys: list[str]) -> np.ndarray:
    """The letter signature of each key (uint64), computed for all keys at once."""
    if not keys:
        return np.empty(0, np.uint64)
    lengths = np.fromiter(map(len, keys), np.int64, len(keys))
    data = np.frombuffer("".join(keys).encode("ascii", "replace"), np.uint8)  # one byte per character
    rows = np.repeat(np.arange(len(keys)), lengths)
    counts = np.bincount(rows * _CLASSES + _CLASS_OF_BYTE[data], minlength=len(keys) * _CLASSES)
    counts = np.minimum(counts.reshape(len(keys), _CLASSES), _LEVELS)  # saturated at each class's levels
    # "at least j" for j = 1..count: bits first_bit .. first_bit + count - 1, i.e. ((1 << count) - 1) << first_bit
    bits = ((np.left_shift(1, counts) - 1) << _FIRST_BIT).astype(np.uint64)
    return np.bitwise_or.reduce(bits, axis=1)


def within(candidates: np.ndarray, key: np.uint64, allowed: int) -> np.ndarray:
    """Which candidate signatures can be within `allowed` typos of the key's: False only where they cannot."""
    return (np.bitwise_count(candidates & ~key) <= allowed) & (np.bitwise_count(key & ~candidates) <= allowed)
