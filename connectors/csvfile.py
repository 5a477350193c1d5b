"""Reading the hub-defined CSV deliveries (UTF-8 with or without BOM, `;`, one header row) and JSON files.

Every hub-defined format shares the same failure modes, so they are caught once here with messages that name the
file and the place: a 0-byte file, bytes that are not UTF-8 (with the line), a header that does not split on `;`
(wrong delimiter), a required column missing, a row with the wrong number of fields (truncated), and malformed JSON
(with line and column). Extra or missing optional columns are returned as schema drift, never as errors.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from connectors.delivery import DeliveryError, SchemaDrift, detect_drift


def decoded_lines(path: Path, encoding: str = "utf-8") -> Iterator[str]:
    """Text lines of a file; undecodable bytes raise a DeliveryError naming the line."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                raise DeliveryError(
                    path, f"line {number}", f"bytes that are not {encoding.upper()} ({exc.reason}): wrong encoding?"
                ) from exc
            if number == 1:
                text = text.removeprefix("\ufeff")
            yield text


def _delimiter_guess(line: str) -> str:
    for name, char in (("tab", "\t"), ("comma", ","), ("pipe", "|")):
        if char in line:
            return name
    return "another character"


def csv_rows(reader: Any, path: Path) -> Iterator[list[str]]:
    """The rows of a csv.reader; a row the csv module cannot parse (a field over the limit, a NUL byte, bad quoting
    in strict mode) raises a DeliveryError naming the line instead of escaping as csv.Error."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DeliveryError(path, f"line {reader.line_num}", f"malformed CSV ({exc})") from None
        yield row


class HubCsv:
    """One hub-defined CSV file: its header checked, its rows as dicts with the line number."""

    def __init__(
        self,
        path: Path,
        required: Iterable[str],
        optional: Iterable[str] = (),
        delimiter: str = ";",
        renames: dict[str, str] | None = None,
    ):
        self.path = Path(path)
        if self.path.stat().st_size == 0:
            raise DeliveryError(self.path, "byte 0", "empty file")
        self.required = list(required)
        self.optional = list(optional)
        self.delimiter = delimiter
        self._reader = csv.reader(decoded_lines(self.path), delimiter=delimiter)
        try:
            raw_header = next(self._reader)
        except StopIteration:
            raise DeliveryError(self.path, "line 1", "no header row") from None
        except csv.Error as exc:
            raise DeliveryError(self.path, "line 1", f"malformed CSV header ({exc})") from None
        header = [h.strip() for h in raw_header]
        renames = renames or {}
        header = [renames.get(h, h) if h not in self.required + self.optional else h for h in header]
        if len(header) == 1 and (len(self.required) > 1 or any(c in raw_header[0] for c in ",\t|")):
            raise DeliveryError(
                self.path,
                "line 1",
                f"the header does not split on {delimiter!r} (it looks {_delimiter_guess(raw_header[0])}-separated): "
                "wrong delimiter?",
            )
        for col in self.required:
            if col not in header:
                raise DeliveryError(self.path, "line 1", f"required column {col!r} is missing", col)
        self.header = header
        self.drift: list[SchemaDrift] = detect_drift(raw_header, self.required + self.optional, renames)

    def rows(self) -> Iterator[tuple[int, dict[str, str | None]]]:
        width = len(self.header)
        for row in csv_rows(self._reader, self.path):
            line = self._reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != width:
                raise DeliveryError(
                    self.path, f"line {line}", f"row has {len(row)} fields where the header has {width}: truncated row?"
                )
            yield line, {h: (v.strip() or None) for h, v in zip(self.header, row, strict=True)}


def load_json(path: Path) -> Any:
    """Parse a JSON file; a 0-byte file, bad bytes or malformed JSON raise a DeliveryError naming the place."""
    data = Path(path).read_bytes()
    if not data.strip():
        raise DeliveryError(path, "byte 0", "empty file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DeliveryError(path, f"line {line}", "bytes that are not UTF-8: wrong encoding?") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DeliveryError(path, f"line {exc.lineno} column {exc.colno}", f"malformed JSON ({exc.msg})") from None
    except (ValueError, RecursionError) as exc:  # a number of more than 4300 digits, nesting deeper than Python's stack
        raise DeliveryError(path, "a value", f"malformed JSON: a value too large or too deep to read ({exc})") from None


def split_list(value: str | None, sep: str = "|") -> list[str]:
    return [v.strip() for v in value.split(sep) if v.strip()] if value else []


def to_int(value: Any) -> int | None:
    """Whole numbers as delivered (a string or a number); raises ValueError on anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != int(value):
            raise ValueError(value)
        return int(value)
    return int(str(value).strip())


def to_float(value: Any, decimal_comma: bool = False) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if decimal_comma:
        text = text.replace(".", "").replace(",", ".") if "," in text else text
    return float(text)
