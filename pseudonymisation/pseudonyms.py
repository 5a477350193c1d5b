"""Keyed pseudonyms for direct identifiers: keyed per identifier domain, per purpose.

A plain hash of a BSN protects nothing (the ~91 million 11-proef numbers are hashed in about a minute), so every
pseudonym is an HMAC under a key derived for its domain (`bsn`, `a_nummer`, `kvk`, `rsin`, `ean`, `email`, `phone`,
`person_name`, or any other `[a-z_]+` name): equal digits in a BSN and an RSIN give unrelated pseudonyms.

Inside the hub each identifier has one *linkage* pseudonym. Each purpose's published data gets its own pseudonym,
computed from the linkage pseudonym and not from the identifier: `HMAC(purpose key, linkage pseudonym)`. Publishing
therefore needs no plaintext, and because the purpose keys are independent HKDF outputs, two purposes' pseudonyms of
one person are unrelated strings: their datasets cannot be joined without the hub's keys.

The form is `<domain>.<version>.<26 base32 characters>` (128 bits, lower case, no padding): readable in a table,
visibly a pseudonym (the identifier scan never mistakes it for a number), and carrying the key version so a rotation
shows in the data.

Two keyed primitives, both 128 bits wide:

- BSN and RSIN (`BLOCK_DOMAINS`): the normalised 9 digits, zero-padded to one 16-byte block, encrypted with AES-256
  (one block, so ECB is simply the block cipher: a keyed pseudorandom permutation). Deterministic, collision-free,
  and a whole column is one call into OpenSSL instead of one HMAC object per value: 10 million BSNs key in about two
  seconds on one core. A value longer than a block (not a valid BSN; kept rather than lost) takes the HMAC below.
- every other domain, and every purpose pseudonym: HMAC-SHA256 truncated to 128 bits.

Neither is a plain hash: without the key, enumerating the BSN space yields nothing (tests/test_pseudonymisation_*).

Speed, for the HMAC domains: a column is factorised so each distinct value is keyed once, with a pre-keyed HMAC
object copied per value; base32 and the output column are built with numpy. Keying runs in process by default (on
a loaded machine a second process gains little); with `workers` > 1 (or RGW_PSEUDONYM_WORKERS) columns of
PARALLEL_FROM rows or more are split over forked processes that write straight into one shared output buffer.
"""

from __future__ import annotations

import base64
import mmap
import multiprocessing
import os
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from pseudonymisation.encodings import fold
from pseudonymisation.keys import KeyStore

KNOWN_DOMAINS = ("bsn", "a_nummer", "kvk", "rsin", "ean", "email", "phone", "person_name")
LINKAGE = "linkage"
DIGEST_BYTES = 16  # 128 bits of the HMAC
B32_CHARS = 26  # 128 bits in base32 without padding
PSEUDONYM = re.compile(r"^(?P<domain>[a-z][a-z_]*)\.(?P<version>v[1-9][0-9]*)\.(?P<digest>[a-z2-7]{26})$")
PARALLEL_FROM = 200_000  # rows from which a column is keyed in several processes
BLOCK_DOMAINS = ("bsn", "rsin")  # keyed by AES on one block (see the module docstring)
BLOCK_BYTES = 16
BLOCK_CHUNK = 1 << 20  # rows per chunk in the block path: bounded temporaries

_DOMAIN = re.compile(r"^[a-z][a-z_]*$")
_PURPOSE = re.compile(r"^[a-z][a-z0-9_]*$")
_NON_DIGIT = re.compile(r"[^0-9]+")  # ASCII digits only, as the Arrow path
_PHONE_JUNK = re.compile(r"[^0-9+]+")


# --- normalisation -----------------------------------------------------------------------------------------------


