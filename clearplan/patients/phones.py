"""Phone numbers: typed in any format, stored in international (E.164) form, shown the way
the clinic's country writes them."""

from __future__ import annotations

import re

import phonenumbers

E164_PATTERN = re.compile(r"^\+[1-9]\d{6,14}$")

# A number people in each country recognise as a mobile, for hints and error messages.
EXAMPLE_MOBILES = {"AU": "0412 345 678", "US": "(415) 555-2671", "GB": "07700 900123"}


class InvalidPhoneNumber(ValueError):
    pass


def example_mobile(country: str) -> str:
    return EXAMPLE_MOBILES.get(country, EXAMPLE_MOBILES["AU"])


def invalid_mobile_message(country: str) -> str:
    return f"Enter a mobile number such as {example_mobile(country)}."


def to_e164(typed: str, *, country: str) -> str:
    """ "0412 345 678", "+61 412 345 678", "(02) 9999 1234" → "+61412345678" and so on.
    Numbers with a country code are read as such; others as numbers of `country`."""
    typed = (typed or "").strip()
    if not typed:
        return ""
    if typed.startswith("00"):
        typed = "+" + typed[2:]
    try:
        number = phonenumbers.parse(typed, country)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhoneNumber(typed) from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(typed)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_landline(e164: str) -> bool:
    """True only for numbers that are certainly not mobiles (some countries cannot tell)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE


def for_display(e164: str, *, country: str) -> str:
    """National format for the clinic's own country ("0412 345 678"), international otherwise."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == country:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def search_digits(typed: str, *, country: str) -> str:
    """The digits to look for in stored numbers: the national number when the text reads as a
    whole phone number, otherwise what was typed without a leading trunk zero (a partial number)."""
    try:
        number = phonenumbers.parse(typed, country)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        return f"{number.country_code}{number.national_number}"
    return re.sub(r"\D", "", typed).lstrip("0")
