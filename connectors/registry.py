"""The sources the hub ingests, in one table: which connector reads them, which entities they yield, who owns them.

Dagster (orchestration/) and the command line (rgw/) both build on this registry, so a new source is added here once.
Readers are imported lazily: listing the sources does not import lxml or the other connectors' dependencies.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from connectors.delivery import DeliveryResult
from connectors.delivery_guard import check_delivery

Reader = Callable[..., DeliveryResult]


@dataclass(frozen=True)
class SourceSpec:
    """One source: its connector, its entities and the facts a data engineer looks for in the UI."""

    name: str
    title: str
    reader_ref: str  # "module:function"
    entities: tuple[str, ...]
    supplier: str
    formats: str
    owner: str
    expected_every: timedelta
    description: str

    @property
    def reader(self) -> Reader:
        module, func = self.reader_ref.split(":")
        return getattr(importlib.import_module(module), func)

    def read(self, path: Path, *, delivery_id: str, staging_root: Path | None = None) -> DeliveryResult:
        """Read one delivery with the source's connector, after the checks every delivery gets (links out of it,
        escaping zip members, zip bombs: connectors/delivery_guard.py)."""
        check_delivery(path)
        return self.reader(path, delivery_id=delivery_id, staging_root=staging_root)


SOURCES: dict[str, SourceSpec] = {
    s.name: s
    for s in (
        SourceSpec(
            name="bag",
            title="BAG: addresses and buildings",
            reader_ref="connectors.bag:read_bag",
            entities=(
                "nummeraanduiding",
                "verblijfsobject",
                "pand",
                "openbare_ruimte",
                "woonplaats",
                "ligplaats",
                "standplaats",
            ),
            supplier="Kadaster (LVBAG)",
            formats="LVBAG 2.0 extract, zip or folder of XML",
            owner="team:rgw-data",
            expected_every=timedelta(days=35),
            description="Basisregistratie Adressen en Gebouwen: every address, dwelling and building, with history.",
        ),
        SourceSpec(
            name="brp",
            title="BRP: registered persons",
            reader_ref="connectors.brp:read_brp",
            entities=("persoon", "verblijfplaats_historie"),
            supplier="Gemeente Rotterdam (BRP, via GBA-V / Haal Centraal)",
            formats="GBA-V persoonslijst CSV; Haal Centraal BRP Personen v2 JSON",
            owner="team:rgw-data",
            expected_every=timedelta(days=8),
            description="Basisregistratie Personen: residents with their current and earlier addresses.",
        ),
        SourceSpec(
            name="brk",
            title="BRK: owners",
            reader_ref="connectors.brk:read_brk",
            entities=("kadastraal_object", "kadastraal_object_adres", "zakelijk_gerechtigde", "persoon"),
            supplier="Kadaster (BRK-Bevragen)",
            formats="Haal Centraal BRK-Bevragen v2 JSON",
            owner="team:rgw-data",
            expected_every=timedelta(days=35),
            description="Basisregistratie Kadaster: parcels and apartment rights, their rights holders and shares.",
        ),
        SourceSpec(
            name="stedin",
            title="Stedin: energy connections",
            reader_ref="connectors.stedin:read_stedin",
            entities=("aansluiting", "verbruik", "kleinverbruik"),
            supplier="Stedin (grid operator)",
            formats="per-connection CSV (docs/formats.md); open-data kleinverbruik CSV",
            owner="team:rgw-data",
            expected_every=timedelta(days=35),
            description="Electricity and gas connections per EAN with standard annual and monthly usage.",
        ),
        SourceSpec(
            name="corporaties",
            title="Corporations: rental units and tenants",
            reader_ref="connectors.corporaties:read_corporaties",
            entities=("eenheid", "huurovereenkomst", "huurovereenkomst_relatie", "relatie"),
            supplier="Housing corporations (Woonstad, Havensteder, ...)",
            formats="Aedes VERA JSON; CSV export",
            owner="team:rgw-data",
            expected_every=timedelta(days=35),
            description="The corporations' rental units, contracts and tenants.",
        ),
        SourceSpec(
            name="meldpunten",
            title="Report desks: meldingen, cases and permits",
            reader_ref="connectors.meldpunten:read_meldpunten",
            entities=("melding", "zaak", "zaak_melding", "zaak_interventie", "vergunning"),
            supplier="Gemeente Rotterdam (meldpunten, RGW teams)",
            formats="meldingen JSON/CSV (Signalen shape); case register CSV/JSON; permits CSV",
            owner="team:rgw-data",
            expected_every=timedelta(days=8),
            description="Reports from the desks, the uniform case register and the rental permits.",
        ),
        SourceSpec(
            name="gebieden",
            title="Neighbourhood map (CBS buurten)",
            reader_ref="connectors.gebieden:read_gebieden",
            entities=("buurt",),
            supplier="CBS wijk- en buurtkaart",
            formats="GeoJSON, EPSG:28992",
            owner="team:rgw-data",
            expected_every=timedelta(days=400),
            description="Buurt polygons with their CBS codes and year, to place dwellings in neighbourhoods.",
        ),
    )
}
