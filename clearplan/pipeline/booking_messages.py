"""What the patient is sent about an appointment: the confirmation, a change of time, the reminder
and the cancellation, by SMS and email through messaging's `message_send`.

Who it goes to and by which channels follows the pack's rules (clearplan.packs.sending): the
parent or guardian for a minor who has one on record, and only to a mobile or email address the
record says they agreed to. The words name the clinic, the day and time and how long; never the
treatment or the practitioner, since a message on a lock screen or a shared inbox is read by others.
The email carries the calendar file (clearplan.pipeline.calendar_files).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils.formats import date_format

from clearplan.accounts.forms import national_phone
from clearplan.lib.clinic_time import clinic_zone
from clearplan.messaging.models import OutboundMessage
from clearplan.messaging.services import message_send
from clearplan.messaging.sms import sms_configured
from clearplan.packs.models import Recipient
from clearplan.packs.sending import EMAIL, SMS, default_recipient, destinations, first_name
from clearplan.pipeline import calendar_files

if TYPE_CHECKING:
    import datetime as dt

    from clearplan.accounts.models import Clinic, User
    from clearplan.patients.models import Patient
    from clearplan.pipeline.models import Booking

logger = logging.getLogger("clearplan.pipeline.bookings")

BOOKED = "booked"
CHANGED = "changed"
REMINDER = "reminder"
CANCELLED = "cancelled"
CONFIRM_BUTTON = "Confirm my appointment"
CHANNEL_NAMES = {SMS: "SMS", EMAIL: "email"}


# ---------- Who, and where ----------


@dataclass(frozen=True)
class Reach:
    """Where messages about the patient's appointments can go now: the recipient (patient or
    guardian), the usable channels in order (SMS, email), and, when a channel is missing, why."""

    recipient: str
    name: str
    channels: tuple[str, ...]
    problems: tuple[str, ...]

    @property
    def in_words(self) -> str:
        return " and ".join(CHANNEL_NAMES[channel] for channel in self.channels)


def patient_reach(patient: Patient) -> Reach:
    recipient = default_recipient(patient)
    places = destinations(patient, recipient)
    channels: list[str] = []
    problems: list[str] = []
    for channel in (SMS, EMAIL):
        place = places[channel]
        if channel == SMS and place.usable and not sms_configured():
            problems.append("SMS is not set up for this practice.")
        elif place.usable:
            channels.append(channel)
        else:
            problems.append(place.problem)
    name = patient.guardian_name if recipient == Recipient.GUARDIAN else patient.full_name
    return Reach(recipient=recipient, name=name, channels=tuple(channels), problems=tuple(problems))


def reminder_channels(patient: Patient, reach: Reach) -> tuple[str, ...]:
    """One reminder, not two: by the patient's preferred way when it can be used, else the other."""
    if not reach.channels:
        return ()
    preferred = patient.preferred_channel if patient.preferred_channel in reach.channels else reach.channels[0]
    return (preferred,)


# ---------- The words ----------


def clock(moment: dt.datetime) -> str:
    return moment.strftime("%I:%M %p").lstrip("0").lower()


def when_in_words(clinic: Clinic, moment: dt.datetime) -> str:
    """ "9:30 am on Tuesday 7 April 2026", in the clinic's time zone."""
    local = moment.astimezone(clinic_zone(clinic))
    return f"{clock(local)} on {date_format(local, 'l j F Y')}"


