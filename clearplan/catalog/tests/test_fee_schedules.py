"""Fee schedules at a clinic: one default, dated fees that keep their history, and fee_for."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clearplan.audit.models import AuditEvent
from clearplan.catalog.models import Fee, FeeSchedule
from clearplan.catalog.selectors import fee_for, fees_for
from clearplan.catalog.services import (
    fee_schedule_create,
    fee_schedule_set_default,
    fee_schedule_update,
    fees_set,
)
from clearplan.catalog.tests.factories import FeeScheduleFactory, ProcedureFactory


@pytest.fixture
def filling(organisation):
    return ProcedureFactory(organisation=organisation, code="532", name="Filling, two surfaces")


@pytest.fixture
def crown(organisation):
    return ProcedureFactory(organisation=organisation, code="613", name="Ceramic crown")


@pytest.fixture
def standard(clinic, owner):
    return fee_schedule_create(clinic=clinic, by=owner, name="Standard")


@pytest.fixture
def concession(clinic, owner, standard):
    return fee_schedule_create(clinic=clinic, by=owner, name="Concession", kind=FeeSchedule.Kind.CONCESSION)


def test_the_first_schedule_at_a_clinic_becomes_its_default(standard, concession):
    assert standard.is_default
    assert not concession.is_default


def test_making_another_schedule_the_default_moves_it(clinic, owner, standard, concession):
    fee_schedule_set_default(schedule=concession, by=owner)
    assert list(FeeSchedule.objects.filter(clinic=clinic, is_default=True)) == [concession]
    event = AuditEvent.objects.get(action=AuditEvent.Action.SETTINGS)
    assert event.object_type == "fee_schedule"
    assert event.changes == {"default_schedule": ["Standard", "Concession"]}


def test_the_database_allows_one_default_schedule_per_clinic(clinic, other_clinic, standard):
    FeeScheduleFactory(clinic=other_clinic, is_default=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        FeeScheduleFactory(clinic=clinic, is_default=True)


def test_schedule_names_are_unique_in_a_clinic_whatever_the_case(clinic, other_clinic, owner, standard):
    with pytest.raises(ValidationError) as refused:
        fee_schedule_create(clinic=clinic, by=owner, name="  standard ")
    assert refused.value.message_dict["name"] == ["This clinic already has a fee schedule called “standard”."]
    fee_schedule_create(clinic=other_clinic, by=owner, name="Standard")


def test_renaming_a_schedule_is_audited(owner, concession):
    fee_schedule_update(schedule=concession, by=owner, values={"name": "Pensioner", "description": "Card holders"})
    event = AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE).get()
    assert event.changes == {"name": ["Concession", "Pensioner"], "description": ["", "Card holders"]}


def test_new_fees_keep_the_old_ones_for_earlier_dates(clinic, owner, standard, filling):
    # $180 from 1 Jan 2025, then $195 from 1 Jul 2025: a plan on 30 Jun still gets $180.
    fees_set(schedule=standard, by=owner, effective_from=date(2025, 1, 1), amounts={filling: Decimal("180")})
    fees_set(schedule=standard, by=owner, effective_from=date(2025, 7, 1), amounts={filling: "195.00"})
    assert Fee.objects.filter(schedule=standard, procedure=filling).count() == 2
    assert fee_for(clinic=clinic, procedure=filling, on_date=date(2025, 6, 30)).amount == Decimal("180.00")
    assert fee_for(clinic=clinic, procedure=filling, on_date=date(2025, 7, 1)).amount == Decimal("195.00")
    last = AuditEvent.objects.filter(object_type="fee_schedule", action=AuditEvent.Action.UPDATE).order_by("-id")[0]
    assert last.changes == {"fees_from": "1 Jul 2025", "532": ["180.00", "195.00"]}


def test_a_fee_equal_to_the_one_already_applying_is_not_saved_again(owner, standard, filling, crown):
    fees_set(schedule=standard, by=owner, effective_from=date(2025, 1, 1), amounts={filling: Decimal("180")})
    changed = fees_set(
        schedule=standard,
        by=owner,
        effective_from=date(2025, 7, 1),
        amounts={filling: Decimal("180.00"), crown: Decimal("1680")},
    )
    assert changed == 1
    assert Fee.objects.filter(procedure=filling).count() == 1


def test_a_second_change_on_the_same_date_replaces_the_first(owner, standard, filling):
    fees_set(schedule=standard, by=owner, effective_from=date(2025, 7, 1), amounts={filling: Decimal("195")})
    fees_set(schedule=standard, by=owner, effective_from=date(2025, 7, 1), amounts={filling: Decimal("190")})
    assert list(Fee.objects.filter(procedure=filling).values_list("amount", flat=True)) == [Decimal("190.00")]


def test_bad_amounts_save_nothing(owner, standard, filling, crown):
    with pytest.raises(ValidationError, match=r"Fee for 613: A fee cannot be less than zero\."):
        fees_set(
            schedule=standard,
            by=owner,
            effective_from=date(2025, 1, 1),
            amounts={filling: Decimal("180"), crown: Decimal("-1")},
        )
    assert not Fee.objects.exists()


def test_the_database_refuses_negative_fees_and_two_fees_on_one_date(standard, filling):
    Fee.objects.create(schedule=standard, procedure=filling, amount=Decimal("180"), effective_from=date(2025, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Fee.objects.create(schedule=standard, procedure=filling, amount=Decimal("190"), effective_from=date(2025, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Fee.objects.create(schedule=standard, procedure=filling, amount=Decimal("-5"), effective_from=date(2025, 2, 1))


def test_a_procedure_without_a_concession_fee_falls_back_to_the_standard_fee(
    clinic, owner, standard, concession, filling, crown
):
    # Standard: filling $220, crown $1,680. Concession: filling $187 only.
    fees_set(
        schedule=standard,
        by=owner,
        effective_from=date(2025, 1, 1),
        amounts={filling: Decimal("220"), crown: Decimal("1680")},
    )
    fees_set(schedule=concession, by=owner, effective_from=date(2025, 1, 1), amounts={filling: Decimal("187")})

    filling_quote = fee_for(clinic=clinic, procedure=filling, on_date=date(2025, 3, 1), schedule=concession)
    crown_quote = fee_for(clinic=clinic, procedure=crown, on_date=date(2025, 3, 1), schedule=concession)

    assert (filling_quote.amount, filling_quote.schedule_name, filling_quote.fell_back) == (
        Decimal("187.00"),
        "Concession",
        False,
    )
    assert (crown_quote.amount, crown_quote.schedule_name, crown_quote.fell_back) == (
        Decimal("1680.00"),
        "Standard",
        True,
    )
    assert crown_quote.schedule_id == standard.pk
    assert crown_quote.effective_from == date(2025, 1, 1)


def test_fee_for_refuses_another_clinics_schedule_and_another_practices_procedure(clinic, other_clinic, owner, filling):
    elsewhere = fee_schedule_create(clinic=other_clinic, by=owner, name="Standard")
    with pytest.raises(ValueError, match="another clinic"):
        fee_for(clinic=clinic, procedure=filling, on_date=date(2025, 1, 1), schedule=elsewhere)
    with pytest.raises(ValueError, match="another organisation"):
        fee_for(clinic=clinic, procedure=ProcedureFactory(), on_date=date(2025, 1, 1))


def test_fees_for_many_procedures_take_the_same_queries_as_for_one(
    clinic, owner, standard, concession, organisation, django_assert_num_queries
):
    procedures = [ProcedureFactory(organisation=organisation) for _ in range(20)]
    fees_set(
        schedule=standard,
        by=owner,
        effective_from=date(2025, 1, 1),
        amounts={procedure: Decimal("100") for procedure in procedures},
    )
    with django_assert_num_queries(2):  # the default schedule, then every fee of both schedules
        quotes = fees_for(clinic=clinic, procedures=procedures, on_date=date(2025, 2, 1), schedule=concession)
    assert {quote.amount for quote in quotes.values()} == {Decimal("100.00")}
    assert all(quote.fell_back for quote in quotes.values())
