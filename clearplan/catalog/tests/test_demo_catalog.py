"""The demo practice's catalogue and fee schedules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from clearplan.accounts.models import Organisation
from clearplan.catalog import starter
from clearplan.catalog.models import Fee, FeeSchedule, Procedure, ProcedureDependency
from clearplan.catalog.selectors import fee_for
from clearplan.demo.practice import DEMO_ORGANISATION_ID
from clearplan.lib.clinic_time import clinic_now
from clearplan.messaging.models import ConversationAttachment, ConversationMessage, OutboundMessage
from clearplan.notifications.models import Notification
from clearplan.packs.models import (
    ConsentSignature,
    PackLink,
    PackSend,
    PackSession,
    PackVersion,
    PackVersionImage,
    PackVisit,
    PatientResponse,
)
from clearplan.pipeline.models import Booking
from clearplan.plans.models import Case


@pytest.fixture(autouse=True)
def _demo_installation(settings):
    settings.DEMO = True


def load():
    call_command("load_demo", stdout=StringIO())


def catalogue_counts():
    return (
        Procedure.objects.count(),
        ProcedureDependency.objects.count(),
        FeeSchedule.objects.count(),
        Fee.objects.count(),
    )


def test_the_demo_has_the_australian_catalogue_and_two_schedules_per_clinic(db):
    load()
    organisation = Organisation.objects.get(public_id=DEMO_ORGANISATION_ID)
    assert Procedure.objects.filter(organisation=organisation).count() == len(starter.starter_items("AU"))
    crown = Procedure.objects.get(code="613")
    for clinic in organisation.clinics.all():
        today = clinic_now(clinic).date()
        schedules = {schedule.name: schedule for schedule in FeeSchedule.objects.filter(clinic=clinic)}
        assert set(schedules) == {"Standard", "Concession"}
        assert schedules["Standard"].is_default
        # Fees apply from two years back, so older demo plans have fees too.
        two_years_ago = date(today.year - 2, 1, 1)
        assert fee_for(clinic=clinic, procedure=crown, on_date=two_years_ago).amount == Decimal("1680.00")
        # A crown has no concession fee: the Standard fee applies.
        quote = fee_for(clinic=clinic, procedure=crown, on_date=today, schedule=schedules["Concession"])
        assert quote.fell_back
        # A check-up does: 85% of $70, to the dollar.
        check_up = Procedure.objects.get(code="012")
        quote = fee_for(clinic=clinic, procedure=check_up, on_date=two_years_ago, schedule=schedules["Concession"])
        assert quote.amount == Decimal("60.00")
        # And a 4% rise is already entered for next July.
        assert Fee.objects.filter(schedule=schedules["Standard"], effective_from__gt=today).count() == 66


def test_a_demo_loaded_before_the_catalogue_existed_gets_it_on_the_next_load_and_only_once(db):
    load()
    full = catalogue_counts()
    # Before the catalogue existed there were no plans either (they price their lines from it), and so
    # no packs or messages about them.
    for model in (
        ConversationAttachment,
        ConversationMessage,
        Booking,
        Notification,
        ConsentSignature,
        PatientResponse,
        PackVisit,
        PackSession,
        PackSend,
        PackLink,
        PackVersionImage,
        PackVersion,
        OutboundMessage,
    ):
        model.objects.all().delete()
    Case.objects.all().delete()
    Fee.objects.all().delete()
    FeeSchedule.objects.all().delete()
    ProcedureDependency.objects.all().delete()
    Procedure.objects.all().delete()

    load()
    assert catalogue_counts() == full
    load()
    assert catalogue_counts() == full
