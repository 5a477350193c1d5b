"""GBA-V persoonslijsten CSV, in the layout of the RvIG test set (proefomgeving GBA-V).

The layout, as the real file shows it: `;`-separated, UTF-8 with BOM, one header row of element codes `cc.gg.ee`
(category, group, element), a first column with an empty header that holds the persoonslijst id on the first row of
each person, and several rows per person. Each category fills its own columns row by row, and its column `cc.H`
says what the category's *next* row holds: `cc + 50` (51, 54, 58...) the history of the same entry, `cc` itself a
new entry of a repeating category (a second nationality), empty the end. So for a person:

- category 01 (the person) and 07 (inschrijving) are current on the first row;
- category 04 (nationaliteit) starts a new entry after a row marked `04`; only the first row of an entry is current,
  and an entry whose current row has no 04.05.10 has ended (04.64.10 reden beëindigen): the person no longer has
  that nationality, and a history row of it must not make it current again;
- category 08 (verblijfplaats) is current on the first row; every further row with 08 data is history (category
  58), most recent first. The test set also has a few history rows without the `58` marker before them and a few
  markers with no row after them; the data, not the marker, decides here, which the address order always allows.

Category 58 rows are not all spells: a row marked onjuist (08.84.10) was corrected and never held, and a row with the
same datum aanvang adreshouding (08.10.30; 08.13.20 abroad) as the row before it is an older version of the same
spell (a house number corrected, a woonplaats or BAG ids added in 2011): the newest version is the spell. Both are
counted in `info` so rows reconcile: verblijfplaats_rows = spells + onjuist_skipped + versions_merged.

GBA standard values for "unknown" become null: 0000000000000000 for the BAG ids and `.` for the geslachtsnaam;
00 in a date marks an unknown month or day (PartialDate).

Speed: a city extract has some two million rows of 257 columns, more than Python's csv module can even split at
the rate wanted (>= 100k rows/s), so pyarrow reads the file in one streaming pass, converting only the columns used
here, and the spells are numbered, dated and checked column-wise per window of whole persons; Python loops over
persons (identifiers, nationalities), over what goes to quarantine and over each distinct date, postcode and house
number once. The bytes pass through a UTF-8 check on their way to pyarrow, which names the line of a bad byte in
any column, read or not. When pyarrow cannot parse the file, the csv module reads it again to name the line, so
errors are as precise as a line-by-line reader's; that second read happens only on the way to the error.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from connectors.brp_types import PERSOON_SCHEMA, VERBLIJF_SCHEMA, BrpSink, Problem, check_bag_ids, check_house_number
from connectors.delivery import DeliveryError, SchemaDrift, detect_drift
from connectors.identifiers import normalise_postcode, parse_gba_date
from connectors.prefetch import prefetched
from connectors.snapshots import refuse_empty_snapshot

ID_CODES = ("01.01.20", "01.01.10")  # BSN, A-nummer: at least one of the two columns is required
NAME_CODE = "01.02.40"  # geslachtsnaam: required
PERSON_CODES = (
    "01.01.20",
    "01.01.10",
    "01.02.10",
    "01.02.30",
    "01.02.40",
    "01.03.10",
    "01.04.10",
    "07.70.10",
    "08.09.10",
)
NAT_CODES = ("04.05.10", "04.84.10", "04.H")
ADDRESS_CODES = (
    "08.09.10",  # gemeente van inschrijving
    "08.10.30",  # datum aanvang adreshouding
    "08.11.10",  # straatnaam (24 characters)
    "08.11.15",  # naam openbare ruimte
    "08.11.20",  # huisnummer
    "08.11.30",  # huisletter
    "08.11.40",  # huisnummertoevoeging
    "08.11.50",  # aanduiding bij huisnummer (to, by)
    "08.11.60",  # postcode
    "08.11.70",  # woonplaatsnaam
    "08.11.80",  # identificatiecode verblijfplaats (BAG adresseerbaar object)
    "08.11.90",  # identificatiecode nummeraanduiding
    "08.12.10",  # locatiebeschrijving
    "08.13.10",  # land adres buitenland (0000: onbekend)
    "08.13.20",  # datum aanvang adres buitenland
    "08.84.10",  # indicatie onjuist
    "08.H",
)
# Which rows hold a category: any of these columns filled. Every GBA category row has its datum van opneming
# (86.10), and an ended nationality has only 04.64.10 besides; a row with nothing but 08.72.10 (aangifte, in the test
# set once) holds no address and is no spell.
PRESENCE = {
    "01": ("01.01.10", "01.01.20", "01.02.10", "01.02.40", "01.03.10"),
    "04": ("04.05.10", "04.64.10", "04.65.10", "04.84.10", "04.85.10", "04.86.10"),
    "08": (*ADDRESS_CODES[:-1], "08.85.10", "08.86.10"),
}
USED = tuple(sorted(set(PERSON_CODES + NAT_CODES + ADDRESS_CODES).union(*PRESENCE.values())))
_GBA_CODE = re.compile(r"^\d{2}\.(\d{2}\.\d{2}|H)$")
_UNKNOWN_BAG_ID = "0000000000000000"  # the GBA standard value for "unknown"
_GEHEIMHOUDING = pa.array(list("01234567"))  # geheimhouding persoonsgegevens: codes 0-7
_BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
_LAND_ONBEKEND = "0000"
_BLOCK_SIZE = 4 << 20
_INVALID = ("invalid", "invalid")


@dataclass(frozen=True)
class _Layout:
    """Where the columns this connector reads are, as pyarrow names them (f0, f1, ...)."""

    width: int
    column: dict[str, str]  # element code -> pyarrow column name, for the codes present
    presence: dict[str, list[str]]  # category -> the columns that show a row holds it (PRESENCE)

    def include(self) -> list[str]:
        return sorted({"f0", *self.column.values()}, key=lambda n: int(n[1:]))


def _read_header(path: Path) -> tuple[list[str], bool]:
    """The header fields, and whether any bytes follow the header line (no: a header-only file)."""
    with open(path, "rb") as f:
        raw = f.readline()
        more = bool(f.read(1))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DeliveryError(path, "line 1", f"bytes that are not UTF-8 ({exc.reason}): wrong encoding?") from None
    text = text.removeprefix("\ufeff").rstrip("\r\n")
    return next(csv.reader([text], delimiter=";")), more


def _delimiter_guess(text: str) -> str:
    for name, char in (("tab", "\t"), ("comma", ","), ("pipe", "|")):
        if char in text:
            return name
    return "another character"


def _layout(path: Path, header: list[str]) -> tuple[_Layout, list[SchemaDrift]]:
    """Check the header (delimiter, id column, required columns) and find the columns; drift for the rest."""
    names = [h.strip() for h in header]
    if len(names) < 3:
        raise DeliveryError(
            path,
            "line 1",
            f"the header does not split on ';' (it looks {_delimiter_guess(';'.join(names))}-separated): "
            "wrong delimiter?",
        )
    if _GBA_CODE.match(names[0]):
        raise DeliveryError(
            path, "line 1, column 1", "the first column must hold the persoonslijst id (empty header), not an element"
        )
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        if i > 0:
            index.setdefault(name, i)
    if not any(c in index for c in ID_CODES):
        raise DeliveryError(
            path, "line 1", "required column 01.01.20 (BSN) or 01.01.10 (A-nummer) is missing", ID_CODES[0]
        )
    if NAME_CODE not in index:
        raise DeliveryError(path, "line 1", f"required column {NAME_CODE} (geslachtsnaam) is missing", NAME_CODE)
    presence = {cat: [f"f{index[c]}" for c in codes if c in index] for cat, codes in PRESENCE.items()}
    layout = _Layout(len(names), {c: f"f{index[c]}" for c in USED if c in index}, presence)
    # Drift: columns the connector reads that are absent, and columns that are no GBA element code at all. Element
    # codes it does not read are not drift: which ones an extract has depends on the recipient's authorisation.
    found = [n for i, n in enumerate(names) if i > 0 and n and (n in USED or not _GBA_CODE.match(n))]
    return layout, detect_drift(found, USED)


class _Utf8CheckedStream(io.RawIOBase):
    """The file's bytes on their way to pyarrow, checked to be UTF-8 line by line and with the lines counted.

    pyarrow only validates the columns it converts; a latin-1 name in a column this connector skips would pass,
    while the file is in the wrong encoding all the same.
    """

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self._file = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._tail = b""
        self.newlines = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        if data:
            buf = self._tail + data
            cut = buf.rfind(b"\n") + 1
            self._check(buf[:cut])
            self._tail = buf[cut:]
        else:
            self.finish()
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def finish(self) -> None:
        """Check what is left after the last line break (a last line without one)."""
        if self._tail:
            self._check(self._tail)
            self.newlines += 1
            self._tail = b""

    def _check(self, chunk: bytes) -> None:
        if not _is_utf8(chunk):
            try:  # the failure path only: Python's decoder names where
                chunk.decode("utf-8")
                reason, start = "refused by Arrow's UTF-8 check", 0
            except UnicodeDecodeError as exc:
                reason, start = exc.reason, exc.start
            line = self.newlines + chunk.count(b"\n", 0, start) + 1
            raise DeliveryError(self.path, f"line {line}", f"bytes that are not UTF-8 ({reason}): wrong encoding?")
        self.newlines += chunk.count(b"\n")

    def close(self) -> None:
        self._file.close()
        super().close()


def _is_utf8(chunk: bytes) -> bool:
    """Whether `chunk` is valid UTF-8, checked by Arrow (what Python's strict decoder accepts, surrogates and overlong
    forms refused alike): decoding the city's 406 MB extract in Python to check it took 0.8 to 1.1 s of CPU on the
    thread that feeds pyarrow, holding the GIL; Arrow's check takes 0.04 s (5 December 2026)."""
    try:
        pa.array([chunk], pa.binary()).cast(pa.string())
    except pa.ArrowInvalid:
        return False
    return True


