"""Render the report desks' deliveries (meldingen, the case register, rental permits) and the buurten map."""

from __future__ import annotations

import csv
import json
import random
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from synth import names, noise
from synth.world import TODAY, Dwelling, World
from synth.write_sources import CLUSTER_OF, ONDERWERPEN_BG, Truth, clean_address

START = date(2025, 1, 1)
CET = timezone(timedelta(hours=1))


def _when(r: random.Random, lo: date, hi: date) -> datetime:
    day = lo + timedelta(days=r.randrange(max(1, (hi - lo).days)))
    return datetime(day.year, day.month, day.day, r.randint(8, 18), r.randint(0, 59), tzinfo=CET)


def _lonlat(d: Dwelling) -> tuple[float, float]:
    return round(4.48 + (d.x - 92_000) / 69_000, 6), round(51.88 + (d.y - 433_000) / 111_000, 6)


def _landlord_written(r: random.Random, d: Dwelling) -> str | None:
    o = d.owner
    if o is None or o.kind == "corporation":
        return r.choice([None, o.company]) if o else None
    if o.kind == "company":
        return noise.company_variant(r, o.company or "")
    p = o.person
    return noise.person_variant(r, p.given.split()[0], p.prefix, p.surname, o.trade_name)


def _reports_for(r: random.Random, d: Dwelling) -> list[tuple[str, list[str], str | None, datetime]]:
    """(desk, subjects, ground, time) of every report about one dwelling: background noise plus the planted signals."""
    out = []
    recent = TODAY - timedelta(days=300)
    side = d.borderline.get("ind_herhaalde_meldingen", ("", ""))[0]
    if side:  # borderline (synth/borderline.py): two reports within 12 months, or one within and one just before
        out.append(("woonoverlast", ["woonoverlast"], None, _when(r, recent, TODAY)))
        earlier = (recent, TODAY) if side == "boven" else (TODAY - timedelta(days=420), TODAY - timedelta(days=380))
        out.append(("woonoverlast", ["woonoverlast"], None, _when(r, *earlier)))
    elif d.borderline:
        pass  # no background report on a borderline case of another indicator
    elif r.random() < 0.035:
        out.append(
            (
                "professional" if r.random() < 0.5 else "woonoverlast",
                [r.choice(ONDERWERPEN_BG)],
                None,
                _when(r, START, TODAY),
            )
        )
    for abuse in d.abuses:
        if abuse == "overbewoning":
            for _ in range(r.randint(1, 2)):
                out.append(
                    (
                        "professional",
                        ["overbewoning", "illegale_kamerverhuur"][: r.randint(1, 2)],
                        None,
                        _when(r, recent, TODAY),
                    )
                )
        elif abuse == "niet_ingeschreven" and r.random() < 0.5:
            out.append(("professional", ["niet_ingeschreven"], None, _when(r, recent, TODAY)))
        elif abuse == "huur_te_hoog":
            for ground in r.sample(["borg_te_hoog", "servicekosten_onredelijk", "geen_schriftelijk_contract"], 2):
                out.append(
                    (
                        "meldpunt_ongewenst_verhuurgedrag",
                        ["huur_te_hoog", "ongewenst_verhuurgedrag"],
                        ground,
                        _when(r, recent, TODAY),
                    )
                )
        elif abuse == "arbeidsmigranten_contract":
            for ground in r.sample(
                ["arbeidsmigrant_apart_contract", "arbeidsmigrant_informatie_taal"], r.randint(1, 2)
            ):
                out.append(
                    ("huisvesting_arbeidsmigranten", ["huisvesting_arbeidsmigranten"], ground, _when(r, recent, TODAY))
                )
        elif abuse == "recidiverende_eigenaar":
            out.append(
                (
                    "meldpunt_ongewenst_verhuurgedrag",
                    [r.choice(["achterstallig_onderhoud", "ongewenst_verhuurgedrag"])],
                    r.choice([None, "intimidatie"]),
                    _when(r, date(2026, 4, 1), TODAY),
                )
            )
    return out


