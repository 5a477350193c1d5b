"""What both BRP formats share: the two entities' schemas, the record checks and the sink that collects a read.

connectors/brp.py reads a delivery and hands each file to its format module (brp_gbav.py, brp_haalcentraal.py);
those fill the BrpSink defined here. Kept apart so the format modules and the reader depend on this module, never on
each other. The rules a person passes are in connectors/brp.py's docstring.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from connectors.delivery import EntityCollector
from connectors.identifiers import is_valid_a_nummer, is_valid_bag_id, is_valid_bsn

PERSOON_SCHEMA = pa.schema(
    [
        ("bsn", pa.string()),
        ("a_nummer", pa.string()),
        ("voornamen", pa.string()),
        ("voorvoegsel", pa.string()),
        ("geslachtsnaam", pa.string()),
        ("volledige_naam", pa.string()),
        ("geboortedatum", pa.string()),
        ("geboortedatum_precision", pa.string()),
        ("geslacht", pa.string()),
        ("nationaliteiten", pa.list_(pa.string())),
        ("gemeente_van_inschrijving", pa.string()),
        ("geheimhouding", pa.int8()),
        ("source_file", pa.string()),
        ("record_ref", pa.string()),
    ]
)
VERBLIJF_SCHEMA = pa.schema(
    [
        ("bsn", pa.string()),
        ("a_nummer", pa.string()),
        ("volgnummer", pa.int32()),
        ("is_current", pa.bool_()),
        ("datum_aanvang", pa.string()),
        ("datum_aanvang_precision", pa.string()),
        ("datum_einde", pa.string()),
        ("straatnaam", pa.string()),
        ("naam_openbare_ruimte", pa.string()),
        ("huisnummer", pa.int32()),
        ("huisletter", pa.string()),
        ("huisnummertoevoeging", pa.string()),
        ("aanduiding_bij_huisnummer", pa.string()),
        ("postcode", pa.string()),
        ("woonplaats", pa.string()),
        ("gemeente_code", pa.string()),
        ("verblijfsobject_id", pa.string()),
        ("nummeraanduiding_id", pa.string()),
        ("verblijfplaats_type", pa.string()),
        ("source_file", pa.string()),
        ("record_ref", pa.string()),
    ]
)
PERSOON_FIELDS = tuple(PERSOON_SCHEMA.names)
VERBLIJF_FIELDS = tuple(VERBLIJF_SCHEMA.names)
# An adresseerbaar object (GBA 08.11.80) is a verblijfsobject, ligplaats or standplaats: BAG type 01, 02 or 03.
_ADRESSEERBAAR_OBJECT_TYPES = {"01", "02", "03"}
_FLUSH_ROWS = 50_000


@dataclass(frozen=True)
class Problem:
    """Why a record goes to quarantine: the field (as the source names it), the reason code and a plain reason."""

    field: str
    code: str
    reason: str


def is_valid_adresseerbaar_object_id(value: str) -> bool:
    """GBA 08.11.80, Haal Centraal adresseerbaarObjectIdentificatie: a BAG verblijfsobject, ligplaats or standplaats."""
    return is_valid_bag_id(value) and value.strip()[4:6] in _ADRESSEERBAAR_OBJECT_TYPES


def check_house_number(value: str | int | None) -> tuple[int | None, Problem | None]:
    """A huisnummer is a whole number 1-99999 (BAG); returns it as int, or the problem."""
    if value is None or value == "":
        return None, None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
    else:
        return None, Problem("huisnummer", "invalid_number", "huisnummer is not a whole number")
    if not 1 <= number <= 99999:
        return None, Problem("huisnummer", "invalid_number", "huisnummer is not in 1-99999")
    return number, None


def check_bag_ids(vbo: str | None, num: str | None, vbo_field: str, num_field: str) -> Problem | None:
    """The BAG references of an address: a wrong one would link the person to another dwelling, so it is not landed."""
    if vbo is not None and not is_valid_adresseerbaar_object_id(vbo):
        return Problem(
            vbo_field, "invalid_bag_id", "not the 16-digit id of a verblijfsobject, ligplaats or standplaats"
        )
    if num is not None and not is_valid_bag_id(num, "nummeraanduiding"):
        return Problem(num_field, "invalid_bag_id", "not the 16-digit id of a nummeraanduiding (type 20)")
    return None


class _Buffer:
    """Clean rows of one entity on their way to its collector: tuples (Haal Centraal) and tables (GBA-V), in order.

    Written in chunks of some 50,000 rows, so the Parquet row groups stay large however the rows arrive.
    """

    def __init__(self, collector: EntityCollector, schema: pa.Schema):
        self.collector = collector
        self.schema = schema
        self.rows: list[tuple[Any, ...]] = []
        self.tables: list[pa.Table] = []
        self.size = 0

    def add_row(self, row: tuple[Any, ...]) -> None:
        self.rows.append(row)
        self.size += 1
        if self.size >= _FLUSH_ROWS:
            self.flush()

    def add_table(self, table: pa.Table) -> None:
        self._rows_to_table()
        self.tables.append(table)
        self.size += table.num_rows
        if self.size >= _FLUSH_ROWS:
            self.flush()

    def _rows_to_table(self) -> None:
        if self.rows:
            columns = list(zip(*self.rows, strict=True))
            arrays = [pa.array(c, type=f.type) for c, f in zip(columns, self.schema, strict=True)]
            self.tables.append(pa.table(arrays, schema=self.schema))
            self.rows = []

    def flush(self) -> None:
        self._rows_to_table()
        if self.tables:
            self.collector.add_table(pa.concat_tables(self.tables))
            self.tables = []
            self.size = 0


class BrpSink:
    """The two entities of one BRP read and the identifiers seen so far, shared by every file of the delivery.

    Clean rows arrive as tuples in schema order or as whole tables and are written in bulk (`add_table`):
    converting a dict per row would cost more than reading a city's extract itself.
    """

    def __init__(self, staging_dir: Path):
        self.persons = EntityCollector("persoon", PERSOON_SCHEMA, staging_dir)
        self.spells = EntityCollector("verblijfplaats_historie", VERBLIJF_SCHEMA, staging_dir)
        self._persons = _Buffer(self.persons, PERSOON_SCHEMA)
        self._spells = _Buffer(self.spells, VERBLIJF_SCHEMA)
        self._bsns: set[str] = set()
        self._anrs: set[str] = set()
        self.info: dict[str, Any] = {
            "persoonslijsten": 0,
            "data_rows": 0,
            "verblijfplaats_rows": 0,
            "onjuist_skipped": 0,
            "versions_merged": 0,
            "requests_skipped": [],
        }

    def check_person(
        self,
        bsn: str | None,
        anr: str | None,
        bsn_field: str,
        anr_field: str,
        *,
        bsn_passed: bool = False,
        anr_passed: bool = False,
    ) -> Problem | None:
        """The identifier rules of connectors/brp.py's docstring; the reason never repeats the identifier itself.

        `bsn_passed` / `anr_passed`: the caller already saw the value pass the same check (a vectorised pass over
        many persons); otherwise identifiers.is_valid_bsn / is_valid_a_nummer decide.
        """
        if bsn is None and anr is None:
            return Problem(bsn_field, "missing_required", "neither a BSN nor an A-nummer: the person cannot be linked")
        if bsn is not None and not (bsn_passed or is_valid_bsn(bsn)):
            return Problem(bsn_field, "invalid_bsn", "the BSN fails the 11-proef")
        if anr is not None and not (anr_passed or is_valid_a_nummer(anr)):
            return Problem(anr_field, "invalid_a_nummer", "the A-nummer fails the GBA checks")
        if bsn is not None and bsn in self._bsns:
            return Problem(bsn_field, "duplicate", "an earlier person in this delivery has the same BSN")
        if anr is not None and anr in self._anrs:
            return Problem(anr_field, "duplicate", "an earlier person in this delivery has the same A-nummer")
        return None

    def remember(self, bsn: str | None, anr: str | None) -> None:
        """Note the identifiers of a landed person, so a later person with the same one is the duplicate."""
        if bsn is not None:
            self._bsns.add(bsn)
        if anr is not None:
            self._anrs.add(anr)

    def met_before(self, bsns: Iterable[str | None], anrs: Iterable[str | None]) -> tuple[set[str], set[str]]:
        """The BSNs and A-nummers among these that a person landed earlier in the delivery already has."""
        return self._bsns.intersection(bsns), self._anrs.intersection(anrs)

    def remember_many(self, bsns: Iterable[str], anrs: Iterable[str]) -> None:
        """`remember` for many landed persons at once (their identifiers, without the absent ones)."""
        self._bsns.update(bsns)
        self._anrs.update(anrs)

    def add_person(self, row: tuple[Any, ...]) -> None:
        """Land a person (a tuple in PERSOON_FIELDS order) and remember its identifiers."""
        self.remember(row[0], row[1])
        self._persons.add_row(row)

    def add_person_table(self, table: pa.Table) -> None:
        """Land persons built column-wise; the caller has called `remember` for each."""
        self._persons.add_table(table)

    def add_spell(self, row: tuple[Any, ...]) -> None:
        """Land an address spell (a tuple in VERBLIJF_FIELDS order)."""
        self._spells.add_row(row)

    def add_spell_table(self, table: pa.Table) -> None:
        """Land address spells built column-wise."""
        self._spells.add_table(table)

    def reject_person(
        self, file: str, ref: str, problem: Problem, raw: Any, spells: Sequence[tuple[str, Any]] = ()
    ) -> None:
        """Quarantine a person and, with the same reason, every address spell of it (`spells`: (ref, raw) pairs)."""
        self.persons.quarantine(
            file=file, record_ref=ref, field=problem.field, reason_code=problem.code, reason=problem.reason, raw=raw
        )
        for spell_ref, spell_raw in spells:
            self.spells.quarantine(
                file=file,
                record_ref=spell_ref,
                field=problem.field,
                reason_code=problem.code,
                reason=f"its person ({ref}) is quarantined: {problem.reason}",
                raw=spell_raw,
            )

    def reject_spell(self, file: str, ref: str, problem: Problem, raw: Any) -> None:
        self.spells.quarantine(
            file=file, record_ref=ref, field=problem.field, reason_code=problem.code, reason=problem.reason, raw=raw
        )

    def finish(self) -> dict[str, Any]:
        self._persons.flush()
        self._spells.flush()
        return {"persoon": self.persons.finish(), "verblijfplaats_historie": self.spells.finish()}

    def abort(self) -> None:
        self.persons.abort()
        self.spells.abort()