def duration_in_words(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append("1 hour" if hours == 1 else f"{hours} hours")
    if rest or not hours:
        parts.append(f"{rest} minutes")
    return " ".join(parts)


@dataclass(frozen=True)
class Words:
    sms: str
    subject: str
    paragraphs: tuple[str, ...]
    details: tuple[tuple[str, str], ...]
    button: str
    closing: str

    def email_text(self, url: str) -> str:
        lines = ["\n\n".join(self.paragraphs[:2])]
        lines.append("\n".join(f"{label}: {value}" for label, value in self.details))
        lines.extend(self.paragraphs[2:])
        if url and self.button:
            lines.append(f"{self.button}: {url}")
        if self.closing:
            lines.append(self.closing)
        return "\n\n".join(line for line in lines if line)


def words_for(booking: Booking, kind: str, *, reach: Reach, url: str) -> Words:
    case = booking.case
    clinic = case.clinic
    patient = case.patient
    guardian = reach.recipient == Recipient.GUARDIAN
    hello = f"Hi {patient.guardian_name if guardian else first_name(patient)},"
    whose = f"{first_name(patient)}'s" if guardian else "your"
    when = when_in_words(clinic, booking.starts_at)
    length = duration_in_words(booking.duration_minutes)
    phone = national_phone(clinic)
    call = f"To change it, call {clinic.name} on {phone}." if phone else ""
    confirm = f"Please confirm: {url}" if url else ""
    address = ", ".join(line.strip() for line in clinic.address.splitlines() if line.strip())
    details: list[tuple[str, str]] = [("When", f"{when} ({length})")]
    if address:
        details.append(("Where", address))
    file_note = "The attached calendar file adds it to your calendar."
    if kind == BOOKED:
        sms = f"{hello} {whose} appointment at {clinic.name} is booked for {when} ({length})."
        subject = f"Your appointment at {clinic.name}"
        lead = f"{whose.capitalize()} appointment at {clinic.name} is booked."
        paragraphs = [hello, lead, file_note]
    elif kind == CHANGED:
        sms = f"{hello} {whose} appointment at {clinic.name} has moved to {when} ({length})."
        subject = f"Your appointment at {clinic.name} has changed"
        lead = f"{whose.capitalize()} appointment at {clinic.name} has moved to a new time."
        paragraphs = [hello, lead, "The attached calendar file updates it in your calendar."]
    elif kind == REMINDER:
        sms = f"{hello} a reminder of {whose} appointment at {clinic.name} at {when}."
        subject = f"Reminder: your appointment at {clinic.name}"
        lead = f"A reminder of {whose} appointment at {clinic.name}."
        paragraphs = [hello, lead, file_note]
    elif kind == CANCELLED:
        call = f"To book another time, call {clinic.name} on {phone}." if phone else ""
        sms = f"{hello} {whose} appointment at {clinic.name} at {when} is cancelled."
        subject = f"Your appointment at {clinic.name} is cancelled"
        lead = f"{whose.capitalize()} appointment at {clinic.name} is cancelled."
        paragraphs = [hello, lead, "The attached calendar file removes it from your calendar."]
    else:
        raise ValueError(f"Unknown appointment message: {kind}")
    # The link goes last, where a phone shows it whole.
    sms = " ".join(part for part in (sms, call, confirm) if part)
    return Words(
        sms=sms,
        subject=subject,
        paragraphs=tuple(paragraphs),
        details=tuple(details),
        button=CONFIRM_BUTTON if url else "",
        closing=call,
    )


def _email_html(booking: Booking, words: Words, url: str) -> str:
    return render_to_string(
        "pipeline/bookings/email_booking.html",
        {"clinic": booking.case.clinic, "words": words, "url": url},
    )


# ---------- Sending ----------


def message_patient(
    *,
    booking: Booking,
    kind: str,
    reach: Reach,
    channels: tuple[str, ...],
    url: str = "",
    sender: User | None = None,
) -> list[OutboundMessage]:
    """One message per channel, handed to messaging (sent once the transaction commits). A channel
    messaging refuses (a number it cannot read) is left out; the others still go."""
    case = booking.case
    patient = case.patient
    places = destinations(patient, reach.recipient)
    words = words_for(booking, kind, reach=reach, url=url)
    purpose = (
        OutboundMessage.Purpose.BOOKING_REMINDER if kind == REMINDER else OutboundMessage.Purpose.BOOKING_CONFIRMATION
    )
    method = calendar_files.CANCEL if kind == CANCELLED else calendar_files.REQUEST
    sent: list[OutboundMessage] = []
    for channel in channels:
        email = channel == EMAIL
        try:
            sent.append(
                message_send(
                    clinic=case.clinic,
                    channel=channel,
                    to=places[channel].address,
                    subject=words.subject if email else "",
                    body=words.email_text(url) if email else words.sms,
                    html=_email_html(booking, words, url) if email else None,
                    attachment=calendar_files.attachment(booking, method=method) if email else None,
                    purpose=purpose,
                    patient=patient,
                    case=case,
                    sender=sender,
                )
            )
        except ValidationError:
            # The reason may quote the address, so the log says only which message it was.
            logger.warning(
                "Appointment %s: the %s by %s was refused", str(booking.public_id)[:8], kind, CHANNEL_NAMES[channel]
            )
    return sent
