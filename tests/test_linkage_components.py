"""The linker's stages one by one: blocking, comparison, training, prediction and clustering, on small data whose
right answer is known (brute force, or the parameters the data was drawn from)."""

import itertools

import numpy as np
import pyarrow as pa
import pytest

from linkage.blocking import (
    arrow_numbers,
    arrow_strings,
    candidate_pairs,
    factorize,
    keyed_hashes,
    lsh_bands,
    numpy_ints,
    rule_codes,
    soundex,
)
from linkage.clustering import (
    EntityMap,
    connected_components,
    derive_id,
    one_to_one,
    resolve_ids,
    resolve_touched_ids,
)
from linkage.comparison import Comparison, canonical, canonical_date, encoded_values, fold_array, plain_values
from linkage.config import Field, parse_key
from linkage.prediction import match_weight, partial_weights, probability, tf_adjustments
from linkage.training import Model, em, estimate_u, patterns
from pseudonymisation.encodings import FieldEncoder, fold
from pseudonymisation.keys import KeyStore


def obj(values) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


@pytest.fixture()
def keystore(tmp_path, monkeypatch):
    monkeypatch.setenv("RGW_MASTER_KEY", "ab" * 32)
    return KeyStore(tmp_path / "keys")


# --- blocking ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [("robert", "r163"), ("rupert", "r163"), ("ashcraft", "a261"), ("tymczak", "t522"), ("pfister", "p236"), ("", "")],
)
def test_soundex(name, code):
    assert soundex(name) == code


def test_candidate_pairs_equal_brute_force_each_pair_once_with_its_first_rule():
    rng = np.random.default_rng(3)
    left = {"a": obj(rng.choice(["x", "y", "z", ""], 60)), "b": obj(rng.choice(["1", "2", "3"], 60))}
    right = {"a": obj(rng.choice(["x", "y", "z", ""], 50)), "b": obj(rng.choice(["1", "2", "3"], 50))}
    rules = [[parse_key("a"), parse_key("b")], [parse_key("b")]]
    li, ri, first = candidate_pairs(rule_codes(left, right, rules), 50, 10_000)
    expected = {}
    for i, j in itertools.product(range(60), range(50)):
        if left["a"][i] and left["a"][i] == right["a"][j] and left["b"][i] == right["b"][j]:
            expected[(i, j)] = 0
        elif left["b"][i] == right["b"][j]:
            expected[(i, j)] = 1
    found = {(int(i), int(j)): int(r) for i, j, r in zip(li, ri, first, strict=True)}
    assert found == expected and len(li) == len(found)


def test_a_runaway_rule_is_refused_naming_it():
    left, right = {"s": obj(["a"] * 200)}, {"s": obj(["a"] * 200)}
    with pytest.raises(ValueError, match=r"blocking rule 1 yields 40,000 pairs, over max_pairs 1,000"):
        candidate_pairs(rule_codes(left, right, [[parse_key("s")]]), 200, 1_000)


def test_block_key_functions_and_missing_parts():
    left = {"g": obj(["maria", "jo", ""]), "d": obj(["19851201", "1990", "19700101"])}
    right = {"g": obj(["marianne", "joe", "x"]), "d": obj(["19851231", "19901231", "19700101"])}
    ((lc, rc),) = rule_codes(left, right, [[parse_key("first3(g)"), parse_key("year(d)")]])
    assert lc[0] == rc[0] >= 0  # mar|1985
    assert lc[1] == -1  # "jo" has no three letters: no block
    assert lc[2] == -1  # no given name: no block, even though the date agrees


def test_keyed_hashes_need_the_key():
    a = keyed_hashes(["surname|jansen", "surname|jansen", "surname|de vries"], b"k" * 32)
    b = keyed_hashes(["surname|jansen"], b"other key......................!")
    assert a[0] == a[1] != a[2] and a[0] != b[0] and (a != 0).all()


