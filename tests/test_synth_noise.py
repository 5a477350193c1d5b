"""The synthetic world's error model (synth/noise.py) and borderline cases (synth/borderline.py): independent of the
linker, at the rates the docs cite, and with cases on both sides of every threshold they cover."""

import ast
import random
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from synth import borderline, generate, noise

SYNTH = Path(noise.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


@pytest.mark.parametrize("module", ["noise.py", "borderline.py", "write_sources.py", "write_reports.py", "world.py"])
def test_the_world_does_not_borrow_the_linkers_assumptions(module):
    assert not [m for m in _imports(SYNTH / module) if m.split(".")[0] in {"linkage", "pseudonymisation"}]


def test_written_persons_carry_each_error_at_about_its_cited_rate():
    r = random.Random(11)
    n = 20_000
    errors: Counter[str] = Counter()
    for _ in range(n):
        w = noise.written_person(r, "Jan Pieter", "van der", "Meijer", (1980, 5, 7), "123456782")
        errors.update(w.errors)
    rates = noise.RATES
    for kind, rate in (
        ("bsn_missing", rates.bsn_missing),
        ("initials_only", rates.initials_only),
        ("surname_misspelt", rates.surname_error),
        ("prefix_misplaced", rates.prefix_misplaced),
        ("names_swapped", rates.names_swapped),
        ("birth_date_missing", rates.birth_date_missing),
    ):
        assert abs(errors[kind] / n - rate) < 0.25 * rate + 0.003, (kind, errors[kind] / n, rate)
    assert 0.5 * rates.birth_date_wrong < errors["birth_date_wrong"] / n < 1.5 * rates.birth_date_wrong


def test_a_wrong_birth_date_is_day_and_month_swapped_or_one_digit_off():
    r = random.Random(3)
    always = noise.Rates(birth_date_wrong=1.0, birth_date_missing=0.0)
    seen = Counter()
    for _ in range(400):
        written = noise.birth_date_written(r, (1984, 3, 9), always).replace("-", "")
        differing = sum(a != b for a, b in zip(written, "19840309", strict=True))
        kind = "swapped" if written == "19840903" else "digit" if differing == 1 else "other"
        seen[kind] += 1
    assert seen["other"] == 0 and seen["swapped"] > 100 and seen["digit"] > 100


def test_a_keyboard_slip_is_one_damerau_edit_and_substitutes_a_neighbouring_key():
    r = random.Random(5)
    for _ in range(500):
        typed = noise.keyboard_typo(r, "Wolphaertsbocht")
        assert typed[0] == "W" and abs(len(typed) - len("Wolphaertsbocht")) <= 1
        if len(typed) == len("Wolphaertsbocht"):
            diff = [(a, b) for a, b in zip("Wolphaertsbocht", typed, strict=True) if a != b]
            assert len(diff) == 2 or (len(diff) == 1 and diff[0][1].lower() in noise.KEY_NEIGHBOURS[diff[0][0]])


def test_phonetic_spellings_are_dutch_sounds_written_another_way():
    r = random.Random(2)
    variants = {noise.phonetic_spelling(r, "Meijer") for _ in range(200)}
    assert {"Meyer", "Meier"} <= variants
    assert noise.without_diacritics("Wiśniewski Łukasz Şahin") == "Wisniewski Lukasz Sahin"


def test_written_addresses_keep_the_house_number_and_vary_in_form():
    r = random.Random(8)
    forms = [
        noise.written_address(r, "Burgemeester Roosstraat", 12, "A", "2", "3074AB", sloppiness=0.9) for _ in range(300)
    ]
    assert all("12" in f for f in forms)
    assert len(set(forms)) > 150
    assert any(f.startswith("3074") for f in forms) and any("Burgm." in f for f in forms)
    clean = noise.written_address(random.Random(1), "Putselaan", 7, None, None, "3074AB", sloppiness=0.0)
    assert clean.startswith("Putselaan 7, 3074")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny_noise")
    generate("tiny", 5, out)
    return out


def test_every_covered_threshold_has_cases_on_both_sides(tiny):
    rows = pq.read_table(tiny / "ground_truth" / "borderline.parquet").to_pylist()
    sides = Counter((r["indicator"], r["side"]) for r in rows)
    for indicator in (
        "ind_overbewoning",
        "ind_niet_ingeschreven",
        "ind_leegstand",
        "ind_verloop",
        "ind_herhaalde_meldingen",
        "ind_zonder_vergunning",
    ):
        assert sides[(indicator, "boven")] >= 2 and sides[(indicator, "onder")] >= 2, indicator


def test_overcrowding_cases_sit_one_square_metre_either_side_of_the_norm(tiny):
    v = borderline.thresholds()
    norm = v["overbewoning_min_personen"] * v["overbewoning_m2_per_persoon"]
    rows = pq.read_table(tiny / "ground_truth" / "borderline.parquet").to_pylist()
    cases = {r["verblijfsobject_id"]: r for r in rows}
    dwellings = pq.read_table(tiny / "ground_truth" / "dwellings.parquet").to_pylist()
    areas = {
        (cases[d["verblijfsobject_id"]]["side"], d["oppervlakte"], d["n_registered"])
        for d in dwellings
        if d["verblijfsobject_id"] in cases and cases[d["verblijfsobject_id"]]["indicator"] == "ind_overbewoning"
    }
    assert ("boven", norm - 1, v["overbewoning_min_personen"]) in areas
    assert ("onder", norm, v["overbewoning_min_personen"]) in areas
