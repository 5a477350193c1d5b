"""Parsing and normalising Dutch addresses as people write them (no BAG needed)."""

import pytest

from linkage.address.normalise import (
    bag_addition,
    fold,
    is_droppable,
    street_key,
    street_keys,
    suffix_readings,
    woonplaats_key,
)
from linkage.address.parse import normalise_postcode, parse_address, parsed_from_parts


def test_fold_drops_diacritics_and_case_like_unidecode():
    assert fold("Café Crème Ñandú") == "cafe creme nandu"
    assert fold("Łódź Straße Æbeløe") == "lodz strasse aebeloe"
    assert fold("PUTSELAAN") == "putselaan"


@pytest.mark.parametrize(
    ("written", "official"),
    [
        ("Burg. Roosstr.", "Burgemeester Roosstraat"),
        ("Burgem. van Walsumwg", "Burgemeester van Walsumweg"),
        ("burg v. walsumweg", "Burgemeester van Walsumweg"),
        ("Mr. Troelstrastraat", "Meester Troelstrastraat"),
        ("Dr Zamenhofstr", "Dr. Zamenhofstraat"),
        ("St. Jacobsplaats", "Sint Jacobsplaats"),
        ("v.d. Takstraat", "Van der Takstraat"),
        ("Eerste Middellandstraat", "1e Middellandstraat"),
        ("1ste Middellandstr.", "1e Middellandstraat"),
        ("s-Gravendijkwal", "'s-Gravendijkwal"),
        ("Rozen ln", "Rozenlaan"),
        ("Oostpl.", "Oostplein"),
        ("Goudse sngl", "Goudsesingel"),
        ("Schout-bij-Nacht Doormanstraat", "Schout bij Nacht Doormanstraat"),
        ("CAFÉ-PLEIN", "Cafeplein"),
    ],
)
def test_written_street_names_share_the_key_of_the_official_name(written, official):
    assert street_key(written) == street_key(official)


def test_kon_is_tried_as_koningin_and_as_koning():
    assert street_keys("Kon. Julianaplein") == ("koninginjulianaplein", "koningjulianaplein")
    assert street_key("Koningin Julianaplein") in street_keys("Kon Julianaplein")
    assert street_key("Koning Willemplein") in street_keys("Kon. Willemplein")


def test_street_key_drops_a_number_word_before_the_number():
    assert street_key("Putselaan nr.") == street_key("Putselaan") == "putselaan"
    assert street_keys("...") == ()


@pytest.mark.parametrize(
    ("suffix", "first_reading"),
    [
        ("", (None, None, "exact")),
        ("a", ("a", None, "exact")),
        ("-A", ("a", None, "exact")),
        ("A 01", ("a", "1", "exact")),
        ("a2", ("a", "2", "exact")),
        ("-2", (None, "2", "exact")),
        ("/02", (None, "2", "exact")),
        ("3 hoog", (None, "3", "floor")),
        ("3e etage", (None, "3", "floor")),
        ("2-hoog", (None, "2", "floor")),
        ("derde verdieping", (None, "3", "floor")),
        ("III", (None, "3", "floor")),
        ("hs", (None, "hs", "exact")),
        ("huis", (None, "hs", "floor")),
        ("beneden", (None, "hs", "floor")),
        ("bg", (None, "hs", "floor")),
        ("bov", (None, "bv", "floor")),
        ("bis", (None, "bis", "exact")),
        ("A 2 hoog", ("a", "2", "floor")),
        ("app. 3", (None, "3", "exact")),
    ],
)
def test_suffix_readings_most_literal_first(suffix, first_reading):
    assert suffix_readings(suffix)[0] == first_reading


def test_ambiguous_suffixes_keep_every_reading():
    # "I": the letter I, or the first floor
    assert suffix_readings("I")[:2] == (("i", None, "exact"), (None, "1", "letter"))
    # "A": a letter, or an addition A
    assert (None, "a", "letter") in suffix_readings("A")
    # "14b": addition 14 with letter b written after it
    assert ("b", "14", "letter") in suffix_readings("14b")


def test_bag_additions_compare_like_written_ones():
    assert bag_addition("01") == bag_addition("1") == "1"
    assert bag_addition("HS") == "hs" and bag_addition("H") == "hs"
    assert bag_addition("A01") == "a1"
    assert bag_addition("II") == "2"
    assert bag_addition(None) is None


def test_droppable_means_only_a_floor_was_written():
    assert is_droppable("3 hoog") and is_droppable("bov") and is_droppable("kamer 2")
    assert not is_droppable("2") and not is_droppable("b")


def test_postcodes_normalised():
    assert normalise_postcode("3074 jb") == "3074JB"
    assert normalise_postcode(" 3074JB ") == "3074JB"
    assert normalise_postcode("307 JB") is None and normalise_postcode(None) is None


def test_parse_the_full_example():
    p = parse_address("Burg. Roosstr. 12-a 3 hoog, 3074 jb R'dam")
    assert (p.street, p.huisnummer, p.postcode, p.woonplaats) == ("burg. roosstr", 12, "3074JB", "rotterdam")
    assert (p.huisletter, p.toevoeging) == ("a", "3")
    assert p.street_key == "burgemeesterroosstraat"