def test_lsh_bands_find_equal_filters_and_few_random_pairs(keystore):
    enc = FieldEncoder(keystore, "name", "name")
    names = [
        f"{a}{b}" for a in ("jan", "piet", "klaas", "henk", "karel") for b in ("sen", "ma", "stra", "dijk", "berg")
    ]
    filters = np.stack([np.frombuffer(enc.encode(n), np.uint8) for n in names])
    li, ri, _ = candidate_pairs(lsh_bands(filters, filters), len(filters), 10_000)
    found = set(zip(li.tolist(), ri.tolist(), strict=True))
    assert all((i, i) in found for i in range(len(names)))
    assert len(found) < len(names) ** 2 / 4


def test_factorize_and_arrow_helpers_round_trip():
    codes, uniques = factorize(obj(["b", None, "a", "b"]))
    assert codes.tolist() == [0, -1, 1, 0] and uniques.tolist() == ["b", "a"]
    assert arrow_strings(["ü", None, ""]).to_pylist() == ["ü", None, ""]
    assert arrow_numbers(np.array([1.5, 2.0]), present=np.array([True, False])).to_pylist() == [1.5, None]
    assert numpy_ints(arrow_numbers(np.array([4, 5, 6]), present=np.array([True, False, True]))).tolist() == [4, -1, 6]


# --- comparison ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1985-12-01", "19851201"),
        ("19851201", "19851201"),
        ("01-12-1985", "19851201"),
        ("1/12/1985", "19851201"),
        ("1985-12", "198512"),
        ("19850000", "1985"),
        ("1985-00-00", "1985"),
        ("onbekend", ""),
    ],
)
def test_canonical_dates(text, value):
    assert canonical_date(text) == value


def test_fold_array_is_fold():
    values = ["Wiśniewski", "  de  Jong-Bakker ", "Łódź", "Straße 12a", "ÉÈ\tx", "r'dam", "Ĳsselmonde", ""]
    assert fold_array(values).tolist() == [fold(v) for v in values]
    assert canonical("postcode", obj(["3011 ab", None])).tolist() == ["3011ab", ""]


def levels_of(kind, left, right, **field):
    comp = Comparison.of(Field("f", kind, **field), encoded=False)
    values = plain_values(canonical(kind, obj(left)), canonical(kind, obj(right)))
    lv = comp.levels(values, np.arange(len(left)), np.arange(len(right)))
    return [comp.labels[x] if x >= 0 else "missing" for x in lv]


def test_plaintext_levels_per_kind():
    names = levels_of(
        "name",
        ["Jansen", "jansen", "Janssen", "Jansma", "Bakker", None],
        ["JANSEN", "Jansen", "Jansen", "Jansen", "Visser", "x"],
    )
    assert names == ["exact", "exact", "jaro_winkler>=0.92", "jaro_winkler>=0.80", "else", "missing"]
    dates = levels_of(
        "date",
        ["1985-12-01", "1985-12-01", "1985-12-01", "1985-12-01", "1985"],
        ["19851201", "19851211", "19850112", "19850715", "19851201"],
    )
    assert dates == ["exact", "one_edit_or_day_month_swap", "one_edit_or_day_month_swap", "same_year", "same_year"]
    postcodes = levels_of(
        "postcode", ["3011 AB", "3011AB", "3011AB", "3011AB"], ["3011ab", "3011AC", "3011ZZ", "3072XY"]
    )
    assert postcodes == ["exact", "one_edit", "same_area", "else"]
    numbers = levels_of("numeric", ["100", "100", "100,0", "1.250,50", "abc"], ["104", "120", "100", "1250.5", "1"])
    assert numbers == ["within_5_percent", "else", "exact", "exact", "missing"]
    assert levels_of("exact", ["12", "12"], ["12", "12a"]) == ["exact", "else"]


def test_swapped_given_name_and_surname_get_their_own_level():
    given = Comparison.of(Field("given", "name", swap_with="surname"), encoded=False)
    left, right = obj(["johannes", "johannes"]), obj(["jansen", "johanes"])
    partner = obj(["johannes", "jansen"])  # the right records' surnames
    values = plain_values(canonical("name", left), canonical("name", right), canonical("name", partner))
    lv = given.levels(values, np.arange(2), np.arange(2))
    assert [given.labels[x] for x in lv] == ["swapped", "jaro_winkler>=0.92"]


