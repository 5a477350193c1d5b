"""Render the synthetic world as the deliveries of BRP, BRK, Stedin, the corporations, the report desks and the
neighbourhood map, each in its real or documented format, and collect the ground truth while doing so."""

from __future__ import annotations

import csv
import json
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pyarrow as pa

from synth import noise
from synth.world import TODAY, Dwelling, Owner, Person, World

HEADER_FILE = Path(__file__).parent / "data" / "gba_v_header.txt"
ONDERWERPEN_BG = [
    "woonoverlast",
    "achterstallig_onderhoud",
    "overbewoning",
    "illegale_kamerverhuur",
    "woonfraude",
    "ongewenst_verhuurgedrag",
    "ondermijning",
]
CLUSTER_OF = {
    "woonoverlast": "Stadsbeheer",
    "achterstallig_onderhoud": "Stadsontwikkeling",
    "overbewoning": "Stadsontwikkeling",
    "illegale_kamerverhuur": "Stadsontwikkeling",
    "woonfraude": "Directie Veiligheid",
    "ongewenst_verhuurgedrag": "Stadsontwikkeling",
    "ondermijning": "Directie Veiligheid",
    "huur_te_hoog": "Stadsontwikkeling",
    "niet_ingeschreven": "Directie Veiligheid",
    "huisvesting_arbeidsmigranten": "Stadsontwikkeling",
}


class Table:
    """Rows kept as one list per column: the city scale records millions of truth rows, and a dict per row would
    cost gigabytes."""

    def __init__(self, *columns: str):
        self.columns: dict[str, list[Any]] = {c: [] for c in columns}

    def add(self, *values: Any) -> None:
        for column, value in zip(self.columns.values(), values, strict=True):
            column.append(value)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))

    def to_arrow(self) -> pa.Table:
        return pa.table({c: pa.array(v, pa.string()) for c, v in self.columns.items()})


@dataclass
class Truth:
    """What every record of every delivery really is: who, which owner, which address, and what was planted bad."""

    persons: Table = field(default_factory=lambda: Table("source", "entity", "source_key", "true_person_id"))
    owners: Table = field(
        default_factory=lambda: Table("source", "entity", "source_key", "true_owner_id", "owner_kind")
    )
    addresses: Table = field(
        default_factory=lambda: Table(
            "source",
            "entity",
            "source_key",
            "address_text_as_written",
            "true_nummeraanduiding_id",
            "true_verblijfsobject_id",
        )
    )
    invalid: Table = field(default_factory=lambda: Table("source", "file", "source_key", "reason_code"))
    # the programme's realised targets as the plan counts them (a stop talk is one owner on one date, a case table
    # one meeting per neighbourhood on one date), so the warehouse's monitoring figures can be tested against it
    targets: Table = field(default_factory=lambda: Table("jaar", "doel", "wijk", "waarde"))

    def address(self, source: str, entity: str, key: str, text: str | None, d: Dwelling | None) -> None:
        self.addresses.add(source, entity, key, text, d.num_id if d else None, d.vbo_id if d else None)

    def person(self, source: str, entity: str, key: str, p: Person) -> None:
        self.persons.add(source, entity, key, p.pid)

    def owner(self, source: str, entity: str, key: str, o: Owner) -> None:
        """An owner record; a private landlord is also a person record, so person linkage can be scored on it."""
        self.owners.add(source, entity, key, o.oid, "person" if o.kind == "person" else "company")
        if o.kind == "person" and o.person is not None:
            self.person(source, entity, key, o.person)

    def planted(self, source: str, file: str, key: str, reason_code: str) -> None:
        self.invalid.add(source, file, key, reason_code)


def gba_date(y: int | None, m: int | None, d: int | None) -> str:
    return f"{y or 0:04d}{m or 0:02d}{d or 0:02d}"


def ymd(d: date) -> str:
    """YYYYMMDD, as GBA writes dates (isoformat is much faster than strftime)."""
    return d.isoformat().replace("-", "")


def iso(d: date) -> str:
    return d.isoformat()


def clean_address(d: Dwelling) -> str:
    nr = f"{d.huisnummer}{d.huisletter or ''}" + (f"-{d.toevoeging}" if d.toevoeging else "")
    return f"{d.street.naam} {nr}, {d.postcode} Rotterdam"


# --- BRP --------------------------------------------------------------------------------------------------------------

