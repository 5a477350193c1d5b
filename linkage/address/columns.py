"""Compact columns for the BAG address index: numbers in flat arrays, no Python object per address.

A BagIndex of the national extract (9.9 million addresses) as Python lists and dictionaries takes some 10 GB; held
as these columns it takes about 70 bytes an address. Each column is filled batch by batch (so the Arrow table it is
read from never has to be whole in memory) and answers the look-ups the resolver makes one address at a time:
- `Coded`: a low-cardinality value (postcode, letter, addition, status, street) as an int32 code per address and
  the distinct values once; `column[row]` gives the value.
- `Ids`: BAG ids (16 digits) as int64, or codes into a list where an id is not all digits of one length (test
  tables); `column[row]` gives the id as text, `code_of(text)` its code.
- `SortedRows`: the rows per (code, number) in one int32 sort order, found with two binary searches; the rows come
  back in ascending order, as the lists of the dictionaries they replace did.

Single values are read with `array.array` (a plain Python int per access, as fast as a list), whole columns with
numpy views on the same memory.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NULL = -1


def as_numpy(values: array) -> np.ndarray:
    """A numpy view (no copy) on an array.array of int32 ("i"), int64 ("q") or int8 ("b")."""
    dtype = {"q": np.int64, "i": np.int32, "b": np.int8}[values.typecode]
    return np.frombuffer(values, dtype=dtype) if len(values) else np.empty(0, dtype=dtype)


def _int32(values: np.ndarray) -> array:
    out = array("i")
    out.frombytes(np.ascontiguousarray(values, dtype=np.int32).tobytes())
    return out


class Coded:
    """A column of few distinct values: an int32 code per row into `values`, each value made once by `make` from
    the distinct value as read (None included)."""

    def __init__(self, make: Callable[[Any], Any] = lambda v: v):
        self.make = make
        self.codes = array("i")
        self.values: list[Any] = []
        self.code_of_read: dict[Any, int] = {}  # the value as read -> its code

    def code(self, read: Any) -> int:
        """The code of a value as read, made on first sight."""
        found = self.code_of_read.get(read)
        if found is None:
            found = self.code_of_read[read] = len(self.values)
            self.values.append(self.make(read))
        return found

    def extend(self, column: pa.Array | pa.ChunkedArray) -> None:
        self.codes.extend(self.encode(column))

    def encode(self, column: pa.Array | pa.ChunkedArray) -> array:
        """The codes of a batch's values (new values get new codes), without adding them to the column."""
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        encoded = column.dictionary_encode()
        mapping = [self.code(v) for v in encoded.dictionary.to_pylist()]
        indices = encoded.indices
        if indices.null_count:  # None gets a code only where it occurs, so codes follow first appearance
            mapping.append(self.code(None))
            indices = pc.fill_null(indices, len(mapping) - 1)
        return _int32(np.array(mapping, np.int32)[indices.to_numpy(zero_copy_only=False)])

    def __getitem__(self, row: int) -> Any:
        return self.values[self.codes[row]]

    def __len__(self) -> int:
        return len(self.codes)

    def numpy(self) -> np.ndarray:
        return as_numpy(self.codes)

    def remade(self, make: Callable[[Any], Any]) -> Coded:
        """The same codes (shared, not copied) with values made otherwise from the values as read: one column
        read once for two uses (BAG's addition as written, and its comparable form)."""
        other = Coded(make)
        other.codes = self.codes
        other.code_of_read = self.code_of_read
        other.values = [make(v) for v in self.code_of_read]  # the dict holds the values as read, in code order
        return other


