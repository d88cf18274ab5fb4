"""Appointment emails through a real SMTP server (aiosmtpd), sent by django-tasks-db's own worker:
the confirmation arrives from the clinic with the confirm link and the calendar file attached, and
the cancellation's calendar file removes the same event."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from icalendar import Calendar

from clearplan.messaging.models import OutboundMessage
from clearplan.messaging.tests.conftest import (
    DATABASE_TASKS,
    run_worker_until_idle,
    send_through_smtp,
    smtp_server,  # noqa: F401  (fixture)
)
from clearplan.pipeline import bookings
from clearplan.pipeline.tests.booking_fixtures import (
    SYDNEY,
    _messages_wait_in_the_queue,  # noqa: F401  (fixture)
    book,
    confirm_path,
)


def next_week_at_half_past_nine() -> dt.datetime:
    day = (timezone.now() + dt.timedelta(days=7)).astimezone(SYDNEY).date()
    return dt.datetime.combine(day, dt.time(9, 30), tzinfo=SYDNEY)


def the_calendar_file(email) -> Calendar:
    [attachment] = list(email.iter_attachments())
    assert attachment.get_filename() == "appointment.ics"
    assert attachment.get_content_type() == "text/calendar"
    return Calendar.from_ical(attachment.get_content())


@pytest.mark.django_db(transaction=True)
def test_the_confirmation_and_the_cancellation_reach_the_mail_server_with_their_calendar_files(
    settings, request, sendable_case, coordinator
):
    mail_server = request.getfixturevalue("smtp_server")
    settings.TASKS = DATABASE_TASKS
    send_through_smtp(settings, mail_server.port)
    clinic = sendable_case.clinic
    clinic.email = "hello@harbourdental.example"
    clinic.save()
    starts_at = next_week_at_half_past_nine()

    booking = book(sendable_case, coordinator, when=starts_at)
    run_worker_until_idle()

    [delivery] = mail_server.deliveries
    email = delivery.message
    assert delivery.envelope_to == ["mere.ngata@example.com"]
    assert email["From"] == f"{clinic.name} <no-reply@clearplan.example>"
    assert email["Reply-To"] == "hello@harbourdental.example"
    assert email["Subject"] == f"Your appointment at {clinic.name}"
    text = email.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    message = OutboundMessage.objects.get(channel="email", purpose="booking_confirmation")
    assert f"Confirm my appointment: https://clearplan.example.com{confirm_path(message)}" in text
    assert "The attached calendar file adds it to your calendar." in text
    html = email.get_body(preferencelist=("html",)).get_content()
    assert "Confirm my appointment" in html
    assert confirm_path(message) in html
    calendar = the_calendar_file(email)
    assert calendar["method"] == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert event["uid"] == f"appointment-{booking.public_id}@clearplan.example"
    assert event["sequence"] == 0
    assert event.decoded("dtstart") == starts_at
    assert event.decoded("dtend") == starts_at + dt.timedelta(hours=1)
    assert "Mere" not in calendar.to_ical().decode()
    assert "Ngata" not in calendar.to_ical().decode()

    bookings.booking_cancel(booking=booking, by=coordinator, reason="The patient is unwell")
    run_worker_until_idle()

    cancellation = mail_server.deliveries[-1].message
    assert cancellation["Subject"] == f"Your appointment at {clinic.name} is cancelled"
    calendar = the_calendar_file(cancellation)
    assert calendar["method"] == "CANCEL"
    [cancelled] = calendar.walk("VEVENT")
    assert cancelled["uid"] == event["uid"]
    assert cancelled["sequence"] == 1
    assert "unwell" not in cancellation.as_string()
    assert len(mail_server.deliveries) == 2
