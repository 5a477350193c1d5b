"""The BAG address table and the index the resolver looks candidates up in.

`addresses_from_entities` joins the BAG connector's entities into one row per nummeraanduiding: its street (official
and short name), woonplaats (from the nummeraanduiding's ligtIn, else from its openbare ruimte), and the object it is
an address of (verblijfsobject, ligplaats or standplaats; the object whose hoofdadres it is before one whose
nevenadres it is). `load_bag_addresses` does that for an LVBAG extract on disk, `bag_address_table` for a delivery
the connector already landed.

`BagIndex` holds that table in compact columns (linkage/address/columns.py: int codes, int64 ids, one sort order
per look-up; about 70 bytes an address, no Python object per address), with look-ups by (postcode, huisnummer),
(street key, huisnummer) and id that answer as the dictionaries they replaced did (rows in ascending order); the
street names per woonplaats are kept as Python objects (a few hundred thousand nationally) for the fuzzy match,
which is cached per distinct written street.
"""

from __future__ import annotations

import bisect
import shutil
import tempfile
from array import array
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from rapidfuzz import process
from rapidfuzz.distance import OSA

from linkage.address.columns import Coded, Ids, ObjectIds, SortedRows, as_numpy
from linkage.address.letter_bounds import signatures, within
from linkage.address.normalise import (
    WOONPLAATS_ALIASES,
    WoonplaatsNames,
    bag_addition,
    bag_letter,
    contracted,
    expanded,
    fold,
    street_keys,
    woonplaats_key,
)

ADDRESS_COLUMNS = [
    "nummeraanduiding_id",
    "adresseerbaar_object_id",
    "verblijfsobject_id",
    "straatnaam",
    "verkorte_naam",
    "huisnummer",
    "huisletter",
    "huisnummertoevoeging",
    "postcode",
    "woonplaats",
    "status",
    "hoofdadres",
    "historic_postcodes",
    "historic_straatnamen",
]
_ENTITY_COLUMNS = {
    "nummeraanduiding": [
        "nummeraanduiding_id",
        "huisnummer",
        "huisletter",
        "huisnummertoevoeging",
        "postcode",
        "openbare_ruimte_id",
        "woonplaats_id",
        "status",
        "historic_postcodes",
    ],
    "openbare_ruimte": ["openbare_ruimte_id", "naam", "verkorte_naam", "woonplaats_id", "historic_names"],
    "woonplaats": ["woonplaats_id", "naam"],
    "verblijfsobject": ["verblijfsobject_id", "hoofdadres_id", "nevenadres_ids"],
    "ligplaats": ["ligplaats_id", "hoofdadres_id", "nevenadres_ids"],
    "standplaats": ["standplaats_id", "hoofdadres_id", "nevenadres_ids"],
}
_LISTS = ("nevenadres_ids", "historic_postcodes", "historic_names")
_EMPTY_TYPES = {**dict.fromkeys(_LISTS, pa.list_(pa.string())), "huisnummer": pa.int32()}
ACTIVE_STATUS = "naamgeving uitgegeven"


def _with_columns(table: pa.Table | None, entity: str) -> pa.Table:
    """The columns the join needs; an entity the extract does not have (no ligplaatsen) is an empty table."""
    names = _ENTITY_COLUMNS[entity]
    if table is None:
        return pa.table({n: pa.array([], _EMPTY_TYPES.get(n, pa.string())) for n in names})
    for n in names:  # a delivery landed before the connector kept history has no history columns
        if n not in table.column_names:
            table = table.append_column(n, pa.nulls(table.num_rows, _EMPTY_TYPES.get(n, pa.string())))
    return table.select(names)


