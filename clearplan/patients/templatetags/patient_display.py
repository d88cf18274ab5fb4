"""Showing patient details the way the clinic's country writes them."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date
from django import template

from clearplan.accounts.models import Clinic
from clearplan.patients import phones
from clearplan.patients.forms import date_order

register = template.Library()


@register.filter
def clinic_date(value: date | None, clinic: Clinic) -> str:
    """14/03/1988 in Australia and the UK, 03/14/1988 in the US."""
    if not value:
        return ""
    return value.strftime(date_order(clinic)[0])


@register.filter
def clinic_long_date(value: date | None, clinic: Clinic) -> str:
    """14 March 1988 in Australia and the UK, March 14, 1988 in the US."""
    if not value:
        return ""
    return format_date(value, format="long", locale=clinic.locale.replace("-", "_"))


@register.filter
def clinic_phone(value: str, clinic: Clinic) -> str:
    """0412 345 678 for a number of the clinic's own country, +64 21 123 4567 for others."""
    return phones.for_display(value, country=clinic.country)
