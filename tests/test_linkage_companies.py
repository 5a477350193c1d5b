"""Owner and landlord names as reporters write them, normalised so that both sides of a comparison agree."""

import pytest

from linkage.companies import normalise_party_name, parse_party_name, person_key


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("Zuidhaven Vastgoed B.V.", "zuidhaven vastgoed"),
        ("Zuidhaven Vastgoed BV", "zuidhaven vastgoed"),
        ("zuidhaven vastgoed b.v", "zuidhaven vastgoed"),
        ("ZUIDHAVEN VASTGOED B. V.", "zuidhaven vastgoed"),
        ("B.V. Zuidhaven", "zuidhaven"),
        ("Zuidhaven Vastgoed besloten vennootschap", "zuidhaven vastgoed"),
        ("Bavo N.V.", "bavo"),
        ("Jansen & Zn V.O.F.", "jansen zn"),
        ("Wiśniewski Beheer B.V. i.o.", "wisniewski beheer"),
        ("J. Bakker h.o.d.n. Bakker Verhuur", "j bakker"),
        ("J. Bakker hodn Bakker Verhuur B.V.", "j bakker"),
        ("J. Bakker handelend onder de naam Bakker Verhuur", "j bakker"),
        ("Bakker, J.", "j bakker"),
        ("Vries, J. de", "j de vries"),
        ("Dhr. J. Bakker", "j bakker"),
        ("Mevr. A. van der Berg", "a van der berg"),
        ("Jan de Vries", "jan de vries"),
        ("Stichting Havensteder", "stichting havensteder"),
        ("Bevo bv", "bevo"),  # a name that starts like a legal form keeps its letters
        ("", ""),
    ],
)
def test_written_names_normalise(written, normalised):
    assert normalise_party_name(written) == normalised


def test_parts_of_a_company_name():
    p = parse_party_name("Zuidhaven Onroerend Goed Holding B.V.")
    assert (p.kind, p.legal_form, p.core) == ("company", "bv", "zuidhaven")
    assert set(p.descriptors) == {"onroerend goed", "holding"}
    assert parse_party_name("Zuidhaven Holding").core == parse_party_name("Zuidhaven Vastgoed B.V.").core


def test_a_trade_name_splits_off_the_person():
    p = parse_party_name("J. Bakker h.o.d.n. Bakker Verhuur B.V.")
    assert (p.kind, p.name, p.trade_name, p.initials, p.surname) == (
        "person",
        "j bakker",
        "bakker verhuur",
        "j",
        "bakker",
    )


def test_person_keys_agree_across_ways_of_writing():
    keys = {person_key(x) for x in ("J. de Vries", "Vries, J. de", "Jan de Vries", "Dhr. J. de Vries")}
    assert keys == {"de vries j"}
    assert person_key("Zuidhaven Vastgoed B.V.") == "" and person_key("Stichting Havensteder") == ""