_ADDRESS_SQL = """
    with ao as (
        select hoofdadres_id as num, verblijfsobject_id as ao_id, verblijfsobject_id as vbo, 0 as prio, 0 as kind
        from verblijfsobject
        union all
        select unnest(nevenadres_ids), verblijfsobject_id, verblijfsobject_id, 1, 0 from verblijfsobject
        union all
        select hoofdadres_id, ligplaats_id, null, 0, 1 from ligplaats
        union all
        select unnest(nevenadres_ids), ligplaats_id, null, 1, 1 from ligplaats
        union all
        select hoofdadres_id, standplaats_id, null, 0, 2 from standplaats
        union all
        select unnest(nevenadres_ids), standplaats_id, null, 1, 2 from standplaats
    ),
    ranked as (
        select *, row_number() over (partition by num order by prio, kind, ao_id) as rn from ao
        where num is not null
    ),
    best as (select num, ao_id, vbo, prio = 0 as hoofd from ranked where rn = 1)
    select n.nummeraanduiding_id, best.ao_id as adresseerbaar_object_id, best.vbo as verblijfsobject_id,
           o.naam as straatnaam, o.verkorte_naam, n.huisnummer::int as huisnummer, n.huisletter,
           n.huisnummertoevoeging, n.postcode, coalesce(w1.naam, w2.naam) as woonplaats, n.status,
           coalesce(best.hoofd, false) as hoofdadres, n.historic_postcodes,
           o.historic_names as historic_straatnamen
    from nummeraanduiding n
    left join openbare_ruimte o on o.openbare_ruimte_id = n.openbare_ruimte_id
    left join woonplaats w1 on w1.woonplaats_id = n.woonplaats_id
    left join woonplaats w2 on w2.woonplaats_id = o.woonplaats_id
    left join best on best.num = n.nummeraanduiding_id
    order by n.nummeraanduiding_id
"""


def addresses_from_entities(entities: Mapping[str, pa.Table]) -> pa.Table:
    """One row per nummeraanduiding (ADDRESS_COLUMNS) from the BAG connector's entity tables.

    Where an address belongs to several objects (main address of one, side address of another), the object whose
    main address it is comes first, then a verblijfsobject before a ligplaats before a standplaats. `hoofdadres` is
    true when the address is the main address of that object. An address of no object in the
    extract keeps empty object ids; one whose openbare ruimte is not in the extract keeps an empty street."""
    t = {e: _with_columns(entities.get(e), e) for e in _ENTITY_COLUMNS}
    con = duckdb.connect()
    for name, table in t.items():
        con.register(name, table)
    return con.sql(_ADDRESS_SQL).to_arrow_table()


def write_address_table(files: Mapping[str, Path], out: Path, work_dir: Path, memory_limit: str = "1GB") -> int:
    """The same join as `addresses_from_entities` on the connector's entity Parquet files, written to `out` by DuckDB
    within `memory_limit` (spilling to `work_dir`): the address table of a national extract never passes through
    Python. Returns the number of addresses."""
    con = duckdb.connect(config={"memory_limit": memory_limit, "temp_directory": str(work_dir), "threads": 2})
    try:
        for entity, names in _ENTITY_COLUMNS.items():
            path = files.get(entity)
            present = set(pq.read_schema(path).names) if path is not None and Path(path).exists() else set()
            if present:
                cols = ", ".join(n if n in present else f"null::{_sql_type(n)} as {n}" for n in names)
                con.execute(f"create view {entity} as select {cols} from read_parquet('{_quoted(path)}')")
            else:
                cols = ", ".join(f"null::{_sql_type(n)} as {n}" for n in names)
                con.execute(f"create view {entity} as select {cols} where false")
        con.execute(f"copy ({_ADDRESS_SQL}) to '{_quoted(out)}' (format parquet, compression zstd)")
        return int(con.execute(f"select count(*) from read_parquet('{_quoted(out)}')").fetchone()[0])
    finally:
        con.close()


def _sql_type(column: str) -> str:
    return "varchar[]" if column in _LISTS else "integer" if column == "huisnummer" else "varchar"


def _quoted(path: Path | str) -> str:
    return str(path).replace("'", "''")


# Object types the address table is made of: an extract's panden (a third of it) need not be read.
ADDRESS_ENTITIES = tuple(_ENTITY_COLUMNS)


def bag_address_table(folder: Path) -> pa.Table:
    """The address table of a BAG delivery the connector wrote (`<entity>.parquet` per entity, staged or landed)."""
    folder = Path(folder)
    entities = {}
    for entity in _ENTITY_COLUMNS:
        path = folder / f"{entity}.parquet"
        if path.exists():
            present = set(pq.read_schema(path).names)
            entities[entity] = pq.read_table(path, columns=[c for c in _ENTITY_COLUMNS[entity] if c in present])
    return addresses_from_entities(entities)