class Ids:
    """BAG ids: int64 while every id is all digits of one length (the width is kept for writing them back with
    their leading zeros), else codes into a list of the ids as text. Empty and missing ids are NULL."""

    def __init__(self) -> None:
        self.codes = array("q")
        self.width: int | None = None  # digits of every id, while they are numbers
        self.texts: list[str] | None = None  # the ids as text, once they are not
        self._text_code: dict[str, int] = {}

    def extend(self, column: pa.Array | pa.ChunkedArray) -> None:
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        column = column.cast(pa.string())
        present = pc.fill_null(pc.greater(pc.utf8_length(column), 0), False)
        if self.texts is None:
            given = pc.filter(column, present)
            span = pc.min_max(pc.utf8_length(given))
            low, high = span["min"].as_py(), span["max"].as_py()
            numeric = low is None or (
                low == high
                and low <= 18
                and self.width in (None, low)
                and pc.all(pc.match_substring_regex(given, r"^[0-9]+$")).as_py() is not False
            )
            if numeric:
                self.width = low if low is not None else self.width
                numbers = pc.if_else(present, column, pa.scalar(None, pa.string())).cast(pa.int64())
                self.codes.frombytes(pc.fill_null(numbers, NULL).to_numpy().astype(np.int64).tobytes())
                return
            self._to_texts()
        self.codes.extend(self._code(v) if v else NULL for v in column.to_pylist())

    def _to_texts(self) -> None:
        """From numbers to a list of texts: the ids read so far become codes into that list."""
        numbers = as_numpy(self.codes)
        known, inverse = np.unique(numbers[numbers >= 0], return_inverse=True)
        self.texts = [f"{n:0{self.width}d}" for n in known.tolist()]
        self._text_code = {t: i for i, t in enumerate(self.texts)}
        recoded = numbers.copy()
        recoded[numbers >= 0] = inverse
        self.codes = array("q")
        self.codes.frombytes(recoded.tobytes())

    def _code(self, text: str) -> int:
        assert self.texts is not None
        found = self._text_code.get(text)
        if found is None:
            found = self._text_code[text] = len(self.texts)
            self.texts.append(text)
        return found

    def code_of(self, text: str | None) -> int | None:
        """The code an id has in this column (None when it cannot be one of its ids)."""
        if not text:
            return None
        if self.texts is not None:
            return self._text_code.get(text)
        if self.width is None or len(text) != self.width or not text.isdigit():
            return None
        return int(text)

    def text(self, code: int) -> str | None:
        if code < 0:
            return None
        return self.texts[code] if self.texts is not None else f"{code:0{self.width}d}"

    def __getitem__(self, row: int) -> str | None:
        return self.text(self.codes[row])

    def __len__(self) -> int:
        return len(self.codes)

    def numpy(self) -> np.ndarray:
        return as_numpy(self.codes)


class ObjectIds:
    """The verblijfsobject id, which in the address table is the object id when the object is a verblijfsobject and
    empty otherwise: one byte an address saying which, while that holds; a column of its own (`Ids`) once a table
    has other ids there."""

    def __init__(self, objects: Ids):
        self.objects = objects
        self.flags: array | None = array("b")
        self.own: Ids | None = None

    def extend(self, column: pa.Array | pa.ChunkedArray, objects: pa.Array | pa.ChunkedArray) -> None:
        """One batch of the column; `objects` the same batch of the object ids."""
        present = pc.fill_null(pc.greater(pc.utf8_length(column.cast(pa.string())), 0), False)
        same = pc.all(pc.or_kleene(pc.invert(present), pc.equal(column.cast(pa.string()), objects.cast(pa.string()))))
        if self.flags is not None and same.as_py() is not False:
            self.flags.frombytes(present.to_numpy(zero_copy_only=False).astype(np.int8).tobytes())
            return
        if self.own is None:  # from here on a column of its own, the rows so far included
            assert self.flags is not None
            self.own = Ids()
            self.own.extend(pa.array([self.objects[r] if f else None for r, f in enumerate(self.flags)], pa.string()))
            self.flags = None
        self.own.extend(column)

    def __getitem__(self, row: int) -> str | None:
        if self.own is not None:
            return self.own[row]
        assert self.flags is not None
        return self.objects[row] if self.flags[row] else None

    def __len__(self) -> int:
        return len(self.own) if self.own is not None else len(self.flags or ())


class SortedRows:
    """The rows per (key, number), as one sort order: `rows(key, number)` is the ascending list of payload rows
    whose key and number are these, or None. Keys below 0 (no postcode) are never found. Holds 8 bytes an entry:
    the sorted keys and the rows; the numbers are read from `numbers` (one per row) within a key's block."""

    def __init__(self, keys: np.ndarray, numbers: np.ndarray, payload: np.ndarray | None = None):
        rows = np.arange(len(keys), dtype=np.int32) if payload is None else payload
        order = np.lexsort((numbers[rows], keys))  # stable: equal (key, number) stay in row order
        order = order[keys[order] >= 0]
        self._keys = np.ascontiguousarray(keys[order], dtype=np.int32)
        self._rows = np.ascontiguousarray(rows[order], dtype=np.int32)
        self._numbers = numbers

    def rows(self, key: int, number: int) -> list[int] | None:
        key_ = np.int32(key)  # a Python int would make numpy cast the whole array
        lo = int(self._keys.searchsorted(key_, "left"))
        hi = int(self._keys.searchsorted(key_, "right"))
        if lo == hi:
            return None
        block = self._rows[lo:hi]
        numbers = self._numbers[block]  # ascending within the block
        a = int(numbers.searchsorted(np.int32(number), "left"))
        b = int(numbers.searchsorted(np.int32(number), "right"))
        return block[a:b].tolist() if a < b else None

    @property
    def nbytes(self) -> int:
        return self._keys.nbytes + self._rows.nbytes
