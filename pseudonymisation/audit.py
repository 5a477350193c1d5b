"""The audit log: append-only JSON lines, each record chained to the one before by its SHA-256 hash.

Every re-identification (granted or refused), every query through the access gateway and every change of a grant is
one record: who, when, purpose, case or statement, what was read. A record holds its sequence number, the time (UTC),
the previous record's hash and its own hash over its canonical JSON (sorted keys, no spaces, the previous hash
included, its own hash left out), so editing, deleting or inserting a line breaks the chain at that line and
`verify()` names the first broken record. Cutting records off the end leaves a valid chain; that is caught by
comparing with a head (`head()`: last sequence number and hash) kept elsewhere, e.g. in the run's metadata.

Appends take an exclusive file lock (fcntl) and fsync, so two processes never interleave and a returned append is on
disk. The log never holds a plaintext identifier: an event holding anything that looks like a BSN (9 digits passing
the 11-proef), an A-nummer, an EAN-18, an e-mail address or a phone number is refused before anything is written.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.identifiers import is_valid_a_nummer, is_valid_bsn, is_valid_ean18

GENESIS = "0" * 64
_BOUND_L, _BOUND_R = r"(?<![0-9A-Za-z])", r"(?![0-9A-Za-z])"
_NINE = re.compile(_BOUND_L + r"(\d{9})" + _BOUND_R)
_TEN = re.compile(_BOUND_L + r"([1-9]\d{9})" + _BOUND_R)
_EIGHTEEN = re.compile(_BOUND_L + r"(\d{18})" + _BOUND_R)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(_BOUND_L + r"(?:\+31|0031|0)[ -]?(?:6[ -]?\d{8}|[1-9]\d[ -]?\d{7})" + r"(?![0-9])")


class AuditError(RuntimeError):
    """The log refused an event (it holds an identifier) or cannot be appended to (its last record is damaged)."""


def canonical(record: dict[str, Any]) -> bytes:
    """The bytes a record's hash is taken over: sorted keys, no whitespace, UTF-8."""
    return json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def record_hash(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({k: v for k, v in record.items() if k != "hash"})).hexdigest()


def looks_identifying(value: Any) -> str | None:
    """What kind of direct identifier a value (or anything inside it) looks like, if any."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if any(is_valid_bsn(m) for m in _NINE.findall(text)):
        return "a BSN"
    if any(is_valid_a_nummer(m) for m in _TEN.findall(text)):
        return "an A-nummer"
    if any(is_valid_ean18(m) for m in _EIGHTEEN.findall(text)):
        return "an EAN code"
    if _EMAIL.search(text):
        return "an e-mail address"
    if _PHONE.search(text):
        return "a phone number"
    return None


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of walking the chain: ok, how many records were read, and where and why it broke."""

    ok: bool
    records: int
    first_broken_seq: int | None = None
    reason: str = ""


def _last_line(f: Any) -> bytes | None:
    """The last non-empty line of a binary file, read from the end (the log can be long)."""
    f.seek(0, os.SEEK_END)
    pos = f.tell()
    buf = b""
    while pos > 0:
        step = min(8192, pos)
        pos -= step
        f.seek(pos)
        buf = f.read(step) + buf
        lines = [ln for ln in buf.split(b"\n") if ln.strip()]
        if len(lines) > 1 or (lines and pos == 0):
            return lines[-1]
    return None


class AuditLog:
    """An append-only, hash-chained JSON-lines file."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"AuditLog(path={str(self.path)!r})"

    def append(self, event: dict[str, Any]) -> dict[str, Any]:
        """Add one event; returns the record as written (seq, time, prev_hash, event, hash)."""
        found = looks_identifying(event)
        if found:
            raise AuditError(f"refused to write an audit event holding {found}: the log never holds plaintext")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                last = _last_line(f)
                try:
                    prev = json.loads(last) if last else None
                except json.JSONDecodeError as exc:
                    raise AuditError("the last record of the audit log is damaged; run `rgw audit verify`") from exc
                record = {
                    "seq": (prev["seq"] + 1) if prev else 1,
                    "time": datetime.now(UTC).isoformat(timespec="microseconds"),
                    "prev_hash": prev["hash"] if prev else GENESIS,
                    "event": event,
                }
                record["hash"] = record_hash(record)
                f.seek(0, os.SEEK_END)
                f.write((json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode())
                f.flush()
                os.fsync(f.fileno())
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
        return record

    def records(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def head(self) -> tuple[int, str]:
        """(sequence number, hash) of the last record, (0, GENESIS) for an empty log: an anchor to keep elsewhere."""
        if not self.path.exists():
            return 0, GENESIS
        with open(self.path, "rb") as f:
            last = _last_line(f)
        if last is None:
            return 0, GENESIS
        record = json.loads(last)
        return record["seq"], record["hash"]

    def verify(self, expected_head: tuple[int, str] | None = None) -> VerifyResult:
        """Walk the chain; name the first record whose hash, link or sequence does not hold.

        With `expected_head` (an earlier `head()`), also report records cut off the end or a replaced tail.
        """
        prev_hash, expected_seq, n = GENESIS, 1, 0
        lines = self.path.read_text(encoding="utf-8").splitlines() if self.path.exists() else []
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                return VerifyResult(False, n, expected_seq, f"line {lineno} is not valid JSON")
            n += 1
            seq = record.get("seq")
            if seq != expected_seq:
                return VerifyResult(
                    False,
                    n,
                    expected_seq,
                    f"line {lineno}: sequence {seq} where {expected_seq} was due (a record was removed or inserted)",
                )
            if record.get("prev_hash") != prev_hash:
                return VerifyResult(False, n, seq, f"record {seq} does not link to the hash of record {seq - 1}")
            if record_hash(record) != record.get("hash"):
                return VerifyResult(False, n, seq, f"record {seq} was changed after it was written (hash mismatch)")
            if expected_head is not None and seq == expected_head[0] and record["hash"] != expected_head[1]:
                return VerifyResult(False, n, seq, f"record {seq} differs from the head recorded earlier")
            prev_hash, expected_seq = record["hash"], expected_seq + 1
        if expected_head is not None and n < expected_head[0]:
            return VerifyResult(
                False, n, n + 1, f"the log ends at record {n}, but record {expected_head[0]} was written earlier"
            )
        return VerifyResult(True, n)
