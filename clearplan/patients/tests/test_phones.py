import pytest

from clearplan.patients import phones


@pytest.mark.parametrize(
    ("typed", "country", "stored"),
    [
        ("0412 345 678", "AU", "+61412345678"),
        ("+61 412 345 678", "AU", "+61412345678"),
        ("0412-345-678", "AU", "+61412345678"),
        ("(02) 9999 1234", "AU", "+61299991234"),
        ("0061 412 345 678", "AU", "+61412345678"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("+64 21 123 4567", "AU", "+64211234567"),
    ],
)
def test_numbers_typed_any_way_are_stored_in_international_form(typed, country, stored):
    assert phones.to_e164(typed, country=country) == stored


@pytest.mark.parametrize("typed", ["12345", "0412 345 67", "call me", "+61 412 345 678 9"])
def test_numbers_that_cannot_exist_are_refused(typed):
    with pytest.raises(phones.InvalidPhoneNumber):
        phones.to_e164(typed, country="AU")


def test_numbers_are_shown_the_way_the_clinics_country_writes_them():
    assert phones.for_display("+61412345678", country="AU") == "0412 345 678"
    assert phones.for_display("+14155552671", country="US") == "(415) 555-2671"
    assert phones.for_display("+64211234567", country="AU") == "+64 21 123 4567"


def test_the_error_gives_an_example_from_the_clinics_country():
    assert phones.invalid_mobile_message("AU") == "Enter a mobile number such as 0412 345 678."
    assert "(415) 555-2671" in phones.invalid_mobile_message("US")