def _locate_parse_error(path: Path, width: int) -> DeliveryError:
    """Read the file with the csv module to name the line pyarrow could not parse (the failure path only)."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        reader = csv.reader(f, delimiter=";", strict=True)
        expected = 2
        try:
            next(reader)
            for row in reader:
                line = reader.line_num
                if line != expected:
                    return DeliveryError(
                        path,
                        f"line {expected}",
                        f"a quoted value runs over lines {expected}-{line}; GBA-V values hold no line breaks",
                    )
                if row and len(row) != width:
                    return DeliveryError(
                        path, f"line {line}", f"row has {len(row)} fields where the header has {width}: truncated row?"
                    )
                expected = line + 1
        except csv.Error as exc:
            return DeliveryError(path, f"line {reader.line_num}", f"malformed CSV ({exc}): truncated or bad quoting?")
    return DeliveryError(path, "unknown line", "pyarrow could not parse the file, nor could the csv module find where")


def _nonempty(table: pa.Table, names: Sequence[str]) -> np.ndarray:
    """Row numbers of the rows with a value in any of the given columns."""
    mask = None
    for name in names:
        m = pc.not_equal(table.column(name), "")
        mask = m if mask is None else pc.or_(mask, m)
    if mask is None:
        return np.empty(0, dtype=np.int64)
    return pc.indices_nonzero(mask).to_numpy().astype(np.int64)


def _take(table: pa.Table, name: str | None, rows: pa.Array) -> pa.Array:
    """The trimmed values of a column in the given rows; '' everywhere when the column is absent (None)."""
    if name is None:
        return pa.array([""] * len(rows), pa.string())
    return pc.utf8_trim_whitespace(table.column(name).take(rows)).combine_chunks()


def _bools(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=bool)


def _null_empty(values: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


def _within_group(owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows sorted by owner: whether each is the first of its owner, and the position of that first row."""
    first = np.ones(len(owner), dtype=bool)
    first[1:] = owner[1:] != owner[:-1]
    group = np.maximum.accumulate(np.where(first, np.arange(len(owner)), 0))
    return first, group


