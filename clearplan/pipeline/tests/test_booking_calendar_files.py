"""The calendar file, read back with icalendar: one event per booking whatever changes (same UID,
rising SEQUENCE), times in UTC, METHOD:REQUEST while it stands and METHOD:CANCEL once cancelled,
and nothing in it about the patient or the treatment."""

from __future__ import annotations

import datetime as dt

import pytest
from icalendar import Calendar

from clearplan.pipeline import bookings, calendar_files
from clearplan.pipeline.tests.booking_fixtures import (
    _messages_wait_in_the_queue,  # noqa: F401  (fixture)
    book,
    lines_of_the_crown,
    monday_morning,  # noqa: F401  (fixture)
    sydney,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("monday_morning")]


def read(booking) -> tuple[Calendar, dict]:
    calendar = Calendar.from_ical(calendar_files.booking_calendar(booking))
    [event] = calendar.walk("VEVENT")
    return calendar, event


def test_the_calendar_file_holds_one_event_at_the_appointments_time_in_utc(sendable_case, coordinator):
    clinic = sendable_case.clinic
    clinic.email = "hello@harbourdental.example"
    clinic.save()
    booking = book(sendable_case, coordinator, when=sydney(2026, 3, 10, 9, 30), duration_minutes=45)

    calendar, event = read(booking)

    assert calendar["method"] == "REQUEST"
    assert calendar["version"] == "2.0"
    assert calendar["prodid"] == "-//Clearplan//Appointments//EN"
    assert event["uid"] == f"appointment-{booking.public_id}@clearplan.example"
    assert event["sequence"] == 0
    # 9:30 am in Sydney (daylight time, UTC+11) is 22:30 the day before in UTC.
    assert event["dtstart"].to_ical() == b"20260309T223000Z"
    assert event["dtend"].to_ical() == b"20260309T231500Z"
    assert event.decoded("dtstart") == dt.datetime(2026, 3, 9, 22, 30, tzinfo=dt.UTC)
    assert str(event["summary"]) == f"Dental appointment at {clinic.name}"
    assert str(event["location"]) == "12 Wharf Street, Sydney NSW 2000"
    assert str(event["organizer"]) == "mailto:hello@harbourdental.example"
    assert event["organizer"].params["CN"] == clinic.name
    assert str(event["status"]) == "CONFIRMED"
    assert "(02) 9000 0000" in str(event["description"])


def test_the_calendar_file_says_nothing_about_the_patient_or_the_treatment(sendable_case, coordinator):
    booking = book(
        sendable_case, coordinator, lines=lines_of_the_crown(sendable_case), note="Crown; anxious about needles"
    )
    text = calendar_files.booking_calendar(booking).decode()
    patient = sendable_case.patient
    for private in (patient.first_name, patient.last_name, patient.email, patient.mobile, "rown", "needles", "Raman"):
        assert private not in text
    assert "ATTENDEE" not in text


def test_a_new_time_keeps_the_uid_and_raises_the_sequence(sendable_case, coordinator):
    booking = book(sendable_case, coordinator)
    _calendar, before = read(booking)

    moved = bookings.booking_update(
        booking=booking,
        by=coordinator,
        starts_at=sydney(2026, 4, 14, 15, 0),
        duration_minutes=60,
        practitioner=booking.practitioner,
    )
    _calendar, after = read(moved)

    assert after["uid"] == before["uid"]
    assert (before["sequence"], after["sequence"]) == (0, 1)
    # After the clocks go back (5 April), Sydney is UTC+10: 3 pm is 05:00 UTC.
    assert after["dtstart"].to_ical() == b"20260414T050000Z"


def test_a_cancelled_appointments_file_cancels_the_same_event(sendable_case, coordinator):
    booking = book(sendable_case, coordinator)
    _calendar, booked = read(booking)

    cancelled = bookings.booking_cancel(booking=booking, by=coordinator, reason="Patient moved away")
    calendar, event = read(cancelled)

    assert calendar["method"] == "CANCEL"
    assert event["uid"] == booked["uid"]
    assert event["sequence"] == 1
    assert str(event["status"]) == "CANCELLED"


def test_without_a_clinic_email_the_organizer_is_the_sending_address(sendable_case, coordinator):
    sendable_case.clinic.email = ""
    sendable_case.clinic.save()
    booking = book(sendable_case, coordinator)
    _calendar, event = read(booking)
    assert str(event["organizer"]) == "mailto:no-reply@clearplan.example"
