"""BRP connector: GBA-V persoonslijsten (CSV, the RvIG test-set layout) and Haal Centraal BRP Personen v2 JSON.

A delivery is one file or a folder holding `*.csv` (GBA-V, read by connectors/brp_gbav.py) and/or `*.json` (Haal
Centraal responses, connectors/brp_haalcentraal.py), which fill the sink of connectors/brp_types.py. Both formats yield
the same two entities, so a city can switch from the bulk extract to the API without the hub noticing:

- `persoon`: one row per person (per persoonslijst, per element of `personen`).
- `verblijfplaats_historie`: one row per address spell ("adreshouding"), `volgnummer` 0 and `is_current` for the
  current address (GBA category 08), then the earlier ones (category 58), most recent first. `datum_einde` is the
  start of the next later spell: the BRP records when a spell began, never when it ended.

The rules every person passes, whatever the format (here, so both formats apply them alike): a BSN or an A-nummer
(without either the record can be linked to nothing), a BSN that passes the 11-proef, an A-nummer that passes the GBA
checks, and a BSN or A-nummer not seen before in the delivery (the second persoonslijst is the duplicate). A person
that fails takes its address spells along into quarantine, so no spell lands without its person. An address spell
that fails on its own (a date, postcode, house number or BAG id) goes to quarantine alone: the person and the rest of
the history still land.

Nationality is read because the registry holds it; it lands only in the restricted raw zone, and the
pseudonymisation policy drops it at the door, so it can never feed an indicator or a selection.
"""

from __future__ import annotations

from pathlib import Path

from connectors.brp_gbav import read_gbav
from connectors.brp_haalcentraal import read_haal_centraal
from connectors.brp_types import BrpSink
from connectors.delivery import DeliveryError, DeliveryResult, SchemaDrift, Staging
from connectors.snapshots import require_records

SOURCE = "brp"


def brp_files(path: Path) -> list[Path]:
    """The files of a delivery: the file itself, or the `*.csv` and `*.json` files of a folder in name order."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".json"))
        if not files:
            raise DeliveryError(path, "folder", "no *.csv (GBA-V) or *.json (Haal Centraal) files in the delivery")
        return files
    if path.suffix.lower() not in (".csv", ".json"):
        raise DeliveryError(path, "file name", "not a .csv (GBA-V) or .json (Haal Centraal) file")
    return [path]


def read_brp(path: Path, *, delivery_id: str | None = None, staging_root: Path | None = None) -> DeliveryResult:
    """Read a BRP delivery: one GBA-V CSV or Haal Centraal JSON file, or a folder of them.

    `result.info` tells what was read besides the entities: data rows and persoonslijsten of the CSV files, rows with
    an address (category 08/58), how many were skipped as onjuist (corrected) or merged as an older version of the
    same spell, and request files found beside the responses.
    """
    path = Path(path)
    if not path.exists():
        raise DeliveryError(path, "path", "no such file or folder")
    files = brp_files(path)
    with Staging(staging_root) as staging_dir:
        sink = BrpSink(staging_dir)
        drift: list[SchemaDrift] = []
        try:
            for f in files:
                if f.stat().st_size == 0:
                    raise DeliveryError(f, "byte 0", "empty file")
                if f.suffix.lower() == ".csv":
                    drift.extend(read_gbav(f, sink))
                else:
                    read_haal_centraal(f, sink)
            entities = sink.finish()
        except BaseException:
            sink.abort()
            raise
        # A BRP delivery is a full snapshot of the registered persons (GBA-V or Haal Centraal responses): one with
        # no person at all, in any file, is a failed export. One Haal Centraal response without a person is fine.
        require_records(entities["persoon"].records_in, path, files, "personen", "no person in the delivery")
        return DeliveryResult(
            source=SOURCE,
            delivery_id=delivery_id or path.stem,
            files=[str(f) for f in files],
            entities=entities,
            drift=drift,
            staging_dir=staging_dir,
            info=sink.info,
        )
