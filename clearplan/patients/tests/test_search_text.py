from datetime import date

import pytest

from clearplan.patients.search import fold, name_key, parse_query, search_text_for


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("Zoë", "zoe"),
        ("O'Brien", "obrien"),
        ("O’Brien", "obrien"),
        ("Nguyễn", "nguyen"),
        ("Trần Đức", "tran duc"),
        ("Tūī", "tui"),
        ("Smith-Jones", "smith-jones"),
        ("  Renée   Müller ", "renee muller"),
        ("Søren Łukasz", "soren lukasz"),
    ],
)
def test_folding_removes_accents_case_and_apostrophes(typed, folded):
    assert fold(typed) == folded


def test_hyphenated_and_apostrophe_names_can_be_found_whole_or_by_part():
    words = search_text_for(first_name="Zoë", last_name="Smith-Jones").split()
    assert words[:1] == ["smithjones"]
    assert {"smith", "jones", "zoe"} <= set(words)
    assert set(search_text_for(first_name="Liam", last_name="O'Brien").split()) == {"obrien", "brien", "liam"}


def test_search_text_starts_with_the_last_name_so_it_sorts_by_last_name():
    assert search_text_for(first_name="Aroha", last_name="Te Rangi", preferred_name="Ro") == "te rangi aroha ro"


def test_names_that_differ_only_by_accents_and_punctuation_are_the_same_person_for_duplicates():
    assert name_key(first_name="Zoe", last_name="OBrien") == name_key(first_name="Zoë", last_name="O'Brien")
    assert name_key(first_name="Zoe", last_name="Smith Jones") == name_key(first_name="zoe", last_name="Smith-Jones")
    assert name_key(first_name="Zoe", last_name="Brien") != name_key(first_name="Zoë", last_name="O'Brien")


def test_dates_are_read_in_the_clinics_order_or_as_iso():
    assert parse_query("14/03/1988", month_first=False).date_of_birth == date(1988, 3, 14)
    assert parse_query("03/14/1988", month_first=True).date_of_birth == date(1988, 3, 14)
    assert parse_query("1988-03-14", month_first=True).date_of_birth == date(1988, 3, 14)
    assert parse_query("14.3.1988", month_first=False).date_of_birth == date(1988, 3, 14)


def test_an_impossible_date_is_not_read_as_a_date():
    query = parse_query("31/02/1988", month_first=False)
    assert query.date_of_birth is None


def test_long_numbers_are_phone_searches_and_short_ones_are_ids():
    assert parse_query("0412 345 678", month_first=False).phone_digits == "412345678"
    short = parse_query("1042", month_first=False)
    assert short.phone_digits == ""
    assert short.name_words == []
    assert short.text == "1042"


def test_names_in_a_search_are_folded_into_words():
    assert parse_query("O'Brien, Zoë", month_first=False).name_words == ["obrien", "zoe"]
    assert parse_query("smith-jones", month_first=False).name_words == ["smithjones"]