def _phone(value: str) -> str | None:
    """E.164-like form: '06-1234 5678', '+31 6 12345678' and '0031612345678' all become '+31612345678'."""
    v = _PHONE_JUNK.sub("", value)
    plus = v.startswith("+")
    digits = v.replace("+", "")
    if not digits:
        return None
    if plus:
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if digits.startswith("0"):
        return "+31" + digits[1:]
    if digits.startswith("31") and len(digits) == 11:
        return "+" + digits
    return digits


def normalise(domain: str, value: str) -> str | None:
    """The canonical form of an identifier before keying, so that '012345678' and '12345678' agree.

    None means the value holds nothing to key (empty, or no digits where digits are the identifier).
    """
    v = value.strip()
    if not v:
        return None
    if domain in ("bsn", "rsin"):
        digits = _NON_DIGIT.sub("", v)
        return digits.zfill(9) if digits else None
    if domain in ("a_nummer", "kvk", "ean"):
        return _NON_DIGIT.sub("", v) or None
    if domain == "email":
        return v.lower()
    if domain == "phone":
        return _phone(v)
    if domain == "person_name":
        return fold(v) or None
    return " ".join(v.lower().split())


def normalise_array(domain: str, values: pa.Array) -> pa.Array:
    """`normalise` over a string column: vectorised (Arrow) for the digit and e-mail domains, per value otherwise."""
    values = pc.cast(values, pa.string())
    if domain in ("bsn", "rsin", "a_nummer", "kvk", "ean"):
        digits = pc.replace_substring_regex(values, r"[^0-9]+", "")
        empty = pc.equal(pc.utf8_length(digits), 0)
        if domain in ("bsn", "rsin"):
            digits = pc.utf8_lpad(digits, 9, "0")
        return pc.if_else(empty, pa.scalar(None, pa.string()), digits)
    if domain == "email":
        low = pc.utf8_lower(pc.utf8_trim_whitespace(values))
        return pc.if_else(pc.equal(pc.utf8_length(low), 0), pa.scalar(None, pa.string()), low)
    return pa.array([None if v is None else normalise(domain, v) for v in values.to_pylist()], pa.string())


def valid_domain(name: str) -> bool:
    """Whether `name` can be an identifier domain (lower-case letters and underscores)."""
    return bool(_DOMAIN.match(name))


def parse_pseudonym(text: str) -> tuple[str, str] | None:
    """(domain, key version) of a pseudonym, or None when `text` is not one."""
    m = PSEUDONYM.match(text or "")
    return (m["domain"], m["version"]) if m else None


# --- keying and base32 -------------------------------------------------------------------------------------------


def _b32_one(digest: bytes) -> str:
    return base64.b32encode(digest).decode().rstrip("=").lower()


def b32_matrix(digests: np.ndarray) -> np.ndarray:
    """Base32 (RFC 4648 alphabet, lower case) of an (n, 16) uint8 matrix: an (n, 26) matrix of ASCII codes.

    The standard library's b32encode is pure Python in 3.11 (slower than the HMAC itself), hence numpy: each 5-byte
    group gives 8 characters by shifts and masks.
    """
    n = len(digests)
    padded = np.zeros((n, 20), np.uint8)
    padded[:, :DIGEST_BYTES] = digests
    b0, b1, b2, b3, b4 = np.ascontiguousarray(padded.reshape(n * 4, 5).T)
    out = np.empty((8, n * 4), np.uint8)
    out[0] = b0 >> 3
    out[1] = ((b0 & 7) << 2) | (b1 >> 6)
    out[2] = (b1 >> 1) & 31
    out[3] = ((b1 & 1) << 4) | (b2 >> 4)
    out[4] = ((b2 & 15) << 1) | (b3 >> 7)
    out[5] = (b3 >> 2) & 31
    out[6] = ((b3 & 3) << 3) | (b4 >> 5)
    out[7] = b4 & 31
    chars = out + np.uint8(ord("a"))  # 0..25 -> a..z
    chars -= (out > 25).view(np.uint8) * np.uint8(ord("a") - ord("2") + 26)  # 26..31 -> 2..7
    return np.ascontiguousarray(chars.T).reshape(n, 32)[:, :B32_CHARS]