def test_encoded_levels_follow_dice_and_exact_is_the_same_filter(keystore):
    enc = FieldEncoder(keystore, "link/test", "name")
    left, right = ["jansen", "jansen", "jansen", "jansen", None], ["jansen", "janssen", "jonkers", "visser", "x"]
    comp = Comparison.of(Field("surname", "name"), encoded=True)
    lf = arrow_strings([enc.encode(v) for v in left], binary=True)
    rf = arrow_strings([enc.encode(v) for v in right], binary=True)
    lv = comp.levels(encoded_values(lf, rf, 64), np.arange(5), np.arange(5))
    assert [comp.labels[x] if x >= 0 else "missing" for x in lv] == ["exact", "dice>=0.80", "else", "else", "missing"]


def test_term_frequencies_and_exact_u_from_the_values():
    left, right = obj(["a", "a", "b", "c"]), obj(["a", "b", "b", "d", ""])
    values = plain_values(left, right)
    brute = np.mean([x == y for x in left for y in right if y])
    assert values.u_exact == pytest.approx(brute)
    assert values.tf.sum() == pytest.approx(1.0)
    assert values.tf[values.left[0]] == pytest.approx(3 / 8)  # "a": 3 of the 8 present values


# --- training and prediction ---------------------------------------------------------------------------------------


def test_patterns_round_trip():
    levels = np.array([[3, -1, 0], [3, -1, 0], [0, 1, 1]], dtype=np.int8)
    rows, counts, inverse = patterns(levels)
    assert (rows[inverse] == levels).all() and sorted(counts.tolist()) == [1, 2]


def test_em_recovers_the_m_probabilities_it_was_drawn_from():
    rng = np.random.default_rng(7)
    comps = [Comparison.of(Field(n, "name"), encoded=False) for n in ("a", "b", "c")]
    m_true = np.array([[0.05, 0.05, 0.1, 0.8], [0.1, 0.1, 0.2, 0.6], [0.02, 0.03, 0.05, 0.9]])
    u_true = np.array([[0.9, 0.05, 0.03, 0.02], [0.8, 0.1, 0.05, 0.05], [0.95, 0.02, 0.02, 0.01]])
    n, share = 60_000, 0.2
    match = rng.random(n) < share
    levels = np.stack(
        [np.where(match, rng.choice(4, n, p=m_true[f]), rng.choice(4, n, p=u_true[f])) for f in range(3)], axis=1
    ).astype(np.int8)
    model = em(levels, u_true, comps, prior=0.5, iterations=200, tolerance=1e-7)
    assert model.converged
    assert model.prior == pytest.approx(share, abs=0.01)
    assert np.abs(model.m - m_true).max() < 0.02


def test_u_takes_the_exact_level_from_the_value_frequencies():
    comp = Comparison.of(Field("s", "name"), encoded=False)
    values = plain_values(obj(["a", "b"]), obj(["a", "c"]))
    u = estimate_u(np.array([[0], [0], [1]], dtype=np.int8), [comp], [values])
    assert u[0, comp.top] == pytest.approx(values.u_exact) and u[0].sum() == pytest.approx(1.0)


def test_a_common_surname_agreeing_weighs_less_than_a_rare_one():
    comp = Comparison.of(Field("surname", "name", tf=True), encoded=False)
    left, right = obj(["jansen"] * 50 + ["wisniewski"]), obj(["jansen"] * 50 + ["wisniewski"])
    values = plain_values(left, right)
    m, u = np.array([[0.05, 0.05, 0.1, 0.8]]), np.array([[0.9, 0.05, 0.03, 0.02]])
    model = Model(("surname",), (comp.labels,), m, u, 0.01)
    li, ri = np.array([0, 50]), np.array([0, 50])
    lv = comp.levels(values, li, ri)
    tf = tf_adjustments(lv[:, None], [comp], [values], model, li)
    weight = match_weight(partial_weights(lv[:, None], model), tf, model)
    assert weight[1] > weight[0] + 4  # 1 in 102 against 100 in 102
    assert probability(np.array([0.0]))[0] == 0.5 and probability(np.array([5000.0]))[0] == 1.0


# --- clustering ----------------------------------------------------------------------------------------------------