def save_bag_addresses(bag_path: Path, out: Path, staging_root: Path | None = None) -> int:
    """Read an LVBAG extract (zip or folder) with the BAG connector, only the object types addresses need, and
    write the address table to `out` (Parquet), in bounded memory whatever the extract's size. Returns its rows.
    The connector's staging folder is removed afterwards."""
    from connectors.bag import read_bag

    result = read_bag(Path(bag_path), staging_root=staging_root, entities=ADDRESS_ENTITIES)
    try:
        files = {name: batch.clean_path for name, batch in result.entities.items()}
        return write_address_table(files, Path(out), result.staging_dir)
    finally:
        if result.staging_dir is not None:
            shutil.rmtree(result.staging_dir, ignore_errors=True)


def load_bag_addresses(bag_path: Path, staging_root: Path | None = None) -> pa.Table:
    """Read an LVBAG extract (zip or folder) with the BAG connector and return the address table."""
    if staging_root is not None:
        Path(staging_root).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=staging_root) as tmp:
        out = Path(tmp) / "addresses.parquet"
        save_bag_addresses(bag_path, out, staging_root=staging_root)
        table = pq.read_table(out)
    return table.cast(pa.schema([f.with_nullable(True) for f in table.schema]))


_STREET_PARTS = ("straatnaam", "verkorte_naam", "woonplaats")
_SUFFIX_PARTS = ("huisletter", "huisnummertoevoeging", "status")
_NULL = "\x00"  # a missing part of a joined value, apart from an empty one


def _part(joined: str, i: int) -> str | None:
    value = joined.split("\x1f")[i]
    return None if value == _NULL else value


def _column(batch: pa.RecordBatch, name: str, typ: pa.DataType | None = None) -> pa.Array:
    """A column of the batch; all empty (of type `typ`, text by default) when the table has no such column."""
    at = batch.schema.get_field_index(name)
    return batch.column(at) if at >= 0 else pa.nulls(batch.num_rows, typ or pa.string())


class _HistoryBuilder:
    """The earlier postcodes and street names met while the index reads its batches: rows with earlier postcodes
    (their count and postcode codes, flat), and the distinct (street id, earlier names) pairs."""

    def __init__(self) -> None:
        self.rows = array("i")
        self.lengths = array("i")
        self.codes = array("i")
        self.street_names: set[tuple[int, tuple[str, ...]]] = set()

    def add(self, batch: pa.RecordBatch, start: int, postcodes: Coded, streets: Coded) -> None:
        """The history of one batch whose first row is row `start` of the index (its streets already coded)."""
        for column, kind in (("historic_postcodes", "postcode"), ("historic_straatnamen", "street")):
            at = batch.schema.get_field_index(column)
            if at < 0:
                continue
            values = batch.column(at)
            rows = pc.indices_nonzero(pc.fill_null(pc.greater(pc.list_value_length(values), 0), False))
            if not len(rows):
                continue
            taken = values.take(rows)
            if kind == "postcode":
                self.rows.frombytes((rows.to_numpy().astype(np.int64) + start).astype(np.int32).tobytes())
                self.lengths.frombytes(pc.list_value_length(taken).to_numpy().astype(np.int32).tobytes())
                self.codes.extend(postcodes.encode(pc.list_flatten(taken)))
                continue
            for row, names in zip(rows.to_pylist(), taken.to_pylist(), strict=True):
                self.street_names.add((streets.codes[start + row], tuple(names)))


def _allowed_edits(key: str) -> int:
    """How many typos (a swapped, dropped, doubled or wrong letter) a written street may have: one in a name of 5 to
    8 letters, two up to 14, three beyond; none in shorter names, too short to tell a typo from another street."""
    if len(key) < 5:
        return 0
    return 1 if len(key) <= 8 else 2 if len(key) <= 14 else 3


