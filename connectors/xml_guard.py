"""A guard between a delivered XML stream and the parser: hostile XML is refused before it costs memory.

What it refuses, each with a DeliveryError naming the file and the byte where it was seen:
- a DOCTYPE (or an ENTITY declaration) before the root element. LVBAG files never have one; a DTD is where external
  entities (XXE) and entity expansion ("billion laughs") live, and lxml's `huge_tree`, which building outlines need,
  lifts libxml2's own limits on expansion. Refusing any DTD closes both doors whatever the parser's settings.
- more than PROLOG_LIMIT bytes before the root element;
- a run of more than WHITESPACE_LIMIT bytes of whitespace: libxml2 keeps a text node whole, so 1 GB of whitespace
  inside an element would cost 1 GB of memory before anything fails;
- a zip member that expands beyond EXPANSION_LIMIT times its compressed size (past the first EXPANSION_FLOOR bytes):
  a zip bomb is refused while it is read, in bounded memory, not after it was inflated.

The checks run on the bytes as they pass (C-level bytes methods, no per-byte Python loop).
"""

from __future__ import annotations

import re
from typing import IO

from connectors.delivery import DeliveryError

PROLOG_LIMIT = 1 << 20
WHITESPACE_LIMIT = 16 << 20
EXPANSION_LIMIT = 200  # LVBAG XML deflates 10 to 30 times; whitespace or repeated bytes some 1,000 times
EXPANSION_FLOOR = 64 << 20
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_ROOT = re.compile(rb"<[A-Za-z_]")
_COMMENTS_AND_PIS = re.compile(rb"<!--.*?-->|<\?.*?\?>", re.DOTALL)


class GuardedStream:
    """A binary stream for the parser that checks what passes (see the module docstring).

    `packed_size` is the compressed size of a zip member (None for a plain file: no expansion check); with
    `xml=False` (a zip inside a zip) only the expansion is checked."""

    def __init__(self, stream: IO[bytes], name: str, packed_size: int | None = None, xml: bool = True):
        self.stream = stream
        self.name = name
        self.packed_size = packed_size
        self.xml = xml
        self.total = 0
        self.prolog: bytes | None = b"" if xml else None  # None once the root element has started
        self.blank_run = 0

    def read(self, n: int = -1) -> bytes:
        data = self.stream.read(n)
        if not data:
            return data
        if self.prolog is not None:
            self._check_prolog(data)
        if self.xml:
            self._check_whitespace(data)
        self.total += len(data)
        if (
            self.packed_size is not None
            and self.total > EXPANSION_FLOOR
            and self.total > EXPANSION_LIMIT * max(self.packed_size, 1)
        ):
            raise DeliveryError(
                self.name,
                f"byte {self.total}",
                f"zip member expands more than {EXPANSION_LIMIT} times its compressed size of {self.packed_size} "
                "bytes: refused as a zip bomb",
            )
        return data

    def _check_prolog(self, data: bytes) -> None:
        """Look for a DTD before the root element (UTF-16 read as UTF-8 with its zero bytes dropped)."""
        self.prolog = (self.prolog or b"") + data
        text = self.prolog.replace(b"\x00", b"") if self.prolog[:2] in (b"\xff\xfe", b"\xfe\xff") else self.prolog
        without = _COMMENTS_AND_PIS.sub(b"", text)
        root = _ROOT.search(without)
        head = without[: root.start()] if root else without
        found = _DTD.search(head)
        if found:
            raise DeliveryError(
                self.name,
                f"byte {self.total + found.start()}",
                f"XML with a <!{found.group(1).decode().upper()}> declaration: refused (LVBAG has no DTD; a DTD can "
                "hold external entities or entity expansion)",
            )
        if root:
            self.prolog = None
        elif len(self.prolog) > PROLOG_LIMIT:
            raise DeliveryError(
                self.name, f"byte {self.total}", f"no root element in the first {PROLOG_LIMIT} bytes: not an LVBAG file"
            )

    def _check_whitespace(self, data: bytes) -> None:
        if data.isspace():
            self.blank_run += len(data)
        else:
            lead = len(data) - len(data.lstrip())
            if self.blank_run + lead > WHITESPACE_LIMIT:
                self._refuse_whitespace()
            self.blank_run = len(data) - len(data.rstrip())
        if self.blank_run > WHITESPACE_LIMIT:
            self._refuse_whitespace()

    def _refuse_whitespace(self) -> None:
        raise DeliveryError(
            self.name,
            f"byte {self.total}",
            f"more than {WHITESPACE_LIMIT >> 20} MB of whitespace in a row: refused (padding that would be held whole "
            "in memory)",
        )

    def close(self) -> None:
        self.stream.close()