def greedy(left, right, score):
    used_l, used_r, keep = set(), set(), []
    for i in sorted(range(len(score)), key=lambda k: (-score[k], k)):
        if left[i] not in used_l and right[i] not in used_r:
            used_l.add(left[i])
            used_r.add(right[i])
            keep.append(i)
    return sorted(keep)


def test_one_to_one_equals_greedy_best_first():
    rng = np.random.default_rng(11)
    for _ in range(20):
        n = 300
        left, right = rng.integers(0, 40, n), rng.integers(0, 40, n)
        score = rng.integers(0, 50, n).astype(float)  # with ties
        assert one_to_one(left, right, score).tolist() == greedy(left, right, score)


def test_connected_components():
    labels = connected_components(7, np.array([0, 2, 3, 5]), np.array([1, 3, 4, 4]))
    assert labels.tolist() == [0, 0, 2, 2, 2, 2, 6]


def test_entity_ids_are_stable_grow_incrementally_and_merge():
    first = EntityMap("persoon").resolve(["a", "b", "c", "d"], ["a", "c"], ["b", "d"])
    assert first.ids["a"] == first.ids["b"] == derive_id("persoon", "a")
    assert first.ids["c"] == first.ids["d"] == derive_id("persoon", "c")
    assert EntityMap("persoon").resolve(["d", "c", "b", "a"], ["b", "d"], ["a", "c"]).ids == first.ids  # any order
    # a new record joins an entity: the entity keeps its id, though the newcomer's key sorts first
    second = first.resolve(["0"], ["0"], ["b"])
    assert second.ids["0"] == second.ids["a"] == first.ids["a"] and second.ids["c"] == first.ids["c"]
    # a new record joins two entities: the larger keeps its id, the other is recorded as merged into it
    third = second.resolve(["z"], ["z", "z"], ["a", "c"])
    assert len(set(third.ids.values())) == 1 and third.ids["c"] == first.ids["a"]
    assert third.merged == {first.ids["c"]: first.ids["a"]}
    assert EntityMap.from_table(third.to_table(), "persoon", third.merges_table()).ids == third.ids
    named = EntityMap(lambda key: "bedrijf" if key.startswith("kvk") else "entiteit")
    assert named.resolve(["kvk1", "r"], ["r"], ["kvk1"]).ids["r"].startswith("bedrijf:")


def _columnar_ids(keys, pairs_a, pairs_b, previous=None):
    """resolve_ids on the form EntityMap.resolve takes: each pair as a row linked to its partner."""
    nodes = pa.array([*keys, *pairs_a], pa.string())
    linked_to = pa.array([None] * len(keys) + list(pairs_b), pa.string())
    earlier = None
    if previous is not None:
        earlier = (pa.array(list(previous), pa.string()), pa.array(list(previous.values()), pa.string()))
    ids = resolve_ids(nodes, linked_to, earlier, lambda k: "persoon" if k.startswith("0:") else "entiteit")
    return dict(zip(keys, ids.to_pylist()[: len(keys)], strict=True))


def test_columnar_entity_ids_are_the_entity_maps_from_scratch_and_incrementally():
    """resolve_ids (what the linker runs: Arrow and numpy, no object per record) decides as EntityMap.resolve does on
    random graphs: from scratch; and again after an earlier run, with records gone, records changed (left out of the
    earlier map), new records, merges of two earlier entities and ids derived anew that an earlier entity held."""
    rng = np.random.default_rng(14)
    prefix = lambda k: "persoon" if k.startswith("0:") else "entiteit"  # noqa: E731
    merges = 0
    for _ in range(150):
        keys = list(dict.fromkeys(f"{rng.integers(0, 2)}:{rng.integers(0, 50)}" for _ in range(rng.integers(1, 30))))
        n_edges = int(rng.integers(0, 25))
        a, b = [str(k) for k in rng.choice(keys, n_edges)], [str(k) for k in rng.choice(keys, n_edges)]
        first = EntityMap(prefix).resolve(keys, a, b)
        assert _columnar_ids(keys, a, b) == first.ids
        earlier = {k: v for k, v in first.ids.items() if rng.random() < 0.8}
        later = list(dict.fromkeys([k for k in keys if rng.random() < 0.9] + [f"1:n{i}" for i in range(3)]))
        a, b = [str(k) for k in rng.choice(later, n_edges)], [str(k) for k in rng.choice(later, n_edges)]
        expected = EntityMap(prefix, dict(earlier)).resolve([k for k in later if k not in earlier], a, b)
        merges += bool(expected.merged)
        assert _columnar_ids(later, a, b, earlier) == {k: expected.ids[k] for k in later}
    assert merges > 10  # the merge rule was exercised


