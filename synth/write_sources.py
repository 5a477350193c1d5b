"""Render the synthetic world as the deliveries of BRP, BRK, Stedin, the corporations, the report desks and the
neighbourhood map, each in its real or documented format, and collect the ground truth while doing so."""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

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


@dataclass
class Truth:
    persons: list[dict[str, Any]] = field(default_factory=list)
    owners: list[dict[str, Any]] = field(default_factory=list)
    addresses: list[dict[str, Any]] = field(default_factory=list)
    invalid: list[dict[str, Any]] = field(default_factory=list)

    def address(self, source: str, entity: str, key: str, text: str | None, d: Dwelling | None) -> None:
        self.addresses.append(
            {
                "source": source,
                "entity": entity,
                "source_key": key,
                "address_text_as_written": text,
                "true_nummeraanduiding_id": d.num_id if d else None,
                "true_verblijfsobject_id": d.vbo_id if d else None,
            }
        )


def gba_date(y: int | None, m: int | None, d: int | None) -> str:
    return f"{y or 0:04d}{m or 0:02d}{d or 0:02d}"


def iso(d: date) -> str:
    return d.isoformat()


def clean_address(d: Dwelling) -> str:
    nr = f"{d.huisnummer}{d.huisletter or ''}" + (f"-{d.toevoeging}" if d.toevoeging else "")
    return f"{d.street.naam} {nr}, {d.postcode} Rotterdam"


# --- BRP --------------------------------------------------------------------------------------------------------------


