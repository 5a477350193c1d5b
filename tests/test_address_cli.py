"""The BAG address table from real LVBAG samples, and `rgw address resolve` end to end on them."""

import shutil

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from linkage.address import BagIndex, load_bag_addresses, resolve_text
from linkage.address.bag import bag_address_table
from rgw.commands.address import address


def test_load_bag_addresses_on_the_nlextract_sample(real_fixtures, tmp_path):
    """NLExtract's Doesburg sample: 9 nummeraanduidingen. Two are addresses of ligplaatsen (Koppenberch), two of
    standplaatsen (Het Hoornwerck), one the main address of a verblijfsobject (Kosterstraat 4); at Schout bij Nacht
    Doormansingel 9 three letters share one verblijfsobject (l main, x and y side addresses), and one
    nummeraanduiding (gemeente 0362) refers to an openbare ruimte that is not in the extract."""
    table = load_bag_addresses(real_fixtures / "bag" / "nlextract", staging_root=tmp_path / "staging")
    assert not any((tmp_path / "staging").iterdir())  # the connector's staging folder is cleaned up
    rows = {r["nummeraanduiding_id"]: r for r in table.to_pylist()}
    assert len(rows) == 9
    assert rows["0221200000330151"] | {} == {
        "nummeraanduiding_id": "0221200000330151",
        "adresseerbaar_object_id": "0221020000330152",
        "verblijfsobject_id": None,
        "straatnaam": "Koppenberch",
        "verkorte_naam": None,
        "huisnummer": 2,
        "huisletter": None,
        "huisnummertoevoeging": None,
        "postcode": "6982CZ",
        "woonplaats": "Doesburg",
        "status": "Naamgeving uitgegeven",
        "hoofdadres": True,
        "historic_postcodes": [],
        "historic_straatnamen": [],
    }
    assert rows["0221200000330173"]["adresseerbaar_object_id"] == "0221030000330174"  # a standplaats
    assert rows["0221200000330227"]["verblijfsobject_id"] == "0221010000330226"
    letters = {r["huisletter"]: r for r in rows.values() if r["straatnaam"] == "Schout bij Nacht Doormansingel"}
    assert sorted(letters) == ["l", "x", "y"]
    assert {r["verblijfsobject_id"] for r in letters.values()} == {"0221010000330999"}
    assert [letters[k]["hoofdadres"] for k in "lxy"] == [True, False, False]
    assert {r["verkorte_naam"] for r in letters.values()} == {"Sbn Doormansingel"}
    orphan = rows["0362200001221879"]
    assert (orphan["straatnaam"], orphan["woonplaats"], orphan["verblijfsobject_id"]) == (None, None, None)
    assert table.schema.field("huisnummer").type == pa.int32()


def test_load_bag_addresses_on_the_gdal_sample_and_from_a_landed_folder(real_fixtures, tmp_path):
    """GDAL's LVBAG test files: three nummeraanduidingen whose openbare ruimte, woonplaats and objects are not in
    the sample - rows with a postcode and number and nothing else, still findable by postcode."""
    table = load_bag_addresses(real_fixtures / "bag" / "gdal")
    assert sorted(zip(table["postcode"].to_pylist(), table["huisnummer"].to_pylist(), strict=True)) == [
        ("9403KB", 23),
        ("9403KB", 25),
        ("9403KD", 24),
    ]
    assert set(table["straatnaam"].to_pylist()) == {None}
    index = BagIndex(table)
    m = resolve_text("Onbekend 24, 9403 KD", index)
    assert m.unresolved_reason == "postcode_mismatch"  # a street is written that BAG does not have there
    m = resolve_text("9403KD 24", index)  # postcode and number, no street
    assert (m.nummeraanduiding_id, m.method, m.confidence) == ("0106200000002799", "postcode_huisnummer_exact", 0.97)
    # a landed BAG delivery folder (the connector's entity files) gives the same table
    from connectors.bag import read_bag

    result = read_bag(real_fixtures / "bag" / "nlextract", staging_root=tmp_path)
    try:
        landed = bag_address_table(result.staging_dir)
    finally:
        shutil.rmtree(result.staging_dir, ignore_errors=True)
    assert landed.equals(load_bag_addresses(real_fixtures / "bag" / "nlextract"))