def _block_cipher_key(key: bytes) -> bytes:
    """The AES key of a block domain, derived from the domain's pseudonym key (one secret to rotate, not two)."""
    h = hmac.HMAC(key, hashes.SHA256())
    h.update(b"rgw/pseudonym/aes-block")
    return h.finalize()


def _encrypt_blocks(aes_key: bytes, blocks: bytes) -> np.ndarray:
    """AES-256 of each 16-byte block of `blocks`: an (n, 16) uint8 matrix."""
    encryptor = Cipher(algorithms.AES(aes_key), modes.ECB()).encryptor()
    return np.frombuffer(encryptor.update(blocks) + encryptor.finalize(), np.uint8).reshape(-1, BLOCK_BYTES)


def _hmac_digests(key: bytes, items: Iterable[bytes]) -> bytearray:
    copy = hmac.HMAC(key, hashes.SHA256()).copy
    blob = bytearray()
    extend = blob.extend
    for v in items:
        h = copy()
        h.update(v)
        extend(h.finalize()[:DIGEST_BYTES])
    return blob


def digest_one(key: bytes, domain: str | None, normalised: bytes) -> bytes:
    """The 16-byte keyed digest of one normalised value: the single-value form of `_digests`."""
    if domain in BLOCK_DOMAINS and len(normalised) <= BLOCK_BYTES:
        return _encrypt_blocks(_block_cipher_key(key), normalised.ljust(BLOCK_BYTES, b"\0")).tobytes()
    return bytes(_hmac_digests(key, [normalised]))


def _digests(key: bytes, domain: str | None, values: list[bytes]) -> np.ndarray:
    """Keyed 16-byte digests of normalised values: AES blocks for the block domains, HMAC otherwise."""
    if domain not in BLOCK_DOMAINS:
        return np.frombuffer(_hmac_digests(key, values), np.uint8).reshape(-1, DIGEST_BYTES)
    out = np.empty((len(values), DIGEST_BYTES), np.uint8)
    short = np.fromiter((len(v) <= BLOCK_BYTES for v in values), bool, len(values))
    if short.any():
        blocks = b"".join(v.ljust(BLOCK_BYTES, b"\0") for v, s in zip(values, short, strict=True) if s)
        out[short] = _encrypt_blocks(_block_cipher_key(key), blocks)
    if not short.all():
        long_values = [v for v, s in zip(values, short, strict=True) if not s]
        out[~short] = np.frombuffer(_hmac_digests(key, long_values), np.uint8).reshape(-1, DIGEST_BYTES)
    return out


def _b32_rows(digests: np.ndarray) -> np.ndarray:
    chars = np.empty((len(digests), B32_CHARS), np.uint8)
    for start in range(0, len(digests), 1 << 16):  # chunks that stay in cache
        chars[start : start + (1 << 16)] = b32_matrix(digests[start : start + (1 << 16)])
    return chars


