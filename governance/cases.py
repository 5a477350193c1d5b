"""The case register as the route back asks it: does this case exist, is it open, and is it a case of this purpose?

Cases live in the report desks' case register (meldpunten `zaken`, docs/formats.md), which lands per delivery in
`landing/meldpunten/<delivery>/zaak.parquet`. Deliveries are increments: the latest delivery that holds a case has
its current state (the same rule as the warehouse's `stg_meldpunten__zaken`). A purpose names the register its cases
come from (`case_register` in governance/purposes.yaml); a purpose without one has no cases, so a case reference
under it is refused. Reading the landing zone, not the warehouse, keeps the check independent of dbt runs holding
the warehouse's lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from governance.grants import AccessDenied
from governance.purposes import load

REGISTERS = {"meldpunten/zaak": ("meldpunten", "zaak.parquet")}


@dataclass(frozen=True)
class Case:
    zaak_id: str
    geopend_op: date | None
    gesloten_op: date | None
    delivery: str

    def open_on(self, day: date) -> bool:
        started = self.geopend_op is None or self.geopend_op <= day
        return started and (self.gesloten_op is None or self.gesloten_op > day)


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


class CaseRegister:
    """The cases in a hub's landing zone, read on every question (a new delivery counts at once)."""

    def __init__(self, landing: Path):
        self.landing = Path(landing)

    def __repr__(self) -> str:
        return f"CaseRegister(landing={str(self.landing)!r})"

    def find(self, register: str, zaak_id: str) -> Case | None:
        """The current state of one case in `register` (e.g. `meldpunten/zaak`), or None when it is not there."""
        source, filename = REGISTERS[register]
        for delivery in sorted((self.landing / source).glob(f"*/{filename}"), reverse=True):
            table = pq.read_table(
                delivery, columns=["zaak_id", "geopend_op", "gesloten_op"], filters=[("zaak_id", "=", zaak_id)]
            )
            if table.num_rows:
                row = table.slice(table.num_rows - 1).to_pylist()[0]
                return Case(zaak_id, _date(row["geopend_op"]), _date(row["gesloten_op"]), delivery.parent.name)
        return None

    def check(self, purpose: str, zaak_id: str, day: date) -> Case:
        """The open case `zaak_id` of `purpose`, or AccessDenied saying which of the three does not hold."""
        register = load().get(purpose).case_register
        if register not in REGISTERS:
            raise AccessDenied(f"purpose {purpose!r} has no case register, so no case can be handled under it")
        case = self.find(register, zaak_id)
        if case is None:
            raise AccessDenied(f"case {zaak_id} is not in the case register ({register}) of purpose {purpose!r}")
        if not case.open_on(day):
            state = f"closed on {case.gesloten_op}" if case.gesloten_op else f"opened only on {case.geopend_op}"
            raise AccessDenied(f"case {zaak_id} is not open on {day}: {state} (delivery {case.delivery})")
        return case
