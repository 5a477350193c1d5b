"""Persons and owners resolved to entities on the landing zone (pseudonyms and keyed encodings only).

Two worlds: the tiny synthetic Rotterdam run through the real connectors and the privacy boundary, scored against its
ground truth (goals: tenants to residents F1 >= 0.99, owner entities F1 >= 0.98); and a hand-built landing zone,
encoded with the boundary's own encoders, where each case the linker must get right is planted once.
"""

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from connectors.delivery import land_delivery
from connectors.registry import SOURCES
from linkage.address.bag import bag_address_table
from linkage.address.resolve import BagIndex
from linkage.companies import normalise_party_name
from linkage.entities import LINK_SCHEMA, _brp_rows, entity_links_table
from linkage.quality import entity_quality
from pseudonymisation.boundary import land_delivery_folder
from pseudonymisation.keys import KeyStore
from pseudonymisation.policy import Boundary
from pseudonymisation.pseudonyms import Pseudonymiser
from synth import generate

DELIVERY = "20261101"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny synthetic Rotterdam, ingested by the connectors and landed through the privacy boundary."""
    mp = pytest.MonkeyPatch()
    mp.setenv("RGW_MASTER_KEY", "ab" * 32)
    root = tmp_path_factory.mktemp("tiny")
    generate("tiny", 5, root)
    raw = root / "raw"
    for name in ("bag", "brp", "brk", "corporaties", "meldpunten"):
        land_delivery(SOURCES[name].read(root / "incoming" / name / DELIVERY, delivery_id=DELIVERY), raw)
    index = BagIndex(bag_address_table(raw / "bag" / DELIVERY))
    keystore = KeyStore(root / "keys")
    boundary = Boundary(keystore, None)
    for name in ("brp", "brk", "corporaties", "meldpunten"):
        entities = list(SOURCES[name].entities)
        land_delivery_folder(boundary, raw / name / DELIVERY, root / "landing", name, DELIVERY, entities, index)
    table = entity_links_table(root / "landing")
    yield root, keystore, table
    mp.undo()


def test_synthetic_entities_meet_the_goals(tiny):
    root, keystore, table = tiny
    assert table.schema == LINK_SCHEMA
    quality = entity_quality(table, root / "ground_truth", keystore)
    assert quality["tenants_to_residents"]["f1"] >= 0.99, quality
    assert quality["owners"]["f1"] >= 0.98, quality
    methods = set(table["method"].to_pylist())
    assert {"bsn_pseudonym", "fellegi_sunter", "kadaster_owner", "encoded_name_owner_of_dwelling"} <= methods


def test_synthetic_ids_are_stable_and_a_rerun_changes_nothing(tiny):
    root, _, table = tiny
    assert entity_links_table(root / "landing").equals(table)  # from scratch: the same ids
    assert entity_links_table(root / "landing", previous=table).equals(table)  # from the previous run
    rows = table.to_pylist()
    person = {r["record_key"]: r["entity_id"] for r in rows if r["source"] == "brk" and r["entity_kind"] == "persoon"}
    owner = {r["record_key"]: r["entity_id"] for r in rows if r["source"] == "brk" and r["entity_kind"] == "eigenaar"}
    assert all(owner[k] == v for k, v in person.items())  # a natural person's owner entity is his person entity
    assert all(v.startswith("persoon:") for v in person.values())


# --- a hand-built landing zone ---------------------------------------------------------------------------------------


class World:
    """Writes landing tables the way the boundary does: BSN and KvK as pseudonyms, names and dates as keyed filters."""

    def __init__(self, root: Path, keystore: KeyStore):
        self.root = root
        self.bsn = Pseudonymiser(keystore, "bsn")
        self.kvk = Pseudonymiser(keystore, "kvk")
        door = Boundary(keystore, None)  # the boundary's encoders: its kinds, lengths and diffusion
        self.enc = {f: door.encoder(f) for f in ("voornaam", "achternaam", "geboortedatum", "partij_naam")}

    def f(self, field: str, value: str | None) -> bytes | None:
        if value and field == "partij_naam":
            value = normalise_party_name(value)
        return self.enc[field].encode(value) if value else None

    def write(self, source: str, entity: str, rows: list[dict]) -> None:
        folder = self.root / source / DELIVERY
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows), folder / f"{entity}.parquet")

    def person(self, bsn, given, surname, dob) -> dict:
        return {
            "bsn_psn": self.bsn.pseudonym(bsn) if bsn else None,
            "voornamen_bf": self.f("voornaam", given),
            "geslachtsnaam_bf": self.f("achternaam", surname),
            "geboortedatum_bf": self.f("geboortedatum", dob),
        }


BRP = [  # bsn, given, surname, birth date, dwelling
    ("111222333", "Jan", "Jansen", "1980-01-01", "V1"),
    ("111222345", "Piet", "Jansen", "2010-05-05", "V1"),
    ("111222357", "Anna", "de Vries", "1975-03-03", "V2"),
    ("111222369", "Kees", "Bakker", "1990-07-07", "V3"),
    ("111222370", "Klaas", "Bakker", "1990-07-07", "V3"),
]
TENANTS = [  # relatie, bsn, given, surname, birth date, dwelling of the contract
    ("T1", "111222333", "Jan", "Jansen", "1980-01-01", "V1"),  # has a BSN
    ("T2", None, "Anna", "de Vries", "1975-03-03", "V9"),  # registered elsewhere (V2)
    ("T3", None, "Jan", "Janssen", "1980-01-01", "V1"),  # a typo in the surname
    ("T4", None, None, "Bakker", "1990-07-07", "V3"),  # one of the twins, which?
    ("T5", None, "Zoë", "Zwart", "1999-09-09", "V5"),  # nobody in the BRP
]
OWNERS = {"O1": "Jan Jansen", "O2": "Zuidhaven Vastgoed B.V.", "O3": "Maasstad Beheer B.V."}
HOLDINGS = [("O1", "K1", "V1"), ("O1", "K2", "V2"), ("O2", "K3", "V3"), ("O3", "K4", "V4")]
MELDINGEN = [
    ("M1", "V3", "Zuidhaven Holding"),  # the company, loosely
    ("M2", "V9", "Maasstad Beheer BV"),  # a dwelling the Kadaster does not know
    ("M3", "V1", "J. Jansen h.o.d.n. Jansen Verhuur"),  # the person behind a trade name
]


def build(root: Path, keystore: KeyStore, brp=BRP, tenants=TENANTS) -> None:
    w = World(root, keystore)
    w.write("brp", "persoon", [w.person(b, g, s, d) for b, g, s, d, _ in brp])
    current = [{"bsn_psn": w.bsn.pseudonym(b), "is_current": True, "adres_verblijfsobject_id": v} for b, *_, v in brp]
    w.write("brp", "verblijfplaats_historie", current)
    owners = [
        {"persoon_id": "O1", "persoon_type": "natuurlijk", **w.person("111222333", "Jan", "Jansen", "1980-01-01")},
        {"persoon_id": "O2", "persoon_type": "niet_natuurlijk", **w.person(None, None, None, None)},
        {"persoon_id": "O3", "persoon_type": "niet_natuurlijk", **w.person(None, None, None, None)},
    ]
    kvk = {"O2": "12345678", "O3": "87654321"}
    for o in owners:
        o["kvk_nummer_psn"] = w.kvk.pseudonym(kvk[o["persoon_id"]]) if o["persoon_id"] in kvk else None
        o["partij_naam_bf"] = w.f("partij_naam", OWNERS[o["persoon_id"]])
    w.write("brk", "persoon", owners)
    rights = [{"persoon_id": o, "kadastraal_object_id": k, "type": "eigenaar"} for o, k, _ in HOLDINGS]
    w.write("brk", "zakelijk_gerechtigde", rights)
    addresses = [{"kadastraal_object_id": k, "adres_verblijfsobject_id": v} for _, k, v in HOLDINGS]
    w.write("brk", "kadastraal_object_adres", addresses)
    relaties = [
        {
            "relatie_id": r,
            "soort": "natuurlijk_persoon",
            "bsn_psn": w.bsn.pseudonym(b) if b else None,
            "voornaam_bf": w.f("voornaam", g),
            "achternaam_bf": w.f("achternaam", s),
            "geboortedatum_bf": w.f("geboortedatum", d),
            "kvk_nummer_psn": None,
            "naam_bf": None,
        }
        for r, b, g, s, d, _ in tenants
    ]
    for rid, k, name in (("R9", "87654321", "Maasstad"), ("R10", None, "Zuidhaven Vastgoed BV")):
        empty = dict.fromkeys(("bsn_psn", "voornaam_bf", "achternaam_bf", "geboortedatum_bf"))
        kvk_psn = w.kvk.pseudonym(k) if k else None
        naam = w.f("partij_naam", name)
        relaties.append(
            {"relatie_id": rid, "soort": "rechtspersoon", **empty, "kvk_nummer_psn": kvk_psn, "naam_bf": naam}
        )
    w.write("corporaties", "relatie", relaties)
    w.write(
        "corporaties",
        "huurovereenkomst",
        [{"huurovereenkomst_id": f"H{r}", "eenheid_id": f"E{r}"} for r, *_ in tenants],
    )
    w.write(
        "corporaties",
        "huurovereenkomst_relatie",
        [{"huurovereenkomst_id": f"H{r}", "relatie_id": r} for r, *_ in tenants],
    )
    w.write("corporaties", "eenheid", [{"eenheid_id": f"E{r}", "adres_verblijfsobject_id": v} for r, *_, v in tenants])
    meldingen = [
        {"melding_id": m, "verhuurder_genoemd_bf": w.f("partij_naam", n), "adres_verblijfsobject_id": v}
        for m, v, n in MELDINGEN
    ]
    w.write("meldpunten", "melding", meldingen)
    zaak = {
        "zaak_id": "Z1",
        "eigenaar_genoemd_bf": w.f("partij_naam", "Onbekende Eigenaar"),
        "adres_verblijfsobject_id": "V4",
    }
    w.write("meldpunten", "zaak", [zaak])


@pytest.fixture()
def world(tmp_path, monkeypatch):
    monkeypatch.setenv("RGW_MASTER_KEY", "cd" * 32)
    keystore = KeyStore(tmp_path / "keys")
    build(tmp_path / "landing", keystore)
    return tmp_path / "landing", keystore


def by_record(table: pa.Table) -> dict[tuple[str, str], dict]:
    return {(r["record_key"], r["entity_kind"]): r for r in table.to_pylist()}


def test_each_planted_case(world):
    landing, keystore = world
    rows = by_record(entity_links_table(landing))
    bsn = Pseudonymiser(keystore, "bsn")
    jan, anna = (
        rows[(bsn.pseudonym("111222333"), "persoon")]["entity_id"],
        rows[(bsn.pseudonym("111222357"), "persoon")]["entity_id"],
    )
    assert jan.startswith("persoon:")
    assert rows[("T1", "persoon")]["entity_id"] == jan and rows[("T1", "persoon")]["method"] == "bsn_pseudonym"
    assert rows[("O1", "eigenaar")]["entity_id"] == jan  # the owner is the person
    t2 = rows[("T2", "persoon")]
    assert (t2["entity_id"], t2["method"]) == (anna, "fellegi_sunter")
    assert json.loads(t2["evidence"])["block"] == "same encoded birth date"  # lives elsewhere: the signal
    assert json.loads(t2["evidence"])["fields"]["woning"]["level"] == "else"
    assert rows[("T3", "persoon")]["entity_id"] == jan  # Janssen for Jansen, at the same dwelling
    assert rows[("T4", "persoon")]["method"] == "no_match"  # twins: no guess
    assert rows[("T5", "persoon")]["method"] == "no_match"
    zuidhaven, maasstad = rows[("O2", "eigenaar")]["entity_id"], rows[("O3", "eigenaar")]["entity_id"]
    assert zuidhaven.startswith("bedrijf:") and maasstad.startswith("bedrijf:")
    m1, m2, m3 = rows[("M1", "eigenaar")], rows[("M2", "eigenaar")], rows[("M3", "eigenaar")]
    assert (m1["entity_id"], m1["method"]) == (zuidhaven, "encoded_name_owner_of_dwelling")  # "Holding"
    assert (m2["entity_id"], m2["method"]) == (maasstad, "encoded_name_any_owner")  # not at the reported dwelling
    assert m3["entity_id"] == jan  # h.o.d.n.: the person owns
    assert rows[("Z1", "eigenaar")]["method"] == "no_match"  # a name unlike the owner's: no link
    assert rows[("R9", "eigenaar")]["entity_id"] == maasstad and rows[("R9", "eigenaar")]["method"] == "kvk_pseudonym"
    assert rows[("R10", "eigenaar")]["entity_id"] == zuidhaven


def test_a_new_delivery_links_incrementally(world, tmp_path):
    landing, keystore = world
    first = entity_links_table(landing)
    # next delivery: Anna has left the BRP and a new tenant arrives; Anna's tenant link is carried, not redone
    brp = [p for p in BRP if p[1] != "Anna"]
    tenants = [*TENANTS, ("T6", None, "Piet", "Jansen", "2010-05-05", "V1")]
    later = tmp_path / "later"
    build(later, keystore, brp=brp, tenants=tenants)
    table = entity_links_table(later, previous=first)
    assert table.equals(entity_links_table(later, previous=first, whole=True))  # touched components only: same
    second = by_record(table)
    before = by_record(first)
    assert second[("T2", "persoon")]["entity_id"] == before[("T2", "persoon")]["entity_id"]
    assert second[("T2", "persoon")]["method"] == "fellegi_sunter"
    piet = (Pseudonymiser(keystore, "bsn").pseudonym("111222345"), "persoon")
    assert second[("T6", "persoon")]["entity_id"] == second[piet]["entity_id"] == before[piet]["entity_id"]
    unchanged = [k for k in before if k in second]
    assert all(second[k]["entity_id"] == before[k]["entity_id"] for k in unchanged)


def test_a_corrected_record_is_linked_afresh_and_leaves_its_old_entity(world, tmp_path):
    landing, keystore = world
    first = by_record(entity_links_table(landing))
    jan, anna = first[("T3", "persoon")]["entity_id"], first[("T2", "persoon")]["entity_id"]
    assert jan != anna and first[("T3", "persoon")]["input_fingerprint"]
    # next delivery: the corporation corrects T3, who was in fact Anna de Vries; everything else is unchanged
    tenants = [t if t[0] != "T3" else ("T3", None, "Anna", "de Vries", "1975-03-03", "V9") for t in TENANTS]
    later = tmp_path / "later"
    build(later, keystore, tenants=tenants)
    previous = pa.Table.from_pylist(list(first.values()), LINK_SCHEMA)
    table = entity_links_table(later, previous=previous)
    assert table.equals(entity_links_table(later, previous=previous, whole=True))  # touched components only: same
    second = by_record(table)
    t3 = second[("T3", "persoon")]
    assert (t3["entity_id"], t3["method"]) == (anna, "fellegi_sunter")  # relinked, not carried
    assert second[("T2", "persoon")]["entity_id"] == anna
    jan_bsn = (Pseudonymiser(keystore, "bsn").pseudonym("111222333"), "persoon")
    assert second[jan_bsn]["entity_id"] == jan != anna  # Jan and Anna were not merged through T3
    assert second[("T5", "persoon")]["input_fingerprint"] == first[("T5", "persoon")]["input_fingerprint"]


def test_a_name_shared_by_two_owners_links_only_where_the_reported_buurt_decides():
    """'Sem Bakker' named at a report whose address did not resolve, with two owners of that name: no guess; with
    the reported buurt holding only one of them, that one."""
    import numpy as np

    from linkage.entities import match_names

    rng = np.random.default_rng(3)
    owners = rng.integers(0, 256, size=(6, 256), dtype=np.uint8)
    owners[4] = owners[1]  # two owners whose names encode alike
    named = owners[[1, 2]].copy()  # row 0: the shared name; row 1: a name only owner 2 has
    nowhere = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    matched = match_names(named, owners, nowhere, local_cut=0.15, global_cut=0.5)
    assert 0 not in matched and matched[1][0] == 2
    in_buurt = (np.array([0, 0, 0]), np.array([3, 4, 5]))  # the owners with a dwelling in the reported buurt
    matched = match_names(named, owners, nowhere, local_cut=0.15, global_cut=0.5, area=in_buurt)
    assert matched[0][0] == 4 and matched[0][3] == "owner in the reported buurt"


def test_brp_rows_of_pseudonyms_are_what_index_in_finds():
    """One hash table over the BRP's pseudonyms for every side gives each side's rows as a look-up per side does,
    also when a pseudonym is given twice (the first row)."""
    for psn in (["b", "a", "d", "c"], ["b", "a", "b", "c"]):
        sides = [pa.array(["a", None, "x", "c", "b"]), pa.array([], pa.string()), pa.array(["d", "d", None])]
        expected = [pc.fill_null(pc.index_in(s, value_set=pa.array(psn)), -1).to_pylist() for s in sides]
        assert [rows.tolist() for rows in _brp_rows(pa.array(psn), *sides)] == expected
