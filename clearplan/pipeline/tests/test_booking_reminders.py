"""Reminders before the visit: when they go (hours before on the clinic's clock, never in the night,
across daylight-saving changes and time zones), and that each goes once, whatever runs twice.

The clinic's defaults: reminders 48 hours before, contact hours 9 am to 6 pm. Appointments are
recorded on Monday 2 March 2026 at 10 am in Sydney (daylight time, UTC+11)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.test import Client

from clearplan.messaging.models import OutboundMessage
from clearplan.patients.tests.factories import PatientFactory
from clearplan.pipeline import bookings
from clearplan.pipeline.bookings import reminder_time, send_due_reminders
from clearplan.pipeline.models import Booking, FollowUpSettings
from clearplan.pipeline.schedule import pipeline_upkeep
from clearplan.pipeline.tests.booking_fixtures import (
    MONDAY_MORNING,
    SYDNEY,
    _messages_wait_in_the_queue,  # noqa: F401  (fixture)
    book,
    confirm_path,
    messages_about,
    sydney,
)
from clearplan.plans.models import Case

pytestmark = pytest.mark.django_db

PERTH = zoneinfo.ZoneInfo("Australia/Perth")
NINE, SIX = dt.time(9, 0), dt.time(18, 0)


def booked_on_monday(case, by, when, **extra) -> Booking:
    with time_machine.travel(MONDAY_MORNING, tick=False):
        return book(case, by, when=when, key=f"key-{when.isoformat()}", **extra)


def round_at(moment: dt.datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return send_due_reminders()


def reminders(case) -> list[OutboundMessage]:
    return messages_about(case, "booking_reminder")


# ---------- When (the rule alone) ----------


@pytest.mark.parametrize(
    ("appointment", "hours", "expected"),
    [
        # 1. In contact hours: exactly 48 hours before on the clock.
        (sydney(2026, 3, 5, 9, 30), 48, sydney(2026, 3, 3, 9, 30)),
        # 2. Due at 8 am, before contact hours: 6 pm the evening before.
        (sydney(2026, 3, 5, 8, 0), 48, sydney(2026, 3, 2, 18, 0)),
        # 3. Due at 8 pm, after contact hours: 6 pm that day.
        (sydney(2026, 3, 5, 20, 0), 48, sydney(2026, 3, 3, 18, 0)),
        # 4. Due exactly at 6 pm, the end of contact hours: it goes then.
        (sydney(2026, 3, 5, 18, 0), 48, sydney(2026, 3, 3, 18, 0)),
        # 5. A Sunday is a contact day for reminders (unlike follow-up's business days).
        (sydney(2026, 3, 9, 10, 0), 24, sydney(2026, 3, 8, 10, 0)),
        # 6. The clocks go back on Sunday 5 April at 3 am: 48 hours before 9:30 am on the Monday is
        #    9:30 am on the Saturday on the clock (49 hours of real time), not 10:30.
        (sydney(2026, 4, 6, 9, 30), 48, sydney(2026, 4, 4, 9, 30)),
        # 7. The clocks go forward on Sunday 4 October at 2 am: 9 am on the Sunday on the clock.
        (sydney(2026, 10, 6, 9, 0), 48, sydney(2026, 10, 4, 9, 0)),
        # 8. Due at 2:30 am on 4 October, a time the clocks skip: the night rule gives 6 pm on the 3rd.
        (sydney(2026, 10, 5, 2, 30), 24, sydney(2026, 10, 3, 18, 0)),
    ],
)
def test_the_reminder_goes_hours_before_on_the_clinics_clock_and_never_in_the_night(appointment, hours, expected):
    at = reminder_time(starts_at=appointment, zone=SYDNEY, hours_before=hours, contact_from=NINE, contact_until=SIX)
    assert at == expected
    assert at.astimezone(dt.UTC) == expected.astimezone(dt.UTC)


def test_across_daylight_saving_the_clock_not_the_elapsed_hours_decides():
    appointment = sydney(2026, 4, 6, 9, 30)
    at = reminder_time(starts_at=appointment, zone=SYDNEY, hours_before=48, contact_from=NINE, contact_until=SIX)
    # Python subtracts times in one zone on the clock; in UTC the real time between them shows.
    assert appointment.astimezone(dt.UTC) - at.astimezone(dt.UTC) == dt.timedelta(hours=49)
    assert at.utcoffset() == dt.timedelta(hours=11)


def test_the_same_moment_is_read_in_each_clinics_own_time_zone():
    # 9:30 am on Thursday in Perth (UTC+8) is 12:30 pm in Sydney (UTC+11).
    appointment = dt.datetime(2026, 3, 5, 9, 30, tzinfo=PERTH)
    in_perth = reminder_time(starts_at=appointment, zone=PERTH, hours_before=48, contact_from=NINE, contact_until=SIX)
    in_sydney = reminder_time(starts_at=appointment, zone=SYDNEY, hours_before=48, contact_from=NINE, contact_until=SIX)
    assert in_perth == dt.datetime(2026, 3, 3, 9, 30, tzinfo=PERTH)
    assert in_sydney == sydney(2026, 3, 3, 12, 30)


# ---------- Sent by the worker ----------


def test_the_reminder_goes_at_its_time_once_by_the_patients_preferred_way(sendable_case, coordinator):
    booking = booked_on_monday(sendable_case, coordinator, sydney(2026, 3, 5, 9, 30))

    assert round_at(sydney(2026, 3, 3, 9, 29)) == 0
    assert round_at(sydney(2026, 3, 3, 9, 30)) == 1
    assert round_at(sydney(2026, 3, 3, 9, 30)) == 0
    with time_machine.travel(sydney(2026, 3, 3, 9, 31), tick=False):
        assert pipeline_upkeep().reminders == 0

    [reminder] = reminders(sendable_case)
    assert reminder.channel == "sms"
    assert reminder.sender is None
    assert reminder.body.startswith(
        f"Hi Mere, a reminder of your appointment at {sendable_case.clinic.name} at 9:30 am on Thursday 5 March 2026."
    )
    booking.refresh_from_db()
    assert booking.reminder_sent_at == sydney(2026, 3, 3, 9, 30)


def test_an_emailed_reminder_carries_the_calendar_file(sendable_case, coordinator):
    patient = sendable_case.patient
    patient.preferred_channel = "email"
    patient.save()
    booked_on_monday(sendable_case, coordinator, sydney(2026, 3, 5, 9, 30))

    round_at(sydney(2026, 3, 3, 9, 30))

    [reminder] = reminders(sendable_case)
    assert (reminder.channel, reminder.subject) == (
        "email",
        f"Reminder: your appointment at {sendable_case.clinic.name}",
    )
    assert reminder.attachment_name == "appointment.ics"


def test_the_reminders_link_replaces_the_confirmations_until_the_patient_confirms(sendable_case, coordinator):
    booked_on_monday(sendable_case, coordinator, sydney(2026, 3, 5, 9, 30))
    first_link = confirm_path(messages_about(sendable_case)[0])

    round_at(sydney(2026, 3, 3, 9, 30))

    second_link = confirm_path(reminders(sendable_case)[0])
    patient = Client()
    with time_machine.travel(sydney(2026, 3, 3, 12, 0), tick=False):
        assert patient.get(first_link).status_code == 404
        assert patient.get(second_link).status_code == 200


def test_a_patient_who_confirmed_gets_a_reminder_without_a_link(sendable_case, coordinator):
    booking = booked_on_monday(sendable_case, coordinator, sydney(2026, 3, 5, 9, 30))
    with time_machine.travel(sydney(2026, 3, 2, 11, 0), tick=False):
        assert bookings.booking_confirm_by_patient(booking=booking)

    round_at(sydney(2026, 3, 3, 9, 30))

    [reminder] = reminders(sendable_case)
    assert "/a/" not in reminder.body
    assert "Please confirm" not in reminder.body


def test_a_reminder_due_before_dawn_goes_the_evening_before(sendable_case, coordinator):
    booked_on_monday(sendable_case, coordinator, sydney(2026, 3, 5, 8, 0))

    assert round_at(sydney(2026, 3, 2, 17, 59)) == 0
    assert round_at(sydney(2026, 3, 2, 18, 0)) == 1


def test_an_appointment_booked_after_its_reminder_time_gets_no_separate_reminder(sendable_case, coordinator):
    # Wednesday 8 am: due Monday 8 am, moved back to Sunday 6 pm, before it was even booked.
    booking = booked_on_monday(sendable_case, coordinator, sydney(2026, 3, 4, 8, 0))

    for moment in (sydney(2026, 3, 2, 10, 1), sydney(2026, 3, 2, 18, 0), sydney(2026, 3, 3, 9, 0)):
        assert round_at(moment) == 0
    assert bookings.reminder_plan(booking, FollowUpSettings(clinic=sendable_case.clinic)) is None


def test_a_reminder_missed_while_the_worker_was_stopped_waits_for_contact_hours(sendable_case, coordinator):
    """A few minutes late is still on time (a busy worker); hours late waits for the morning."""
    booked_on_monday(sendable_case, coordinator, sydney(2026, 3, 5, 8, 0))  # due Monday 6 pm
    assert round_at(sydney(2026, 3, 2, 17, 50)) == 0
    # The worker stops at 5:50 pm and is back at 11 pm: too late in the evening to send.
    assert round_at(sydney(2026, 3, 2, 23, 0)) == 0
    assert round_at(sydney(2026, 3, 3, 8, 59)) == 0
    assert round_at(sydney(2026, 3, 3, 9, 0)) == 1  # first thing on Tuesday


def test_a_reminder_a_few_minutes_late_still_goes_after_six(sendable_case, coordinator):
    booked_on_monday(sendable_case, coordinator, sydney(2026, 3, 5, 8, 0))  # due Monday 6 pm
    assert round_at(sydney(2026, 3, 2, 18, 20)) == 1


def test_a_new_time_gets_its_own_reminder(sendable_case, coordinator):
    booking = booked_on_monday(sendable_case, coordinator, sydney(2026, 3, 5, 9, 30))
    assert round_at(sydney(2026, 3, 3, 9, 30)) == 1

    with time_machine.travel(sydney(2026, 3, 3, 11, 0), tick=False):
        bookings.booking_update(
            booking=booking,
            by=coordinator,
            starts_at=sydney(2026, 3, 12, 14, 0),
            duration_minutes=60,
            practitioner=booking.practitioner,
        )

    assert round_at(sydney(2026, 3, 10, 13, 59)) == 0
    assert round_at(sydney(2026, 3, 10, 14, 0)) == 1
    assert len(reminders(sendable_case)) == 2


def test_a_cancelled_appointment_gets_no_reminder(sendable_case, coordinator):
    booking = booked_on_monday(sendable_case, coordinator, sydney(2026, 3, 5, 9, 30))
    with time_machine.travel(sydney(2026, 3, 2, 12, 0), tick=False):
        bookings.booking_cancel(booking=booking, by=coordinator, reason="Patient asked")

    assert round_at(sydney(2026, 3, 3, 9, 30)) == 0
    assert reminders(sendable_case) == []


def test_the_clinic_chooses_how_long_before_or_turns_reminders_off(sendable_case, coordinator):
    settings = FollowUpSettings.objects.create(clinic=sendable_case.clinic, reminder_hours_before=24)
    booked_on_monday(sendable_case, coordinator, sydney(2026, 3, 5, 9, 30))

    assert round_at(sydney(2026, 3, 3, 9, 30)) == 0
    assert round_at(sydney(2026, 3, 4, 9, 30)) == 1

    settings.reminder_hours_before = 0
    settings.save()
    booked_on_monday(sendable_case, coordinator, sydney(2026, 3, 12, 9, 30))
    for day in range(5, 12):
        assert round_at(sydney(2026, 3, day, 12, 0)) == 0


def test_a_patient_who_cannot_be_reached_is_reminded_once_they_can(sendable_case, coordinator):
    patient = sendable_case.patient
    patient.consent_sms = patient.consent_email = False
    patient.save()
    booking = booked_on_monday(sendable_case, coordinator, sydney(2026, 3, 5, 9, 30))

    assert round_at(sydney(2026, 3, 3, 9, 30)) == 0
    booking.refresh_from_db()
    assert booking.reminder_sent_at is None

    patient.consent_sms = True
    patient.save()
    assert round_at(sydney(2026, 3, 3, 9, 45)) == 1


def test_each_clinic_is_reminded_in_its_own_time(sendable_case, coordinator, other_clinic, outsider):
    booked_on_monday(sendable_case, coordinator, sydney(2026, 3, 5, 9, 30))
    perth_patient = PatientFactory(
        clinic=other_clinic, first_name="Tane", mobile="+61491570111", consent_sms=True, preferred_channel="sms"
    )
    perth_case = Case.objects.create(
        clinic=other_clinic,
        patient=perth_patient,
        dentist=outsider,
        conversation_date=dt.date(2026, 2, 27),
        plan_type="oral_health",
        created_by=outsider,
    )
    booked_on_monday(perth_case, outsider, dt.datetime(2026, 3, 5, 9, 30, tzinfo=PERTH))

    assert round_at(sydney(2026, 3, 3, 9, 30)) == 1  # Sydney's; it is 6:30 am in Perth
    assert round_at(sydney(2026, 3, 3, 12, 29)) == 0
    assert round_at(sydney(2026, 3, 3, 12, 30)) == 1  # 9:30 am in Perth
    assert len(reminders(perth_case)) == 1
