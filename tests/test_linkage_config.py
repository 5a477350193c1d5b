"""The linkage config: the shipped FEBRL4 example loads, and every mistake is refused naming the setting."""

import pytest

from linkage.config import BlockKey, ConfigError, load, parse, parse_key
from rgw.settings import REPO_ROOT

FEBRL4 = REPO_ROOT / "linkage" / "configs" / "febrl4.yaml"


def minimal(**over) -> dict:
    data = {
        "left_id": "id",
        "right_id": "id",
        "fields": [{"name": "surname", "kind": "name"}, {"name": "dob", "kind": "date"}],
        "blocking": [["surname"], ["year(dob)"]],
    }
    return {**data, **over}


def test_the_febrl4_example_loads_without_soc_sec_id():
    config = load(FEBRL4)
    names = [f.name for f in config.fields]
    assert names == [
        "given_name",
        "surname",
        "date_of_birth",
        "street_number",
        "address_1",
        "address_2",
        "suburb",
        "postcode",
        "state",
    ]
    assert "soc_sec_id" not in names and all(k.field != "soc_sec_id" for rule in config.blocking for k in rule)
    assert config.one_to_one and config.threshold == 0.5
    assert config.field("given_name").swap_with == "surname"
    assert config.rule_text(1) == "soundex(surname) & year(date_of_birth)"


def test_defaults_and_per_side_columns():
    fields = [{"name": "pc", "kind": "postcode", "left": "postcode", "right": "pc6"}]
    config = parse(minimal(fields=fields, blocking=[["pc"]]))
    f = config.fields[0]
    assert (f.left_column, f.right_column) == ("postcode", "pc6")
    assert config.clustering == "none" and config.threshold == 0.9 and config.u_pairs == 100_000


def test_block_keys_parse():
    assert parse_key("surname") == BlockKey("surname")
    assert parse_key("first3(given_name)") == BlockKey("given_name", "first", 3)
    assert parse_key("last2(postcode)") == BlockKey("postcode", "last", 2)
    assert parse_key("soundex(surname)").text == "soundex(surname)"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (minimal(treshold=0.5), "unknown setting(s) ['treshold']"),
        (minimal(fields=[{"name": "surname", "kind": "fuzzy"}]), "kind must be one of"),
        (minimal(fields=[{"name": "surname", "kind": "name", "weight": 2}]), "unknown setting(s) ['weight']"),
        (minimal(blocking=[["postcode"]]), "refers to 'postcode', which is not among the fields"),
        (minimal(blocking=[["first(surname)"]]), "first needs a length"),
        (minimal(blocking=[["soundex3(surname)"]]), "soundex takes no length"),
        (minimal(blocking=[["lower(surname)"]]), "blocking key 'lower(surname)'"),
        (minimal(blocking=[]), "blocking must be a list of rules"),
        (minimal(threshold=1.5), "threshold must lie strictly between 0 and 1"),
        (minimal(clustering="best"), "clustering must be one of"),
        (minimal(fields=[{"name": "surname", "kind": "name", "levels": [0.8, 0.9]}]), "descending"),
        (minimal(fields=[{"name": "dob", "kind": "date", "levels": [0.9]}]), "fixed levels"),
        (minimal(fields=[{"name": "surname", "kind": "name", "swap_with": "given"}]), "must name another field"),
        (
            minimal(fields=[{"name": "surname", "kind": "name", "swap_with": "dob"}, {"name": "dob", "kind": "date"}]),
            "two fields of one kind",
        ),
        (minimal(fields=[{"name": "a", "kind": "name"}, {"name": "a", "kind": "name"}]), "unique"),
        (minimal(u_pairs=0), "u_pairs must be a positive whole number"),
        ({"left_id": "id"}, "lacks 'right_id'"),
    ],
)
def test_mistakes_are_refused_naming_the_setting(data, message):
    with pytest.raises(ConfigError) as err:
        parse(data)
    assert message in str(err.value)


def test_a_file_error_names_the_file(tmp_path):
    bad = tmp_path / "link.yaml"
    bad.write_text("left_id: a\nright_id: b\nfields: [{name: x, kind: nam}]\nblocking: [[x]]\n")
    with pytest.raises(ConfigError, match=r"link\.yaml: field 'x': kind must be one of"):
        load(bad)
    bad.write_text("left_id: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load(bad)
