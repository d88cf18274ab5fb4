"""Reading cases. Every case a view touches comes through `get_case_for_user`, scoped to the
clinic the user is working in: a case of another clinic is a 404, even one the user works at."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404

from clearplan.accounts.models import Membership, User
from clearplan.plans.models import Case, PlanLine, PlanOption
from clearplan.plans.totals import LineFigures, OptionTotal, option_total

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.accounts.models import Clinic
    from clearplan.patients.models import Patient


def cases_of(clinic: Clinic) -> QuerySet[Case]:
    return Case.objects.filter(clinic=clinic)


def _uuid_or_404(public_id: uuid.UUID | str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(public_id))
    except ValueError as error:
        raise Http404(f"No such {what}.") from error


def get_case_for_user(request: HttpRequest, public_id: uuid.UUID | str) -> Case:
    """The case with this public id in the clinic the user is working in, or 404."""
    clinic = getattr(request, "clinic", None)
    if clinic is None or not request.user.is_authenticated:
        raise Http404("No such case.")
    key = _uuid_or_404(public_id, "case")
    try:
        return (
            cases_of(clinic)
            .select_related("clinic", "patient", "dentist", "coordinator", "fee_schedule")
            .get(public_id=key)
        )
    except Case.DoesNotExist as error:
        raise Http404("No such case.") from error


def get_option_of_case(case: Case, public_id: uuid.UUID | str) -> PlanOption:
    key = _uuid_or_404(public_id, "option")
    try:
        return case.options.get(public_id=key)
    except PlanOption.DoesNotExist as error:
        raise Http404("No such option.") from error


def get_line_of_case(case: Case, public_id: uuid.UUID | str) -> PlanLine:
    key = _uuid_or_404(public_id, "line")
    try:
        return PlanLine.objects.select_related("option", "procedure").get(option__case=case, public_id=key)
    except PlanLine.DoesNotExist as error:
        raise Http404("No such line.") from error


def cases_for_patient(patient: Patient) -> QuerySet[Case]:
    """The patient's cases, newest conversation first, in one query."""
    return (
        Case.objects.filter(patient=patient, clinic_id=patient.clinic_id)
        .select_related("dentist")
        .annotate(option_count=Count("options"))
        .order_by("-conversation_date", "-created_at")
    )


def staff_at(clinic: Clinic) -> QuerySet[User]:
    """Anyone working at the clinic, for the coordinator choice."""
    return (
        User.objects.filter(memberships__clinic=clinic, is_active=True).distinct().order_by("first_name", "last_name")
    )


def is_practitioner_at(user: User, clinic: Clinic) -> bool:
    return Membership.objects.filter(user=user, clinic=clinic, role=Membership.Role.PRACTITIONER).exists()


@dataclass(frozen=True)
class OptionView:
    option: PlanOption
    lines: list[PlanLine]
    totals: OptionTotal


def option_view(option: PlanOption, lines: list[PlanLine]) -> OptionView:
    figures = [
        LineFigures(
            unit_fee=line.fee,
            quantity=line.quantity,
            phase=line.phase,
            chair_minutes=line.procedure.default_chair_minutes,
        )
        for line in lines
    ]
    return OptionView(option=option, lines=lines, totals=option_total(figures))


def options_with_totals(case: Case) -> list[OptionView]:
    """Each option with its lines and totals, in two queries however many options and lines."""
    lines = PlanLine.objects.select_related("procedure").order_by("phase", "position", "pk")
    options = case.options.order_by("position", "pk").prefetch_related(Prefetch("lines", queryset=lines))
    return [option_view(option, list(option.lines.all())) for option in options]


def one_option_with_totals(option: PlanOption) -> OptionView:
    lines = list(option.lines.select_related("procedure").order_by("phase", "position", "pk"))
    return option_view(option, lines)