class _Choices:
    """Street keys in one form (as is, contracted or expanded), bucketed for the fuzzy search.

    A name one typo away from the written one shares its first letter (typo elsewhere), or its second letter (first
    letter wrong), or has the written first letter second (first letter dropped, first two swapped), or the written
    second letter first (a letter added in front). So only those four buckets are searched, in each only the names
    whose length is within the allowed edits, and of those only the names whose letters could be (a letter signature,
    linkage/address/letter_bounds.py, sets the others aside with numpy): 11 comparisons a written street at 9
    towns instead of 4,400, with the same answers. Each form maps back to the keys it stands for."""

    def __init__(self, keys: list[str], form: str):
        make = _FORMS.get(form)
        self.back: dict[str, list[str]] = {}
        for key in keys:
            shown = make(key) if make else key
            if make is None or shown != key:  # a form equal to the key is already searched as is
                self.back.setdefault(shown, []).append(key)
        first: dict[str, list[str]] = defaultdict(list)
        second: dict[str, list[str]] = defaultdict(list)
        for shown in self.back:
            first[shown[:1]].append(shown)
            second[shown[1:2]].append(shown)
        self.first = {c: _Bucket(ks) for c, ks in first.items()}
        self.second = {c: _Bucket(ks) for c, ks in second.items()}

    def similar(self, key: str) -> list[tuple[str, float]]:
        """The keys within the allowed edits of `key` (rapidfuzz OSA), with a 0..100 similarity, best first."""
        allowed = _allowed_edits(key)
        if not allowed or not self.back:
            return []
        lo, hi = len(key) - allowed, len(key) + allowed
        signature = signatures([key])[0]
        pool: list[str] = []
        for buckets, char in ((self.first, key[0]), (self.second, key[1]), (self.second, key[0]), (self.first, key[1])):
            found = buckets.get(char)
            if found:
                pool += found.candidates(lo, hi, signature, allowed)
        best: dict[str, int] = {}
        for choice, d, _ in process.extract(key, pool, scorer=OSA.distance, limit=20, score_cutoff=allowed):
            best[choice] = min(d, best.get(choice, d))
        ranked = sorted(best.items(), key=lambda kv: kv[1])[:5]
        return [
            (full, 100.0 * (1 - d / max(len(key), len(choice)))) for choice, d in ranked for full in self.back[choice]
        ]


class _Bucket:
    """The keys of one bucket by length, with their letter signatures (linkage/address/letter_bounds.py)."""

    def __init__(self, keys: list[str]):
        self.keys = sorted(keys, key=len)
        self.lengths = [len(k) for k in self.keys]
        self.signatures = signatures(self.keys)

    def candidates(self, lo: int, hi: int, signature: np.uint64, allowed: int) -> list[str]:
        """The keys of `lo` to `hi` letters, in bucket order, less those whose letters alone are more than `allowed`
        typos from the signature's: the OSA search over what is left finds what it would find over them all."""
        start, end = bisect.bisect_left(self.lengths, lo), bisect.bisect_right(self.lengths, hi)
        if end - start <= _FILTER_FROM:
            return self.keys[start:end]
        keep = np.flatnonzero(within(self.signatures[start:end], signature, allowed))
        keys = self.keys
        return [keys[start + i] for i in keep.tolist()]


_FILTER_FROM = 16  # shorter slices are compared whole: the filter's numpy calls would cost more than it saves


_FORMS = {"contracted": contracted, "expanded": expanded}


BATCH_ROWS = 262_144  # rows of the address table encoded at a time: bounds the Arrow strings held while building


class _StreetWoonplaats:
    """`index.woonplaats[row]`: the woonplaats key of the row's street, stored once per street."""

    def __init__(self, row_street: array, street_wp: list[str | None]):
        self.row_street, self.street_wp = row_street, street_wp

    def __getitem__(self, row: int) -> str | None:
        return self.street_wp[self.row_street[row]]

    def __len__(self) -> int:
        return len(self.row_street)


class _PostcodeRows:
    """`get((postcode, huisnummer))`: the rows with that postcode and number, ascending, or `default`."""

    def __init__(self, postcodes: Coded, rows: SortedRows):
        self.postcodes, self.sorted = postcodes, rows

    def get(self, key: tuple[str | None, int | None], default=None):
        code = self.postcodes.code_of_read.get(key[0])
        if code is None or key[1] is None:
            return default
        return self.sorted.rows(code, key[1]) or default


class _StreetRows:
    """`get((street key, huisnummer))`: the rows on the streets with that key (official or short name) at that
    number, ascending, or `default`.

    One sort order by (key, number) over (row, key) pairs, a row listed once under each key of its street: a key
    that names a street in many towns (Kerkstraat, or every street of the benchmark's copied towns) is one look-up,
    not one per street."""

    def __init__(self, street_keysets: list[frozenset[str]], row_street: np.ndarray, numbers: np.ndarray):
        self.code_of_key: dict[str, int] = {}
        flat: list[int] = []
        for keys in street_keysets:
            flat.extend(self.code_of_key.setdefault(k, len(self.code_of_key)) for k in keys)
        counts = np.fromiter(map(len, street_keysets), np.int64, len(street_keysets))
        starts = np.cumsum(counts) - counts  # where each street's key codes begin in `flat`
        per_row = counts[row_street]
        rows = np.repeat(np.arange(len(row_street), dtype=np.int32), per_row)  # ascending: ties stay in row order
        nth = np.arange(len(rows)) - np.repeat(np.cumsum(per_row) - per_row, per_row)  # which key of its street
        keys = np.asarray(flat, np.int32)[np.repeat(starts[row_street], per_row) + nth]
        self.sorted = SortedRows(keys, numbers, payload=rows)

    def get(self, key: tuple[str, int | None], default=None):
        code = self.code_of_key.get(key[0])
        if code is None or key[1] is None:
            return default
        return self.sorted.rows(code, key[1]) or default