BARENDRECHT = ("0489", "Middenbaan", "2991CT", "Barendrecht")  # where people who left the area went


def write_brp(world: World, folder: Path, r: random.Random, truth: Truth) -> dict[str, int]:
    """The GBA-V persoonslijsten CSV in the RvIG test-set layout: the first row of a person holds categories 01, 04,
    07 and the current address (08); every earlier address follows on its own row (category 58, most recent first),
    and `08.H` = 58 on every 08 row that has a later one, as in the real file. Now and then a corrected address
    (08.84.10 = O, onjuist) sits in the history, which is not a spell."""
    folder.mkdir(parents=True, exist_ok=True)
    header = HEADER_FILE.read_text(encoding="utf-8").rstrip("\n").split(";")
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        index.setdefault(h, i)
    width = len(header)
    n_rows = n_spells = n_onjuist = movers = 0
    with open(folder / "brp_persoonslijsten.csv", "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, delimiter=";", lineterminator="\n")
        w.writerow(header)
        for n, p in enumerate(world.persons, start=1):
            bsn = p.bsn
            if n == 7:
                bsn = p.bsn[:-1] + str((int(p.bsn[-1]) + 1) % 10)  # planted: fails the 11-proef
                truth.planted("brp", "brp_persoonslijsten.csv", bsn, "invalid_bsn")
            spells = _spells(p)
            rows = [[""] * width for _ in spells]
            first = rows[0]
            first[0] = f"Syn_{n:07d}"
            for code, value in (
                ("01.01.10", p.anr),
                ("01.01.20", bsn),
                ("01.02.10", p.given),
                ("01.02.30", p.prefix),
                ("01.02.40", p.surname),
                ("01.03.10", gba_date(*p.birth)),
                ("01.04.10", p.gender),
                ("04.05.10", p.nationality),
                ("07.70.10", "0"),
            ):
                first[index[code]] = value
            in_rotterdam_since = min((start for d, start in spells if d is not None), default=None)
            for k, (d, start) in enumerate(spells):
                since = start if d is None else in_rotterdam_since
                _fill_address(rows[k], index, d, start, since, r)
                if k < len(spells) - 1:
                    rows[k][index["08.H"]] = "58"
                truth.address(
                    "brp", "verblijfplaats_historie", f"{bsn}|{k}", None if d is None else clean_address(d), d
                )
            movers += len(spells) > 1 and spells[0][0] is not None
            if len(spells) > 1 and spells[0][0] is not None and movers % 40 == 1:
                rows.insert(1, _onjuist(rows[0], index, width))  # a typo in the house number, corrected
                n_onjuist += 1
            w.writerows(rows)
            n_rows += len(rows)
            n_spells += len(spells)
            if bsn == p.bsn:
                truth.person("brp", "persoon", bsn, p)
    return {"persoon": len(world.persons), "verblijfplaats_historie": n_spells, "rows": n_rows, "onjuist": n_onjuist}


def _spells(p: Person) -> list[tuple[Dwelling | None, date]]:
    """Current address first (None: moved out of the city), then earlier ones, most recent first."""
    current: list[tuple[Dwelling | None, date]] = [(p.home, p.since)]
    return current + [(d, start) for d, start, _ in p.history]


def _onjuist(current: list[str], index: dict[str, int], width: int) -> list[str]:
    row = [""] * width
    for code in ("08.09.10", "08.09.20", "08.10.10", "08.10.30", "08.11.10", "08.11.15", "08.11.60", "08.11.70"):
        row[index[code]] = current[index[code]]
    row[index["08.11.20"]] = str(int(current[index["08.11.20"]]) + 10)
    row[index["08.72.10"]] = "I"
    row[index["08.84.10"]] = "O"
    row[index["08.85.10"]] = current[index["08.85.10"]]
    row[index["08.86.10"]] = current[index["08.86.10"]]
    row[index["08.H"]] = "58"
    return row


def _fill_address(
    row: list[str], index: dict[str, int], d: Dwelling | None, start: date, since: date | None, r: random.Random
) -> None:
    """Category 08: municipality and date of registration there, the address, the kind of declaration (08.72.10:
    I = the person declared it, A = ex officio), and the dates the entry took effect and was recorded."""
    row[index["08.10.10"]] = "W"
    row[index["08.10.30"]] = ymd(start)
    row[index["08.72.10"]] = "A" if r.random() < 0.03 else "I"
    row[index["08.85.10"]] = ymd(start)
    row[index["08.86.10"]] = ymd(start + timedelta(days=r.randint(0, 3)))
    if since is not None:
        row[index["08.09.20"]] = ymd(since)
    if d is None:  # moved to another municipality
        gemeente, straat, postcode, plaats = BARENDRECHT
        for code, value in (
            ("08.09.10", gemeente),
            ("08.11.10", straat),
            ("08.11.15", straat),
            ("08.11.20", str(r.randint(1, 300))),
            ("08.11.60", postcode),
            ("08.11.70", plaats),
        ):
            row[index[code]] = value
        return
    values = [
        ("08.09.10", "0599"),
        ("08.11.10", d.street.naam[:24]),
        ("08.11.15", d.street.naam),
        ("08.11.20", str(d.huisnummer)),
        ("08.11.30", d.huisletter or ""),
        ("08.11.40", d.toevoeging or ""),
        ("08.11.60", d.postcode),
        ("08.11.70", "Rotterdam"),
    ]
    if r.random() > 0.03:  # a few older records lack the BAG references and must be resolved by address
        values += [("08.11.80", d.vbo_id), ("08.11.90", d.num_id)]
    for code, value in values:
        row[index[code]] = value


# --- BRK --------------------------------------------------------------------------------------------------------------


def owner_name(o: Owner) -> str:
    if o.kind == "person" and o.person:
        p = o.person
        return f"{p.given} {p.prefix + ' ' if p.prefix else ''}{p.surname}"
    return o.company or ""


class JsonListWriter:
    """Write a JSON list (or a named list inside an object) one item at a time, so big deliveries stream."""

    def __init__(self, f: TextIO):
        self.f = f
        self.first = True
        self.count = 0

    def write(self, item: Any) -> None:
        self.f.write(("" if self.first else ", ") + json.dumps(item, ensure_ascii=False))
        self.first = False
        self.count += 1


def write_brk(world: World, folder: Path, r: random.Random, truth: Truth) -> dict[str, int]:
    """The BRK-Bevragen bulk bundle: per dwelling with an owner its kadastraal object (with the BAG address), one
    eigenaar right, and each owner once as natural person (BSN, name, birth, home address) or company (KvK, RSIN)."""
    folder.mkdir(parents=True, exist_ok=True)
    owned = [d for d in world.dwellings if d.owner is not None]
    with open(folder / "brk_bulk.json", "w", encoding="utf-8") as f:
        f.write('{"_embedded": {"kadastraalOnroerendeZaken": [')
        objects = JsonListWriter(f)
        for d in owned:
            objects.write(_brk_object(d))
            truth.address("brk", "kadastraal_object_adres", f"{d.brk_id}|0", clean_address(d), d)
        f.write('], "zakelijkGerechtigden": [')
        rights = JsonListWriter(f)
        for d in owned:
            rights.write(
                {
                    "identificatie": f"{d.brk_id}-ZG1",
                    "kadastraalOnroerendeZaakIdentificatie": d.brk_id,
                    "type": "eigenaar",
                    "aanvangsdatum": "2015-06-01",
                    "tenaamstelling": {"aandeel": {"teller": 1, "noemer": 1}},
                    "persoonIdentificatie": d.owner.brk_id,
                }
            )
        f.write('], "personen": [')
        persons = JsonListWriter(f)
        seen: set[str] = set()
        for d in owned:
            o = d.owner
            if o.brk_id in seen:
                continue
            seen.add(o.brk_id)
            persons.write(_brk_person(o, r, truth))
            truth.owner("brk", "persoon", o.brk_id, o)
        f.write("]}}")
    return {"kadastraal_object": objects.count, "zakelijk_gerechtigde": rights.count, "persoon": persons.count}


def _brk_object(d: Dwelling) -> dict[str, Any]:
    return {
        "identificatie": d.brk_id,
        "domein": "NL.IMKAD.KadastraalObject",
        "kadastraleAanduiding": f"Rotterdam AB {int(d.brk_id[-5:])} A{(int(d.brk_id[-3:]) % 40) + 1}",
        "type": "appartementsrecht" if d.huisletter or d.toevoeging else "perceel",
        "adressen": [
            {
                "straat": d.street.naam,
                "huisnummer": d.huisnummer,
                "huisletter": d.huisletter,
                "huisnummertoevoeging": d.toevoeging,
                "postcode": d.postcode,
                "woonplaats": "Rotterdam",
                "adresseerbaarObjectIdentificatie": d.vbo_id,
                "nummeraanduidingIdentificatie": d.num_id,
            }
        ],
        "zakelijkGerechtigdeIdentificaties": [f"{d.brk_id}-ZG1"],
    }


def _brk_person(o: Owner, r: random.Random, truth: Truth) -> dict[str, Any]:
    if o.kind == "person" and o.person:
        p = o.person
        y, m, d = p.birth
        datum = (
            {"type": "Datum", "datum": f"{y:04d}-{m:02d}-{d:02d}"}
            if d
            else {"type": "JaarMaandDatum", "jaar": y, "maand": m}
            if m
            else {"type": "JaarDatum", "jaar": y}
        )
        home = p.home
        if home is not None:  # lives in the area: the woonadres is a dwelling of the world
            woon = {
                "straat": home.street.naam,
                "huisnummer": home.huisnummer,
                "huisletter": home.huisletter,
                "huisnummertoevoeging": home.toevoeging,
                "postcode": home.postcode,
                "woonplaats": "Rotterdam",
            }
        else:  # lives elsewhere: outside the delivered area
            straat, nr, postcode, plaats = r.choice(OUTSIDE_ADDRESSES)
            woon = {"straat": straat, "huisnummer": nr + int(p.pid[-2:]), "postcode": postcode, "woonplaats": plaats}
        text = f"{woon['straat']} {woon['huisnummer']}, {woon['postcode']} {woon['woonplaats']}"
        truth.address("brk", "persoon", o.brk_id, text, home)
        return {
            "identificatie": o.brk_id,
            "type": "KadasterNatuurlijkPersoon",
            "burgerservicenummer": p.bsn,
            "naam": {"geslachtsnaam": p.surname, "voorvoegsel": p.prefix, "voornamen": p.given},
            "geboorte": {"datum": datum},
            "woonadres": woon,
        }
    return {
        "identificatie": o.brk_id,
        "type": "KadasterNietNatuurlijkPersoon",
        "statutaireNaam": o.company,
        "statutaireZetel": "Rotterdam",
        "rechtsvorm": "besloten vennootschap" if "B.V." in (o.company or "") else "stichting",
        "kvkNummer": o.kvk,
        "rsin": o.rsin,
    }


# Home addresses of owners who live outside the area (streets in neighbouring municipalities; numbers vary).
OUTSIDE_ADDRESSES = [
    ("Middenbaan", 10, "2991CT", "Barendrecht"),
    ("Dorpsstraat", 4, "2912CB", "Nieuwerkerk aan den IJssel"),
    ("Raadhuisplein", 2, "2914KM", "Nieuwerkerk aan den IJssel"),
    ("Kerkstraat", 8, "3311CD", "Dordrecht"),
    ("Stationsplein", 12, "2907MJ", "Capelle aan den IJssel"),
    ("Hoofdweg", 20, "3067GH", "Rotterdam"),
]


# --- Stedin -----------------------------------------------------------------------------------------------------------

SEASON = [1.25, 1.2, 1.1, 0.95, 0.85, 0.8, 0.8, 0.85, 0.9, 1.0, 1.1, 1.2]  # Nov .. Oct
MONTHS = [(2025, 11), (2025, 12)] + [(2026, m) for m in range(1, 11)]


def write_stedin(world: World, folder: Path, r: random.Random, truth: Truth) -> dict[str, int]:
    """Per connection its address and standard annual usage, and twelve months of measured usage, which follows the
    people really living there (registered or not): a crowd uses a lot, an empty dwelling almost nothing. The
    monthly rows (7 million at city scale) are drawn and formatted with numpy, a block of connections at a time."""
    folder.mkdir(parents=True, exist_ok=True)
    monthly = np.random.default_rng(r.getrandbits(64))
    block: list[tuple[str, bool, float, int, int]] = []  # (ean, electricity?, annual, people, standby months)
    n_conn = n_use = 0
    with (
        open(folder / "stedin_aansluitingen.csv", "w", encoding="utf-8", newline="") as fa,
        open(folder / "stedin_verbruik.csv", "w", encoding="utf-8", newline="") as fv,
    ):
        fa.write(
            "EAN;PRODUCTSOORT;STRAATNAAM;HUISNUMMER;HUISLETTER;HUISNUMMERTOEVOEGING;POSTCODE;WOONPLAATS;"
            "FYSIEKE_STATUS;SLIMME_METER;SOORT_AANSLUITING;SJV;BAG_VBO_ID\n"
        )
        fv.write("EAN;PERIODE;VERBRUIK;EENHEID\n")
        planted = False
        for d in world.dwellings:
            if not d.woning:
                continue
            people = 0 if d.vacant else len(d.registered) + d.hidden_occupants
            if d.standby_last_months:
                people = 2  # lived in until the last months (synth/borderline.py)
            for product, ean in (("ELK", d.ean_elk), ("GAS", d.ean_gas)):
                if ean is None:
                    continue
                if product == "ELK" and d.kwh_annual is not None:
                    annual = d.kwh_annual
                elif product == "ELK":
                    annual = 40.0 if people == 0 else (1500 + 800 * (people - 1)) * r.uniform(0.85, 1.15)
                else:
                    annual = 5.0 if people == 0 else (600 + 150 * people) * r.uniform(0.8, 1.2)
                written_ean = ean
                if not planted and product == "ELK" and n_conn > 20:
                    written_ean = ean[:-1] + str((int(ean[-1]) + 1) % 10)  # planted: wrong check digit
                    truth.planted("stedin", "stedin_aansluitingen.csv", written_ean, "invalid_ean")
                    planted = True
                bag = d.vbo_id if r.random() < 0.7 else ""
                fa.write(
                    f"{written_ean};{product};{d.street.naam};{d.huisnummer};{d.huisletter or ''};"
                    f"{d.toevoeging or ''};{d.postcode};ROTTERDAM;IN;{'J' if r.random() < 0.8 else 'N'};"
                    f"{'3x25' if product == 'ELK' else 'G4'};{round(annual)};{bag}\n"
                )
                n_conn += 1
                if written_ean == ean:
                    truth.address("stedin", "aansluiting", ean, _stedin_text(d), d)
                block.append((ean, product == "ELK", annual, people, d.standby_last_months))
                if len(block) >= 20_000:
                    n_use += _write_usage(fv, block, monthly)
                    block = []
        n_use += _write_usage(fv, block, monthly)
    return {"aansluiting": n_conn, "verbruik": n_use}


_PERIODS = np.array([f";{y}-{m:02d};" for y, m in MONTHS])
_SEASON = np.array(SEASON)


def _write_usage(f: TextIO, block: list[tuple[str, bool, float, int, int]], rng: np.random.Generator) -> int:
    """Twelve monthly rows per connection: annual use spread over the seasons with 10% noise; an empty dwelling
    shows standby use only (under 4 kWh or 0.5 m3 a month), a dwelling emptied k months ago in its last k months."""
    if not block:
        return 0
    eans = np.array([b[0] for b in block])
    elk = np.array([b[1] for b in block])
    annual = np.array([b[2] for b in block])
    people = np.array([b[3] for b in block])
    used = annual[:, None] / 12 * _SEASON[None, :] * rng.uniform(0.9, 1.1, size=(len(block), 12))
    standby = rng.uniform(0.0, 1.0, size=(len(block), 12)) * np.where(elk, 4.0, 0.5)[:, None]
    emptied = np.array([b[4] for b in block])
    empty = (people[:, None] == 0) | (np.arange(12)[None, :] >= 12 - emptied[:, None])
    values = np.where(empty, standby, used).round(1)
    units = np.where(elk, ";kWh\n", ";m3\n")
    lines = np.char.add(np.char.add(np.char.add(eans[:, None], _PERIODS[None, :]), values.astype(str)), units[:, None])
    f.write("".join(lines.ravel().tolist()))
    return lines.size


def _stedin_text(d: Dwelling) -> str:
    nr = " ".join(x for x in (str(d.huisnummer), d.huisletter, d.toevoeging) if x)
    return f"{d.street.naam} {nr}, {d.postcode} ROTTERDAM"


# --- corporations (VERA) ---------------------------------------------------------------------------------------


def write_vera(world: World, folder: Path, r: random.Random, truth: Truth) -> dict[str, int]:
    """The corporations' VERA lists: every corporation unit, a contract per let dwelling, and its tenants, who are
    the adults registered there, except where the planted tenant lives (is registered) elsewhere."""
    folder.mkdir(parents=True, exist_ok=True)
    residents = [p for p in world.persons if p.home is not None]
    with (
        open(folder / "vera_eenheden.json", "w", encoding="utf-8") as fe,
        open(folder / "vera_huurovereenkomsten.json", "w", encoding="utf-8") as fh,
        open(folder / "vera_relaties.json", "w", encoding="utf-8") as fr,
    ):
        for f in (fe, fh, fr):
            f.write("[")
        eenheden, contracten, relaties = JsonListWriter(fe), JsonListWriter(fh), JsonListWriter(fr)
        for d in world.dwellings:
            if not d.corporation:
                continue
            eid = f"E{d.vbo_id[-8:]}"
            brutohuur = round(300 + d.oppervlakte * 9.5, 2)
            eenheden.write(_eenheid(d, eid, brutohuur, r))
            truth.address("corporaties", "eenheid", eid, clean_address(d), d)
            adults = [p for p in d.registered if TODAY.year - p.birth[0] >= 18]
            if d.vacant or not d.woning or not adults:
                continue
            tenants = adults[:2]
            if d.tenant_elsewhere:
                tenants = [_someone_else(r, residents, d)]
            hid = f"H{d.vbo_id[-8:]}"
            rel_ids = []
            for p in tenants:
                rid = f"R{p.pid[1:]}{hid[-3:]}"
                rel_ids.append({"id": rid})
                relaties.write(_relatie(p, rid, r))
                truth.person("corporaties", "relatie", rid, p)
            begin = min(p.since for p in tenants) if not d.tenant_elsewhere else TODAY - timedelta(days=700)
            contracten.write(
                {
                    "id": hid,
                    "begindatum": iso(begin),
                    "einddatum": None,
                    "brutohuur": brutohuur,
                    "eenheden": [{"id": eid}],
                    "relaties": rel_ids,
                    "soort": {"code": "ZEL"},
                }
            )
        for f in (fe, fh, fr):
            f.write("]")
    return {"eenheid": eenheden.count, "huurovereenkomst": contracten.count, "relatie": relaties.count}


def _someone_else(r: random.Random, residents: list[Person], d: Dwelling) -> Person:
    """A resident registered at another dwelling (draws until one is found: the area holds thousands)."""
    while True:
        p = r.choice(residents)
        if p.home is not d:
            return p


def _eenheid(d: Dwelling, eid: str, brutohuur: float, r: random.Random) -> dict[str, Any]:
    return {
        "id": eid,
        "code": f"{d.street.naam[:3].upper()}{d.huisnummer}",
        "soort": {"code": "WOO" if d.woning else "BED"},
        "status": {"code": "LEE" if d.vacant else "VEH"},
        "adres": {
            "straatnaam": d.street.naam,
            "huisnummer": d.huisnummer,
            "huisletter": d.huisletter or "",
            "huisnummerToevoeging": d.toevoeging or "",
            "postcode": d.postcode,
            "woonplaats": {"naam": "ROTTERDAM"},
        },
        "adresseerbaarObjectBasisregistratie": {"bagIdentificatie": d.vbo_id if r.random() < 0.85 else ""},
        "gebruiksoppervlakte": d.oppervlakte,
        "kamersAantal": max(1, d.oppervlakte // 20),
        "brutohuur": brutohuur,
        "bouwjaar": d.bouwjaar,
    }


def _relatie(p: Person, rid: str, r: random.Random) -> dict[str, Any]:
    """The tenant as the corporation's administration holds them: names, birth date and BSN drawn from the error
    model (synth/noise.py), not copied from the BRP."""
    w = noise.written_person(r, p.given, p.prefix, p.surname, p.birth, p.bsn)
    return {
        "id": rid,
        "soort": {"code": "NatuurlijkPersoon"},
        "bsn": w.bsn,
        "geboortedatum": w.geboortedatum,
        "voornaam": w.voornaam,
        "tussenvoegsels": w.tussenvoegsels,
        "achternaam": w.achternaam,
        "email": f"{_ascii(p.surname).lower().replace(' ', '')}{p.pid[-4:]}@example.nl" if r.random() < 0.5 else "",
        "telefoonnummer": f"06{r.randrange(10**7, 10**8)}" if r.random() < 0.5 else "",
    }


def _ascii(text: str) -> str:
    """E-mail addresses hold no diacritics: Wiśniewski writes wisniewski@."""
    folded = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L").replace("ı", "i"))
    return "".join(c for c in folded if c.isascii() and (c.isalnum() or c in " .-"))