def _digits(values: pa.Array, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows whose value is `width` ASCII digits, and those digits as a (rows, width) integer matrix."""
    rows = np.flatnonzero(_bools(pc.match_substring_regex(values, f"^[0-9]{{{width}}}$")))
    text = "".join(values.take(pa.array(rows)).to_pylist()).encode("ascii")
    return rows, np.frombuffer(text, dtype=np.uint8).reshape(-1, width).astype(np.int64) - 48


def _repeated(values: pa.Array) -> np.ndarray:
    """Which values occur more than once among the non-empty values."""
    ids = pc.dictionary_encode(values).indices.to_numpy(zero_copy_only=False)
    return (np.bincount(ids)[ids] > 1) & _bools(pc.not_equal(values, ""))


def _passes_bsn(values: pa.Array) -> np.ndarray:
    """Which values certainly pass identifiers.is_valid_bsn (9 digits, not all 0, 11-proef), vectorised.

    False is not a verdict: those values (empty, or failing here) go to is_valid_bsn itself.
    """
    rows, d = _digits(values, 9)
    passed = np.zeros(len(values), dtype=bool)
    passed[rows] = (d @ np.array(_BSN_WEIGHTS) % 11 == 0) & d.any(axis=1)
    return passed


def _passes_a_nummer(values: pa.Array) -> np.ndarray:
    """Which values certainly pass identifiers.is_valid_a_nummer (the GBA rules), vectorised; False: ask it."""
    rows, d = _digits(values, 10)
    passed = np.zeros(len(values), dtype=bool)
    passed[rows] = (
        (d[:, 0] != 0)
        & (d[:, 1:] != d[:, :-1]).all(axis=1)
        & np.isin(d.sum(axis=1) % 11, (0, 5))
        & (d @ (2 ** np.arange(10)) % 11 == 0)
    )
    return passed


_SPELL_PROBLEMS = (
    None,
    Problem("08.10.30", "invalid_date", "datum aanvang adreshouding is no (partial) GBA date YYYYMMDD"),
    Problem("08.13.20", "invalid_date", "datum aanvang adres buitenland is no (partial) GBA date YYYYMMDD"),
    Problem("08.11.20", "invalid_number", "huisnummer is not a whole number 1-99999"),
    Problem("08.11.60", "invalid_postcode", "postcode is not 4 digits (the first not 0) and 2 letters"),
    Problem("08.11.80", "invalid_bag_id", "not the 16-digit id of a verblijfsobject, ligplaats or standplaats"),
    Problem("08.11.90", "invalid_bag_id", "not the 16-digit id of a nummeraanduiding (type 20)"),
)
_TYPES = pa.array(["Adres", "Buitenland", "Onbekend", "Locatie"])
# A GBA date that is a real day in any month: parse_gba_date accepts it, as YYYY-MM-DD with precision "day".
_WHOLE_DATE = r"^(1[0-9]{3}|20[0-9]{2})(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])$"
_CATEGORIES = pa.array(["58", "08"])
# What the identifier checks accept, as a vectorised fast path; whatever does not match goes to the checks themselves.
_WELL_FORMED_BAG_IDS = {"08.11.80": r"^[0-9]{4}0[123][0-9]{10}$", "08.11.90": r"^[0-9]{4}20[0-9]{10}$"}


@dataclass
class _Spells:
    """The address spells of one window of whole persons, column by column, most recent first per person."""

    owner: np.ndarray  # the person of each spell: an index into the window's starts
    rows: np.ndarray  # the window row of each spell
    columns: dict[str, pa.Array]  # VERBLIJF_FIELDS from volgnummer to verblijfplaats_type
    raw: dict[str, pa.Array]  # ADDRESS_CODES -> the values as read, for quarantine
    problem: np.ndarray  # index into _SPELL_PROBLEMS; 0: none

    def of(self, person: int) -> range:
        return range(np.searchsorted(self.owner, person), np.searchsorted(self.owner, person, side="right"))


class _GbavReader:
    """Lands the persoonslijsten of a stream of pyarrow blocks, one window of whole persons at a time.

    A person's rows may run over the end of a block: the rows from the last persoonslijst id of a block on are
    carried into the next, so every window holds whole persons and their spells can be numbered, dated and
    checked column-wise. Python loops only over persons (identifiers, nationalities) and quarantined records, and
    over each distinct date, postcode and house number once.
    """

    def __init__(self, path: Path, layout: _Layout, sink: BrpSink):
        self.path = path
        self.file = str(path)
        self.layout = layout
        self.sink = sink
        self.rows = 0
        self.carry: pa.Table | None = None
        self.carry_line = 0
        self._dates: dict[str, tuple[str | None, str]] = {"": (None, "unknown")}
        self._postcodes: dict[str, tuple[str | None, bool]] = {"": (None, False)}
        self._numbers: dict[str, tuple[int | None, bool]] = {"": (None, False)}

    def feed(self, batch: pa.RecordBatch) -> None:
        line = self.rows + 2  # line 1 is the header
        self.rows += batch.num_rows
        table = pa.Table.from_batches([batch])
        if self.carry is not None:
            table, line = pa.concat_tables([self.carry, table]), self.carry_line
        starts = _nonempty(table, ["f0"])
        if self.carry is None:  # nothing may come before the first persoonslijst id
            lead = int(starts[0]) if len(starts) else table.num_rows
            self._no_orphan_rows(table.slice(0, lead), line)
            if not len(starts):
                return
            table, line, starts = table.slice(lead), line + lead, starts - lead
        cut = int(starts[-1])
        if cut > 0:
            self._window(table.slice(0, cut), line, starts[:-1])
        self.carry, self.carry_line = table.slice(cut), line + cut

    def close(self) -> None:
        if self.carry is not None:
            self._window(self.carry, self.carry_line, np.zeros(1, dtype=np.int64))
            self.carry = None
        self.sink.info["data_rows"] += self.rows

    def _no_orphan_rows(self, table: pa.Table, line: int) -> None:
        """Data before the first persoonslijst id belongs to no one: the id column is not what it should be."""
        found = [int(r[0]) for r in (_nonempty(table, cols) for cols in self.layout.presence.values()) if len(r)]
        if found:
            raise DeliveryError(self.path, f"line {line + min(found)}", "data before the first persoonslijst id")

    def _col(self, code: str) -> str | None:
        return self.layout.column.get(code)

    # --- one window of whole persons ----------------------------------------------------------------------------

    def _window(self, table: pa.Table, line: int, starts: np.ndarray) -> None:
        """Land the persons starting at `starts` (row 0 is the first) with their address spells."""
        pl_ids = pc.utf8_trim_whitespace(table.column("f0").take(pa.array(starts))).combine_chunks()
        spells = self._spells(table, starts)
        landed = self._persons(table, line, starts, pl_ids, spells)
        self._land_spells(table, line, starts, pl_ids, spells, landed)

    def _spells(self, table: pa.Table, starts: np.ndarray) -> _Spells:
        """The spells of the window: onjuist rows skipped, older versions merged, columns derived, problems found."""
        rows = _nonempty(table, self.layout.presence["08"])
        idx = pa.array(rows)
        raw = {code: _take(table, self._col(code), idx) for code in ADDRESS_CODES}
        owner = np.searchsorted(starts, rows, side="right") - 1
        onjuist = _bools(pc.not_equal(raw["08.84.10"], ""))
        start = pc.if_else(pc.not_equal(raw["08.10.30"], ""), raw["08.10.30"], raw["08.13.20"])
        keep = np.flatnonzero(~onjuist)
        # An older version of a spell: the same start as the kept row before it, of the same person.
        kept_start = start.take(pa.array(keep))
        older = np.zeros(len(keep), dtype=bool)
        if len(keep) > 1:
            same_start = _bools(pc.equal(kept_start.slice(1), kept_start.slice(0, len(keep) - 1)))
            older[1:] = (owner[keep][1:] == owner[keep][:-1]) & same_start
        older &= _bools(pc.not_equal(kept_start, ""))
        keep = keep[~older]
        self.sink.info["verblijfplaats_rows"] += len(rows)
        self.sink.info["onjuist_skipped"] += int(onjuist.sum())
        self.sink.info["versions_merged"] += int(older.sum())

        owner, rows, take = owner[keep], rows[keep], pa.array(keep)
        raw = {code: values.take(take) for code, values in raw.items()}
        first, group = _within_group(owner)
        current = rows == starts[owner]  # category 08 sits on the person's first row; the rest is 58
        volgnummer = np.arange(len(owner)) - group + ~current[group]
        iso, precision, bad_date = self._dates_of(start.take(take))
        einde = iso.take(pa.array(np.arange(len(owner)) - 1, mask=first))  # the start of the next later spell
        number, bad_number = self._numbers_of(raw["08.11.20"])
        postcode, bad_postcode = self._postcodes_of(raw["08.11.60"])
        vbo, bad_vbo = self._bag_ids_of(raw["08.11.80"], "08.11.80")
        num, bad_num = self._bag_ids_of(raw["08.11.90"], "08.11.90")
        has_1030 = _bools(pc.not_equal(raw["08.10.30"], ""))
        problem = np.select(
            [bad_date & has_1030, bad_date, bad_number, bad_postcode, bad_vbo, bad_num], np.arange(1, 7), 0
        )
        land = raw["08.13.10"]
        address = pc.or_(pc.or_(pc.is_valid(number), pc.is_valid(postcode)), pc.not_equal(raw["08.11.10"], ""))
        kind = np.select(
            [
                _bools(pc.equal(land, _LAND_ONBEKEND)),  # land onbekend: vertrokken onbekend waarheen
                _bools(pc.not_equal(land, "")),
                _bools(address),
                _bools(pc.not_equal(raw["08.12.10"], "")),
            ],
            [2, 1, 0, 3],
            2,
        )
        columns = {
            "volgnummer": pa.array(volgnummer, pa.int32()),
            "is_current": pa.array(volgnummer == 0),
            "datum_aanvang": iso,
            "datum_aanvang_precision": precision,
            "datum_einde": einde,
            "straatnaam": _null_empty(raw["08.11.10"]),
            "naam_openbare_ruimte": _null_empty(raw["08.11.15"]),
            "huisnummer": number,
            "huisletter": _null_empty(raw["08.11.30"]),
            "huisnummertoevoeging": _null_empty(raw["08.11.40"]),
            "aanduiding_bij_huisnummer": _null_empty(raw["08.11.50"]),
            "postcode": postcode,
            "woonplaats": _null_empty(raw["08.11.70"]),
            "gemeente_code": _null_empty(raw["08.09.10"]),
            "verblijfsobject_id": vbo,
            "nummeraanduiding_id": num,
            "verblijfplaats_type": _TYPES.take(pa.array(kind)),
        }
        return _Spells(owner, rows, columns, raw, problem)

    def _persons(self, table: pa.Table, line: int, starts: np.ndarray, pl_ids: pa.Array, spells: _Spells) -> np.ndarray:
        """Check and land the persons of the window column-wise; returns which of them landed.

        The identifiers are checked person by person in file order (the second of two equal BSNs is the
        duplicate), after a vectorised pass that confirms the 11-proef and A-nummer rules for nearly all of them.
        """
        self.sink.info["persoonslijsten"] += len(starts)
        idx = pa.array(starts)
        v = {code: _take(table, self._col(code), idx) for code in PERSON_CODES}
        bsn_v, anr_v = v["01.01.20"], v["01.01.10"]
        bsns, anrs = bsn_v.to_pylist(), anr_v.to_pylist()
        bsn_passed, anr_passed = _passes_bsn(bsn_v), _passes_a_nummer(anr_v)
        geboortedatum, precision, bad_birth = self._dates_of(v["01.03.10"])
        geheim = v["07.70.10"]
        bad_geheim = _bools(pc.and_(pc.not_equal(geheim, ""), pc.invert(pc.is_in(geheim, value_set=_GEHEIMHOUDING))))
        refs = pc.binary_join_element_wise("line ", pa.array(starts + line).cast(pa.string()), " (", pl_ids, ")", "")
        sink = self.sink
        # Nearly every person is plainly fine: its identifiers pass the vectorised checks, occur once in the window
        # and were not met in an earlier one, its dates and codes are valid. Those land together; the others are
        # decided one by one in file order below. The two groups share no identifier, so the order between them
        # cannot change who is the duplicate of whom.
        has_bsn, has_anr = _bools(pc.not_equal(bsn_v, "")), _bools(pc.not_equal(anr_v, ""))
        met_bsns, met_anrs = sink.met_before(bsns, anrs)
        plain = (
            (has_bsn | has_anr)
            & (bsn_passed | ~has_bsn)
            & (anr_passed | ~has_anr)
            & ~bad_birth
            & ~bad_geheim
            & ~_repeated(bsn_v)
            & ~_repeated(anr_v)
        )
        if met_bsns or met_anrs:
            plain &= ~np.array([b in met_bsns or a in met_anrs for b, a in zip(bsns, anrs, strict=True)], dtype=bool)
        landed = plain.copy()
        sink.remember_many(
            bsn_v.filter(pa.array(plain & has_bsn)).to_pylist(), anr_v.filter(pa.array(plain & has_anr)).to_pylist()
        )
        for k in np.flatnonzero(~plain).tolist():
            bsn, anr = bsns[k] or None, anrs[k] or None
            problem = sink.check_person(
                bsn, anr, "01.01.20", "01.01.10", bsn_passed=bool(bsn_passed[k]), anr_passed=bool(anr_passed[k])
            )
            if problem is None and bad_birth[k]:
                problem = Problem("01.03.10", "invalid_date", "geboortedatum is no (partial) GBA date YYYYMMDD")
            if problem is None and bad_geheim[k]:
                problem = Problem("07.70.10", "invalid_code", "geheimhouding persoonsgegevens is no code 0-7")
            if problem is None:
                landed[k] = True
                sink.remember(bsn, anr)
                continue
            raw = {"persoonslijst": pl_ids[k].as_py(), "line": line + int(starts[k])}
            raw.update({c: x for c in PERSON_CODES if (x := v[c][k].as_py())})
            spell_raws = [self._spell_ref_raw(line, raw["persoonslijst"], spells, i) for i in spells.of(k)]
            sink.reject_person(self.file, refs[k].as_py(), problem, raw, spell_raws)
        if not landed.any():
            return landed
        naam = v["01.02.40"]
        columns = {
            "bsn": _null_empty(v["01.01.20"]),
            "a_nummer": _null_empty(v["01.01.10"]),
            "voornamen": _null_empty(v["01.02.10"]),
            "voorvoegsel": _null_empty(v["01.02.30"]),
            # "." is the GBA standard value for an unknown geslachtsnaam
            "geslachtsnaam": pc.if_else(pc.equal(naam, "."), pa.scalar(None, pa.string()), _null_empty(naam)),
            "volledige_naam": pa.nulls(len(starts), pa.string()),
            "geboortedatum": geboortedatum,
            "geboortedatum_precision": precision,
            "geslacht": _null_empty(v["01.04.10"]),
            "nationaliteiten": self._nationalities(table, starts),
            "gemeente_van_inschrijving": _null_empty(v["08.09.10"]),
            "geheimhouding": pc.cast(pc.if_else(pa.array(bad_geheim), None, _null_empty(geheim)), pa.int8()),
            "source_file": pa.array([self.file] * len(starts), pa.string()),
            "record_ref": refs,
        }
        sink.add_person_table(pa.table(columns, schema=PERSOON_SCHEMA).filter(pa.array(landed)))
        return landed

    def _nationalities(self, table: pa.Table, starts: np.ndarray) -> pa.ListArray:
        """Current nationality codes per person: the first row of each category-04 entry, unless ended or onjuist.

        A row heads an entry when it is the person's first row with category 04 or the row before it says (04.H)
        that a new entry follows; each code once per person, in file order. Column-wise: a city has a row of
        category 04 for nearly every person."""
        rows = _nonempty(table, self.layout.presence["04"])
        idx = pa.array(rows)
        codes, onjuist, marker = (_take(table, self._col(c), idx) for c in NAT_CODES)
        owner = np.searchsorted(starts, rows, side="right") - 1
        head = np.ones(len(rows), dtype=bool)
        if len(rows) > 1:
            head[1:] = (owner[1:] != owner[:-1]) | _bools(pc.equal(marker.slice(0, len(rows) - 1), "04"))
        chosen = np.flatnonzero(head & _bools(pc.not_equal(codes, "")) & _bools(pc.equal(onjuist, "")))
        codes, owner = codes.take(pa.array(chosen)), owner[chosen]
        code_id = pc.dictionary_encode(codes).indices.to_numpy(zero_copy_only=False).astype(np.int64)
        _, first = np.unique(owner * (int(code_id.max(initial=0)) + 1) + code_id, return_index=True)
        first = np.sort(first)  # each (person, code) once, in file order
        counts = np.bincount(owner[first], minlength=len(starts))
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        return pa.ListArray.from_arrays(pa.array(offsets), codes.take(pa.array(first)))

    def _land_spells(
        self, table: pa.Table, line: int, starts: np.ndarray, pl_ids: pa.Array, s: _Spells, landed: np.ndarray
    ) -> None:
        """Land the spells of landed persons column-wise; quarantine those with a problem of their own."""
        ok = landed[s.owner]
        for i in np.flatnonzero(ok & (s.problem > 0)).tolist():
            ref, raw = self._spell_ref_raw(line, pl_ids[int(s.owner[i])].as_py(), s, i)
            self.sink.reject_spell(self.file, ref, _SPELL_PROBLEMS[int(s.problem[i])], raw)
        clean = np.flatnonzero(ok & (s.problem == 0))
        if not len(clean):
            return
        take = pa.array(clean)
        owner = pa.array(s.owner[clean])
        person_rows = pa.array(starts[s.owner[clean]])
        spell_lines = pa.array(s.rows[clean] + line).cast(pa.string())
        category = _CATEGORIES.take(pa.array((s.rows[clean] == starts[s.owner[clean]]).astype(np.int8)))
        columns = {
            "bsn": _null_empty(_take(table, self._col("01.01.20"), person_rows)),
            "a_nummer": _null_empty(_take(table, self._col("01.01.10"), person_rows)),
            **{name: values.take(take) for name, values in s.columns.items()},
            "source_file": pa.array([self.file] * len(clean), pa.string()),
            "record_ref": pc.binary_join_element_wise(
                "line ", spell_lines, " (", pl_ids.take(owner), ", categorie ", category, ")", ""
            ),
        }
        self.sink.add_spell_table(pa.table(columns, schema=VERBLIJF_SCHEMA))

    def _spell_ref_raw(self, line: int, pl_id: str, s: _Spells, i: int) -> tuple[str, dict[str, Any]]:
        """The reference and raw record (the elements as read) of one spell, for quarantine."""
        spell_line = line + int(s.rows[i])
        category = "08" if s.columns["volgnummer"][i].as_py() == 0 else "58"
        raw = {"line": spell_line, **{c: v[i].as_py() for c, v in s.raw.items() if v[i].as_py()}}
        return f"line {spell_line} ({pl_id}, categorie {category})", raw

    # --- values, parsed once per distinct value: a city has far fewer of them than rows -------------------------

    def _date(self, raw: str) -> tuple[str | None, str]:
        """(ISO date, precision) of a GBA date: (None, "unknown") for no value, `_INVALID` for a bad one."""
        got = self._dates.get(raw)
        if got is None:
            parsed = parse_gba_date(raw)
            got = _INVALID if parsed is None else (parsed.iso(), parsed.precision)
            self._dates[raw] = got
        return got

    def _dates_of(self, values: pa.Array) -> tuple[pa.Array, pa.Array, np.ndarray]:
        """ISO form, precision and invalidity of GBA dates: a whole date that exists in every month (day 01-28 of
        years 1000-2099) column-wise, every other value through parse_gba_date, once per distinct value."""
        whole = pc.match_substring_regex(values, _WHOLE_DATE)
        if pc.all(whole).as_py():
            iso = pc.replace_substring_regex(values, _WHOLE_DATE, r"\1-\2-\3")
            return iso, pa.array(np.full(len(values), "day", dtype=object), pa.string()), np.zeros(len(values), bool)
        if pc.any(whole).as_py():
            rest = np.flatnonzero(~_bools(whole))
            iso, precision, bad = self._dates_parsed(values.take(pa.array(rest)))
            position = np.full(len(values), -1, dtype=np.int64)
            position[rest] = np.arange(len(rest))
            fast = pc.replace_substring_regex(values, _WHOLE_DATE, r"\1-\2-\3")
            slow = pa.array(position, mask=position < 0)
            bad_all = np.zeros(len(values), dtype=bool)
            bad_all[rest] = bad
            return (
                pc.if_else(whole, fast, iso.take(slow)),
                pc.if_else(whole, pa.scalar("day"), precision.take(slow)),
                bad_all,
            )
        return self._dates_parsed(values)

    def _dates_parsed(self, values: pa.Array) -> tuple[pa.Array, pa.Array, np.ndarray]:
        """ISO form, precision and invalidity of GBA dates, each distinct value through parse_gba_date once."""
        encoded = pc.dictionary_encode(values)
        parsed = [self._date(v) for v in encoded.dictionary.to_pylist()]
        iso = pa.array([None if p is _INVALID else p[0] for p in parsed], pa.string()).take(encoded.indices)
        precision = pa.array([None if p is _INVALID else p[1] for p in parsed], pa.string()).take(encoded.indices)
        return iso, precision, np.array([p is _INVALID for p in parsed], dtype=bool)[encoded.indices.to_numpy()]

    def _numbers_of(self, values: pa.Array) -> tuple[pa.Array, np.ndarray]:
        """House numbers as int32 (null when absent or bad) and which are bad."""
        encoded = pc.dictionary_encode(values)
        checked = []
        for v in encoded.dictionary.to_pylist():
            if v not in self._numbers:
                number, problem = check_house_number(v)
                self._numbers[v] = (number, problem is not None)
            checked.append(self._numbers[v])
        numbers = pa.array([c[0] for c in checked], pa.int32()).take(encoded.indices)
        return numbers, np.array([c[1] for c in checked], dtype=bool)[encoded.indices.to_numpy()]

    def _postcodes_of(self, values: pa.Array) -> tuple[pa.Array, np.ndarray]:
        """Postcodes normalised (3077AW; null when absent or bad) and which are bad."""
        encoded = pc.dictionary_encode(values)
        checked = []
        for v in encoded.dictionary.to_pylist():
            if v not in self._postcodes:
                normal = normalise_postcode(v)
                self._postcodes[v] = (normal, normal is None)
            checked.append(self._postcodes[v])
        postcodes = pa.array([c[0] for c in checked], pa.string()).take(encoded.indices)
        return postcodes, np.array([c[1] for c in checked], dtype=bool)[encoded.indices.to_numpy()]

    @staticmethod
    def _bag_ids_of(values: pa.Array, code: str) -> tuple[pa.Array, np.ndarray]:
        """BAG ids (null when absent or the GBA "unknown" value) and which are bad."""
        absent = pc.or_(pc.equal(values, ""), pc.equal(values, _UNKNOWN_BAG_ID))
        fine = pc.or_(absent, pc.match_substring_regex(values, _WELL_FORMED_BAG_IDS[code]))
        bad = np.zeros(len(values), dtype=bool)
        for i in np.flatnonzero(~_bools(fine)).tolist():
            v = values[i].as_py()
            vbo, num = (v, None) if code == "08.11.80" else (None, v)
            bad[i] = check_bag_ids(vbo, num, "08.11.80", "08.11.90") is not None
        return pc.if_else(absent, pa.scalar(None, pa.string()), values), bad


def read_gbav(path: Path, sink: BrpSink) -> list[SchemaDrift]:
    """Read one GBA-V persoonslijsten CSV into the sink; returns the schema drift of its header."""
    header, has_rows = _read_header(path)
    layout, drift = _layout(path, header)
    if not has_rows:  # the persoonslijsten are a full snapshot: without rows the persons would be wiped downstream
        refuse_empty_snapshot(path, "line 2", "the GBA-V file has a header but no persoonslijst")
    reader = _GbavReader(path, layout, sink)
    stream = _Utf8CheckedStream(path)
    try:
        batches = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(skip_rows=1, autogenerate_column_names=True, block_size=_BLOCK_SIZE),
            parse_options=pacsv.ParseOptions(delimiter=";", ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                include_columns=layout.include(),
                column_types=dict.fromkeys(layout.include(), pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=False,
            ),
        )
        with prefetched(batches) as parsed:  # the next block is parsed while this one is read
            for batch in parsed:
                reader.feed(batch)
        stream.finish()
    except pa.ArrowException:
        # Not chained: pyarrow's message quotes the row, identifiers and all, and the runner reports the root cause.
        raise _locate_parse_error(path, layout.width) from None
    finally:
        stream.close()
    lines = stream.newlines
    if reader.rows != lines - 1:  # pyarrow joined lines: a quoted value with a line break
        raise _locate_parse_error(path, layout.width)
    reader.close()
    return drift
