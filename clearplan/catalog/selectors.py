"""Reading the catalogue and fees. Procedures belong to the organisation of the clinic the user
is working in; fee schedules belong to that clinic. Anything else is a 404."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404

from clearplan.catalog.fees import FeeQuote, FeeRow, ScheduleRef, latest_on, next_after, select_fee
from clearplan.catalog.models import Fee, FeeSchedule, Procedure, ProcedureDependency, ProcedureQuerySet

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.accounts.models import Clinic, Organisation


def procedures_of(organisation: Organisation | int) -> ProcedureQuerySet:
    organisation_id = organisation if isinstance(organisation, int) else organisation.pk
    return Procedure.objects.filter(organisation_id=organisation_id)


def procedures_for_new_plans(organisation: Organisation) -> ProcedureQuerySet:
    """Retired items are kept for the plans that have them, but are not offered again."""
    return procedures_of(organisation).active().order_by("code")


def _uuid_or_404(public_id: uuid.UUID | str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(public_id))
    except ValueError as error:
        raise Http404(f"No such {what}.") from error


def get_procedure_for_user(request: HttpRequest, public_id: uuid.UUID | str) -> Procedure:
    """A procedure of the active clinic's organisation, or 404."""
    clinic = getattr(request, "clinic", None)
    if clinic is None or not request.user.is_authenticated:
        raise Http404("No such procedure.")
    key = _uuid_or_404(public_id, "procedure")
    try:
        return procedures_of(clinic.organisation_id).get(public_id=key)
    except Procedure.DoesNotExist as error:
        raise Http404("No such procedure.") from error


def search_procedures(
    organisation: Organisation, *, text: str = "", category: str = "", include_retired: bool = False
) -> ProcedureQuerySet:
    """By code (exact or its start) or by words in the name."""
    procedures = procedures_of(organisation)
    if not include_retired:
        procedures = procedures.active()
    if category:
        procedures = procedures.filter(category=category)
    words = text.split()
    if words:
        by_code = Q(code__istartswith="".join(words))
        by_name = Q()
        for word in words:
            by_name &= Q(name__icontains=word)
        procedures = procedures.filter(by_code | by_name)
    return procedures.order_by("code")


def dependencies_of(procedure: Procedure) -> QuerySet[ProcedureDependency]:
    return procedure.dependencies.select_related("requires_procedure").order_by("id")


def required_by(procedure: Procedure) -> QuerySet[ProcedureDependency]:
    return procedure.required_by.select_related("procedure").order_by("procedure__code")


# ---------- Fee schedules ----------


def fee_schedules_of(clinic: Clinic) -> QuerySet[FeeSchedule]:
    return FeeSchedule.objects.filter(clinic=clinic).order_by("-is_default", "name")


def default_schedule(clinic: Clinic) -> FeeSchedule | None:
    return FeeSchedule.objects.filter(clinic=clinic, is_default=True).first()


def fee_schedules_with_counts(clinic: Clinic) -> QuerySet[FeeSchedule]:
    return fee_schedules_of(clinic).annotate(
        procedures_with_fees=Count("fees__procedure", distinct=True), last_fee_change=Max("fees__effective_from")
    )


def get_fee_schedule_for_user(request: HttpRequest, public_id: uuid.UUID | str) -> FeeSchedule:
    """A fee schedule of the active clinic, or 404 — also for another clinic the user works at."""
    clinic = getattr(request, "clinic", None)
    if clinic is None or not request.user.is_authenticated:
        raise Http404("No such fee schedule.")
    key = _uuid_or_404(public_id, "fee schedule")
    try:
        return fee_schedules_of(clinic).select_related("clinic").get(public_id=key)
    except FeeSchedule.DoesNotExist as error:
        raise Http404("No such fee schedule.") from error


def _ref(schedule: FeeSchedule | None) -> ScheduleRef | None:
    return ScheduleRef(id=schedule.pk, name=schedule.name) if schedule is not None else None


