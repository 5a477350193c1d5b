"""Snapshot deliveries with no records are refused, not landed.

Most sources deliver a full snapshot: the latest delivery replaces the one before downstream (the warehouse reads
the latest landed delivery of BAG, BRP, BRK, the corporations, Stedin and the neighbourhood map). A snapshot with
only its header, an empty list or no objects is a failed export, not an empty register, and landing it would
silently wipe the source: every address, person, owner, tenant or connection gone, every usage row an orphan. The
report desks' meldingen are the exception: they come as mutations (new reports since the last delivery), and a
quiet week may bring none.

Each connector calls these at the level it can name: a CSV file with only its header (its line 2), a JSON list
with no items, an LVBAG extract without a single object. The message always starts the same way
(`a snapshot delivery with no records`), so an operator can search the logs for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from connectors.delivery import DeliveryError

EMPTY_SNAPSHOT = "a snapshot delivery with no records"
# Sources whose deliveries are full snapshots (connectors/registry.py); the others deliver mutations.
SNAPSHOT_SOURCES = frozenset({"bag", "brp", "brk", "corporaties", "stedin", "gebieden"})


def refuse_empty_snapshot(file: str | Path, place: str, what: str) -> NoReturn:
    """Raise the one DeliveryError every connector gives for a snapshot (file) without records."""
    raise DeliveryError(
        file,
        place,
        f"{EMPTY_SNAPSHOT}: {what}. A full snapshot without records is a failed export, not an empty register; "
        "landing it would wipe the source downstream. Ask the supplier to deliver again.",
    )


def require_records(records: int, delivery: Path, files: Sequence[str | Path], place: str, what: str) -> None:
    """Refuse a whole delivery that yielded no records, naming its one file (or the delivery when it has more)."""
    if records == 0:
        refuse_empty_snapshot(files[0] if len(files) == 1 else delivery, place, what)