class _HistoricPostcodes:
    """`get(row, ())`: the postcodes of the row's earlier versions, for the few rows that have any."""

    def __init__(self, rows: np.ndarray, lengths: np.ndarray, codes: np.ndarray, postcodes: Coded):
        self.rows = rows
        self.starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        self.codes, self.postcodes = codes, postcodes

    def get(self, row: int, default=()):
        at = int(self.rows.searchsorted(np.int32(row)))  # a Python int would make numpy cast the whole array
        if at == len(self.rows) or self.rows[at] != row:
            return default
        values = self.postcodes.values
        return tuple(values[c] for c in self.codes[self.starts[at] : self.starts[at + 1]].tolist())

    def __len__(self) -> int:
        return len(self.rows)


class _IdRows:
    """`get(id)`: the row of a nummeraanduiding id, or of an object (verblijfsobject, lig- or standplaats) id: the
    address it is the main address of, else the first one it is listed with."""

    def __init__(self, numbers: Ids, objects: Ids, hoofd: np.ndarray):
        codes = numbers.numpy()
        self.numbers, self.objects = numbers, objects
        if len(codes) < 2 or bool(np.all(codes[1:] >= codes[:-1])):  # the address table comes sorted by id
            self.number_order, self.number_keys = None, codes
        else:
            self.number_order = np.argsort(codes, kind="stable").astype(np.int32)
            self.number_keys = codes[self.number_order]
        obj = objects.numpy()
        rows = np.flatnonzero(obj >= 0)
        rows = rows[np.argsort(obj[rows], kind="stable")]
        keys = obj[rows]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.empty(0, np.int64)
        # the last main-address row of each object, else its first row (as the rows were met in order)
        last_main = (
            np.maximum.reduceat(np.where(hoofd[rows], np.arange(len(rows)), -1), starts) if len(rows) else starts
        )
        chosen = np.where(last_main >= starts, rows[np.maximum(last_main, 0)], rows[starts]) if len(rows) else rows
        self.object_keys = keys[starts]
        self.object_rows = chosen.astype(np.int32)

    def object_row(self, text: str | None) -> int | None:
        code = self.objects.code_of(text)
        if code is None:
            return None
        at = int(self.object_keys.searchsorted(np.int64(code)))
        return int(self.object_rows[at]) if at < len(self.object_keys) and self.object_keys[at] == code else None

    def get(self, text: str | None, default=None):
        row = self.object_row(text)
        if row is not None:
            return row
        code = self.numbers.code_of(text)
        if code is None:
            return default
        at = int(self.number_keys.searchsorted(np.int64(code), "right")) - 1  # the last row with the id, as a dict had
        if at < 0 or self.number_keys[at] != code:
            return default
        return at if self.number_order is None else int(self.number_order[at])


class _MainAddress:
    """`num_of_vbo.get(object id)`: the nummeraanduiding id that is the object's main address (else its first)."""

    def __init__(self, ids: _IdRows, numbers: Ids):
        self.ids, self.numbers = ids, numbers

    def get(self, text: str | None, default=None):
        row = self.ids.object_row(text)
        return self.numbers[row] if row is not None else default


