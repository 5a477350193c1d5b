"""Keyed Bloom-filter encodings of quasi-identifiers, so that linkage can compare names, birth dates and written
addresses without seeing them.

The scheme (docs/privacy-design.md gives the reasoning and the attacks):

1. Normalise (lower case, diacritics folded, punctuation dropped) and split into tokens: padded q-grams (q = 2) for
   names and addresses; for dates year, month, day and their combinations, so a partial date agrees on what it has.
2. *Keyed random hashing*: each token sets `k` bits of an `L`-bit filter at positions taken from HMAC-SHA256 of the
   token under a key derived for the field and key version. Without the key nobody can compute the filter of a
   guessed value (no dictionary attack), and a token's positions are unrelated to another token's (none of the
   arithmetic structure of double hashing that the early attacks used). Each field has its own key.
3. *Keyed linear diffusion* (Armknecht, Heng & Schnell, PoPETs 2023), when `taps` > 0: output bit j is the XOR of
   `taps` filter bits at secret positions, then XOR a secret mask. Every output bit now depends on several q-grams,
   so the pattern-mining attacks (Christen et al. 2018, Vidanage et al. 2019), which look for bit positions that are
   set whenever a frequent q-gram is present, find no such positions; the mask makes every filter about half ones,
   so its weight no longer tells the length of the value. Similar values keep similar filters: if two filters
   differ in a share d of their bits, the diffused filters differ in (1 - (1 - 2d)^taps) / 2.

`HARDENED_TAPS` is the diffusion the hub has chosen; `KINDS` gives each kind of field its filter length, `k` and
default taps. The boundary's profile keeps taps at 0 until the consumers' Dice thresholds are recalibrated for the
diffused scale (a random pair scores about 0.5 instead of about 0.25): see docs/privacy-design.md.

Similarity is the Dice coefficient of two filters, vectorised over many pairs with numpy popcounts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives import hashes, hmac

from pseudonymisation.keys import KeyStore

_NON_ALNUM = re.compile(r"[^a-z0-9 ]+")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


@dataclass(frozen=True)
class Profile:
    """Filter length in bits, bits per token, and diffusion taps per output bit (0: no diffusion layer)."""

    length: int
    k: int
    taps: int = 0


HARDENED_TAPS = 4
KINDS: dict[str, Profile] = {
    "name": Profile(512, 20),
    "party_name": Profile(2048, 20),  # owners and landlords as written: long names, weak similarities (see docs)
    "address": Profile(1024, 15),
    "date": Profile(256, 25),
    "text": Profile(1024, 15),
}


# --- tokens ------------------------------------------------------------------------------------------------------


_ASCII_FOLD = str.maketrans({c: " " for c in map(chr, range(128)) if not (c.isalnum() or c == " ")})


def fold(value: str) -> str:
    """Lower case without diacritics or punctuation: 'Wiśniewski' and 'wisniewski' are one name."""
    if value.isascii():  # the common case, without the Unicode decomposition
        return " ".join(value.lower().translate(_ASCII_FOLD).split())
    text = unicodedata.normalize("NFKD", value.replace("ł", "l").replace("Ł", "L").replace("ß", "ss"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(_NON_ALNUM.sub(" ", text).split())


def qgrams(value: str, q: int = 2) -> set[str]:
    """Padded q-grams of each word: 'de jong' -> {_d, de, e_, _j, jo, on, ng, g_} for q = 2."""
    out: set[str] = set()
    pad = "_" * (q - 1)
    for word in fold(value).split():
        padded = f"{pad}{word}{pad}"
        out.update([padded[i : i + q] for i in range(len(padded) - q + 1)])
    return out


def bigrams(value: str) -> set[str]:
    return qgrams(value, 2)


def date_tokens(value: str) -> set[str]:
    """Tokens of an ISO date (1985-12-01, 1985-12 or 1985; also 19851201): y, m, d, ym, md, ymd.

    A partial date yields only what it knows, so '1985-12' agrees with '1985-12-01' on year and month.
    """
    text = value.strip()[:10]
    compact = _COMPACT_DATE.match(text)
    parts = list(compact.groups()) if compact else text.split("-")
    y = parts[0] if parts and parts[0] else None
    m = parts[1] if len(parts) > 1 and parts[1] not in ("", "00") else None
    d = parts[2] if len(parts) > 2 and parts[2] not in ("", "00") else None
    tokens = {f"y{y}"} if y else set()
    if y and m:
        tokens |= {f"m{m}", f"ym{y}{m}"}
        if d:
            tokens |= {f"d{d}", f"md{m}{d}", f"ymd{y}{m}{d}"}
    return tokens


# --- the encoder -------------------------------------------------------------------------------------------------


def _stream(mac: hmac.HMAC, label: str, nbytes: int) -> bytes:
    """`nbytes` of keyed pseudo-random bytes for `label` (HMAC in counter mode)."""
    out = b""
    counter = 0
    while len(out) < nbytes:
        h = mac.copy()
        h.update(f"{counter}|{label}".encode())
        out += h.finalize()
        counter += 1
    return out[:nbytes]


class FieldEncoder:
    """Keyed Bloom filters of one field (kind: name, address, date or text), optionally diffused.

    `key` is the key store (the field key is derived as `encoding/<field>`) or a 32-byte key derived elsewhere.
    """

    def __init__(
        self,
        key: KeyStore | bytes,
        field: str,
        kind: str = "name",
        *,
        q: int = 2,
        k: int | None = None,
        length: int | None = None,
        taps: int | None = None,
        version: str | None = None,
    ):
        if kind not in KINDS:
            raise ValueError(f"unknown encoding kind {kind!r}; known: {', '.join(KINDS)}")
        profile = KINDS[kind]
        self.field, self.kind, self.q = field, kind, q
        self.length = length or profile.length
        self.k = k or profile.k
        self.taps = profile.taps if taps is None else taps
        if self.length % 8 or not 8 <= self.length <= 65536:
            raise ValueError("filter length must be a multiple of 8 between 8 and 65536 bits")
        secret = key.derive(f"encoding/{field}", version) if isinstance(key, KeyStore) else key
        if len(secret) < 32:
            raise ValueError("an encoding key must be at least 32 bytes")
        self._mac = hmac.HMAC(secret, hashes.SHA256())
        self._positions: dict[str, np.ndarray] = {}
        self._ids: dict[str, int] = {}
        self._rows: list[np.ndarray] = []
        self._table: np.ndarray | None = None
        self._tap_index: np.ndarray | None = None
        self._mask: np.ndarray | None = None
        if self.taps:
            raw = np.frombuffer(_stream(self._mac, "diffusion", 4 * self.length * self.taps), "<u4")
            self._tap_index = (raw % self.length).astype(np.intp).reshape(self.length, self.taps)
            mask = np.frombuffer(_stream(self._mac, "mask", self.length // 8), np.uint8)
            self._mask = np.unpackbits(mask).astype(bool)

    def __repr__(self) -> str:  # never the key
        return (
            f"FieldEncoder(field={self.field!r}, kind={self.kind!r}, q={self.q}, length={self.length}, "
            f"k={self.k}, taps={self.taps})"
        )

    __str__ = __repr__

    @property
    def nbytes(self) -> int:
        return self.length // 8

    def tokens(self, value: str) -> set[str]:
        return date_tokens(value) if self.kind == "date" else qgrams(value, self.q)

    def _token_positions(self, token: str) -> np.ndarray:
        pos = self._positions.get(token)
        if pos is None:
            # The same derivation as before diffusion existed, so plain filters stay byte-identical across versions.
            pos = np.frombuffer(_stream(self._mac, token, 2 * self.k), dtype="<u2") % self.length
            self._positions[token] = pos
        return pos

    def _token_id(self, token: str) -> int:
        """A small integer per token, indexing the rows of the position table (built as tokens are met)."""
        tid = self._ids.get(token)
        if tid is None:
            tid = self._ids[token] = len(self._rows)
            self._rows.append(self._token_positions(token))
            self._table = None
        return tid

    def _position_table(self) -> np.ndarray:
        if self._table is None:
            self._table = np.array(self._rows, dtype=np.intp).reshape(-1, self.k)
        return self._table

    def _diffuse(self, bits: np.ndarray) -> np.ndarray:
        """Keyed linear diffusion of an (n, L) bool matrix: XOR of `taps` secret positions, XOR a secret mask."""
        if not self.taps:
            return bits
        out = np.empty_like(bits)
        for start in range(0, len(bits), 4096):
            block = bits[start : start + 4096]
            out[start : start + 4096] = np.bitwise_xor.reduce(block[:, self._tap_index], axis=2) ^ self._mask
        return out

    def encode_bits(self, value: str | None) -> np.ndarray | None:
        """The filter of one value as L booleans; None for a missing value or one without tokens."""
        packed = self.encode_many([value])[0]
        return None if packed is None else np.unpackbits(np.frombuffer(packed, np.uint8)).astype(bool)

    def encode(self, value: str | None) -> bytes | None:
        """The filter of one value, packed (L / 8 bytes); None for a missing value or one without tokens."""
        return self.encode_many([value])[0]

    def encode_many(self, values: list[str | None], chunk: int = 8192) -> list[bytes | None]:
        """Filters of many values, vectorised: tokens become ids in Python, then per chunk of values one scatter of
        all their bit positions, one diffusion and one packbits."""
        token_ids: list[list[int]] = []
        known, new, tokens_of = self._ids.get, self._token_id, self.tokens
        for value in values:
            text = None if value is None else str(value)
            tokens = tokens_of(text) if text and not text.isspace() else ()
            token_ids.append([tid if (tid := known(t)) is not None else new(t) for t in tokens])
        table = self._position_table() if self._rows else np.zeros((0, self.k), np.intp)
        out: list[bytes | None] = []
        for start in range(0, len(values), chunk):
            ids = token_ids[start : start + chunk]
            counts = np.fromiter((len(i) for i in ids), np.intp, len(ids))
            flat = np.fromiter((t for i in ids for t in i), np.intp, int(counts.sum()))
            bits = np.zeros((len(ids), self.length), dtype=bool)
            rows = np.repeat(np.repeat(np.arange(len(ids)), counts), self.k)
            bits[rows, table[flat].ravel()] = True
            packed = np.packbits(self._diffuse(bits), axis=1)
            out.extend(packed[i].tobytes() if counts[i] else None for i in range(len(ids)))
        return out

    def encode_array(self, values: pa.Array | pa.ChunkedArray | Iterable[str | None]) -> pa.Array:
        """Filters of a column (binary, nulls stay null); each distinct value is encoded once."""
        if isinstance(values, (pa.Array, pa.ChunkedArray)):
            column = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
            column = pc.cast(column, pa.string())
        else:
            column = pa.array([None if v is None else str(v) for v in values], pa.string())
        encoded = pc.dictionary_encode(column)
        filters = self.encode_many(encoded.dictionary.to_pylist())
        return pa.array(filters, pa.binary()).take(encoded.indices)


def encode_table(table: pa.Table, fields: Mapping[str, FieldEncoder], *, keep_plaintext: bool = False) -> pa.Table:
    """`table` with each column named in `fields` replaced by `<column>_bf`, its filters (binary), in place.

    The plaintext column is dropped unless `keep_plaintext` (for tests and evaluation only).
    """
    missing = [c for c in fields if c not in table.column_names]
    if missing:
        raise KeyError(f"encode_table: no column(s) {', '.join(missing)} in the table")
    out = table
    for column, encoder in fields.items():
        index = out.column_names.index(column)
        filters = encoder.encode_array(out.column(column))
        if keep_plaintext:
            out = out.append_column(f"{column}_bf", filters)
        else:
            out = out.set_column(index, f"{column}_bf", filters)
    return out


# --- comparison --------------------------------------------------------------------------------------------------

_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def popcount_rows(m: np.ndarray) -> np.ndarray:
    """Number of set bits in each row of an (n, nbytes) uint8 matrix."""
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0: one instruction per byte
        return np.bitwise_count(m).sum(axis=1, dtype=np.int64)
    return _POPCOUNT[m].sum(axis=1, dtype=np.int64)


def as_matrix(filters: Iterable[bytes | None], nbytes: int) -> np.ndarray:
    """Filters as an (n, nbytes) uint8 matrix; a missing value is all zeros (Dice NaN: treated as missing)."""
    filters = list(filters)
    out = np.zeros((len(filters), nbytes), dtype=np.uint8)
    for i, f in enumerate(filters):
        if f is not None:
            out[i] = np.frombuffer(f, dtype=np.uint8)
    return out


def dice(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Dice coefficient 2|a & b| / (|a| + |b|) of two (n, nbytes) matrices; NaN where either is empty."""
    inter = popcount_rows(a & b)
    ca, cb = popcount_rows(a), popcount_rows(b)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((ca > 0) & (cb > 0), 2.0 * inter / (ca + cb), np.nan)


def dice_pairs(
    a: np.ndarray, b: np.ndarray, left: np.ndarray, right: np.ndarray, *, chunk: int = 1 << 16
) -> np.ndarray:
    """Dice of many pairs (a[left[i]], b[right[i]]) without materialising all pairs at once; NaN where missing."""
    ca, cb = popcount_rows(a), popcount_rows(b)
    out = np.empty(len(left), dtype=np.float64)
    for start in range(0, len(left), chunk):
        li, ri = left[start : start + chunk], right[start : start + chunk]
        inter = popcount_rows(a[li] & b[ri])
        total = ca[li] + cb[ri]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + chunk] = np.where((ca[li] > 0) & (cb[ri] > 0), 2.0 * inter / total, np.nan)
    return out
