"""A small catalogue and fee schedule for plan tests: an examination (whole mouth), a filling
priced by surfaces, a crown (one tooth), a denture (one arch), scaling of a quadrant, and a
retired item; Standard fees from 1 July 2025 and a Concession schedule with one fee."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from clearplan.catalog.models import Fee, FeeSchedule, Procedure
from clearplan.patients.tests.factories import PatientFactory

FEES_FROM = date(2025, 7, 1)


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic, first_name="Mere", last_name="Ngata")


@pytest.fixture
def procedures(organisation):
    def make(code, name, area, minutes, category="restorative", **extra):
        return Procedure.objects.create(
            organisation=organisation,
            code=code,
            name=name,
            category=category,
            treatment_area=area,
            default_chair_minutes=minutes,
            **extra,
        )

    return {
        "exam": make("011", "Comprehensive examination", "whole_mouth", 30, category="diagnostic"),
        "filling2": make(
            "522", "Tooth-coloured filling, two surfaces", "tooth_surfaces", 40, surfaces_min=2, surfaces_max=2
        ),
        "filling": make(
            "521", "Tooth-coloured filling, one or more surfaces", "tooth_surfaces", 30, surfaces_min=1, surfaces_max=5
        ),
        "crown": make("615", "Porcelain crown", "tooth", 90, category="prosthodontic"),
        "denture": make("711", "Full upper or lower denture", "arch", 60, category="prosthodontic"),
        "scaling": make("222", "Deep cleaning of one quadrant", "quadrant", 45, category="periodontic"),
        "retired": make("999", "Old amalgam filling", "tooth", 30, retired_at=datetime(2025, 1, 1, tzinfo=UTC)),
    }


@pytest.fixture
def standard(clinic, procedures):
    schedule = FeeSchedule.objects.create(clinic=clinic, name="Standard", is_default=True)
    amounts = {
        "exam": "65.00",
        "filling2": "220.00",
        "filling": "180.00",
        "crown": "1650.00",
        "denture": "1480.00",
        "scaling": "240.50",
    }
    for key, amount in amounts.items():
        Fee.objects.create(
            schedule=schedule, procedure=procedures[key], amount=Decimal(amount), effective_from=FEES_FROM
        )
    return schedule


@pytest.fixture
def concession(clinic, procedures, standard):
    schedule = FeeSchedule.objects.create(clinic=clinic, name="Concession", kind="concession")
    Fee.objects.create(
        schedule=schedule, procedure=procedures["exam"], amount=Decimal("45.00"), effective_from=FEES_FROM
    )
    return schedule


@pytest.fixture
def case(patient, dentist, coordinator, standard):
    from clearplan.plans.services import case_create

    return case_create(
        patient=patient,
        dentist=dentist,
        coordinator=coordinator,
        conversation_date=date(2025, 9, 15),
        plan_type="oral_health",
        key_points="Upper left molar is cracked; patient worried about cost.",
        by=coordinator,
        request=None,
    )