def _later_delivery(rng, nodes: list[str], links: list[str | None], ids: list[str]):
    """A later run's rows on the graph an earlier run resolved (`ids`): records gone (kept in the earlier map),
    changed (left out of it, linked anew), linked now where they were not, carried (a pseudonym link again, a
    record link held by the earlier entity alone), and new records, some with two roles linking two entities."""
    pseudonyms = [f"0:p{i}" for i in range(12)]
    earlier, rows, to, stable = {}, [], [], []
    for node, link, entity in zip(nodes, links, ids, strict=True):
        fate = rng.random()
        if fate < 0.1:  # no longer delivered: stays in the earlier map
            earlier[node] = entity
            continue
        if fate < 0.25:  # changed: linked afresh, to a pseudonym or a record, or to nothing
            rows.append(node)
            to.append(str(rng.choice([*pseudonyms, *nodes, "-"])))
            stable.append(False)
            continue
        earlier[node] = entity
        rows.append(node)
        if link is None and fate < 0.35:  # not linked before, linked now (a re-compared record that matches)
            to.append(str(rng.choice(nodes)))
            stable.append(False)
        elif link is not None and link.startswith("0:"):  # its own pseudonym: the same link
            to.append(link)
            stable.append(True)
        else:  # a record link carried: held by the earlier entity, no edge
            to.append(None)
            stable.append(True)
    for i in range(int(rng.integers(0, 4))):
        for _ in range(int(rng.integers(1, 3))):  # one or two roles
            rows.append(f"1:new{i}")
            to.append(str(rng.choice([*pseudonyms, *nodes, "-"])))
            stable.append(False)
    to = [None if t == "-" else t for t in to]
    return rows, to, np.array(stable), earlier


def test_touched_components_give_the_ids_of_the_whole_graph():
    """resolve_touched_ids (a re-delivery resolves only the components a new, changed or newly linked record
    touches) gives every record the id resolve_ids gives over the whole graph, on random graphs with records gone,
    changed records moving to another entity, merges of earlier entities and ids derived anew."""
    rng = np.random.default_rng(1402)
    prefix = lambda k: "persoon" if k.startswith("0:") else "entiteit"  # noqa: E731
    moved = merged = 0
    for _ in range(200):
        n = int(rng.integers(1, 40))
        nodes = [f"1:r{i}" for i in range(n)]
        choices = [*[f"0:p{i}" for i in range(12)], *nodes, "-", "-"]
        links = [None if t == "-" else t for t in (str(rng.choice(choices)) for _ in nodes)]
        first = resolve_ids(pa.array(nodes), pa.array(links, pa.string()), None, prefix).to_pylist()
        rows, to, stable, earlier = _later_delivery(rng, nodes, links, first)
        previous = (pa.array(list(earlier), pa.string()), pa.array(list(earlier.values()), pa.string()))
        rows_a, to_a = pa.array(rows, pa.string()), pa.array(to, pa.string())
        whole = resolve_ids(rows_a, to_a, previous, prefix).to_pylist()
        known = pa.array([earlier.get(r) for r in rows], pa.string())
        assert resolve_touched_ids(rows_a, to_a, known, stable, previous, prefix).to_pylist() == whole
        now = dict(zip(rows, whole, strict=True))
        moved += any(r in now and now[r] != e for r, e in zip(nodes, first, strict=True) if r not in earlier)
        merged += len({earlier[r] for r in rows if r in earlier}) > len({now[r] for r in rows if r in earlier})
    assert moved > 20 and merged > 20  # records left their entity, earlier entities merged
