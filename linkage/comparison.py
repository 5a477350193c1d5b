"""Comparisons: how two values of one field agree, as a level (exact, close, somewhat, else; -1 when missing).

Each kind has its levels, numbered from 0 (disagree) to the top (exact agreement):

| kind              | plaintext levels                                         | encoded levels (keyed Bloom filters)  |
|-------------------|----------------------------------------------------------|---------------------------------------|
| name, string      | exact / Jaro-Winkler >= 0.92 / >= 0.80 / else            | exact / Dice >= 0.80 / >= 0.60 / else |
| address           | exact / Jaro-Winkler >= 0.90 / >= 0.80 / else            | exact / Dice >= 0.80 / >= 0.60 / else |
| date              | exact / one edit or day-month swap / same year / else    | exact / Dice >= 0.62 / >= 0.55 / else |
| postcode          | exact / one edit / same area (leading digits) / else     | exact / Dice >= 0.60 / else           |
| numeric           | exact / within 5% / else                                 | exact (keyed token) / else            |
| exact             | exact / else                                             | exact (keyed token) / else            |

A field with `swap_with` gets one more level, "swapped", for a value that disagrees with the same field of the other
record but agrees with its partner field (given name and surname written the other way round).

Why this shape, and why it is fast: both sides of a field share one dictionary of distinct values (integer codes).
Exact agreement is code equality, which also gives the term frequencies for free. The similarity function runs only
on the distinct (left value, right value) pairs among the candidate pairs that are not equal, vectorised through
rapidfuzz's `cpdist` (Jaro-Winkler, Levenshtein) or numpy popcounts (Dice): blocking on surname makes most pairs
share their surname, so this dedup removes most of the work. No Python loop runs over pairs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler, Levenshtein

from linkage.blocking import arrow_strings, factorize, numpy_ints, token_codes
from linkage.config import Field
from pseudonymisation.encodings import fold

PLAIN_CUTS: dict[str, tuple[float, ...]] = {"name": (0.92, 0.8), "string": (0.92, 0.8), "address": (0.9, 0.8)}
ENCODED_CUTS: dict[str, tuple[float, ...]] = {
    "name": (0.8, 0.6),
    "string": (0.8, 0.6),
    "address": (0.8, 0.6),
    "date": (0.62, 0.55),
    "postcode": (0.6,),
}
# Which keyed-encoding kind (pseudonymisation.encodings) a comparison kind is encoded with; the kinds not listed are
# compared on keyed tokens (equal or not) when encoded.
ENCODING_KIND = {"name": "name", "string": "name", "address": "address", "date": "date", "postcode": "name"}
TOKEN_KINDS = ("exact", "numeric")
_DIGITS = re.compile(r"\d+")
_LEADING_DIGITS = re.compile(r"\d*")
# the letters `fold` replaces before dropping diacritics (ł has no decomposition), as it does them
_REPLACED = [(ch, fold(ch)) for ch in ("ł", "Ł", "ß") if fold(ch).isalpha()]


# --- canonical values ----------------------------------------------------------------------------------------------


def canonical_date(value: str) -> str:
    """YYYYMMDD, YYYYMM or YYYY from ISO, compact or Dutch day-first dates; '' when no year can be read.

    Unknown parts written as 00 (the BRP's partial dates) are dropped, so '19850000' is the year 1985.
    """
    groups = _DIGITS.findall(value)
    if len(groups) == 1:
        g = groups[0]
        y, m, d = g[:4], g[4:6], g[6:8]
    elif len(groups) >= 3 and len(groups[0]) <= 2 and len(groups[2]) == 4:  # 01-12-1985
        d, m, y = groups[0].zfill(2), groups[1].zfill(2), groups[2]
    elif groups and len(groups[0]) == 4:  # 1985-12-01, 1985-12
        y = groups[0]
        m = groups[1].zfill(2) if len(groups) > 1 else ""
        d = groups[2].zfill(2) if len(groups) > 2 else ""
    else:
        return ""
    if len(y) != 4:
        return ""
    if not m or m == "00":
        return y
    if not d or d == "00":
        return y + m
    return y + m + d


def canonical_number(value: str) -> str:
    """A number written either way ("1.250,50", "1250.5", "100,0") in one form ("1250.5", "100"); '' if none."""
    v = value.strip().replace(" ", "")
    if "," in v and "." in v:  # the last of the two separates the decimals
        v = v.replace(".", "").replace(",", ".") if v.rfind(",") > v.rfind(".") else v.replace(",", "")
    else:
        v = v.replace(",", ".")
    try:
        number = float(v)
    except ValueError:
        return ""
    return f"{number:.12g}" if number == number else ""


def fold_array(values) -> np.ndarray:
    """`pseudonymisation.encodings.fold` over a list of values in Arrow's C++ kernels: lower case, diacritics and
    punctuation dropped, spaces collapsed; '' for missing values. Same result as `fold`, many times faster."""
    arr = arrow_strings([None if v is None else str(v) for v in values])
    for a, b in _REPLACED:
        arr = pc.replace_substring(arr, a, b)
    arr = pc.utf8_normalize(arr, "NFKD")
    arr = pc.replace_substring_regex(arr, r"\pM+", "")
    arr = pc.utf8_lower(arr)
    arr = pc.replace_substring_regex(arr, r"[^a-z0-9 ]+", " ")
    arr = pc.replace_substring_regex(arr, r" {2,}", " ")
    arr = pc.utf8_trim(arr, " ")
    out = np.empty(len(arr), dtype=object)
    out[:] = ["" if v is None else v for v in arr.to_pylist()]
    return out


def canonical(kind: str, values) -> np.ndarray:
    """The canonical form of a column for a comparison kind, as an object array with '' where missing.

    Names, strings and addresses are folded (lower case, no diacritics, no punctuation); dates become YYYYMMDD (or
    YYYYMM, YYYY); numbers one decimal form; postcodes lose their space. Done once per distinct value, folding in
    Arrow.
    """
    values = np.asarray(values, dtype=object)
    missing = np.array([v is None or v != v for v in values.tolist()], dtype=bool)  # None or NaN
    codes, uniques = factorize(np.where(missing, None, values).astype(str).astype(object))
    codes[missing] = -1
    texts = [str(v) for v in uniques]
    if kind == "date":
        mapped = [canonical_date(v) for v in texts]
    elif kind == "numeric":
        mapped = [canonical_number(v) for v in texts]
    else:
        mapped = fold_array(texts).tolist()
        if kind == "postcode":
            mapped = [v.replace(" ", "") for v in mapped]
    out = np.empty(len(mapped) + 1, dtype=object)
    out[:-1] = mapped
    out[-1] = ""  # code -1 (missing) picks the trailing ''
    return out[codes]


def iso_date(canonical_value: str) -> str:
    """A canonical date (YYYYMMDD, YYYYMM, YYYY) as ISO text, the form the date encoder takes."""
    v = canonical_value
    return "-".join(p for p in (v[:4], v[4:6], v[6:8]) if p)


# --- values of one field on both sides -----------------------------------------------------------------------------


@dataclass
class FieldValues:
    """One field on both sides, coded against one dictionary of distinct values (-1 where missing).

    `uniques` holds the canonical strings (plaintext linkage) and `filters` the Bloom filters (encoded linkage) of the
    distinct values; on keyed tokens neither is needed. `tf` is each value's share among all present values of both
    sides, and `u_exact` the chance that two random records agree exactly: the sum over values of the product of the
    two sides' shares, exact rather than sampled (a birth date agrees in 1 of ~20,000 random pairs: sampling would
    need millions of pairs to see it).
    """

    left: np.ndarray
    right: np.ndarray
    uniques: np.ndarray | None
    filters: np.ndarray | None
    tf: np.ndarray
    u_exact: float
    right_swap: np.ndarray | None = None  # the right side's partner field, coded in the same dictionary
    derived: dict = field(default_factory=dict)

    @property
    def n_values(self) -> int:
        return len(self.tf)

    def per_value(self, name: str, func) -> np.ndarray:
        """`func` of every distinct value, computed once (a year, a postcode area) and looked up by code."""
        if name not in self.derived:
            out = np.empty(len(self.uniques), dtype=object)
            out[:] = [func(v) for v in self.uniques]
            self.derived[name] = out
        return self.derived[name]


def _frequencies(left: np.ndarray, right: np.ndarray, n: int) -> tuple[np.ndarray, float]:
    cl = np.bincount(left[left >= 0], minlength=n).astype(float)
    cr = np.bincount(right[right >= 0], minlength=n).astype(float)
    both = cl + cr
    tf = both / max(both.sum(), 1.0)
    pl, pr = cl / max(cl.sum(), 1.0), cr / max(cr.sum(), 1.0)
    return tf, float((pl * pr).sum())


def _joint(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Codes of several columns from one dictionary of distinct values; None, '' and b'' are missing (-1)."""
    both = np.concatenate([np.asarray(c, dtype=object) for c in columns])
    codes, uniques = factorize(both)
    uniques = np.asarray(uniques, dtype=object)
    empty = np.array([u is None or len(u) == 0 for u in uniques], dtype=bool)
    if empty.any():
        remap = np.cumsum(~empty) - 1
        remap[empty] = -1
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
        uniques = uniques[~empty]
    bounds = np.cumsum([0, *[len(c) for c in columns]])
    return [codes[bounds[i] : bounds[i + 1]] for i in range(len(columns))], uniques


