"""How clinic details read on screen: phone numbers as the practice writes them, time
zones by the city names people know."""

from __future__ import annotations

from django import template

from clearplan.accounts.forms import COMMON_TIME_ZONES, national_phone
from clearplan.accounts.models import Clinic

register = template.Library()


@register.filter
def clinic_phone(clinic: Clinic) -> str:
    return national_phone(clinic)


@register.filter
def time_zone_name(value: str) -> str:
    return dict(COMMON_TIME_ZONES).get(value, value)
