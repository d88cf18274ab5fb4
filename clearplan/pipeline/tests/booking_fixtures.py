"""What the appointment tests stand on, beside the pipeline's `sendable_case` (a patient who agreed
to SMS and email, a crown or denture plan; see conftest.py): messages that are written but wait in
the queue, times in Sydney, and `book(...)` to record an appointment the way the form does."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from urllib.parse import urlparse

import pytest
import time_machine

from clearplan.lib.sms_url import SMS_OUTBOX_BACKEND
from clearplan.messaging.models import OutboundMessage
from clearplan.pipeline import bookings
from clearplan.plans.models import PlanLine

SYDNEY = zoneinfo.ZoneInfo("Australia/Sydney")
PUBLIC = "https://clearplan.example.com"
# Monday 2 March 2026, 10 am in Sydney: the day the tests record their appointments.
MONDAY_MORNING = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SYDNEY)
CONFIRM_LINK = re.compile(re.escape(PUBLIC) + r"(/a/[A-Za-z0-9_-]+)")


def sydney(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SYDNEY)


@pytest.fixture
def monday_morning():
    """The clock stands at MONDAY_MORNING (use with pytest.mark.usefixtures)."""
    with time_machine.travel(MONDAY_MORNING, tick=False):
        yield


@pytest.fixture(autouse=True)
def _messages_wait_in_the_queue(settings):
    settings.SMS_BACKEND = SMS_OUTBOX_BACKEND
    settings.SMS_OPTIONS = {}
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.DEFAULT_FROM_EMAIL = "Clearplan <no-reply@clearplan.example>"


def lines_of_the_crown(case) -> list[PlanLine]:
    return list(PlanLine.objects.filter(option__case=case, option__title="Option A: crown").select_related("option"))


def book(case, by, *, key: str = "booking-key-1", when: dt.datetime | None = None, **overrides):
    arguments = {
        "case": case,
        "by": by,
        "starts_at": when or sydney(2026, 3, 10, 9, 30),
        "duration_minutes": 60,
        "practitioner": case.dentist,
        "lines": [],
        "note": "",
        "submission_key": key,
    }
    return bookings.booking_create(**{**arguments, **overrides})


def messages_about(case, purpose: str = "booking_confirmation") -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(case=case, purpose=purpose).order_by("created_at", "id"))


def confirm_path(message: OutboundMessage) -> str:
    """The confirm link's path, read from the message the patient was sent."""
    found = CONFIRM_LINK.search(message.body)
    assert found, message.body
    return urlparse(PUBLIC + found.group(1)).path
