"""The audit log: append-only JSON lines, each record chained to the one before by its SHA-256 hash.

Every re-identification (granted or refused), every query through the access gateway and every change of a grant is
one record: who, when, purpose, case or statement, what was read. A record holds its sequence number, the time (UTC),
the previous record's hash and its own hash over its canonical JSON (sorted keys, no spaces, the previous hash
included, its own hash left out), so editing, deleting or inserting a line breaks the chain at that line and
`verify()` names the first broken record.

Cutting records off the end leaves a valid chain, so the head (last sequence number and hash) is also kept in a
second place, written separately after every append: the anchor file, by default `<data>/keys/audit-head.json` for
the hub's log at `<data>/audit/audit.jsonl` (beside the keys, a folder with its own permissions), and in every
privacy report. `verify()` checks the log against the anchor (or a head given to it), and an append refuses to write
behind a log that is shorter than its anchor, so a cut tail is not papered over by new records.

Appends take an exclusive file lock (fcntl) and fsync, so two processes never interleave and a returned append is on
disk. The log never holds a plaintext identifier: anything inside an event that looks like a BSN (9 digits passing
the 11-proef), an A-nummer, an EAN-18, an e-mail address or a phone number is replaced by `<redacted: ...>` and the
event names what was redacted. The record is always written: refusing it would leave the action unlogged. Callers
write the record before the action takes effect (or before its result is handed out), so an action whose record
cannot be written does not happen.
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
    """The log cannot be appended to: its last record is damaged, or it is shorter than its anchor says."""


def canonical(record: dict[str, Any]) -> bytes:
    """The bytes a record's hash is taken over: sorted keys, no whitespace, UTF-8."""
    return json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def record_hash(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({k: v for k, v in record.items() if k != "hash"})).hexdigest()


_KINDS = (
    (_NINE, is_valid_bsn, "a BSN"),
    (_TEN, is_valid_a_nummer, "an A-nummer"),
    (_EIGHTEEN, is_valid_ean18, "an EAN code"),
    (_EMAIL, None, "an e-mail address"),
    (_PHONE, None, "a phone number"),
)


def _redact_text(text: str, found: set[str]) -> str:
    for pattern, valid, kind in _KINDS:

        def mark(m: re.Match[str], valid: Any = valid, kind: str = kind) -> str:
            if valid is not None and not valid(m.group(m.lastindex or 0)):
                return m.group(0)
            found.add(kind)
            return f"<redacted: {kind}>"

        text = pattern.sub(mark, text)
    return text


def redact(value: Any, found: set[str] | None = None) -> Any:
    """`value` with everything inside it that looks like a direct identifier replaced by `<redacted: kind>`;
    the kinds replaced are added to `found`."""
    found = set() if found is None else found
    if isinstance(value, str):
        return _redact_text(value, found)
    if isinstance(value, dict):
        return {redact(str(k), found): redact(v, found) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v, found) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        text = _redact_text(str(value), found)
        return value if text == str(value) else text
    return value


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


def _default_anchor(log: Path) -> Path | None:
    """The hub's layout: the log at `<data>/audit/audit.jsonl`, its anchor beside the keys in `<data>/keys`."""
    if log.parent.name == "audit":
        return log.parent.parent / "keys" / f"{log.stem}-head.json"
    return None


class AuditLog:
    """An append-only, hash-chained JSON-lines file, with its head anchored in a second file."""

    def __init__(self, path: Path, anchor: Path | None = None):
        self.path = Path(path)
        self.anchor = Path(anchor) if anchor is not None else _default_anchor(self.path)

    def __repr__(self) -> str:
        return f"AuditLog(path={str(self.path)!r})"

    def anchored_head(self) -> tuple[int, str] | None:
        """The head last written to the anchor file, or None when there is none."""
        if self.anchor is None or not self.anchor.exists():
            return None
        try:
            data = json.loads(self.anchor.read_text(encoding="utf-8"))
            return int(data["seq"]), str(data["hash"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise AuditError(
                f"the audit log's anchor {self.anchor} cannot be read ({exc}); compare the log with the head in the "
                "latest privacy report (rgw audit verify --head SEQ:HASH), then remove the damaged anchor"
            ) from exc

    def _write_anchor(self, record: dict[str, Any]) -> None:
        if self.anchor is None:
            return
        self.anchor.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.anchor.with_name(f".{self.anchor.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"seq": record["seq"], "hash": record["hash"], "time": record["time"], "log": str(self.path)}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.anchor)

    def _check_against_anchor(self, prev: dict[str, Any] | None) -> None:
        anchored = self.anchored_head()
        if anchored is None:
            return
        seq, digest = (prev["seq"], prev["hash"]) if prev else (0, GENESIS)
        if seq < anchored[0] or (seq == anchored[0] and digest != anchored[1]):
            raise AuditError(
                f"the audit log ends at record {seq}, but its anchor ({self.anchor}) says record {anchored[0]} was "
                "written: records were cut off the end; run `rgw audit verify` and restore the log"
            )

    def append(self, event: dict[str, Any]) -> dict[str, Any]:
        """Add one event (identifier-like text redacted); returns the record as written."""
        found: set[str] = set()
        event = redact(event, found)
        if found:
            event["redacted"] = sorted(found)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                last = _last_line(f)
                try:
                    prev = json.loads(last) if last else None
                except json.JSONDecodeError as exc:
                    raise AuditError("the last record of the audit log is damaged; run `rgw audit verify`") from exc
                self._check_against_anchor(prev)
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
                self._write_anchor(record)
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

        Checked against `expected_head` (an earlier `head()`, e.g. from a privacy report) or else the anchor file,
        so records cut off the end or a replaced tail are reported too.
        """
        if expected_head is None:
            expected_head = self.anchored_head()
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