class BagIndex:
    """Every BAG address, indexed by (postcode, huisnummer) and by (street key, huisnummer).

    Rows are positions in parallel compact columns (linkage/address/columns.py; `nummeraanduiding_id[i]`,
    `postcode[i]`, ...), some 70 bytes an address, so the index of a national extract fits in memory. Letters and
    additions are stored in their comparable form (normalise.bag_letter, normalise.bag_addition); `addition_raw`
    keeps BAG's own spelling to break the rare tie between "01" and "1" at one number. `addresses` is the address
    table (ADDRESS_COLUMNS) or its record batches, read one batch at a time."""

    def __init__(self, addresses: pa.Table | Iterable[pa.RecordBatch]):
        if isinstance(addresses, pa.Table):
            addresses = addresses.to_batches(max_chunksize=BATCH_ROWS)
        self.nummeraanduiding_id = Ids()
        self.adresseerbaar_object_id = Ids()
        self.verblijfsobject_id = ObjectIds(self.adresseerbaar_object_id)
        self.huisnummer = array("i")
        suffix = Coded()  # letter, addition and status together: one code an address for the three
        self.postcode = Coded()
        streets = Coded()
        hoofd = array("b")
        history = _HistoryBuilder()
        for batch in addresses:
            start = len(self.huisnummer)
            self._add_batch(batch, streets, suffix, hoofd)
            history.add(batch, start, self.postcode, streets)
        self.size = len(self.huisnummer)
        self.letter = suffix.remade(lambda v: bag_letter(_part(v, 0)))
        self.addition_raw = suffix.remade(lambda v: _part(v, 1))
        self.addition = suffix.remade(lambda v: bag_addition(_part(v, 1)))
        self.active = suffix.remade(lambda v: fold(_part(v, 2) or "") == ACTIVE_STATUS)
        self.row_street: array = streets.codes
        self._build_streets(streets.values)
        numbers = as_numpy(self.huisnummer)
        postcode_keys = self.postcode.numpy().copy()
        for value in (None, ""):  # no postcode: never looked up
            code = self.postcode.code_of_read.get(value)
            if code is not None:
                postcode_keys[postcode_keys == code] = -1
        self.by_postcode = _PostcodeRows(self.postcode, SortedRows(postcode_keys, numbers))
        del postcode_keys
        self.by_street = _StreetRows(self.street_keysets, as_numpy(self.row_street), numbers)
        self._build_history(history, numbers)
        self.by_id = _IdRows(self.nummeraanduiding_id, self.adresseerbaar_object_id, as_numpy(hoofd).astype(bool))
        self.num_of_vbo = _MainAddress(self.by_id, self.nummeraanduiding_id)
        self._street_cache: dict[tuple[str, str | None], tuple[tuple[str, float], ...]] = {}
        self._choices_cache: dict[tuple[str, str | None], _Choices | list[str]] = {}
        self._close_cache: dict[tuple[tuple[str, ...], frozenset[int]], list[tuple[int, float]]] = {}

    def _add_batch(self, batch: pa.RecordBatch, streets: Coded, suffix: Coded, hoofd: array) -> None:
        """One batch of the address table into the columns."""
        self.nummeraanduiding_id.extend(_column(batch, "nummeraanduiding_id"))
        self.adresseerbaar_object_id.extend(_column(batch, "adresseerbaar_object_id"))
        self.verblijfsobject_id.extend(_column(batch, "verblijfsobject_id"), _column(batch, "adresseerbaar_object_id"))
        numbers = pc.fill_null(_column(batch, "huisnummer", pa.int32()).cast(pa.int32()), -1)
        self.huisnummer.frombytes(numbers.to_numpy(zero_copy_only=False).astype(np.int32).tobytes())
        parts = [pc.fill_null(_column(batch, c).cast(pa.string()), _NULL) for c in _SUFFIX_PARTS]
        suffix.extend(pc.binary_join_element_wise(*parts, "\x1f"))
        self.postcode.extend(_column(batch, "postcode"))
        parts = [pc.fill_null(_column(batch, c).cast(pa.string()), "") for c in _STREET_PARTS]
        streets.extend(pc.binary_join_element_wise(*parts, "\x1f"))
        main = pc.fill_null(_column(batch, "hoofdadres", pa.bool_()), False)
        hoofd.frombytes(main.to_numpy(zero_copy_only=False).astype(np.int8).tobytes())

    def _build_streets(self, streets: list[str]) -> None:
        """Street ids per distinct (name, short name, woonplaats), in the order first met; their keys; the keys per
        woonplaats; the woonplaats aliases the parser recognises."""
        self.street_keysets: list[frozenset[str]] = []
        self.street_display: dict[str, str] = {}
        self.sids_of_key: dict[str, set[int]] = defaultdict(set)
        street_wp: list[str | None] = []
        keys_in: dict[str | None, set[str]] = defaultdict(set)
        for sid, value in enumerate(streets):
            name, short, wp = value.split("\x1f")
            keys = frozenset(street_keys(name)) | frozenset(street_keys(short))
            self.street_keysets.append(keys)
            wp_key = woonplaats_key(wp) if wp else None
            street_wp.append(wp_key)
            keys_in[wp_key].update(keys)
            for k in keys:
                self.street_display.setdefault(k, name or short)
                self.sids_of_key[k].add(sid)
        self.sids_of_key = dict(self.sids_of_key)
        self.woonplaats = _StreetWoonplaats(self.row_street, street_wp)
        self.streets_in: dict[str | None, list[str]] = {wp: sorted(keys) for wp, keys in keys_in.items()}
        self.all_streets: list[str] = sorted(self.street_display)
        known = {k for k in keys_in if k}
        self.woonplaatsen = WoonplaatsNames({k: k for k in known})
        for alias, target in WOONPLAATS_ALIASES.items():
            if target in known and alias not in known:
                self.woonplaatsen[alias] = target
        for k in known:  # "Hoogvliet Rotterdam": people write "Hoogvliet"
            head, _, tail = k.partition(" ")
            if tail in known and head not in known and len(head) >= 4:
                self.woonplaatsen.setdefault(head, k)

    def _build_history(self, history: _HistoryBuilder, numbers: np.ndarray) -> None:
        """Postcodes and street names of earlier versions (the connector's historic_postcodes and historic_names):
        `by_historic_postcode` (postcode, huisnummer) -> rows, and `historic_sids_of_key` street key -> street ids
        (only keys that are no current name of that street). Both are consulted only when the current ones find
        nothing, so an old version never wins over a current one."""
        rows = np.asarray(history.rows, np.int32)
        lengths = np.asarray(history.lengths, np.int32)
        codes = as_numpy(history.codes)
        self.historic_postcodes = _HistoricPostcodes(rows, lengths, codes, self.postcode)
        flat_rows = np.repeat(rows, lengths)
        self.by_historic_postcode = _PostcodeRows(self.postcode, SortedRows(codes, numbers, payload=flat_rows))
        self.historic_sids_of_key: dict[str, set[int]] = {}
        for sid, earlier in history.street_names:
            for name in earlier:
                for key in street_keys(name):
                    if key not in self.street_keysets[sid]:
                        self.historic_sids_of_key.setdefault(key, set()).add(sid)

    def rows_on_historic_street(self, rows: list[int], keys: tuple[str, ...]) -> list[int]:
        """The rows whose street was once named with one of the keys (and is named otherwise now)."""
        sids = set().union(*(self.historic_sids_of_key.get(k, ()) for k in keys))
        return [r for r in rows if self.row_street[r] in sids] if sids else []

    def historic_street_rows(self, keys: tuple[str, ...], huisnummer: int) -> list[int]:
        """The addresses with this number on the streets once named with one of the keys."""
        sids = set().union(*(self.historic_sids_of_key.get(k, ()) for k in keys))
        found: set[int] = set()
        for sid in sids:
            for key in self.street_keysets[sid]:
                found.update(r for r in self.by_street.get((key, huisnummer), ()) if self.row_street[r] == sid)
        return sorted(found)

    def share_streets(self, other: BagIndex) -> None:
        """Match written streets against `other`'s streets (and know its woonplaatsen): for an index of a subset of
        the addresses (linkage/address/subset.py), so a misspelt street meets the same rivals as in the whole BAG.
        The look-ups of addresses stay this index's own."""
        self.street_display = other.street_display
        self.streets_in = other.streets_in
        self.all_streets = other.all_streets
        self.woonplaatsen = other.woonplaatsen
        self._street_cache = other._street_cache
        self._choices_cache = other._choices_cache

    def woonplaats_of(self, written: str | None) -> str | None:
        """The index's woonplaats key for a written woonplaats key; None for one BAG does not know here."""
        if not written:
            return None
        return self.woonplaatsen.get(written) or self.woonplaatsen.get(woonplaats_key(written))

    def rows_on_street(self, rows: list[int], keys: tuple[str, ...]) -> list[int]:
        """The rows whose street (official or short name) has one of the keys."""
        if len(keys) == 1:
            sids = self.sids_of_key.get(keys[0])
        else:
            sids = set().union(*(self.sids_of_key.get(k, ()) for k in keys))
        return [r for r in rows if self.row_street[r] in sids] if sids else []

    def street_matches(self, street: str, woonplaats: str | None) -> tuple[tuple[str, float], ...]:
        """The index's street keys a written street may mean, with a score (100 exact), best first.

        Exact keys anywhere win. Otherwise rapidfuzz's OSA similarity (edits, a swap counting as one) against the
        streets of the woonplaats (or all streets when the woonplaats is unknown), up to five within the
        length-dependent cutoff; then the same on abbreviated forms ("Astertsr" for Asterstraat); then a street whose
        name ends with what was written ("Doormansingel" for "Schout bij Nacht Doormansingel") when that is unique."""
        cache_key = (street, woonplaats)
        found = self._street_cache.get(cache_key)
        if found is not None:
            return found
        keys = street_keys(street)
        exact = tuple((k, 100.0) for k in keys if k in self.street_display)
        if exact or not keys:
            self._street_cache[cache_key] = exact
            return exact
        if woonplaats not in self.streets_in:
            woonplaats = None  # all streets
        scored: dict[str, float] = {}
        for key in keys:
            # as written; then abbreviated ("Astertsr" Asterstraat) and written out ("Eeerste Middellandstraat")
            for form, make in (("", str), ("contracted", contracted), ("expanded", expanded)):
                if form and max(scored.values(), default=0.0) >= 90.0:
                    break  # one typo in a long name found as written: no need to look further
                for choice, score in self._choices(form, woonplaats).similar(make(key)):
                    scored[choice] = max(scored.get(choice, 0.0), score)
        if not scored:  # "Doormansingel" for "Schout bij Nacht Doormansingel"
            for key in keys:
                tails = self._ending_with(key, woonplaats, 2) if len(key) >= 8 else []
                if len(tails) == 1:
                    scored[tails[0]] = 90.0
        result = tuple(sorted(scored.items(), key=lambda kv: -kv[1]))
        if len(self._street_cache) > 500_000:
            self._street_cache.clear()
        self._street_cache[cache_key] = result
        return result

    def _ending_with(self, key: str, woonplaats: str | None, most: int) -> list[str]:
        """Up to `most` street keys of the woonplaats (all streets for None) that end with `key` and are not `key`:
        a binary search in the keys written backwards, not a pass over every street (270,000 nationally)."""
        backwards = self._choices_cache.get(("backwards", woonplaats))
        if backwards is None:
            keys = self.streets_in[woonplaats] if woonplaats else self.all_streets
            backwards = self._choices_cache[("backwards", woonplaats)] = sorted(k[::-1] for k in keys)
        tail = key[::-1]
        found: list[str] = []
        # by position, not over backwards[at:]: that slice would copy the rest of the list (nationally most of
        # 270,000 streets) on every call
        for at in range(bisect.bisect_left(backwards, tail), len(backwards)):
            reversed_key = backwards[at]
            if not reversed_key.startswith(tail) or len(found) == most:
                break
            if reversed_key != tail:
                found.append(reversed_key[::-1])
        return found

    def _choices(self, form: str, woonplaats: str | None) -> _Choices:
        found = self._choices_cache.get((form, woonplaats))
        if found is None:
            keys = self.streets_in[woonplaats] if woonplaats else self.all_streets
            found = self._choices_cache[(form, woonplaats)] = _Choices(keys, form)
        return found

    def close_streets(self, keys: tuple[str, ...], rows: list[int]) -> list[tuple[int, float]]:
        """(street id, similarity 0..100) of the streets of these rows that a written street key is within the
        allowed typos of (compared as written, abbreviated and written out), best first."""
        sids = frozenset(self.row_street[r] for r in rows)
        found = self._close_cache.get((keys, sids))
        if found is not None:
            return found
        scores: dict[int, float] = {}
        for sid in sids:
            for key in keys:
                for candidate in self.street_keysets[sid]:
                    for make in (str, contracted, expanded):
                        a, b = make(key), make(candidate)
                        allowed = _allowed_edits(a)
                        d = OSA.distance(a, b, score_cutoff=allowed)
                        if d <= allowed:
                            scores[sid] = max(scores.get(sid, 0.0), 100.0 * (1 - d / max(len(a), len(b))))
        found = sorted(scores.items(), key=lambda kv: -kv[1])
        if len(self._close_cache) > 500_000:
            self._close_cache.clear()
        self._close_cache[(keys, sids)] = found
        return found

    def rows_with_addition(self, rows: list[int], letter: str | None, addition: str | None) -> list[int]:
        return [r for r in rows if self.letter[r] == letter and self.addition[r] == addition]
