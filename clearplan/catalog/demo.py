"""The demo practice's catalogue and fees: the Australian starter catalogue, and at each clinic a
Standard schedule (with a price rise already entered for next July) and a Concession schedule
that covers check-ups, cleans and fillings only, so the rest falls back to Standard.

Safe to run on every start: each step adds only what is missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from clearplan.accounts.models import Clinic, Organisation, User
from clearplan.catalog.models import Category, Fee, FeeSchedule, Procedure
from clearplan.catalog.services import (
    catalog_install_starter,
    fee_schedule_create,
    fee_schedule_create_standard,
    fees_set,
)
from clearplan.catalog.template_services import pack_templates_install_starter
from clearplan.lib.clinic_time import clinic_now

CONCESSION_NAME = "Concession"
CONCESSION_SHARE = Decimal("0.85")
CONCESSION_CATEGORIES = (Category.DIAGNOSTIC, Category.PREVENTIVE, Category.RESTORATIVE)
PRICE_RISE = Decimal("1.04")
# Plans in the demo go back about two years; their fees must have applied then.
FEES_FROM_YEARS_AGO = 2


def _whole_dollars(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("1"), rounding=ROUND_HALF_UP)


def load_demo_catalog(organisation: Organisation, clinics: Iterable[Clinic], by: User | None) -> None:
    with transaction.atomic():
        catalog_install_starter(organisation=organisation, region="AU", by=by)
        pack_templates_install_starter(organisation=organisation, by=by)
        for clinic in clinics:
            today = clinic_now(clinic).date()
            fees_from = date(today.year - FEES_FROM_YEARS_AGO, 1, 1)
            standard = fee_schedule_create_standard(clinic=clinic, by=by, effective_from=fees_from)
            _add_price_rise(standard, by=by, today=today)
            _add_concession(clinic, standard, by=by, fees_from=fees_from)


def _add_price_rise(standard: FeeSchedule, *, by: User | None, today: date) -> None:
    """Fees rise 4% next 1 July, so the schedule page shows a planned change. Only once: a schedule
    with fees from more than one date already has its rise (or a manager's own changes)."""
    if Fee.objects.filter(schedule=standard).values("effective_from").distinct().count() > 1:
        return
    rise_on = date(today.year if today.month < 7 else today.year + 1, 7, 1)
    current = {
        fee.procedure: fee.amount
        for fee in Fee.objects.filter(schedule=standard, effective_from__lte=today)
        .select_related("procedure")
        .order_by("procedure_id", "effective_from")
    }
    fees_set(
        schedule=standard,
        by=by,
        effective_from=rise_on,
        amounts={procedure: _whole_dollars(amount * PRICE_RISE) for procedure, amount in current.items()},
    )


def _add_concession(clinic: Clinic, standard: FeeSchedule, *, by: User | None, fees_from: date) -> None:
    concession = FeeSchedule.objects.filter(clinic=clinic, name__iexact=CONCESSION_NAME).first()
    if concession is None:
        concession = fee_schedule_create(
            clinic=clinic,
            by=by,
            name=CONCESSION_NAME,
            kind=FeeSchedule.Kind.CONCESSION,
            description="Pension and health-care card holders",
        )
    priced = set(Fee.objects.filter(schedule=concession).values_list("procedure_id", flat=True))
    standard_fees = {
        fee.procedure_id: fee.amount for fee in Fee.objects.filter(schedule=standard, effective_from=fees_from)
    }
    amounts = {
        procedure: _whole_dollars(standard_fees[procedure.pk] * CONCESSION_SHARE)
        for procedure in Procedure.objects.filter(
            organisation_id=clinic.organisation_id, category__in=CONCESSION_CATEGORIES
        ).active()
        if procedure.pk in standard_fees and procedure.pk not in priced
    }
    if amounts:
        fees_set(schedule=concession, by=by, effective_from=fees_from, amounts=amounts)
