"""The BAG address table and the index the resolver looks candidates up in.

`addresses_from_entities` joins the BAG connector's entities into one row per nummeraanduiding: its street (official
and short name), woonplaats (from the nummeraanduiding's ligtIn, else from its openbare ruimte), and the object it is
an address of (verblijfsobject, ligplaats or standplaats; the object whose hoofdadres it is before one whose
nevenadres it is). `load_bag_addresses` does that for an LVBAG extract on disk, `bag_address_table` for a delivery
the connector already landed.

`BagIndex` holds that table as plain Python lists with dictionaries on (postcode, huisnummer) and (street key,
huisnummer), so finding candidates is two dictionary look-ups; the street names per woonplaats are kept for the fuzzy
match, which is cached per distinct written street.
"""

from __future__ import annotations

import bisect
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from rapidfuzz import process
from rapidfuzz.distance import OSA

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


def _mapped(table: pa.Table, name: str, fn) -> list:
    """fn applied once per distinct value of a column, spread back over the rows."""
    if name not in table.column_names:
        return [fn(None)] * table.num_rows
    encoded = table.column(name).combine_chunks().dictionary_encode()
    values = [fn(v) for v in encoded.dictionary.to_pylist()]
    null = fn(None)
    return [null if i is None else values[i] for i in encoded.indices.to_pylist()]


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
    second letter first (a letter added in front). So only those four buckets are searched, and in each only the
    names whose length is within the allowed edits: a few hundred comparisons instead of every street. Each form maps
    back to the keys it stands for."""

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
        self.first = {c: _by_length(ks) for c, ks in first.items()}
        self.second = {c: _by_length(ks) for c, ks in second.items()}

    def similar(self, key: str) -> list[tuple[str, float]]:
        """The keys within the allowed edits of `key` (rapidfuzz OSA), with a 0..100 similarity, best first."""
        allowed = _allowed_edits(key)
        if not allowed or not self.back:
            return []
        lo, hi = len(key) - allowed, len(key) + allowed
        pool: list[str] = []
        for buckets, char in ((self.first, key[0]), (self.second, key[1]), (self.second, key[0]), (self.first, key[1])):
            found = buckets.get(char)
            if found:
                names, lengths = found
                pool += names[bisect.bisect_left(lengths, lo) : bisect.bisect_right(lengths, hi)]
        best: dict[str, int] = {}
        for choice, d, _ in process.extract(key, pool, scorer=OSA.distance, limit=20, score_cutoff=allowed):
            best[choice] = min(d, best.get(choice, d))
        ranked = sorted(best.items(), key=lambda kv: kv[1])[:5]
        return [
            (full, 100.0 * (1 - d / max(len(key), len(choice)))) for choice, d in ranked for full in self.back[choice]
        ]


def _by_length(keys: list[str]) -> tuple[list[str], list[int]]:
    keys = sorted(keys, key=len)
    return keys, [len(k) for k in keys]


_FORMS = {"contracted": contracted, "expanded": expanded}


class BagIndex:
    """Every BAG address, indexed by (postcode, huisnummer) and by (street key, huisnummer).

    Rows are positions in parallel lists (`nummeraanduiding_id[i]`, `postcode[i]`, ...). Letters and additions are
    stored in their comparable form (normalise.bag_letter, normalise.bag_addition); `addition_raw` keeps BAG's own
    spelling to break the rare tie between "01" and "1" at one number."""

    def __init__(self, addresses: pa.Table):
        self.size = n = addresses.num_rows

        def col(name: str) -> list:
            return addresses.column(name).to_pylist() if name in addresses.column_names else [None] * n

        self.nummeraanduiding_id: list[str] = col("nummeraanduiding_id")
        self.verblijfsobject_id: list[str | None] = col("verblijfsobject_id")
        self.adresseerbaar_object_id: list[str | None] = col("adresseerbaar_object_id")
        self.huisnummer: list[int] = [-1 if x is None else x for x in col("huisnummer")]
        self.letter: list[str | None] = _mapped(addresses, "huisletter", bag_letter)
        self.addition_raw: list[str | None] = col("huisnummertoevoeging")
        self.addition: list[str | None] = _mapped(addresses, "huisnummertoevoeging", bag_addition)
        self.postcode: list[str | None] = _mapped(addresses, "postcode", lambda v: v)
        self.active: list[bool] = _mapped(addresses, "status", lambda v: fold(v or "") == ACTIVE_STATUS)
        self._build_streets(addresses)
        self.by_postcode: dict[tuple[str, int], list[int]] = defaultdict(list)
        for i, key in enumerate(zip(self.postcode, self.huisnummer, strict=True)):
            if key[0]:
                self.by_postcode[key].append(i)
        self.by_street: dict[tuple[str, int], list[int]] = defaultdict(list)
        keys_of = [tuple(k) for k in self.street_keysets]
        for i, (sid, nr) in enumerate(zip(self.row_street, self.huisnummer, strict=True)):
            for key in keys_of[sid]:
                self.by_street[(key, nr)].append(i)
        self.by_postcode, self.by_street = dict(self.by_postcode), dict(self.by_street)
        self._build_history(addresses)
        self.by_id: dict[str, int] = dict(zip(self.nummeraanduiding_id, range(n), strict=True))
        self.num_of_vbo: dict[str, str] = {}  # object id -> its main address (else the first one listed)
        hoofd = col("hoofdadres")
        for i, obj in enumerate(self.adresseerbaar_object_id):
            if obj and (obj not in self.num_of_vbo or hoofd[i]):
                self.num_of_vbo[obj] = self.nummeraanduiding_id[i]
                self.by_id[obj] = i
        self._street_cache: dict[tuple[str, str | None], tuple[tuple[str, float], ...]] = {}
        self._choices_cache: dict[tuple[str, str | None], _Choices] = {}
        self._close_cache: dict[tuple[tuple[str, ...], frozenset[int]], list[tuple[int, float]]] = {}

    def _build_streets(self, addresses: pa.Table) -> None:
        """Street ids per distinct (name, short name, woonplaats); their keys; the keys per woonplaats; the
        woonplaats aliases the parser recognises."""
        parts = [
            pc.fill_null(addresses.column(c).cast(pa.string()), "") if c in addresses.column_names else None
            for c in ("straatnaam", "verkorte_naam", "woonplaats")
        ]
        parts = [p if p is not None else pa.array([""] * addresses.num_rows) for p in parts]
        combined = pc.binary_join_element_wise(*parts, "\x1f").combine_chunks().dictionary_encode()
        self.row_street: list[int] = combined.indices.to_pylist()
        self.street_keysets: list[frozenset[str]] = []
        self.street_display: dict[str, str] = {}
        self.sids_of_key: dict[str, set[int]] = defaultdict(set)
        street_wp: list[str | None] = []
        keys_in: dict[str | None, set[str]] = defaultdict(set)
        for sid, value in enumerate(combined.dictionary.to_pylist()):
            name, short, wp = value.split("\x1f")
            keys = frozenset(street_keys(name)) | frozenset(street_keys(short))
            self.street_keysets.append(keys)
            wp_key = woonplaats_key(wp) if wp else None
            street_wp.append(wp_key)
            keys_in[wp_key].update(keys)
            for k in keys:
                self.street_display.setdefault(k, name or short)
                self.sids_of_key[k].add(sid)
        self.woonplaats: list[str | None] = [street_wp[sid] for sid in self.row_street]
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

    def _build_history(self, addresses: pa.Table) -> None:
        """Postcodes and street names of earlier versions (the connector's historic_postcodes and historic_names):
        `by_historic_postcode` (postcode, huisnummer) -> rows, and `historic_sids_of_key` street key -> street ids
        (only keys that are no current name of that street). Both are consulted only when the current ones find
        nothing, so an old version never wins over a current one."""
        self.historic_postcodes: dict[int, tuple[str, ...]] = {}
        self.by_historic_postcode: dict[tuple[str, int], list[int]] = {}
        self.historic_sids_of_key: dict[str, set[int]] = {}
        for column, kind in (("historic_postcodes", "postcode"), ("historic_straatnamen", "street")):
            if column not in addresses.column_names:
                continue
            values = addresses.column(column)
            has = pc.fill_null(pc.greater(pc.list_value_length(values), 0), False)
            rows = pc.indices_nonzero(has).to_pylist()
            if not rows:
                continue
            for row, earlier in zip(rows, values.take(rows).to_pylist(), strict=True):
                if kind == "postcode":
                    self.historic_postcodes[row] = tuple(earlier)
                    for code in earlier:
                        self.by_historic_postcode.setdefault((code, self.huisnummer[row]), []).append(row)
                    continue
                sid = self.row_street[row]
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
        choices = self.streets_in[woonplaats] if woonplaats else self.all_streets
        if not scored:  # "Doormansingel" for "Schout bij Nacht Doormansingel"
            for key in keys:
                tails = [c for c in choices if c.endswith(key) and c != key] if len(key) >= 8 else []
                if len(tails) == 1:
                    scored[tails[0]] = 90.0
        result = tuple(sorted(scored.items(), key=lambda kv: -kv[1]))
        if len(self._street_cache) > 500_000:
            self._street_cache.clear()
        self._street_cache[cache_key] = result
        return result

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