def write_brp(world: World, folder: Path, r: random.Random, truth: Truth) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    header = HEADER_FILE.read_text(encoding="utf-8").rstrip("\n").split(";")
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        index.setdefault(h, i)
    width = len(header)
    bad_bsn_done = False
    n_rows = n_spells = 0
    with open(folder / "brp_persoonslijsten.csv", "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, delimiter=";", lineterminator="\n")
        w.writerow(header)
        for n, p in enumerate(world.persons, start=1):
            bsn = p.bsn
            if not bad_bsn_done and n == 7:
                bsn = p.bsn[:-1] + str((int(p.bsn[-1]) + 1) % 10)  # planted: fails the 11-proef
                truth.invalid.append(
                    {
                        "source": "brp",
                        "file": "brp_persoonslijsten.csv",
                        "source_key": bsn,
                        "reason_code": "invalid_bsn",
                    }
                )
                bad_bsn_done = True
            spells = _spells(p)
            rows = []
            first = [""] * width
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
            rows.append(first)
            for k, (d, start) in enumerate(spells):
                row = first if k == 0 else [""] * width
                _fill_address(row, index, d, start, r)
                if k == 0 and len(spells) > 1:
                    row[index["08.H"]] = "58"
                if k > 0:
                    rows.append(row)
                key = f"{bsn}|{k}"
                truth.address("brp", "verblijfplaats_historie", key, None if d is None else clean_address(d), d)
            w.writerows(rows)
            n_rows += len(rows)
            n_spells += len(spells)
            if bsn == p.bsn:
                truth.persons.append({"source": "brp", "entity": "persoon", "source_key": bsn, "true_person_id": p.pid})
    return {"persoon": len(world.persons), "verblijfplaats_historie": n_spells, "rows": n_rows}


def _spells(p: Person) -> list[tuple[Dwelling | None, date]]:
    """Current address first (None: moved out of the city), then earlier ones, most recent first."""
    current: list[tuple[Dwelling | None, date]] = [(p.home, p.since)]
    return current + [(d, start) for d, start, _ in p.history]


def _fill_address(row: list[str], index: dict[str, int], d: Dwelling | None, start: date, r: random.Random) -> None:
    row[index["08.10.10"]] = "W"
    row[index["08.10.30"]] = start.strftime("%Y%m%d")
    if d is None:  # moved to another municipality
        for code, value in (
            ("08.09.10", "0489"),
            ("08.11.10", "Middenbaan"),
            ("08.11.15", "Middenbaan"),
            ("08.11.20", str(r.randint(1, 300))),
            ("08.11.60", "2991CT"),
            ("08.11.70", "Barendrecht"),
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


def write_brk(world: World, folder: Path, truth: Truth) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    objects, rights, persons = [], [], {}
    for d in world.dwellings:
        if d.owner is None:
            continue
        o = d.owner
        objects.append(
            {
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
        )
        truth.address("brk", "kadastraal_object_adres", f"{d.brk_id}|0", clean_address(d), d)
        rights.append(
            {
                "identificatie": f"{d.brk_id}-ZG1",
                "kadastraalOnroerendeZaakIdentificatie": d.brk_id,
                "type": "eigenaar",
                "aanvangsdatum": "2015-06-01",
                "tenaamstelling": {"aandeel": {"teller": 1, "noemer": 1}},
                "persoonIdentificatie": o.brk_id,
            }
        )
        if o.brk_id not in persons:
            persons[o.brk_id] = _brk_person(o)
            truth.owners.append(
                {
                    "source": "brk",
                    "entity": "persoon",
                    "source_key": o.brk_id,
                    "true_owner_id": o.oid,
                    "owner_kind": "person" if o.kind == "person" else "company",
                }
            )
            if o.kind == "person" and o.person:
                truth.persons.append(
                    {"source": "brk", "entity": "persoon", "source_key": o.brk_id, "true_person_id": o.person.pid}
                )
    bundle = {
        "_embedded": {
            "kadastraalOnroerendeZaken": objects,
            "zakelijkGerechtigden": rights,
            "personen": list(persons.values()),
        }
    }
    (folder / "brk_bulk.json").write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    return {"kadastraal_object": len(objects), "zakelijk_gerechtigde": len(rights), "persoon": len(persons)}


def _brk_person(o: Owner) -> dict[str, Any]:
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
        return {
            "identificatie": o.brk_id,
            "type": "KadasterNatuurlijkPersoon",
            "burgerservicenummer": p.bsn,
            "naam": {"geslachtsnaam": p.surname, "voorvoegsel": p.prefix, "voornamen": p.given},
            "geboorte": {"datum": datum},
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


# --- Stedin -----------------------------------------------------------------------------------------------------------

SEASON = [1.25, 1.2, 1.1, 0.95, 0.85, 0.8, 0.8, 0.85, 0.9, 1.0, 1.1, 1.2]  # Nov .. Oct
MONTHS = [(2025, 11), (2025, 12)] + [(2026, m) for m in range(1, 11)]


def write_stedin(world: World, folder: Path, r: random.Random, truth: Truth) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
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
            for product, ean in (("ELK", d.ean_elk), ("GAS", d.ean_gas)):
                if ean is None:
                    continue
                if product == "ELK":
                    annual = 40.0 if people == 0 else (1500 + 800 * (people - 1)) * r.uniform(0.85, 1.15)
                else:
                    annual = 5.0 if people == 0 else (600 + 150 * people) * r.uniform(0.8, 1.2)
                written_ean = ean
                if not planted and product == "ELK" and n_conn > 20:
                    written_ean = ean[:-1] + str((int(ean[-1]) + 1) % 10)  # planted: wrong check digit
                    truth.invalid.append(
                        {
                            "source": "stedin",
                            "file": "stedin_aansluitingen.csv",
                            "source_key": written_ean,
                            "reason_code": "invalid_ean",
                        }
                    )
                    planted = True
                bag = d.vbo_id if r.random() < 0.7 else ""
                fa.write(
                    f"{written_ean};{product};{d.street.naam};{d.huisnummer};{d.huisletter or ''};"
                    f"{d.toevoeging or ''};{d.postcode};ROTTERDAM;IN;{'J' if r.random() < 0.8 else 'N'};"
                    f"{'3x25' if product == 'ELK' else 'G4'};{round(annual)};{bag}\n"
                )
                n_conn += 1
                if written_ean == ean:
                    truth.address("stedin", "aansluiting", ean, None, d)
                unit = "kWh" if product == "ELK" else "m3"
                for (y, m), factor in zip(MONTHS, SEASON, strict=True):
                    value = (
                        annual / 12 * factor * r.uniform(0.9, 1.1)
                        if people
                        else r.uniform(0, 4 if product == "ELK" else 0.5)
                    )
                    fv.write(f"{ean};{y}-{m:02d};{value:.1f};{unit}\n")
                    n_use += 1
    return {"aansluiting": n_conn, "verbruik": n_use}


# --- corporations (VERA) ---------------------------------------------------------------------------------------


def write_vera(world: World, folder: Path, r: random.Random, truth: Truth) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    eenheden, contracten, relaties = [], [], []
    residents = [p for p in world.persons if p.home is not None]
    for d in world.dwellings:
        if not d.corporation:
            continue
        eid = f"E{d.vbo_id[-8:]}"
        eenheden.append(
            {
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
                "brutohuur": round(300 + d.oppervlakte * 9.5, 2),
                "bouwjaar": d.bouwjaar,
            }
        )
        truth.address("corporaties", "eenheid", eid, clean_address(d), d)
        adults = [p for p in d.registered if TODAY.year - p.birth[0] >= 18]
        if d.vacant or not d.woning or not adults:
            continue
        tenants = adults[:2]
        if d.tenant_elsewhere:
            tenants = [r.choice([p for p in residents if p.home is not d])]
        hid = f"H{d.vbo_id[-8:]}"
        rel_ids = []
        for p in tenants:
            rid = f"R{p.pid[1:]}{hid[-3:]}"
            rel_ids.append({"id": rid})
            y, m, dd = p.birth
            relaties.append(
                {
                    "id": rid,
                    "soort": {"code": "NatuurlijkPersoon"},
                    "bsn": p.bsn if r.random() < 0.9 else "",
                    "geboortedatum": f"{y:04d}-{m:02d}-{dd:02d}" if dd else "",
                    "voornaam": p.given.split()[0],
                    "tussenvoegsels": p.prefix,
                    "achternaam": p.surname,
                    "email": f"{p.surname.lower().replace(' ', '')}{p.pid[-4:]}@example.nl" if r.random() < 0.5 else "",
                    "telefoonnummer": f"06{r.randrange(10**7, 10**8)}" if r.random() < 0.5 else "",
                }
            )
            truth.persons.append(
                {"source": "corporaties", "entity": "relatie", "source_key": rid, "true_person_id": p.pid}
            )
        contracten.append(
            {
                "id": hid,
                "begindatum": iso(
                    min(p.since for p in tenants) if not d.tenant_elsewhere else TODAY - timedelta(days=700)
                ),
                "einddatum": None,
                "brutohuur": eenheden[-1]["brutohuur"],
                "eenheden": [{"id": eid}],
                "relaties": rel_ids,
                "soort": {"code": "ZEL"},
            }
        )
    for name, data in (
        ("vera_eenheden.json", eenheden),
        ("vera_huurovereenkomsten.json", contracten),
        ("vera_relaties.json", relaties),
    ):
        (folder / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return {"eenheid": len(eenheden), "huurovereenkomst": len(contracten), "relatie": len(relaties)}
