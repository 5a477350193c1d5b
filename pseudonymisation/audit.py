"""The audit log: append-only JSON lines, each record chained to the one before by its SHA-256 hash.

Every re-identification (granted or refused), every query through the access gateway and every change of a grant is
one record: who, when, purpose, case or statement, what was read. A record holds its sequence number, the previous
record's hash and its own hash over its canonical JSON, so deleting, inserting or editing a line breaks the chain at
that line, and `rgw audit verify` names it. Appends take an exclusive file lock and fsync, so two processes never
interleave. The log never holds a plaintext identifier: an event with something that looks like a BSN, an e-mail
address or a phone number is refused before it is written.
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

from connectors.identifiers import is_valid_bsn

GENESIS = "0" * 64
_NINE = re.compile(r"(?<![0-9A-Za-z])(\d{9})(?![0-9A-Za-z])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![0-9A-Za-z])(?:\+31|0031|0)6[ -]?\d{8}(?![0-9])")


class AuditError(RuntimeError):
    pass


def _canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _hash(record: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(record)).hexdigest()


def looks_identifying(value: Any) -> str | None:
    """What kind of direct identifier a value of an event looks like, if any."""
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    if any(is_valid_bsn(m) for m in _NINE.findall(text)):
        return "a BSN"
    if _EMAIL.search(text):
        return "an e-mail address"
    if _PHONE.search(text):
        return "a phone number"
    return None


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    records: int
    first_broken_seq: int | None = None
    reason: str = ""


class AuditLog:
    def __init__(self, path: Path):
        self.path = Path(path)

    def append(self, event: dict[str, Any]) -> dict[str, Any]:
        """Add one event; returns the record as written (with seq, time and hashes)."""
        found = looks_identifying(event)
        if found:
            raise AuditError(f"refused to write an audit event holding {found}: the log never holds plaintext")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                f.seek(0)
                last = None
                for line in f:
                    if line.strip():
                        last = line
                prev = json.loads(last) if last else None
                record = {
                    "seq": (prev["seq"] + 1) if prev else 1,
                    "time": datetime.now(UTC).isoformat(timespec="microseconds"),
                    "prev_hash": prev["hash"] if prev else GENESIS,
                    "event": event,
                }
                record["hash"] = _hash(record)
                f.seek(0, os.SEEK_END)
                f.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
                f.flush()
                os.fsync(f.fileno())
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
        return record

    def records(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def verify(self) -> VerifyResult:
        """Walk the chain; the first record whose hash, link or sequence does not hold is named."""
        if not self.path.exists():
            return VerifyResult(True, 0)
        prev_hash, expected_seq, n = GENESIS, 1, 0
        for lineno, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
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
            body = {k: v for k, v in record.items() if k != "hash"}
            if _hash(body) != record.get("hash"):
                return VerifyResult(False, n, seq, f"record {seq} was changed after it was written (hash mismatch)")
            prev_hash, expected_seq = record["hash"], expected_seq + 1
        return VerifyResult(True, n)