@pytest.mark.parametrize(
    ("text", "street", "number", "suffix", "postcode", "woonplaats"),
    [
        ("Putselaan 12", "putselaan", 12, None, None, None),
        ("Putselaan12a", "putselaan", 12, "a", None, None),
        ("putselaan 12 A 01, 3074JB", "putselaan", 12, "-a 01", "3074JB", None),
        ("Putselaan 12 3 hoog Rotterdam", "putselaan", 12, "-3 hoog", None, "rotterdam"),
        ("Putselaan 12, 3 hoog, Rotterdam", "putselaan", 12, "-3 hoog", None, "rotterdam"),
        ("Rotterdam, Putselaan 12", "putselaan", 12, None, None, "rotterdam"),
        ("3074 JB Rotterdam, Putselaan 12-2", "putselaan", 12, "-2", "3074JB", "rotterdam"),
        ("Zuidwijkdreef 152 ROTTERDAM", "zuidwijkdreef", 152, None, None, "rotterdam"),
        ("Dorpsweg 10 Hoogvliet", "dorpsweg", 10, None, None, "hoogvliet rotterdam"),
        ("Strandweg 3 hoek van holland", "strandweg", 3, None, None, "hoek van holland"),
        ("1e Middellandstraat 12b", "1e middellandstraat", 12, "b", None, None),
        ("Putselaan 12 a", "putselaan", 12, "-a", None, None),
        ("Putselaan nr. 12", "putselaan nr", 12, None, None, None),
        ("Kastanjelaan 1071 hs, 3054 AD", "kastanjelaan", 1071, "-hs", "3054AD", None),
        ("Delfthof 1054 hs Rotterdam", "delfthof", 1054, "-hs", None, "rotterdam"),
        ("Plein 1940 5", "plein", 1940, "-5", None, None),
        ("Koppenberch 2, 6982 CZ Doesburg", "koppenberch", 2, None, "6982CZ", "doesburg"),
    ],
)
def test_parse_address_parts(text, street, number, suffix, postcode, woonplaats):
    p = parse_address(text)
    assert (p.street, p.huisnummer, p.suffix, p.postcode, p.woonplaats) == (
        street,
        number,
        suffix,
        postcode,
        woonplaats,
    )


def test_parse_without_a_number_or_text():
    p = parse_address("Putselaan, Rotterdam")
    assert (p.street, p.huisnummer, p.woonplaats) == ("putselaan", None, "rotterdam")
    assert parse_address(None).huisnummer is None and parse_address("   ").street is None
    # an ordinal is part of the street, not a house number
    assert parse_address("2e Middellandstraat").huisnummer is None


def test_parse_finds_a_bag_id_in_the_text():
    p = parse_address("adres 0599200000123456 (zie BAG)")
    assert p.bag_id == "0599200000123456" and p.huisnummer is None


def test_parse_uses_the_woonplaatsen_it_is_given():
    known = {"doesburg": "doesburg", "rotterdam": "rotterdam"}
    assert parse_address("Kosterstraat 4 Doesburg", known).woonplaats == "doesburg"
    assert woonplaats_key("'s-Gravenhage") == "s gravenhage"


def test_parsed_from_split_fields():
    p = parsed_from_parts("Burg. Roosstraat", "12", "A", "2", "3074 jb", "ROTTERDAM")
    assert (p.street_key, p.huisnummer, p.huisletter, p.toevoeging, p.postcode, p.woonplaats) == (
        "burgemeesterroosstraat",
        12,
        "a",
        "2",
        "3074JB",
        "rotterdam",
    )
    # a number field holding the letter and addition, a float from a spreadsheet
    assert parsed_from_parts("Putselaan", "12A-2", None, None, None).suffix == "A-2"
    assert parsed_from_parts("Putselaan", 12.0, None, "hs", None).huisnummer == 12
    assert parsed_from_parts("Putselaan", "12.0", None, None, None).huisnummer == 12
    # the whole address in the street field
    p = parsed_from_parts("Putselaan 12 bov", None, None, None, "3074JB")
    assert (p.street, p.huisnummer, p.suffix, p.postcode) == ("putselaan", 12, "-bov", "3074JB")


def test_abbreviated_and_written_out_forms_for_misspellings():
    from linkage.address.normalise import contracted, expanded

    assert contracted("burgemeesterroosstraat") == "burgroosstr"
    assert contracted("koninginjulianaplein") == "konjulianapl"
    assert expanded("1emiddellandstraat") == "eerstemiddellandstraat"
    assert expanded("putselaan") == "putselaan"


def test_alternative_parses_take_another_number():
    from linkage.address.parse import alternative_parses

    p = parse_address("Laan 1940-1945 12")
    assert p.huisnummer == 1940
    assert [(q.street, q.huisnummer) for q in alternative_parses(p)][-1] == ("laan 1940-1945", 12)