def plain_values(left: np.ndarray, right: np.ndarray, right_partner: np.ndarray | None = None) -> FieldValues:
    """A field's plaintext values on both sides (already canonical, see `canonical`), coded; with the right side's
    partner field when the field may be swapped with it."""
    extra = () if right_partner is None else (right_partner,)
    codes, uniques = _joint(left, right, *extra)
    tf, u_exact = _frequencies(codes[0], codes[1], len(uniques))
    return FieldValues(codes[0], codes[1], uniques, None, tf, u_exact, codes[2] if extra else None)


def encoded_values(left, right, nbytes: int | None, right_partner=None) -> FieldValues:
    """A field's encoded values on both sides: Bloom filters (binary Arrow arrays or object arrays of bytes, `nbytes`
    each, null where missing) or tokens (uint64 arrays, 0 where missing, or object arrays of identifiers, None where
    missing; nbytes None).

    Equal filters (or tokens) share a code: exact agreement and term frequencies need no plaintext. A swappable
    field and its partner are encoded under one key, so their filters compare. Filters are coded in Arrow (hashing
    the bytes), without a Python object per record.
    """
    columns = [left, right, *([] if right_partner is None else [right_partner])]
    if not nbytes:
        if any(np.asarray(c).dtype == object for c in columns):  # plain identifiers (a BAG id): code them jointly
            codes, _ = factorize(np.concatenate([np.asarray(c, dtype=object) for c in columns]))
            tokens = (codes + 1).astype(np.uint64)
            bounds = np.cumsum([0, *[len(c) for c in columns]])
            columns = [tokens[bounds[i] : bounds[i + 1]] for i in range(len(columns))]
        both = token_codes(np.concatenate(columns[:1]), np.concatenate(columns[1:]))
        parts = [both[0], both[1][: len(right)], both[1][len(right) :]]
        n = int(max(p.max(initial=-1) for p in parts)) + 1
        tf, u_exact = _frequencies(parts[0], parts[1], n)
        return FieldValues(parts[0], parts[1], None, None, tf, u_exact, parts[2] if right_partner is not None else None)
    columns = [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in columns]
    columns = [c if isinstance(c, pa.Array) else arrow_strings(np.asarray(c).tolist(), binary=True) for c in columns]
    columns = [c.cast(pa.binary()) if c.type != pa.binary() else c for c in columns]
    encoded = pc.dictionary_encode(pa.concat_arrays(columns))
    codes = numpy_ints(encoded.indices)
    bounds = np.cumsum([0, *[len(c) for c in columns]])
    parts = [codes[bounds[i] : bounds[i + 1]] for i in range(len(columns))]
    raw = pc.cast(encoded.dictionary, pa.binary(nbytes))  # fixed width: the values buffer is the matrix
    filters = np.frombuffer(raw.buffers()[1], dtype=np.uint8)[raw.offset * nbytes :][: len(raw) * nbytes]
    filters = filters.reshape(len(raw), nbytes)
    if nbytes % 8 == 0:
        filters = filters.view(np.uint64)  # 8 bytes per popcount instead of 1
    tf, u_exact = _frequencies(parts[0], parts[1], len(raw))
    return FieldValues(parts[0], parts[1], None, filters, tf, u_exact, parts[2] if right_partner is not None else None)


