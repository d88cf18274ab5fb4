import phonenumbers
import pytest

from clearplan.patients import phones


@pytest.mark.parametrize(
    ("typed", "country", "stored"),
    [
        ("0412 345 678", "AU", "+61412345678"),
        ("+61 412 345 678", "AU", "+61412345678"),
        ("0412-345-678", "AU", "+61412345678"),
        ("(02) 9999 1234", "AU", "+61299991234"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("+64 21 123 4567", "AU", "+64211234567"),
        # Australia dials abroad with 0011; the United Kingdom with 00.
        ("0011 64 21 123 4567", "AU", "+64211234567"),
        ("0011 61 412 345 678", "AU", "+61412345678"),
        ("0061 412 345 678", "GB", "+61412345678"),
    ],
)
def test_numbers_typed_any_way_are_stored_in_international_form(typed, country, stored):
    assert phones.to_e164(typed, country=country) == stored


@pytest.mark.parametrize("typed", ["12345", "0412 345 67", "call me", "+61 412 345 678 9", "0064 21 123 4567"])
def test_numbers_that_cannot_exist_are_refused(typed):
    with pytest.raises(phones.InvalidPhoneNumber) as raised:
        phones.to_e164(typed, country="AU")
    assert raised.value.message == "Enter a mobile number such as 0412 345 678."


@pytest.mark.parametrize(
    ("typed", "country", "stored"),
    [
        ("0412 345 678", "AU", "+61412345678"),
        ("0011 64 21 123 4567", "AU", "+64211234567"),
        ("07400 123456", "GB", "+447400123456"),
        # In the United States a number does not say whether it is a mobile.
        ("(415) 555-2671", "US", "+14155552671"),
    ],
)
def test_a_mobile_field_accepts_numbers_that_can_receive_texts(typed, country, stored):
    assert phones.mobile_to_e164(typed, country=country) == stored


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "1800 123 456",
            "This is a free-call or business number, not a mobile. Enter a mobile number such as 0412 345 678.",
        ),
        (
            "13 12 34",
            "This is a free-call or business number, not a mobile. Enter a mobile number such as 0412 345 678.",
        ),
        (
            "(02) 9999 1234",
            "This is a landline number, which can't receive text messages. Enter a mobile number such as 0412 345 678.",
        ),
    ],
)
def test_a_mobile_field_refuses_numbers_that_cannot_receive_texts(typed, message):
    with pytest.raises(phones.InvalidPhoneNumber) as raised:
        phones.mobile_to_e164(typed, country="AU")
    assert raised.value.message == message


@pytest.mark.parametrize("typed", ["0412 345 678 ext 12", "0412 345 678 x12", "+61 412 345 678 #12"])
def test_a_number_with_an_extension_is_refused_rather_than_cut_short(typed):
    for read in (phones.to_e164, phones.mobile_to_e164):
        with pytest.raises(phones.InvalidPhoneNumber) as raised:
            read(typed, country="AU")
        assert "extension" in raised.value.message


def test_stored_numbers_that_are_not_mobiles_are_named():
    assert phones.mobile_problem("+61412345678", country="AU") == ""
    assert phones.mobile_problem("", country="AU") == ""
    assert phones.mobile_problem("+61299991234", country="AU").startswith("This is a landline number")
    assert phones.mobile_problem("+611800123456", country="AU").startswith("This is a free-call or business number")


def test_numbers_are_shown_the_way_the_clinics_country_writes_them():
    assert phones.for_display("+61412345678", country="AU") == "0412 345 678"
    assert phones.for_display("+14155552671", country="US") == "(415) 555-2671"
    assert phones.for_display("+64211234567", country="AU") == "+64 21 123 4567"


def test_the_error_gives_an_example_from_the_clinics_country():
    assert phones.invalid_mobile_message("AU") == "Enter a mobile number such as 0412 345 678."
    assert phones.invalid_mobile_message("GB") == "Enter a mobile number such as 07400 123456."
    assert phones.invalid_mobile_message("US") == "Enter a mobile number such as (201) 555-0123."


@pytest.mark.parametrize("country", ["AU", "GB", "US", "NZ", "IE", "CA"])
def test_every_example_mobile_is_itself_a_valid_mobile(country):
    example = phones.example_mobile(country)
    number = phonenumbers.parse(example, country)
    assert phonenumbers.is_valid_number(number)
    assert phones.mobile_to_e164(example, country=country)


def test_a_country_without_an_example_falls_back_to_an_australian_one():
    assert phones.example_mobile("ZZ") == "0412 345 678"
