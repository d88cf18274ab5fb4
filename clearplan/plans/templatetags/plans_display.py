"""Showing plan lines the clinic's way: teeth in its numbering, money in its currency."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel.numbers import format_currency
from django import template

from clearplan.accounts.models import Clinic
from clearplan.lib.teeth import Quadrant, describe_surfaces, format_tooth
from clearplan.plans.models import PlanLine
from clearplan.plans.selectors import cases_for_patient

register = template.Library()


@register.filter
def money(value: Decimal | None, clinic: Clinic) -> str:
    """$1,250.00 in the clinic's currency and locale."""
    if value is None:
        return ""
    return format_currency(value, clinic.currency, locale=clinic.locale.replace("-", "_"))


@register.filter
def tooth_label(fdi: int | None, clinic: Clinic) -> str:
    return format_tooth(fdi, clinic.tooth_numbering) if fdi else ""


@register.filter
def line_where(line: PlanLine, clinic: Clinic) -> str:
    """Where in the mouth, for the lines table: "36", "Upper arch", "Upper right quadrant", or blank."""
    if line.tooth:
        return format_tooth(line.tooth, clinic.tooth_numbering)
    if line.arch:
        return f"{line.arch.capitalize()} arch"
    if line.quadrant:
        return f"{Quadrant(line.quadrant).label.capitalize()} quadrant"
    return "Whole mouth" if line.procedure.treatment_area == "whole_mouth" else ""


@register.filter
def surfaces_in_words(surfaces: str) -> str:
    return describe_surfaces(surfaces) if surfaces else ""


@register.simple_tag
def patient_cases(patient: Any) -> list[Any]:
    """The patient's cases for their page, in one query."""
    return list(cases_for_patient(patient))
