"""Keyed Bloom-filter encodings of quasi-identifiers, so that linkage can compare names, birth dates and written
addresses without seeing them.

Scheme (see docs/privacy-design.md for the reasoning): each value is normalised (lower case, diacritics folded,
punctuation dropped) and split into padded bigrams; dates into year, month, day and their pairs, so a partial date
still agrees on what it has. Each token sets `k` bits of an `L`-bit filter at positions taken from HMAC-SHA256 of
the token under a key derived for that field and key version ("random hashing" with a secret key): without the key
nobody can compute the filter of a guessed value, and the positions of one token are unrelated to those of another,
which defeats the pattern-mining attacks on double hashing. Every field has its own key, so the same name in the
surname and the street field gives unrelated bits. Similarity is the Dice coefficient of two filters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
from cryptography.hazmat.primitives import hashes, hmac

from pseudonymisation.keys import KeyStore

_NON_ALNUM = re.compile(r"[^a-z0-9 ]+")
KINDS = {"name": (512, 20), "address": (1024, 15), "date": (256, 25), "text": (1024, 15)}


def fold(value: str) -> str:
    """Lower case without diacritics or punctuation: 'Wiśniewski' and 'wisniewski' are one name."""
    text = unicodedata.normalize("NFKD", value.replace("ł", "l").replace("Ł", "L"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(_NON_ALNUM.sub(" ", text).split())


def bigrams(value: str) -> set[str]:
    out: set[str] = set()
    for word in fold(value).split():
        padded = f"_{word}_"
        out.update(padded[i : i + 2] for i in range(len(padded) - 1))
    return out


def date_tokens(value: str) -> set[str]:
    parts = value.strip()[:10].split("-")
    y = parts[0] if parts and parts[0] else None
    m = parts[1] if len(parts) > 1 else None
    d = parts[2] if len(parts) > 2 else None
    tokens = {f"y{y}"} if y else set()
    if m:
        tokens |= {f"m{m}", f"ym{y}{m}"}
    if d:
        tokens |= {f"d{d}", f"md{m}{d}", f"ymd{y}{m}{d}"}
    return tokens


class FieldEncoder:
    """Bloom filters for one field (kind: name, address, date or text) under the field's own key."""

    def __init__(self, keystore: KeyStore, field: str, kind: str = "name", version: str | None = None):
        if kind not in KINDS:
            raise ValueError(f"unknown encoding kind {kind!r}; known: {', '.join(KINDS)}")
        self.field, self.kind = field, kind
        self.length, self.k = KINDS[kind]
        self._mac = hmac.HMAC(keystore.derive(f"encoding/{field}", version), hashes.SHA256())
        self._positions: dict[str, np.ndarray] = {}

    def __repr__(self) -> str:
        return f"FieldEncoder(field={self.field!r}, kind={self.kind!r}, length={self.length}, k={self.k})"

    def tokens(self, value: str) -> set[str]:
        return date_tokens(value) if self.kind == "date" else bigrams(value)

    def _token_positions(self, token: str) -> np.ndarray:
        pos = self._positions.get(token)
        if pos is None:
            digests = b""
            counter = 0
            while len(digests) < 2 * self.k:
                h = self._mac.copy()
                h.update(f"{counter}|{token}".encode())
                digests += h.finalize()
                counter += 1
            pos = np.frombuffer(digests[: 2 * self.k], dtype="<u2") % self.length
            self._positions[token] = pos
        return pos

    def encode(self, value: str | None) -> bytes | None:
        if value is None or not str(value).strip():
            return None
        tokens = self.tokens(str(value))
        if not tokens:
            return None
        bits = np.zeros(self.length, dtype=bool)
        for t in tokens:
            bits[self._token_positions(t)] = True
        return np.packbits(bits).tobytes()

    def encode_array(self, values: pa.Array | pa.ChunkedArray | Iterable[str | None]) -> pa.Array:
        items = values.to_pylist() if isinstance(values, (pa.Array, pa.ChunkedArray)) else list(values)
        cache: dict[str, bytes | None] = {}
        out = []
        for v in items:
            if v is None:
                out.append(None)
                continue
            if v not in cache:
                cache[v] = self.encode(v)
            out.append(cache[v])
        return pa.array(out, pa.binary())


def as_matrix(filters: list[bytes | None], nbytes: int) -> np.ndarray:
    """Filters as an (n, nbytes) uint8 matrix; a missing value is all zeros (Dice 0, treated as missing)."""
    out = np.zeros((len(filters), nbytes), dtype=np.uint8)
    for i, f in enumerate(filters):
        if f is not None:
            out[i] = np.frombuffer(f, dtype=np.uint8)
    return out


def dice(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Dice coefficient of two (n, nbytes) filter matrices; NaN where either side is empty."""
    inter = np.bitwise_count(a & b).sum(axis=1, dtype=np.int64)
    ca = np.bitwise_count(a).sum(axis=1, dtype=np.int64)
    cb = np.bitwise_count(b).sum(axis=1, dtype=np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((ca > 0) & (cb > 0), 2.0 * inter / (ca + cb), np.nan)
