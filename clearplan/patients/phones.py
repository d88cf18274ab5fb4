"""Phone numbers: typed in any format, stored in international (E.164) form, shown the way
the clinic's country writes them.

Numbers are read with the clinic's country rules, including its international dialling
prefix: in Australia "0011 64 21 123 4567" is a New Zealand mobile, while "00" means
nothing. Mobile fields accept only numbers that can receive text messages.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import PhoneNumberType

E164_PATTERN = re.compile(r"^\+[1-9]\d{6,14}$")
FALLBACK_COUNTRY = "AU"

# FIXED_LINE_OR_MOBILE: countries such as the United States, where a number does not say
# which it is. UNKNOWN: countries whose numbering the library cannot classify.
MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE, PhoneNumberType.UNKNOWN})
BUSINESS_TYPES = frozenset(
    {PhoneNumberType.TOLL_FREE, PhoneNumberType.SHARED_COST, PhoneNumberType.PREMIUM_RATE, PhoneNumberType.UAN}
)


class InvalidPhoneNumber(ValueError):
    """`message` tells the person who typed the number what to do instead."""

    def __init__(self, typed: str, message: str) -> None:
        super().__init__(typed)
        self.message = message


def example_mobile(country: str) -> str:
    """A mobile number as people in `country` write it, for hints and error messages."""
    for region in (country, FALLBACK_COUNTRY):
        number = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
        if number is not None:
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    raise LookupError(f"No example mobile number for {country} or {FALLBACK_COUNTRY}.")


def invalid_mobile_message(country: str) -> str:
    return f"Enter a mobile number such as {example_mobile(country)}."


def _parse(typed: str, *, country: str) -> phonenumbers.PhoneNumber:
    try:
        number = phonenumbers.parse(typed, country)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhoneNumber(typed, invalid_mobile_message(country)) from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(typed, invalid_mobile_message(country))
    if number.extension:
        # International form has no place for an extension; dropping it would store a number
        # that reaches the wrong desk.
        raise InvalidPhoneNumber(
            typed, "Enter the number without an extension. Text messages can't be sent to an extension."
        )
    return number


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def to_e164(typed: str, *, country: str) -> str:
    """ "0412 345 678", "+61 412 345 678", "(02) 9999 1234" → "+61412345678" and so on.
    Numbers with a country code are read as such; others as numbers of `country`."""
    typed = (typed or "").strip()
    if not typed:
        return ""
    return _e164(_parse(typed, country=country))


def mobile_to_e164(typed: str, *, country: str) -> str:
    """Like `to_e164`, but refuses numbers that cannot receive text messages (landlines,
    1800 and 13 numbers and the like), saying which kind of number was typed."""
    typed = (typed or "").strip()
    if not typed:
        return ""
    number = _parse(typed, country=country)
    problem = _mobile_problem(number, country=country)
    if problem:
        raise InvalidPhoneNumber(typed, problem)
    return _e164(number)


def _mobile_problem(number: phonenumbers.PhoneNumber, *, country: str) -> str:
    kind = phonenumbers.number_type(number)
    if kind in MOBILE_TYPES:
        return ""
    example = example_mobile(country)
    if kind == PhoneNumberType.FIXED_LINE:
        return f"This is a landline number, which can't receive text messages. Enter a mobile number such as {example}."
    if kind in BUSINESS_TYPES:
        return f"This is a free-call or business number, not a mobile. Enter a mobile number such as {example}."
    return f"This number can't receive text messages. Enter a mobile number such as {example}."


def mobile_problem(e164: str, *, country: str) -> str:
    """Why a stored number cannot be used as a mobile, or "" when it can."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return invalid_mobile_message(country)
    return _mobile_problem(number, country=country)


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
