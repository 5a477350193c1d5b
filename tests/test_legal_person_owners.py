"""Owners that are legal persons pass the privacy boundary by name and KvK number; natural persons, sole traders and
partnerships without legal personality do not (pseudonymisation/policy.py, keep_legal_person)."""

from __future__ import annotations

import pyarrow as pa
import pytest

import connectors.brk as brk
from pseudonymisation.encodings import FieldEncoder
from pseudonymisation.keys import KeyStore
from pseudonymisation.policy import ENCODING_KINDS, apply_policy
from pseudonymisation.pseudonyms import Pseudonymiser


@pytest.fixture
def keystore(tmp_path, monkeypatch):
    monkeypatch.setenv("RGW_MASTER_KEY", "66" * 32)
    return KeyStore(tmp_path / "keys")


def test_only_a_legal_persons_name_and_kvk_number_land_in_plain_text(keystore):
    rows = [
        ("P1", "niet_natuurlijk", "besloten vennootschap", "Charlois Verhuur B.V.", "90705782"),
        ("P2", "niet_natuurlijk", "Eenmanszaak", "J. de Vries Vastgoed", "12345678"),
        ("P3", "niet_natuurlijk", "vennootschap onder firma", "Bakker en Zn.", "23456789"),
        ("P4", "niet_natuurlijk", None, "Zonder Rechtsvorm B.V.", "34567890"),
        ("P5", "natuurlijk", None, None, None),
        ("P6", "niet_natuurlijk", "stichting", "Woonstad Rotterdam", "24267837"),
    ]
    names = brk.PERSOON_SCHEMA.names
    columns = {name: [None] * len(rows) for name in names}
    for i, (pid, ptype, form, name, kvk) in enumerate(rows):
        columns["persoon_id"][i], columns["persoon_type"][i], columns["rechtsvorm"][i] = pid, ptype, form
        columns["statutaire_naam"][i], columns["kvk_nummer"][i] = name, kvk
    table = pa.table(columns, schema=brk.PERSOON_SCHEMA)
    encoders = {field: FieldEncoder(keystore, field, kind) for field, kind in ENCODING_KINDS.items()}
    out = apply_policy(table, "brk", "persoon", lambda d: Pseudonymiser(keystore, d), encoders)
    assert out.column("statutaire_naam_rechtspersoon").to_pylist() == [
        "Charlois Verhuur B.V.",
        None,  # a sole trader is a natural person
        None,  # so are the partners of a vof
        None,  # no legal form: fail closed
        None,
        "Woonstad Rotterdam",
    ]
    assert out.column("kvk_nummer_rechtspersoon").to_pylist() == ["90705782", None, None, None, None, "24267837"]
    assert "statutaire_naam" not in out.column_names and "kvk_nummer" not in out.column_names
    assert out.column("kvk_nummer_psn").null_count == 1  # every KvK number is still pseudonymised for linkage
