"""Keyed pseudonyms for direct identifiers: HMAC-SHA256 per identifier domain, per purpose.

A plain hash of a BSN protects nothing (the ~91 million 11-proef numbers are hashed in about a minute), so every
pseudonym is an HMAC under a key derived for its domain (`bsn`, `a_nummer`, `kvk`, `rsin`, `ean`, `email`, `phone`,
...): equal digits in a BSN and an RSIN give unrelated pseudonyms. Inside the hub each identifier has one linkage
pseudonym; each purpose's published data gets its own pseudonym, computed from the linkage pseudonym under the
purpose's key, so no plaintext is needed to publish and two purposes' datasets cannot be joined without the hub.

The form is `<domain>.<version>.<32 hex characters>` (128 bits): readable in a table, visibly a pseudonym (the
identifier scan never mistakes it for a number), and carrying the key version so rotation shows.
"""

from __future__ import annotations

import multiprocessing
import re
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor

import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives import hashes, hmac

from pseudonymisation.keys import KeyStore

_DOMAIN = re.compile(r"^[a-z][a-z_]*$")
_DIGITS = re.compile(r"\D+")


def normalise(domain: str, value: str) -> str | None:
    """The canonical form of an identifier before keying, so that '012345678' and '12345678' agree."""
    v = value.strip()
    if not v:
        return None
    if domain in ("bsn", "rsin"):
        digits = _DIGITS.sub("", v)
        return digits.zfill(9) if digits else None
    if domain in ("a_nummer", "kvk", "ean"):
        return _DIGITS.sub("", v) or None
    if domain == "email":
        return v.lower()
    if domain == "phone":
        digits = _DIGITS.sub("", v)
        if digits.startswith("0031"):
            digits = "0" + digits[4:]
        elif digits.startswith("31") and len(digits) == 11:
            digits = "0" + digits[2:]
        return digits or None
    return " ".join(v.lower().split())


PARALLEL_FROM = 300_000  # distinct values from which keying is spread over processes


def _key_chunk(job: tuple[bytes, str, str, list[str]]) -> list[str | None]:
    """Key one chunk of distinct values (runs in a worker process, or inline for small columns)."""
    key, prefix, domain, values = job
    mac = hmac.HMAC(key, hashes.SHA256())
    fast = domain in ("bsn", "rsin")
    out: list[str | None] = []
    append = out.append
    for v in values:
        if not (fast and len(v) == 9 and v.isdigit()):
            v = normalise(domain, v)
            if v is None:
                append(None)
                continue
        h = mac.copy()
        h.update(v.encode())
        append(prefix + h.finalize()[:16].hex())
    return out


class Pseudonymiser:
    """Pseudonyms of one identifier domain for one purpose ("linkage" inside the hub)."""

    def __init__(self, keystore: KeyStore, domain: str, purpose: str = "linkage", version: str | None = None):
        if not _DOMAIN.match(domain):
            raise ValueError(f"identifier domain must be lower-case letters and underscores, got {domain!r}")
        self.domain = domain
        self.purpose = purpose
        self.version = version or keystore.version
        info = f"pseudonym/{domain}/linkage" if purpose == "linkage" else f"pseudonym/{domain}/purpose:{purpose}"
        self._key = keystore.derive(info, self.version)
        self._mac = hmac.HMAC(self._key, hashes.SHA256())
        self._prefix = f"{domain}.{self.version}."
        self._cache: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"Pseudonymiser(domain={self.domain!r}, purpose={self.purpose!r}, version={self.version!r})"

    def _mac_of(self, text: str) -> str:
        h = self._mac.copy()
        h.update(text.encode())
        return self._prefix + h.finalize()[:16].hex()

    def pseudonym(self, value: str | None) -> str | None:
        if value is None:
            return None
        cached = self._cache.get(value)
        if cached is not None:
            return cached
        norm = normalise(self.domain, value)
        out = None if norm is None else self._mac_of(norm)
        if len(self._cache) < 2_000_000:
            self._cache[value] = out
        return out

    def pseudonymise_array(
        self, values: pa.Array | pa.ChunkedArray | Iterable[str | None], workers: int | None = None
    ) -> pa.Array:
        """Pseudonyms of a whole column; nulls stay null, each distinct value is keyed once (dictionary-encoded).

        With `workers` > 1, large columns are keyed in that many forked processes, each with its own pre-keyed HMAC
        (measured: it pays only on an idle machine; the default keys in process).
        """
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if not isinstance(values, pa.Array):
            values = pa.array(list(values), pa.string())
        encoded = pc.dictionary_encode(values)
        uniques = encoded.dictionary.to_pylist()
        workers = workers or 1
        if workers > 1 and len(uniques) >= PARALLEL_FROM:
            size = -(-len(uniques) // workers)
            chunks = [uniques[i : i + size] for i in range(0, len(uniques), size)]
            ctx = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                parts = pool.map(_key_chunk, [(self._key, self._prefix, self.domain, c) for c in chunks])
                out = [p for part in parts for p in part]
        else:
            out = _key_chunk((self._key, self._prefix, self.domain, uniques))
        return pa.array(out, pa.string()).take(encoded.indices)

    def from_linkage(self, linkage_pseudonym: str | None) -> str | None:
        """A purpose pseudonym made from a linkage pseudonym, without the plaintext: HMAC(purpose key, pseudonym)."""
        if linkage_pseudonym is None:
            return None
        cached = self._cache.get(linkage_pseudonym)
        if cached is None:
            cached = self._mac_of(linkage_pseudonym)
            self._cache[linkage_pseudonym] = cached
        return cached