# --- comparisons ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """How one field is compared: its kind, whether on encodings, the cut-offs, and a label per level (0 = else)."""

    name: str
    kind: str
    encoded: bool
    cuts: tuple[float, ...]
    labels: tuple[str, ...]
    tf: bool = False
    swap: bool = False  # a level "swapped": this field agrees with the partner field of the other record

    @property
    def n_levels(self) -> int:
        return len(self.labels)

    @property
    def top(self) -> int:
        return len(self.labels) - 1

    @classmethod
    def of(cls, field: Field, encoded: bool) -> Comparison:
        kind, swap = field.kind, field.swap_with is not None
        extra = ("swapped",) if swap else ()
        if encoded:
            if kind in TOKEN_KINDS:
                return cls(field.name, kind, True, (), ("else", "exact"), field.tf)
            cuts = field.encoded_levels or ENCODED_CUTS[kind]
            labels = ("else", *extra, *[f"dice>={c:.2f}" for c in reversed(cuts)], "exact")
            return cls(field.name, kind, True, cuts, labels, field.tf, swap)
        if kind in PLAIN_CUTS:
            cuts = field.levels or PLAIN_CUTS[kind]
            labels = ("else", *extra, *[f"jaro_winkler>={c:.2f}" for c in reversed(cuts)], "exact")
            return cls(field.name, kind, False, cuts, labels, field.tf, swap)
        labels = {
            "date": ("else", "same_year", "one_edit_or_day_month_swap", "exact"),
            "postcode": ("else", "same_area", "one_edit", "exact"),
            "numeric": ("else", "within_5_percent", "exact"),
            "exact": ("else", "exact"),
        }[kind]
        return cls(field.name, kind, False, (), labels, field.tf)

    def levels(self, values: FieldValues, li: np.ndarray, ri: np.ndarray, *, dedupe: bool = True) -> np.ndarray:
        """Level of every pair (li[k], ri[k]): -1 missing, 0 else ... top exact.

        With `dedupe` the similarity runs once per distinct value pair (blocked pairs repeat them a lot); random pairs
        hardly repeat, so training passes False and skips the hashing.
        """
        lc, rc = values.left[li], values.right[ri]
        missing = (lc < 0) | (rc < 0)
        out = np.zeros(len(li), dtype=np.int8)
        equal = (lc == rc) & ~missing
        out[equal] = self.top
        todo = np.flatnonzero(~missing & ~equal)
        if self.n_levels > 2 and len(todo):
            fuzzy = self._on_distinct(values, lc[todo], rc[todo], self._fuzzy, dedupe)
            out[todo] = np.where(fuzzy > 0, fuzzy + self.swap, 0)
        if self.swap and values.right_swap is not None:
            self._swapped(values, lc, values.right_swap[ri], out, dedupe)
        out[missing] = -1
        return out

    def _swapped(self, values: FieldValues, lc: np.ndarray, partner: np.ndarray, out: np.ndarray, dedupe: bool) -> None:
        """Level 1 ("swapped") where the field disagrees directly but agrees with the other record's partner field
        (given name and surname, or two address lines, written the other way round)."""
        idx = np.flatnonzero((out == 0) & (lc >= 0) & (partner >= 0))
        if not len(idx):
            return
        a, b = lc[idx], partner[idx]
        close = a == b
        rest = np.flatnonzero(~close)
        if len(rest):
            first = self.cuts[0]
            close[rest] = self._on_distinct(
                values, a[rest], b[rest], lambda v, x, y: self._similarity(v, x, y) >= first, dedupe
            )
        out[idx[close]] = 1

    @staticmethod
    def _on_distinct(values: FieldValues, lc: np.ndarray, rc: np.ndarray, func, dedupe: bool = True) -> np.ndarray:
        """`func(values, a, b)` evaluated once per distinct (left code, right code) pair, spread back to all pairs."""
        if not dedupe:
            return np.asarray(func(values, lc, rc))
        n = max(values.n_values, 1)
        inverse, distinct = factorize(lc * n + rc)
        return np.asarray(func(values, distinct // n, distinct % n))[inverse]

    def _similarity(self, values: FieldValues, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if self.encoded:
            return _dice_codes(values, a, b)
        return _cpdist(values.uniques[a], values.uniques[b], JaroWinkler.normalized_similarity)

    def _fuzzy(self, values: FieldValues, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Levels below exact for distinct pairs of unequal values (codes a, b); 0 else, 1.. the fuzzy levels."""
        if self.encoded or self.kind in PLAIN_CUTS:
            return self._by_cuts(self._similarity(values, a, b))
        sa, sb = values.uniques[a], values.uniques[b]
        if self.kind == "date":
            year = values.per_value("year", lambda v: v[:4])
            swapped = values.per_value("swapped", lambda v: v[:4] + v[6:] + v[4:6] if len(v) == 8 else "")
            close = (_cpdist(sa, sb, Levenshtein.distance) <= 1) | (swapped[a] == sb)
            return np.where(close, 2, np.where(year[a] == year[b], 1, 0)).astype(np.int8)
        if self.kind == "postcode":
            area = values.per_value("area", _area)
            one_edit = _cpdist(sa, sb, Levenshtein.distance) <= 1
            return np.where(one_edit, 2, np.where(area[a] == area[b], 1, 0)).astype(np.int8)
        if self.kind == "numeric":
            xa, xb = _numbers(sa), _numbers(sb)
            with np.errstate(invalid="ignore", divide="ignore"):
                rel = np.abs(xa - xb) / np.maximum(np.abs(xa), np.abs(xb))
            return np.where(rel <= 0.05, 1, 0).astype(np.int8)
        return np.zeros(len(a), dtype=np.int8)

    def _by_cuts(self, similarity: np.ndarray) -> np.ndarray:
        out = np.zeros(len(similarity), dtype=np.int8)
        for i, cut in enumerate(reversed(self.cuts)):  # lowest cut first, each higher one overwrites
            out[similarity >= cut] = i + 1
        return out


def _dice_codes(values: FieldValues, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dice of the filters of distinct values a[i] and b[i]; popcounts of the filters themselves computed once."""
    counts = values.derived.get("popcount")
    if counts is None:
        counts = np.bitwise_count(values.filters).sum(axis=1, dtype=np.int64)
        values.derived["popcount"] = counts
    out = np.empty(len(a), dtype=float)
    for start in range(0, len(a), 1 << 18):  # bounded memory on millions of pairs
        ia, ib = a[start : start + (1 << 18)], b[start : start + (1 << 18)]
        inter = np.bitwise_count(values.filters[ia] & values.filters[ib]).sum(axis=1, dtype=np.int64)
        total = counts[ia] + counts[ib]
        out[start : start + len(ia)] = np.where(total > 0, 2.0 * inter / np.maximum(total, 1), 0.0)
    return out


def _cpdist(a: np.ndarray, b: np.ndarray, scorer) -> np.ndarray:
    return np.asarray(process.cpdist(a.tolist(), b.tolist(), scorer=scorer, workers=-1))


def _area(value: str) -> str:
    """The postcode's area: the leading digits of a Dutch 1234AB, all but the last digit of an all-digit code."""
    digits = _LEADING_DIGITS.match(value).group(0)
    return digits if len(digits) < len(value) else value[:-1]


def _numbers(values: np.ndarray) -> np.ndarray:
    def one(v: str) -> float:
        try:
            return float(v.replace(",", "."))
        except ValueError:
            return float("nan")

    return np.array([one(v) for v in values], dtype=float)
