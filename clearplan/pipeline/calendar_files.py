"""The calendar file (.ics, RFC 5545) sent with an appointment's confirmation, its changes and its
cancellation, and downloaded by the team.

A calendar file is easily forwarded, synced to a shared or work calendar, or shown on a lock
screen, so it says no more than "Dental appointment at <clinic>": no patient name, practitioner or
treatment. Times are in UTC, which every calendar program shows in its owner's own time zone.

Every file for one booking carries the same UID and the booking's current SEQUENCE, so a
calendar that already holds the appointment updates it (a new time) or removes it (METHOD:CANCEL)
instead of adding a second one.
"""

from __future__ import annotations

import datetime as dt
from email.utils import parseaddr
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from clearplan.messaging.delivery import message_id_domain

if TYPE_CHECKING:
    from clearplan.accounts.models import Clinic
    from clearplan.pipeline.models import Booking

PRODUCT_ID = "-//Clearplan//Appointments//EN"
CONTENT_TYPE = "text/calendar"
FILE_NAME = "appointment.ics"
REQUEST = "REQUEST"
CANCEL = "CANCEL"


def summary(clinic: Clinic) -> str:
    return f"Dental appointment at {clinic.name}"


def event_uid(booking: Booking) -> str:
    """Stable for the life of the booking, whatever changes: calendars match updates by it."""
    return f"appointment-{booking.public_id}@{message_id_domain()}"


def _organizer(clinic: Clinic) -> vCalAddress:
    # Replies from a calendar program go to the clinic; without a clinic address, to the sender's.
    address = clinic.email or parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or f"appointments@{message_id_domain()}"
    organizer = vCalAddress(f"mailto:{address}")
    organizer.params["cn"] = vText(clinic.name)
    return organizer


def _description(clinic: Clinic) -> str:
    from clearplan.accounts.forms import national_phone

    phone = national_phone(clinic)
    if phone:
        return f"To change or cancel this appointment, please call {clinic.name} on {phone}."
    return f"To change or cancel this appointment, please contact {clinic.name}."


def booking_calendar(booking: Booking, *, method: str | None = None, stamp: dt.datetime | None = None) -> bytes:
    """The booking as a calendar file: METHOD:REQUEST while it stands, METHOD:CANCEL once cancelled
    (or when `method` says so)."""
    clinic = booking.case.clinic
    cancelled = booking.status == booking.Status.CANCELLED
    chosen = method or (CANCEL if cancelled else REQUEST)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", chosen)
    event = Event()
    event.add("uid", event_uid(booking))
    event.add("dtstamp", (stamp or timezone.now()).astimezone(dt.UTC))
    event.add("dtstart", booking.starts_at.astimezone(dt.UTC))
    event.add("dtend", booking.ends_at.astimezone(dt.UTC))
    event.add("sequence", booking.sequence)
    event.add("summary", summary(clinic))
    if clinic.address.strip():
        event.add("location", ", ".join(line.strip() for line in clinic.address.splitlines() if line.strip()))
    event.add("description", _description(clinic))
    event["organizer"] = _organizer(clinic)
    event.add("status", "CANCELLED" if chosen == CANCEL else "CONFIRMED")
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    return calendar.to_ical()


def attachment(booking: Booking, *, method: str | None = None) -> tuple[str, bytes, str]:
    """(file name, contents, type), as messaging.services.message_send takes an attachment."""
    return FILE_NAME, booking_calendar(booking, method=method), CONTENT_TYPE