def test_resolve_on_the_real_sample(real_fixtures):
    index = BagIndex(load_bag_addresses(real_fixtures / "bag" / "nlextract"))
    assert index.woonplaats_of("doesburg") == "doesburg"
    cases = {
        "Koppenberch 2, 6982 CZ Doesburg": ("0221200000330151", "postcode_huisnummer_exact"),
        "koppenberch 20": ("0221200000330153", "street_exact"),
        "KOPPENBERG 20 Doesburg": ("0221200000330153", "street_fuzzy"),
        "Kosterstr. 4": ("0221200000330227", "street_exact"),
        "Het Hoornwerck 4": ("0221200000330173", "street_exact"),
        "Schout bij Nacht Doormansingel 9-X": ("0221200000330998", "street_exact"),
        "Sbn Doormansingel 9 y": ("0221200000330999", "street_exact"),
        "Schout-bij-Nacht Doormansingel 9L, Doesburg": ("0221200000330229", "street_exact"),
    }
    for text, (num, method) in cases.items():
        m = resolve_text(text, index)
        assert (m.nummeraanduiding_id, m.method) == (num, method), text
    assert resolve_text("Schout bij Nacht Doormansingel 9", index).unresolved_reason == "ambiguous_candidates"
    assert resolve_text("Schout bij Nacht Doormansingel 9z", index).unresolved_reason == "addition_not_in_bag"


@pytest.fixture(scope="module")
def saved_addresses(real_fixtures, tmp_path_factory):
    """The NLExtract sample's address table, saved once with --save-addresses (the next runs read it as --bag)."""
    folder = tmp_path_factory.mktemp("bag")
    source = folder / "in.csv"
    source.write_text("adres\nKoppenberch 2\n")
    saved = folder / "addresses.parquet"
    result = CliRunner().invoke(
        address,
        [
            "resolve",
            "--bag",
            str(real_fixtures / "bag" / "nlextract"),
            "--input",
            str(source),
            "--address-column",
            "adres",
            "--out",
            str(folder / "out.csv"),
            "--save-addresses",
            str(saved),
        ],
    )
    assert result.exit_code == 0, result.output
    return saved


def run(bag, source, out, *extra):
    args = ["resolve", "--bag", str(bag), "--input", str(source), "--out", str(out), *extra]
    return CliRunner().invoke(address, args)


def test_cli_csv_semicolon_with_postcode_and_woonplaats_columns(saved_addresses, tmp_path):
    source = tmp_path / "meldingen.csv"
    source.write_text(
        "id;adres;pc;plaats\n"
        "007;Koppenberch 2;6982 CZ;Doesburg\n"
        "008;Koppenberch 20;;\n"
        "009;Nergensstraat 1;;\n"
        "010;;;\n"
        '011;"Kosterstraat 4; achterom";;Doesburg\n',
        encoding="utf-8",
    )
    out = tmp_path / "opgelost.parquet"
    result = run(
        saved_addresses,
        source,
        out,
        "--address-column",
        "adres",
        "--postcode-column",
        "pc",
        "--woonplaats-column",
        "plaats",
    )
    assert result.exit_code == 0, result.output
    assert "3 of 5 addresses resolved; 2 to review" in result.output
    rows = pq.read_table(out).to_pylist()
    assert [r["id"] for r in rows] == ["007", "008", "009", "010", "011"]  # every column kept as written
    assert [r["nummeraanduiding_id"] for r in rows] == [
        "0221200000330151",
        "0221200000330153",
        None,
        None,
        "0221200000330227",
    ]
    assert rows[0]["method"] == "postcode_huisnummer_exact" and rows[0]["confidence"] == 0.99
    assert [r["unresolved_reason"] for r in rows[2:4]] == ["unknown_street", "no_address"]
    assert rows[2]["method"] == "unresolved" and rows[2]["verblijfsobject_id"] is None


def test_cli_parquet_in_csv_out_and_errors(saved_addresses, tmp_path):
    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"adres": ["Kosterstraat 4", "Koppenberch 99"], "n": [1, 2]}), source)
    out = tmp_path / "uit.csv"
    result = run(saved_addresses, source, out, "--address-column", "adres")
    assert result.exit_code == 0, result.output
    rows = pacsv.read_csv(out).to_pylist()
    assert [r["unresolved_reason"] or None for r in rows] == [None, "house_number_not_in_street"]
    assert rows[0]["verblijfsobject_id"] == 221010000330226  # CSV reads the id back as a number
    bad = run(saved_addresses, source, out, "--address-column", "adress")
    assert bad.exit_code != 0 and "has no column 'adress'" in bad.output
    latin = tmp_path / "latin.csv"
    latin.write_bytes("adres\nCaf\xe9straat 1\n".encode("latin-1"))
    bad = run(saved_addresses, latin, out, "--address-column", "adres")
    assert bad.exit_code != 0 and "wrong encoding" in bad.output
    ok = run(saved_addresses, latin, out, "--address-column", "adres", "--encoding", "cp1252")
    assert ok.exit_code == 0, ok.output