def write_meldpunten(world: World, folder: Path, r: random.Random, truth: Truth) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    meldingen, per_dwelling = [], {}
    planted_code = False
    for d in world.dwellings:
        if not d.woning or not d.buurt.focus_wijk:
            continue
        for desk, subjects, ground, when in _reports_for(r, d):
            uid = str(uuid.UUID(int=r.getrandbits(128), version=4))
            text = noise.written_address(
                r,
                d.street.naam,
                d.huisnummer,
                d.huisletter,
                d.toevoeging,
                d.postcode,
                sloppiness=r.choice([0.2, 0.5, 0.9]),
            )
            landlord = _landlord_written(r, d) if desk != "woonoverlast" and r.random() < 0.6 else None
            form_ok = r.random() < 0.6
            prefix, surname = r.choice(names.DUTCH_SURNAMES)
            reporter = noise.reporter_name(r, r.choice(names.DUTCH_GIVEN), prefix, surname)
            lon, lat = _lonlat(d)
            if not planted_code and len(meldingen) == 3:
                subjects = ["verzonnen_onderwerp"]  # planted: not in the code list
                truth.planted("meldpunten", "meldingen.json", uid, "invalid_code")
                planted_code = True
            else:
                truth.address("meldpunten", "melding", uid, text, d)
                if landlord and d.owner:
                    truth.owner("meldpunten", "melding", uid, d.owner)
            closed = when + timedelta(days=r.randint(20, 120)) if when.date() < TODAY - timedelta(days=150) else None
            meldingen.append(
                {
                    "uuid": uid,
                    "bron": desk,
                    "aangemaakt_op": when.isoformat(),
                    "afgesloten_op": closed.isoformat() if closed else None,
                    "status": "afgehandeld" if closed else r.choice(["openstaand", "in_behandeling", "controle"]),
                    "urgentie": r.choice(["normaal", "normaal", "hoog"]),
                    "onderwerpen": subjects,
                    "grond_wgv": ground,
                    "omschrijving": r.choice(
                        [
                            "Veel mensen in de woning.",
                            "Verhuurder reageert niet op klachten.",
                            "Zorgen over de woning.",
                            "Ik betaal te veel huur en borg.",
                        ]
                    ),
                    "melder": {
                        "naam": reporter,
                        "email": f"melder{r.randrange(10**6)}@example.nl",
                        "telefoon": f"06{r.randrange(10**7, 10**8)}",
                        "soort": r.choice(["bewoner", "buurtbewoner", "professional"]),
                    },
                    "verhuurder_genoemd": landlord,
                    "locatie": {
                        "adres_tekst": text,
                        "straatnaam": d.street.naam if form_ok else None,
                        "huisnummer": str(d.huisnummer) if form_ok else None,
                        "huisletter": d.huisletter if form_ok else None,
                        "toevoeging": d.toevoeging if form_ok else None,
                        "postcode": d.postcode if form_ok and r.random() < 0.8 else None,
                        "wijknaam": d.buurt.wijknaam,
                        "buurtnaam": d.buurt.naam,
                        "geometrie": {"type": "Point", "coordinates": [lon, lat]},
                    },
                    "behandelend_cluster": CLUSTER_OF.get(subjects[0], "Stadsontwikkeling"),
                }
            )
            per_dwelling.setdefault(d.vbo_id, (d, []))[1].append(meldingen[-1])
    (folder / "meldingen.json").write_text(json.dumps(meldingen, ensure_ascii=False, indent=0), encoding="utf-8")
    n_zaken = _write_zaken(world, folder, r, truth, per_dwelling)
    n_permits = _write_vergunningen(world, folder, r, truth)
    return {"melding": len(meldingen), "zaak": n_zaken, "vergunning": n_permits}


