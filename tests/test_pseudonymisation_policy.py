"""The policy: every column the connectors deliver has one, unknown columns stop the landing, and what lands from
the real BRP test set holds no direct identifier."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import connectors.brk as brk
import connectors.gebieden as gebieden
from connectors.registry import SOURCES
from governance.identifier_scan import scan_zone
from pseudonymisation.boundary import land_entity
from pseudonymisation.encodings import FieldEncoder
from pseudonymisation.keys import KeyStore
from pseudonymisation.policy import (
    ENCODING_KINDS,
    Boundary,
    PolicyError,
    apply_policy,
    check_policy_covers,
    load_policy,
    plan,
)
from pseudonymisation.pseudonyms import PSEUDONYM, Pseudonymiser
from pseudonymisation.vault import Vault

GBAV = "20220502_Testset_persoonslijsten_proefomgeving_GBA-V.csv"
REAL = {  # source -> the real sample files its connector reads (tests/conftest.py: real_fixtures)
    "bag": ["bag/nlextract", "bag/gdal"],
    "brp": [f"brp/{GBAV}", "brp/personen-responses"],
    "stedin": ["stedin/zeeland-2023.csv", "stedin/zeeland-2013.csv"],
    "corporaties": ["corporaties"],
    "meldpunten": ["meldpunten/amsterdam-signals/signal_post.json", "meldpunten/amsterdam-signals/create_initial.json"],
}
# Sources without a readable real sample: the schemas their connectors declare.
DECLARED = {
    ("brk", "kadastraal_object"): brk.OBJECT_SCHEMA,
    ("brk", "kadastraal_object_adres"): brk.ADRES_SCHEMA,
    ("brk", "zakelijk_gerechtigde"): brk.RECHT_SCHEMA,
    ("brk", "persoon"): brk.PERSOON_SCHEMA,
    ("gebieden", "buurt"): gebieden.BUURT_SCHEMA,
}


@pytest.fixture
def keystore(tmp_path, monkeypatch):
    monkeypatch.setenv("RGW_MASTER_KEY", "55" * 32)
    return KeyStore(tmp_path / "keys")


@pytest.fixture(scope="module")
def deliveries(real_fixtures, tmp_path_factory):
    """Every real sample read by its connector: (source, path) -> DeliveryResult."""
    out = {}
    for source, paths in REAL.items():
        for rel in paths:
            staging = tmp_path_factory.mktemp("staging")
            out[(source, rel)] = SOURCES[source].read(real_fixtures / rel, delivery_id="test", staging_root=staging)
    return out


def test_every_entity_of_every_source_has_a_policy():
    policy = load_policy()
    for name, spec in SOURCES.items():
        assert set(spec.entities) <= set(policy.get(name, {})), name


def test_the_policy_covers_every_column_the_connectors_deliver_on_the_real_samples(deliveries):
    checked = set()
    for (source, _), result in deliveries.items():
        for entity, batch in result.entities.items():
            check_policy_covers(batch.schema, source, entity)
            checked.add((source, entity))
    for (source, entity), schema in DECLARED.items():
        check_policy_covers(schema, source, entity)
        checked.add((source, entity))
    expected = {(s, e) for s, spec in SOURCES.items() for e in spec.entities}
    assert checked == expected


def test_unknown_columns_and_entities_stop_the_landing_and_are_all_named(keystore, tmp_path):
    boundary = Boundary(keystore, Vault(tmp_path / "vault", keystore))
    table = pa.table({"bsn": ["999993653"], "schoenmaat": ["41"], "oogkleur": ["groen"]})
    with pytest.raises(PolicyError, match="'schoenmaat', 'oogkleur'"):
        boundary.apply_policy(table, "brp", "persoon")
    assert not (tmp_path / "vault").exists()  # nothing was pseudonymised or stored before the refusal
    with pytest.raises(PolicyError, match="brp.huisdier has no pseudonymisation policy"):
        check_policy_covers(table, "brp", "huisdier")
    with pytest.raises(PolicyError, match="no pseudonymisation policy"):
        check_policy_covers(table, "_encoding", "taps")


def test_apply_policy_with_a_factory_and_encoders(keystore):
    table = pa.table(
        {
            "relatie_id": ["R1", "R2"],
            "soort": ["huurder", "huurder"],
            "bsn": ["999993653", None],
            "geboortedatum": ["1980-05-17", "1975"],
            "geboortedatum_precision": ["day", "year"],
            "voornaam": ["Jan", "Fatma"],
            "tussenvoegsels": ["de", None],
            "achternaam": ["Vries", "Yılmaz"],
            "kvk_nummer": [None, None],
            "naam": [None, None],
            "email": ["Jan@Example.nl", None],
            "telefoonnummer": ["06-12345678", "+31 6 87654321"],
            "source_file": ["f.json", "f.json"],
            "record_ref": ["1", "2"],
        }
    )
    encoders = {field: FieldEncoder(keystore, field, kind) for field, kind in ENCODING_KINDS.items()}
    out = apply_policy(table, "corporaties", "relatie", lambda d: Pseudonymiser(keystore, d), encoders)
    assert out.column_names == [
        "relatie_id",
        "soort",
        "bsn_psn",
        "geboortedatum_bf",
        "geboortedatum_jaar",
        "geboortedatum_precision",
        "voornaam_bf",
        "tussenvoegsels_bf",
        "achternaam_bf",
        "kvk_nummer_psn",
        "naam_bf",
        "email_psn",
        "telefoonnummer_psn",
        "source_file",
        "record_ref",
    ]
    assert out["geboortedatum_jaar"].to_pylist() == [1980, 1975]
    assert out["bsn_psn"][0].as_py() == Pseudonymiser(keystore, "bsn").pseudonym("999993653")
    assert PSEUDONYM.match(out["telefoonnummer_psn"][1].as_py())
    assert [s.action for s in plan(table, "corporaties", "relatie")].count("encode") == 5


def test_what_lands_from_the_real_brp_test_set_holds_no_direct_identifier(deliveries, keystore, tmp_path):
    result = deliveries[("brp", f"brp/{GBAV}")]
    boundary = Boundary(keystore, Vault(tmp_path / "vault", keystore))
    landing = tmp_path / "landing"
    landing.mkdir()
    raw_persons = result.entities["persoon"].clean_path
    for entity, batch in result.entities.items():
        raw = pq.read_table(batch.clean_path)
        landed, steps, stats = land_entity(boundary, raw, "brp", entity, None)
        pq.write_table(landed, landing / f"{entity}.parquet")
        assert landed.num_rows == raw.num_rows == batch.clean_rows
        assert not {"bsn", "a_nummer", "voornamen", "geslachtsnaam", "geboortedatum"} & set(landed.column_names)
        assert not {"geslacht", "nationaliteiten"} & set(landed.column_names)
    persons = pq.read_table(landing / "persoon.parquet")
    # 681 persons; two persoonslijsten of the test set have an A-nummer but no BSN, and stay without one.
    assert persons.num_rows == 681 and persons["bsn_psn"].null_count == 2
    assert persons["a_nummer_psn"].null_count == 0
    assert all(PSEUDONYM.match(p) for p in persons["bsn_psn"].drop_null().to_pylist())
    # The boundary's outside check: the raw table is full of identifiers, what landed holds none.
    assert {f.kind for f in scan_zone([raw_persons.parent], [raw_persons])} >= {"bsn", "a_nummer"}
    assert scan_zone([landing], [raw_persons]) == []
    # Every BSN that landed as a pseudonym can be resolved through the vault (and only there).
    one = pq.read_table(raw_persons).slice(0, 1).to_pylist()[0]
    vault = Vault(tmp_path / "vault", keystore)
    assert vault.resolve("bsn", Pseudonymiser(keystore, "bsn").pseudonym(one["bsn"])) == one["bsn"]
