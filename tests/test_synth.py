"""The synthetic Rotterdam: deterministic, in the real formats, with every abuse planted and the truth recorded.

All on the tiny scale (one buurt, ~300 dwellings, ~600 residents), generated once per module; the connectors of the
hub read every delivery as they would a real one.
"""

import csv
import hashlib
import json
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from lxml import etree

from connectors.identifiers import (
    is_valid_a_nummer,
    is_valid_bag_id,
    is_valid_bsn,
    is_valid_ean18,
    is_valid_kvk,
    is_valid_rsin,
    normalise_postcode,
)
from connectors.registry import SOURCES
from synth import generate
from synth.world import ABUSES

DELIVERY = "20261101"
LOCAL = etree.QName


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    summary = generate("tiny", 7, out)
    return out, summary


def _incoming(out: Path, source: str) -> Path:
    return out / "incoming" / source / ("2026" if source == "gebieden" else DELIVERY)


def _truth(out: Path, name: str) -> list[dict]:
    return pq.read_table(out / "ground_truth" / f"{name}.parquet").to_pylist()


def _brp_rows(out: Path) -> tuple[list[str], list[list[str]]]:
    with open(_incoming(out, "brp") / "brp_persoonslijsten.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    return rows[0], rows[1:]


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


def _planted(out: Path) -> dict[str, set[str]]:
    keys: dict[str, set[str]] = defaultdict(set)
    for r in _truth(out, "planted_invalid"):
        keys[r["reason_code"]].add(r["source_key"])
    return keys


# --- determinism -----------------------------------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_world(tiny, tmp_path):
    out, _ = tiny
    again = tmp_path / "again"
    generate("tiny", 7, again)
    assert _digest(out) == _digest(again)
    other = tmp_path / "other"
    generate("tiny", 8, other)
    assert _digest(out) != _digest(other)


def test_every_delivery_is_written_and_marked_ready(tiny):
    out, summary = tiny
    expected = {
        "bag": {f"0599{k}01112026-000001.xml" for k in ("NUM", "VBO", "PND", "OPR", "WPL", "LIG", "STA")}
        | {"Leveringsdocument-BAG-Extract.xml"},
        "brp": {"brp_persoonslijsten.csv"},
        "brk": {"brk_bulk.json"},
        "stedin": {"stedin_aansluitingen.csv", "stedin_verbruik.csv"},
        "corporaties": {"vera_eenheden.json", "vera_huurovereenkomsten.json", "vera_relaties.json"},
        "meldpunten": {"meldingen.json", "zaken.csv", "vergunningen.csv"},
        "gebieden": {"buurten.geojson"},
    }
    for source, files in expected.items():
        assert {p.name for p in _incoming(out, source).iterdir()} == files | {"_READY"}, source
    assert 250 <= summary["dwellings"] <= 350 and 500 <= summary["residents"] <= 700
    assert summary["stedin"]["verbruik"] == 12 * (summary["stedin"]["aansluiting"])


# --- the connectors read it as real deliveries ------------------------------------------------------------------------


def test_connectors_quarantine_only_what_was_planted_invalid(tiny, tmp_path):
    out, summary = tiny
    quarantined = Counter()
    results = {}
    for name, spec in SOURCES.items():
        folder = _incoming(out, name)
        result = spec.read(folder, delivery_id=folder.name, staging_root=tmp_path)
        results[name] = result
        assert result.drift == [], name
        for entity, batch in result.entities.items():
            assert batch.reconciles
            for row in batch.read_quarantine().to_pylist():
                quarantined[(name, entity, row["reason_code"])] += 1
    planted = Counter((r["source"], r["reason_code"]) for r in _truth(out, "planted_invalid"))
    assert planted == {("brp", "invalid_bsn"): 1, ("stedin", "invalid_ean"): 1, ("meldpunten", "invalid_code"): 1}
    # The person with the bad BSN takes its address spells along; the bad EAN's monthly usage becomes orphaned.
    assert {k for k in quarantined} == {
        ("brp", "persoon", "invalid_bsn"),
        ("brp", "verblijfplaats_historie", "invalid_bsn"),
        ("stedin", "aansluiting", "invalid_ean"),
        ("stedin", "verbruik", "orphan"),
        ("meldpunten", "melding", "invalid_code"),
    }
    assert quarantined[("brp", "persoon", "invalid_bsn")] == 1
    assert quarantined[("stedin", "aansluiting", "invalid_ean")] == 1
    assert quarantined[("stedin", "verbruik", "orphan")] == 12
    # corrected (onjuist) history rows are skipped, not counted as spells
    assert results["brp"].info["onjuist_skipped"] == summary["brp"]["onjuist"] > 0
    bag = results["bag"]
    assert bag.entities["verblijfsobject"].clean_rows == summary["bag"]["verblijfsobject"]
    assert bag.entities["ligplaats"].clean_rows == 2 and bag.entities["standplaats"].clean_rows == 1
    assert bag.info["superseded_versions"]["verblijfsobject"] > 0
    statuses = Counter(pq.read_table(bag.entities["verblijfsobject"].clean_path)["status"].to_pylist())
    assert statuses["Verblijfsobject ingetrokken"] == summary["bag"]["ingetrokken"] >= 2
    doelen = {
        d
        for row in pq.read_table(bag.entities["verblijfsobject"].clean_path)["gebruiksdoelen"].to_pylist()
        for d in row
    }
    assert doelen == {"woonfunctie", "winkelfunctie", "kantoorfunctie"}


# --- identifiers ------------------------------------------------------------------------------------------------------


def test_every_identifier_passes_its_check_except_the_planted_ones(tiny):
    out, _ = tiny
    planted = _planted(out)
    header, rows = _brp_rows(out)
    col = {h: i for i, h in reversed(list(enumerate(header)))}
    bsns = [r[col["01.01.20"]] for r in rows if r[col["01.01.20"]]]
    assert len(bsns) == len(set(bsns))
    assert [b for b in bsns if not is_valid_bsn(b)] == sorted(planted["invalid_bsn"])
    anrs = [r[col["01.01.10"]] for r in rows if r[col["01.01.10"]]]
    assert len(anrs) == len(bsns) and all(is_valid_a_nummer(a) for a in anrs)
    assert all(is_valid_bag_id(r[col["08.11.80"]], "verblijfsobject") for r in rows if r[col["08.11.80"]])
    assert all(is_valid_bag_id(r[col["08.11.90"]], "nummeraanduiding") for r in rows if r[col["08.11.90"]])
    assert all(normalise_postcode(r[col["08.11.60"]]) for r in rows if r[col["08.11.60"]])

    brk = json.loads((_incoming(out, "brk") / "brk_bulk.json").read_text(encoding="utf-8"))["_embedded"]
    for p in brk["personen"]:
        if p["type"] == "KadasterNatuurlijkPersoon":
            assert is_valid_bsn(p["burgerservicenummer"])
        else:
            assert is_valid_rsin(p["rsin"]) and is_valid_kvk(p["kvkNummer"])
    for obj in brk["kadastraalOnroerendeZaken"]:
        (adres,) = obj["adressen"]
        assert is_valid_bag_id(adres["adresseerbaarObjectIdentificatie"], "verblijfsobject")
        assert is_valid_bag_id(adres["nummeraanduidingIdentificatie"], "nummeraanduiding")

    conns = _csv(_incoming(out, "stedin") / "stedin_aansluitingen.csv")
    assert all(c["EAN"].startswith("871") and len(c["EAN"]) == 18 for c in conns)
    assert {c["EAN"] for c in conns if not is_valid_ean18(c["EAN"])} == planted["invalid_ean"]
    assert all(is_valid_bag_id(c["BAG_VBO_ID"], "verblijfsobject") for c in conns if c["BAG_VBO_ID"])
    assert 0 < sum(1 for c in conns if not c["BAG_VBO_ID"]) < len(conns) / 2  # mostly, not always, linked to BAG

    relaties = json.loads((_incoming(out, "corporaties") / "vera_relaties.json").read_text(encoding="utf-8"))
    assert all(is_valid_bsn(r["bsn"]) for r in relaties if r["bsn"])
    assert all(r["email"].endswith("@example.nl") and r["email"].isascii() for r in relaties if r["email"])
    meldingen = json.loads((_incoming(out, "meldpunten") / "meldingen.json").read_text(encoding="utf-8"))
    for m in meldingen:
        assert m["melder"]["email"].endswith("@example.nl") and m["melder"]["telefoon"].startswith("06")


# --- the planted abuses and the ground truth --------------------------------------------------------------------------


def test_every_abuse_is_planted_at_least_twice_with_its_detail(tiny):
    out, summary = tiny
    rows = _truth(out, "abuses")
    abuses = Counter(r["abuse"] for r in rows)
    assert set(abuses) == set(ABUSES)
    assert min(abuses.values()) >= 2
    assert summary["abuses"] == dict(abuses)
    assert all(r["detail"] and r["owner_id"] for r in rows)
    dwellings = {d["verblijfsobject_id"]: d for d in _truth(out, "dwellings")}
    for r in rows:
        d = dwellings[r["verblijfsobject_id"]]
        if r["abuse"] == "overbewoning":
            assert d["n_registered"] >= 7 and d["oppervlakte"] <= 45
        if r["abuse"] == "leegstand":
            assert d["vacant"] and d["n_registered"] == 0
        if r["abuse"] == "verhuur_zonder_vergunning":
            assert not d["permit"] and not d["corporation"]
    corp_share = sum(d["corporation"] for d in dwellings.values()) / len(dwellings)
    assert 0.25 <= corp_share <= 0.45


def test_the_nationality_codes_do_not_follow_the_planted_abuses(tiny):
    """Nationality is in the BRP, drawn independently of everything planted: the persons in planted dwellings show
    much the same mix of codes as everyone else (no code is over twice as common there)."""
    out, _ = tiny
    header, rows = _brp_rows(out)
    col = {h: i for i, h in reversed(list(enumerate(header)))}
    planted = {r["verblijfsobject_id"] for r in _truth(out, "abuses")}
    inside, everyone = Counter(), Counter()
    for r in rows:
        if r[col["04.05.10"]]:
            everyone[r[col["04.05.10"]]] += 1
            if r[col["08.11.80"]] in planted:
                inside[r[col["04.05.10"]]] += 1
    assert sum(inside.values()) >= 20
    for code, n in inside.items():
        assert n / sum(inside.values()) <= 2 * everyone[code] / sum(everyone.values()) + 0.1, code


def test_ground_truth_covers_every_person_owner_and_address_record(tiny):
    out, summary = tiny
    persons = Counter((r["source"], r["entity"]) for r in _truth(out, "persons"))
    owners = Counter((r["source"], r["entity"]) for r in _truth(out, "owners"))
    addresses = Counter((r["source"], r["entity"]) for r in _truth(out, "addresses"))
    brk = json.loads((_incoming(out, "brk") / "brk_bulk.json").read_text(encoding="utf-8"))["_embedded"]
    natural = sum(p["type"] == "KadasterNatuurlijkPersoon" for p in brk["personen"])
    zaken = _csv(_incoming(out, "meldpunten") / "zaken.csv")
    meldingen = json.loads((_incoming(out, "meldpunten") / "meldingen.json").read_text(encoding="utf-8"))

    assert persons[("brp", "persoon")] == summary["brp"]["persoon"] - 1  # all but the planted invalid BSN
    assert persons[("brk", "persoon")] == natural
    assert persons[("corporaties", "relatie")] == summary["corporaties"]["relatie"]
    assert owners[("brk", "persoon")] == summary["brk"]["persoon"]
    planted = _planted(out)["invalid_code"]
    named = [m for m in meldingen if m["verhuurder_genoemd"] and m["uuid"] not in planted]
    assert owners[("meldpunten", "melding")] == len(named)
    assert owners[("meldpunten", "zaak")] == sum(1 for z in zaken if z["eigenaar_genoemd"])
    assert addresses[("brp", "verblijfplaats_historie")] == summary["brp"]["verblijfplaats_historie"]
    assert addresses[("brk", "kadastraal_object_adres")] == summary["brk"]["kadastraal_object"]
    assert addresses[("brk", "persoon")] == natural
    assert addresses[("stedin", "aansluiting")] == summary["stedin"]["aansluiting"] - 1
    assert addresses[("corporaties", "eenheid")] == summary["corporaties"]["eenheid"]
    assert addresses[("meldpunten", "melding")] == summary["meldpunten"]["melding"] - 1
    assert addresses[("meldpunten", "zaak")] == summary["meldpunten"]["zaak"] == len(zaken)
    assert addresses[("meldpunten", "vergunning")] == summary["meldpunten"]["vergunning"]

    vbo = etree.parse(str(next(_incoming(out, "bag").glob("0599VBO*.xml"))))
    ns = {"Objecten": "www.kadaster.nl/schemas/lvbag/imbag/objecten/v20200601"}
    bag_ids = set(vbo.xpath("//Objecten:Verblijfsobject/Objecten:identificatie/text()", namespaces=ns))
    truth_ids = {r["true_verblijfsobject_id"] for r in _truth(out, "addresses") if r["true_verblijfsobject_id"]}
    assert truth_ids <= bag_ids
    texts = [r["address_text_as_written"] for r in _truth(out, "addresses") if r["source"] == "meldpunten"]
    assert any(t and t != t.strip().title() and t.islower() for t in texts) or any(
        t and any(f in t for f in ("hoog", "etage", "bov", "Burg.", " hs")) for t in texts
    )


def test_landlords_are_written_many_ways_and_some_own_many(tiny):
    out, _ = tiny
    dwellings = _truth(out, "dwellings")
    portfolio = Counter(d["owner_id"] for d in dwellings if d["owner_kind"] in ("person", "company"))
    assert max(portfolio.values()) >= 20
    written = defaultdict(set)
    truth_of = {r["source_key"]: r["true_owner_id"] for r in _truth(out, "owners") if r["source"] == "meldpunten"}
    meldingen = json.loads((_incoming(out, "meldpunten") / "meldingen.json").read_text(encoding="utf-8"))
    for m in meldingen:
        if m["uuid"] in truth_of:
            written[truth_of[m["uuid"]]].add(m["verhuurder_genoemd"])
    assert any(len(v) > 1 for v in written.values())


# --- the people -------------------------------------------------------------------------------------------------------


def test_names_hold_tussenvoegsels_diacritics_twins_namesakes_and_partial_dates(tiny):
    out, _ = tiny
    header, rows = _brp_rows(out)
    col = {h: i for i, h in reversed(list(enumerate(header)))}
    people = [r for r in rows if r[col["01.01.20"]]]
    prefixes = Counter(r[col["01.02.30"]] for r in people if r[col["01.02.30"]])
    assert {"van", "de", "van der"} <= set(prefixes)
    text = " ".join(r[col["01.02.10"]] + " " + r[col["01.02.40"]] for r in people)
    assert sum(ch in text for ch in "ąęłńśźżășțîâçıöüğ") >= 5
    by_name = Counter((r[col["01.02.10"]], r[col["01.02.30"]], r[col["01.02.40"]]) for r in people)
    assert any(n > 1 for n in by_name.values())  # namesakes: same name, other BSN
    twins = Counter((r[col["01.02.40"]], r[col["01.03.10"]], r[col["08.11.80"]]) for r in people if r[col["08.11.80"]])
    assert any(n >= 2 for n in twins.values())
    births = [r[col["01.03.10"]] for r in people]
    assert any(b.endswith("00") for b in births)
    # people who moved: history rows (category 58) follow the current address, marked by 08.H on the row before
    assert sum(1 for r in rows if not r[0] and r[col["08.10.30"]]) > 100
    assert all(r[col["08.H"]] in ("", "58") for r in rows)


# --- the formats ------------------------------------------------------------------------------------------------------


def _tag_order(path: Path) -> dict[str, list[str]]:
    """Per object element, the order in which its child elements first appear in the file."""
    order: dict[str, list[str]] = {}
    for _, obj in etree.iterparse(str(path), tag="{*}bagObject"):
        (element,) = obj
        seen = order.setdefault(LOCAL(element).localname, [])
        for child in element:
            if not isinstance(child.tag, str):
                continue
            name = LOCAL(child).localname
            if name not in seen:
                seen.append(name)
    return order


def test_bag_files_use_kadasters_namespaces_and_layout(tiny, real_fixtures):
    out, _ = tiny
    real = real_fixtures / "bag" / "nlextract"
    folder = _incoming(out, "bag")
    for kind in ("NUM", "VBO", "PND", "OPR", "WPL", "LIG", "STA"):
        ours = next(folder.glob(f"0599{kind}*.xml"))
        theirs = next(real.glob(f"0221{kind}*.xml"))
        root, real_root = etree.parse(str(ours)).getroot(), etree.parse(str(theirs)).getroot()
        assert root.tag == real_root.tag
        assert root.nsmap == real_root.nsmap
        stands = root.findall(".//{*}stand")
        assert stands and all(len(s) == 1 for s in stands)  # one bagObject per sl:stand, as Kadaster writes it
        ours_order, real_order = _tag_order(ours), _tag_order(theirs)
        for element, children in ours_order.items():
            known = [c for c in real_order[element] if c in children]
            assert [c for c in children if c in known] == known, (kind, element)
            assert set(children) - set(real_order[element]) <= {"huisletter", "huisnummertoevoeging", "verkorteNaam"}
    doc = etree.parse(str(folder / "Leveringsdocument-BAG-Extract.xml")).getroot()
    assert doc.tag == etree.parse(str(real / "Leveringsdocument-BAG-Extract.xml")).getroot().tag


def test_brp_csv_has_the_real_header_bom_and_block_layout(tiny, real_fixtures):
    out, _ = tiny
    ours = (_incoming(out, "brp") / "brp_persoonslijsten.csv").read_bytes()
    real = next((real_fixtures / "brp").glob("*.csv")).read_bytes()
    assert ours[:3] == b"\xef\xbb\xbf"
    assert ours.split(b"\n", 1)[0] == real.split(b"\n", 1)[0].rstrip(b"\r")
    header, rows = _brp_rows(out)
    col = {h: i for i, h in reversed(list(enumerate(header)))}
    assert all(len(r) == 257 for r in rows)
    for r in rows:
        starts_person = bool(r[0])
        assert starts_person == bool(r[col["01.01.20"]]) == bool(r[col["04.05.10"]])  # 01 and 04 on the first row


def test_every_dwelling_lies_in_its_buurt(tiny):
    out, _ = tiny
    geo = json.loads((_incoming(out, "gebieden") / "buurten.geojson").read_text(encoding="utf-8"))
    boxes = {}
    for f in geo["features"]:
        (ring,) = f["geometry"]["coordinates"]
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        boxes[f["properties"]["buurtcode"]] = (min(xs), min(ys), max(xs), max(ys))
    assert set(boxes) == {"BU05991082"}
    where = {d["verblijfsobject_id"]: d["buurtcode"] for d in _truth(out, "dwellings")}
    ns = {"Objecten": "www.kadaster.nl/schemas/lvbag/imbag/objecten/v20200601", "gml": "http://www.opengis.net/gml/3.2"}
    vbo = etree.parse(str(next(_incoming(out, "bag").glob("0599VBO*.xml"))))
    for obj in vbo.xpath("//Objecten:Verblijfsobject", namespaces=ns):
        vid = obj.findtext("Objecten:identificatie", namespaces=ns)
        x, y, _ = map(float, obj.findtext(".//gml:pos", namespaces=ns).split())
        x0, y0, x1, y1 = boxes[where.get(vid, "BU05991082")]
        assert x0 < x < x1 and y0 < y < y1, vid
