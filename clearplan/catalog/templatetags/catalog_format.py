"""Money and catalogue details the way the clinic writes them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.numbers import format_currency
from django import template

from clearplan.accounts.models import Clinic
from clearplan.catalog.fees import day_in_words

register = template.Library()


@register.filter
def clinic_money(value: Decimal | None, clinic: Clinic) -> str:
    """$1,250.00 for AUD in Australia or USD in the US; another currency shows its code
    (USD1,250.00 in Australia), so it cannot be read as the local dollar."""
    if value is None or value == "":
        return ""
    return format_currency(Decimal(value), clinic.currency, locale=clinic.locale.replace("-", "_"))


@register.filter
def day_month_year(value: date | None) -> str:
    """1 Jul 2025: unambiguous in every locale."""
    return day_in_words(value) if value else ""
