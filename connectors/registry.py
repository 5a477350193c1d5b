"""The sources the hub ingests, in one table: which connector reads them, which entities they yield, who owns them.

Dagster (orchestration/) and the command line (rgw/) both build on this registry, so a new source is added here once.
Readers are imported lazily: listing the sources does not import lxml or the other connectors' dependencies.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from connectors.delivery import DeliveryResult
from connectors.delivery_guard import check_delivery

Reader = Callable[..., DeliveryResult]


@dataclass(frozen=True)
class AddressColumns:
    """Where an entity carries an address, by role. The privacy boundary resolves these columns to BAG while they are
    still readable (pseudonymisation/boundary.py) and knows no source by name: a new source with an address declares
    its columns here. A row resolves, in order: by the BAG ids the source registered itself; by the address as
    written (`text`), falling back to the split fields where the text does not resolve; by the split fields alone."""

    bag_vbo: str | None = None  # the BAG verblijfsobject id the source registered
    bag_num: str | None = None  # the BAG nummeraanduiding id the source registered
    street: str | None = None
    number: str | None = None
    letter: str | None = None
    addition: str | None = None
    postcode: str | None = None
    text: str | None = None  # the address as someone wrote it
    # The landed columns (after pseudonymisation) that identify the row in linkage/address_links, joined with "|".
    record_key: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the boundary reads, each once."""
        named = (self.bag_vbo, self.bag_num, self.street, self.number, self.letter, self.addition, self.postcode)
        return tuple(dict.fromkeys(c for c in (*named, self.text) if c))

    @property
    def has_written_address(self) -> bool:
        return bool(self.text or self.street or self.number)


# The split address fields as the registries (BRP, Stedin, the corporations) name them.
_SPLIT_ADDRESS = {
    "street": "straatnaam",
    "number": "huisnummer",
    "letter": "huisletter",
    "addition": "huisnummertoevoeging",
    "postcode": "postcode",
}


@dataclass(frozen=True)
class PartyName:
    """Where an entity names a party (an owner, a landlord, a tenant as written): the boundary normalises the name
    at the door (linkage.companies.normalise_party_name) so its encoding compares names, not spellings. With `parts`,
    a new column `column` is made from the legal person's `statutory` name, else from the parts joined; without,
    `column` is normalised in place."""

    column: str
    statutory: str | None = None
    parts: tuple[str, ...] = ()


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
    addresses: Mapping[str, AddressColumns] = field(default_factory=dict)  # entity -> its address columns
    party_names: Mapping[str, PartyName] = field(default_factory=dict)  # entity -> the party it names

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
            addresses={
                "verblijfplaats_historie": AddressColumns(
                    bag_vbo="verblijfsobject_id",
                    bag_num="nummeraanduiding_id",
                    **_SPLIT_ADDRESS,
                    record_key=("bsn_psn", "volgnummer"),
                )
            },
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
            addresses={
                "kadastraal_object_adres": AddressColumns(
                    bag_vbo="verblijfsobject_id",
                    bag_num="nummeraanduiding_id",
                    record_key=("kadastraal_object_id", "volgnummer"),
                )
            },
            party_names={
                "persoon": PartyName(
                    "partij_naam", statutory="statutaire_naam", parts=("voornamen", "voorvoegsel", "geslachtsnaam")
                )
            },
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
            addresses={"aansluiting": AddressColumns(bag_vbo="bag_vbo_id", **_SPLIT_ADDRESS, record_key=("ean_psn",))},
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
            addresses={
                "eenheid": AddressColumns(bag_vbo="verblijfsobject_id", **_SPLIT_ADDRESS, record_key=("eenheid_id",))
            },
            party_names={"relatie": PartyName("naam")},
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
            addresses={
                "melding": AddressColumns(
                    text="adres_tekst", **{**_SPLIT_ADDRESS, "addition": "toevoeging"}, record_key=("melding_id",)
                ),
                "zaak": AddressColumns(text="adres_tekst", bag_vbo="bag_vbo_id", record_key=("zaak_id",)),
                "vergunning": AddressColumns(text="adres_tekst", bag_vbo="bag_vbo_id", record_key=("vergunning_id",)),
            },
            party_names={"melding": PartyName("verhuurder_genoemd"), "zaak": PartyName("eigenaar_genoemd")},
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


def address_columns(source: str, entity: str) -> AddressColumns | None:
    """The address columns `entity` of `source` declares; None for an entity without an address."""
    spec = SOURCES.get(source)
    return spec.addresses.get(entity) if spec else None


def party_name(source: str, entity: str) -> PartyName | None:
    """The party name `entity` of `source` declares; None for an entity that names no party."""
    spec = SOURCES.get(source)
    return spec.party_names.get(entity) if spec else None


def entities_with_addresses() -> list[tuple[str, str, AddressColumns]]:
    """(source, entity, columns) of every entity that carries an address."""
    return [(name, entity, cols) for name, spec in SOURCES.items() for entity, cols in spec.addresses.items()]