def _rows_for(procedure_ids: Iterable[int], schedules: Sequence[FeeSchedule]) -> dict[int, list[FeeRow]]:
    rows: dict[int, list[FeeRow]] = {}
    fees = Fee.objects.filter(procedure_id__in=list(procedure_ids), schedule__in=[s.pk for s in schedules]).values_list(
        "procedure_id", "schedule_id", "amount", "effective_from"
    )
    for procedure_id, schedule_id, amount, effective_from in fees:
        rows.setdefault(procedure_id, []).append(
            FeeRow(schedule_id=schedule_id, amount=amount, effective_from=effective_from)
        )
    return rows


def _schedules_for(clinic: Clinic, schedule: FeeSchedule | None) -> tuple[FeeSchedule | None, FeeSchedule | None]:
    if schedule is not None and schedule.clinic_id != clinic.pk:
        raise ValueError("That fee schedule belongs to another clinic.")
    default = schedule if schedule is not None and schedule.is_default else default_schedule(clinic)
    return schedule, default


def fees_for(
    *, clinic: Clinic, procedures: Sequence[Procedure], on_date: date, schedule: FeeSchedule | None = None
) -> dict[int, FeeQuote]:
    """procedure id → the fee that applies on `on_date`, in two queries however many procedures."""
    requested, default = _schedules_for(clinic, schedule)
    in_play = [s for s in (requested, default) if s is not None]
    rows = _rows_for((p.pk for p in procedures), in_play)
    return {
        procedure.pk: select_fee(
            rows=rows.get(procedure.pk, []),
            on_date=on_date,
            requested=_ref(requested),
            default=_ref(default),
            procedure_label=procedure.code,
            currency=clinic.currency,
        )
        for procedure in procedures
    }


def fee_for(*, clinic: Clinic, procedure: Procedure, on_date: date, schedule: FeeSchedule | None = None) -> FeeQuote:
    """The fee a plan line for `procedure` takes on `on_date`: from `schedule` (or the clinic's default),
    falling back to the default schedule; the quote says which schedule and date it came from."""
    if procedure.organisation_id != clinic.organisation_id:
        raise ValueError("That procedure belongs to another organisation.")
    return fees_for(clinic=clinic, procedures=[procedure], on_date=on_date, schedule=schedule)[procedure.pk]


@dataclass(frozen=True)
class ScheduleLine:
    """One procedure on a fee schedule's page."""

    procedure: Procedure
    quote: FeeQuote
    own_amount: Decimal | None
    own_since: date | None
    upcoming_amount: Decimal | None
    upcoming_from: date | None


def schedule_lines(schedule: FeeSchedule, procedures: Sequence[Procedure], *, on_date: date) -> list[ScheduleLine]:
    """The schedule's fee for each procedure on `on_date`, what the default schedule supplies where it
    has none, and any change already entered for a later date."""
    clinic = schedule.clinic
    requested, default = _schedules_for(clinic, schedule)
    in_play = [s for s in (requested, default) if s is not None]
    rows = _rows_for((p.pk for p in procedures), in_play)
    lines = []
    for procedure in procedures:
        procedure_rows = rows.get(procedure.pk, [])
        own = latest_on(procedure_rows, schedule_id=schedule.pk, on_date=on_date)
        upcoming = next_after(procedure_rows, schedule_id=schedule.pk, on_date=on_date)
        lines.append(
            ScheduleLine(
                procedure=procedure,
                quote=select_fee(
                    rows=procedure_rows,
                    on_date=on_date,
                    requested=_ref(requested),
                    default=_ref(default),
                    procedure_label=procedure.code,
                    currency=clinic.currency,
                ),
                own_amount=own.amount if own is not None else None,
                own_since=own.effective_from if own is not None else None,
                upcoming_amount=upcoming.amount if upcoming is not None else None,
                upcoming_from=upcoming.effective_from if upcoming is not None else None,
            )
        )
    return lines


def fee_history(procedure: Procedure, clinic: Clinic) -> list[tuple[FeeSchedule, list[Fee]]]:
    """Every fee the procedure has had in each of the clinic's schedules, newest first."""
    schedules = list(fee_schedules_of(clinic))
    fees = Fee.objects.filter(procedure=procedure, schedule__in=schedules).order_by("-effective_from")
    by_schedule: dict[int, list[Fee]] = {}
    for fee in fees:
        by_schedule.setdefault(fee.schedule_id, []).append(fee)
    return [(schedule, by_schedule.get(schedule.pk, [])) for schedule in schedules]