def _write_zaken(world: World, folder: Path, r: random.Random, truth: Truth, per_dwelling) -> int:
    rows = []
    counter: dict[int, int] = {}
    by_wijk: dict[str, list[dict]] = {}
    owner_days: dict[str, tuple[date, date]] = {}
    for d, reports in per_dwelling.values():
        if r.random() > 0.75 and "recidiverende_eigenaar" not in d.abuses:
            continue
        opened = min(datetime.fromisoformat(m["aangemaakt_op"]) for m in reports).date() + timedelta(
            days=r.randint(1, 10)
        )
        opened = min(opened, TODAY - timedelta(days=1))
        if "recidiverende_eigenaar" in d.abuses:
            # the owner's case was opened in January after earlier complaints: warned in February, the reports
            # from April on join the same case (a case absorbs later reports; its interventions follow its opening)
            opened = date(2026, 1, r.randint(5, 25))
        counter[opened.year] = counter.get(opened.year, 0) + 1
        zid = f"RGW-{opened.year}-{counter[opened.year]:06d}"
        subjects = {s for m in reports for s in m["onderwerpen"]}
        clusters = sorted({CLUSTER_OF.get(s, "Stadsontwikkeling") for s in subjects})
        interventies = [f"inspectie@{min(opened + timedelta(days=r.randint(5, 30)), TODAY)}"]
        if "recidiverende_eigenaar" in d.abuses:
            # one warning and one stop talk per owner (a talk is with the owner, on one date), recorded in each of
            # the owner's cases; fines are per dwelling
            warned, talk = owner_days.setdefault(
                d.owner.oid, (date(2026, 2, r.randint(1, 28)), date(2026, 9, r.randint(1, 28)))
            )
            interventies.append(f"waarschuwing@{warned}")
            if r.random() < 0.5:
                interventies.append(f"boete@{date(2026, 6, r.randint(1, 28))}")
            interventies.append(f"stopgesprek@{talk}")
        text = (
            clean_address(d)
            if r.random() < 0.5
            else noise.written_address(
                r, d.street.naam, d.huisnummer, d.huisletter, d.toevoeging, d.postcode, sloppiness=0.3
            )
        )
        owner_text = _landlord_written(r, d) if r.random() < 0.6 else None
        row = {
            "zaak_id": zid,
            "melding_uuids": "|".join(m["uuid"] for m in reports),
            "adres_tekst": text,
            "bag_vbo_id": d.vbo_id if r.random() < 0.7 else "",
            "wijk": d.buurt.focus_wijk,
            "geopend_op": opened.isoformat(),
            "gesloten_op": (opened + timedelta(days=90)).isoformat() if opened < TODAY - timedelta(days=200) else "",
            "soort": "multi" if len(clusters) > 1 else "mono",
            "clusters": "|".join(clusters),
            "interventies": interventies,
            "eigenaar_genoemd": owner_text or "",
        }
        rows.append(row)
        by_wijk.setdefault(d.buurt.focus_wijk, []).append(row)
        truth.address("meldpunten", "zaak", zid, text, d)
        if owner_text and d.owner:
            truth.owner("meldpunten", "zaak", zid, d.owner)
    # case tables every two weeks per neighbourhood, integral actions twelve times a year
    targets: dict[tuple[int, str, str], int] = {}

    def realised(day: date, doel: str, wijk: str = "") -> None:
        targets[(day.year, doel, wijk)] = targets.get((day.year, doel, wijk), 0) + 1

    for year, n in counter.items():
        targets[(year, "nieuwe_zaken", "")] = n
    for wijk, zaken in sorted(by_wijk.items()):
        day = date(2025, 1, 8)
        while day < TODAY:
            open_ones = [z for z in zaken if z["geopend_op"] <= day.isoformat()]
            if open_ones:
                r.choice(open_ones)["interventies"].append(f"casustafel@{day}")
                realised(day, "casustafels", wijk)
            day += timedelta(days=14)
    all_zaken = [z for zs in by_wijk.values() for z in zs]
    for year in (2025, 2026):
        for month in range(1, 13):
            day = date(year, month, 15)
            candidates = [z for z in all_zaken if z["geopend_op"] <= day.isoformat()]
            if day < TODAY and candidates:
                r.choice(candidates)["interventies"].append(f"integrale_actie@{day}")
                realised(day, "integrale_acties")
    for warned, talk in owner_days.values():
        realised(warned, "gewaarschuwde_eigenaren")
        realised(talk, "stopgesprekken")
    for (year, doel, wijk), n in sorted(targets.items()):
        truth.targets.add(str(year), doel, wijk or None, str(n))
    with open(folder / "zaken.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["zaak_id"], delimiter=";", lineterminator="\n")
        w.writeheader()
        for row in rows:
            w.writerow({**row, "interventies": "|".join(row["interventies"])})
    return len(rows)


def _write_vergunningen(world: World, folder: Path, r: random.Random, truth: Truth) -> int:
    """The permit register: a valid verhuurvergunning for every private rental in the permit areas except the planted
    ones; some dwellings also hold their earlier, expired permit. The team types the address, mostly cleanly."""
    n = 0
    with open(folder / "vergunningen.csv", "w", encoding="utf-8", newline="") as f:
        f.write("vergunning_id;bag_vbo_id;adres_tekst;soort;verleend_op;geldig_tot;status\n")
        for d in world.dwellings:
            if not d.permit:
                continue
            start = date(2022 + r.randint(0, 3), r.randint(1, 12), 1)  # valid until 2027-2030
            side = d.borderline.get("ind_zonder_vergunning", ("", ""))[0]
            if side:  # borderline (synth/borderline.py): valid until the day before the reference date, or until it
                start = (TODAY - timedelta(days=1 if side == "boven" else 0)).replace(year=TODAY.year - 5)
            periods = [(start, "verleend")]
            if r.random() < 0.05 and not side:
                periods.insert(0, (start.replace(year=start.year - 5), "verlopen"))
            for begin, status in periods:
                n += 1
                vid = f"VV-{n:06d}"
                text = (
                    clean_address(d)
                    if r.random() < 0.7
                    else noise.written_address(
                        r, d.street.naam, d.huisnummer, d.huisletter, d.toevoeging, d.postcode, sloppiness=0.2
                    )
                )
                f.write(
                    f"{vid};{d.vbo_id if r.random() < 0.8 else ''};{text};verhuurvergunning;{begin};"
                    f"{begin.replace(year=begin.year + 5)};{status}\n"
                )
                truth.address("meldpunten", "vergunning", vid, text, d)
    return n


def write_gebieden(world: World, folder: Path) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    features = []
    for b in world.buurten:
        x0, y0, s = b.x0, b.y0, b.size
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "buurtcode": b.code,
                    "buurtnaam": b.naam,
                    "wijkcode": b.wijkcode,
                    "wijknaam": b.wijknaam,
                    "gemeentecode": "GM0599",
                    "gemeentenaam": "Rotterdam",
                    "jaar": 2026,
                },
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[x0, y0], [x0 + s, y0], [x0 + s, y0 + s], [x0, y0 + s], [x0, y0]]],
                },
            }
        )
    doc = {
        "type": "FeatureCollection",
        "name": "buurten_2026 (synthetisch)",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
        "features": features,
    }
    (folder / "buurten.geojson").write_text(json.dumps(doc), encoding="utf-8")
    return {"buurt": len(features)}
