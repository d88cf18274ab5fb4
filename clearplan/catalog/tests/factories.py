from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory

from clearplan.accounts.tests.factories import ClinicFactory, OrganisationFactory
from clearplan.catalog.models import Category, Fee, FeeSchedule, Procedure, TreatmentArea


class ProcedureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Procedure

    organisation = factory.SubFactory(OrganisationFactory)
    code = factory.Sequence(lambda n: f"X{n:03d}")
    name = factory.Sequence(lambda n: f"Procedure {n}")
    category = Category.RESTORATIVE
    treatment_area = TreatmentArea.TOOTH
    default_chair_minutes = 30


class FeeScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeeSchedule

    clinic = factory.SubFactory(ClinicFactory)
    name = factory.Sequence(lambda n: f"Schedule {n}")
    kind = FeeSchedule.Kind.STANDARD
    is_default = False


class FeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Fee

    schedule = factory.SubFactory(FeeScheduleFactory)
    procedure = factory.SubFactory(ProcedureFactory)
    amount = Decimal("100.00")
    effective_from = date(2025, 1, 1)