def _key_values(key: bytes, values: pa.Array, domain: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Keyed digests of each (already normalised) value as base32 characters (n, 26), and a validity mask.

    The HMAC loop is the hot path of the other domains: bytes straight from Arrow (no str.encode), one pre-keyed
    HMAC copied per value, the digests gathered into one bytearray.
    """
    valid = values.is_valid().to_numpy(zero_copy_only=False)
    digests = _digests(key, domain, pc.cast(values.drop_null(), pa.binary()).to_pylist())
    chars = _b32_rows(digests)
    if len(digests) == len(values):
        return chars, valid
    out = np.zeros((len(values), B32_CHARS), np.uint8)
    out[valid] = chars
    return out, valid


def _block_fill_numbers(key: bytes, prefix: bytes, numbers: np.ndarray, data: np.ndarray, present: np.ndarray) -> None:
    """The block path over a column of 9-digit numbers (-1 for null), chunk by chunk: digits to blocks, one AES
    call per chunk, base32, into the output rows. No factorising, no Python loop per value."""
    aes_key = _block_cipher_key(key)
    powers = 10 ** np.arange(8, -1, -1, dtype=np.int64)
    data[:, : len(prefix)] = np.frombuffer(prefix, np.uint8)
    for start in range(0, len(numbers), BLOCK_CHUNK):
        chunk = numbers[start : start + BLOCK_CHUNK]
        blocks = np.zeros((len(chunk), BLOCK_BYTES), np.uint8)
        blocks[:, :9] = (np.maximum(chunk, 0)[:, None] // powers) % 10 + ord("0")
        data[start : start + len(chunk), len(prefix) :] = _b32_rows(_encrypt_blocks(aes_key, blocks.tobytes()))
        present[start : start + len(chunk)] = chunk >= 0
    data[~present, len(prefix) :] = ord("a")  # what a null row holds (hidden by the validity bitmap)


def _digit_numbers(values: pa.Array) -> np.ndarray | None:
    """The values as integers (-1 for null) when every value is 1 to 9 ASCII digits, else None.

    For such values zero-padding the integer to 9 digits gives exactly `normalise` for BSN and RSIN, so the common
    case at scale takes the block path as integers; anything else (spaces, signs, longer numbers) takes the general
    path, with the same result.
    """
    if values.null_count == len(values):
        return None
    lengths = pc.utf8_length(values)
    if pc.max(lengths).as_py() > 9 or pc.min(lengths).as_py() < 1 or not pc.all(pc.utf8_is_digit(values)).as_py():
        return None
    try:
        return pc.cast(values, pa.int64()).fill_null(-1).to_numpy()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _factorize(domain: str | None, values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """(distinct normalised values, row -> distinct index with -1 for null): each distinct value is keyed once."""
    encoded = pc.dictionary_encode(values)
    uniques = encoded.dictionary if domain is None else normalise_array(domain, encoded.dictionary)
    indices = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    return uniques, indices


def _pseudonym_table(
    key: bytes, prefix: bytes, uniques: pa.Array, width: int, domain: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Whole pseudonyms (prefix included) of distinct normalised values as fixed-size records, plus one extra record
    for null at the end; and the validity of each (the extra one False)."""
    chars, valid = _key_values(key, uniques, domain)
    table = np.empty((len(chars) + 1, width), np.uint8)
    table[:, : len(prefix)] = np.frombuffer(prefix, np.uint8)
    table[: len(chars), len(prefix) :] = chars
    table[len(chars), len(prefix) :] = ord("a")  # what a null row holds (hidden by the validity bitmap)
    return table.view(np.dtype(f"V{width}")).ravel(), np.append(valid, False)


def _fill(
    key: bytes, prefix: bytes, domain: str | None, values: pa.Array, data: np.ndarray, present: np.ndarray
) -> None:
    """Key `values` into its rows of the output: `data` (rows, prefix + 26 bytes, C-contiguous), `present` (rows,).

    Each distinct value is keyed once into a table of whole pseudonyms; the rows are gathered from it as fixed-size
    records in one np.take.
    """
    uniques, indices = _factorize(domain, values)
    table, valid = _pseudonym_table(key, prefix, uniques, data.shape[1], domain)
    rows = np.where(indices >= 0, indices, len(table) - 1)
    np.take(table, rows, out=data.view(table.dtype).ravel())
    present[:] = valid[rows]


_JOB: dict[str, Any] = {}  # the column, key and shared output of a parallel run, set before the workers are forked


def _shared_output() -> tuple[np.ndarray, np.ndarray]:
    job = _JOB
    data = np.frombuffer(job["data"], np.uint8)[: job["rows"] * job["width"]].reshape(job["rows"], job["width"])
    return data, np.frombuffer(job["present"], bool)[: job["rows"]]


def _key_share(bounds: tuple[int, int]) -> None:
    """One worker's share: rows [start, stop) of the column in _JOB (inherited through fork, not pickled), written
    straight into the shared output buffers."""
    start, stop = bounds
    data, present = _shared_output()
    values = _JOB["values"].slice(start, stop - start)
    _fill(_JOB["key"], _JOB["prefix"], _JOB["domain"], values, data[start:stop], present[start:stop])


def _worker_count(workers: int | None, rows: int) -> int:
    if workers is None:
        workers = int(os.environ.get("RGW_PSEUDONYM_WORKERS", "1"))
    if rows < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(workers, rows // (PARALLEL_FROM // 2)))


def key_column(key: bytes, prefix: str, domain: str | None, values: pa.Array, workers: int | None = None) -> pa.Array:
    """`prefix` + base32(keyed digest of the normalised value) for every row; nulls and values with nothing to key
    stay null.

    Every pseudonym has the same width, so the output is one fixed-stride buffer, filled in place; offsets are a
    plain range. A BSN/RSIN column of plain digits takes the block path in process; any other column is factorised
    and, with several workers, split by row range over forked processes that share an anonymous memory map.
    """
    values = pc.cast(values, pa.string()) if values.type != pa.string() else values
    rows = len(values)
    width = len(prefix) + B32_CHARS
    data_buf = mmap.mmap(-1, max(rows * width, 1))
    present_buf = mmap.mmap(-1, max(rows, 1))
    data = np.frombuffer(data_buf, np.uint8)[: rows * width].reshape(rows, width)
    present = np.frombuffer(present_buf, bool)[:rows]
    n_workers = _worker_count(workers, rows)
    block_numbers = _digit_numbers(values) if domain in BLOCK_DOMAINS and rows else None
    if block_numbers is not None:  # fast enough in one process: no fork, no factorising
        _block_fill_numbers(key, prefix.encode(), block_numbers, data, present)
    elif n_workers == 1:
        _fill(key, prefix.encode(), domain, values, data, present)
    else:
        _JOB.update(key=key, prefix=prefix.encode(), domain=domain, values=values)
        _JOB.update(data=data_buf, present=present_buf, rows=rows, width=width)
        size = -(-rows // n_workers)
        shares = [(i, min(rows, i + size)) for i in range(0, rows, size)]
        try:
            with multiprocessing.get_context("fork").Pool(len(shares)) as pool:
                pool.map(_key_share, shares)
        finally:
            _JOB.clear()
    nulls = int(rows - np.count_nonzero(present))
    bitmap = pa.py_buffer(np.packbits(present, bitorder="little")) if nulls else None
    total = rows * width
    offsets_type, string_type = (np.int32, pa.string()) if total < 2**31 else (np.int64, pa.large_string())
    offsets = np.arange(0, total + 1, width, dtype=offsets_type)
    return pa.Array.from_buffers(
        string_type, rows, [bitmap, pa.py_buffer(offsets), pa.py_buffer(data_buf)], null_count=nulls
    )


def _as_string_array(values: pa.Array | pa.ChunkedArray | Iterable[str | None]) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if not isinstance(values, pa.Array):
        values = pa.array(list(values), pa.string())
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    return values


# --- the pseudonymiser -------------------------------------------------------------------------------------------


class Pseudonymiser:
    """Pseudonyms of one identifier domain for one purpose ("linkage" inside the hub).

    For a purpose other than linkage, `pseudonym(value)` is `from_linkage(linkage pseudonym of value)`: one
    definition, whether the purpose pseudonym is made from the identifier or, as publication does, from the linkage
    pseudonym alone.
    """

    def __init__(self, keystore: KeyStore, domain: str, purpose: str = LINKAGE, version: str | None = None):
        if not _DOMAIN.match(domain):
            raise ValueError(f"identifier domain must be lower-case letters and underscores, got {domain!r}")
        if not _PURPOSE.match(purpose):
            raise ValueError(f"purpose must be lower-case letters, digits and underscores, got {purpose!r}")
        self.domain = domain
        self.purpose = purpose
        self.version = version or keystore.version
        self._prefix = f"{domain}.{self.version}."
        self._linkage_key = keystore.derive(f"pseudonym/{domain}/linkage", self.version)
        self._purpose_key = (
            None if purpose == LINKAGE else keystore.derive(f"pseudonym/{domain}/purpose:{purpose}", self.version)
        )
        self._linkage_mac = hmac.HMAC(self._linkage_key, hashes.SHA256())
        self._purpose_mac = None if self._purpose_key is None else hmac.HMAC(self._purpose_key, hashes.SHA256())
        self._cache: dict[str, str | None] = {}

    def __repr__(self) -> str:  # never the keys
        return f"Pseudonymiser(domain={self.domain!r}, purpose={self.purpose!r}, version={self.version!r})"

    __str__ = __repr__

    def _mac(self, mac: hmac.HMAC, text: str) -> str:
        """The HMAC form (purpose pseudonyms, and identifiers of the HMAC domains)."""
        h = mac.copy()
        h.update(text.encode())
        return self._prefix + _b32_one(h.finalize()[:DIGEST_BYTES])

    def _remember(self, key: str, value: str | None) -> None:
        if len(self._cache) < 1_000_000:
            self._cache[key] = value

    def linkage_pseudonym(self, value: str | None) -> str | None:
        """The hub's linkage pseudonym of one identifier (whatever this pseudonymiser's purpose)."""
        if value is None:
            return None
        norm = normalise(self.domain, value)
        if norm is None:
            return None
        return self._prefix + _b32_one(digest_one(self._linkage_key, self.domain, norm.encode()))

    def pseudonym(self, value: str | None) -> str | None:
        """This purpose's pseudonym of one identifier; None for None or a value with nothing to key."""
        if value is None:
            return None
        if value in self._cache:
            return self._cache[value]
        out = self.linkage_pseudonym(value)
        if self._purpose_mac is not None and out is not None:
            out = self._mac(self._purpose_mac, out)
        self._remember(value, out)
        return out

    def from_linkage(self, linkage_pseudonym: str | None) -> str | None:
        """A purpose pseudonym made from a linkage pseudonym, without the plaintext: HMAC(purpose key, pseudonym).

        For the linkage purpose itself this is the identity.
        """
        if linkage_pseudonym is None or self._purpose_mac is None:
            return linkage_pseudonym
        key = "\x00" + linkage_pseudonym  # cannot collide with an identifier in the shared cache
        if key not in self._cache:
            self._remember(key, self._mac(self._purpose_mac, linkage_pseudonym))
        return self._cache[key]

    def pseudonymise_array(
        self, values: pa.Array | pa.ChunkedArray | Iterable[str | None], workers: int | None = None
    ) -> pa.Array:
        """This purpose's pseudonyms of a whole column; nulls stay null; each distinct value is keyed once.

        With `workers` > 1 (default: RGW_PSEUDONYM_WORKERS, else 1) columns of PARALLEL_FROM rows or more are keyed
        in that many forked processes.
        """
        column = _as_string_array(values)
        linkage = key_column(self._linkage_key, self._prefix, self.domain, column, workers)
        return linkage if self._purpose_key is None else self.rekey_array(linkage, workers)

    def rekey_array(
        self, linkage_pseudonyms: pa.Array | pa.ChunkedArray | Iterable[str | None], workers: int | None = None
    ) -> pa.Array:
        """`from_linkage` over a column: this purpose's pseudonyms from linkage pseudonyms, no plaintext needed."""
        column = _as_string_array(linkage_pseudonyms)
        if self._purpose_key is None:
            return column
        return key_column(self._purpose_key, self._prefix, None, column, workers)
