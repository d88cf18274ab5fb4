"""The case page's "Appointments" panel, drawn by `{% case_bookings case %}`: the case's
appointments (coming ones first, then past ones, then cancelled ones), whether the patient was
sent a confirmation and confirmed, when the reminder goes, and the actions on each.

Three queries however many appointments: the bookings with who they are with and who cancelled
them, their plan lines, and the clinic's follow-up settings (for the reminder time)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import template
from django.db.models import Prefetch
from django.utils import timezone

from clearplan.lib.clinic_time import clinic_zone
from clearplan.pipeline.booking_messages import clock, duration_in_words, patient_reach, when_in_words
from clearplan.pipeline.bookings import reminder_plan
from clearplan.pipeline.followup import settings_for
from clearplan.pipeline.models import Booking, FollowUpSettings
from clearplan.plans.models import PlanLine

register = template.Library()

UPCOMING = "upcoming"
PAST = "past"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class BookingRow:
    booking: Booking
    state: str
    when: str
    ends: str
    length: str
    lines: list[PlanLine]
    reminder: str

    @property
    def is_upcoming(self) -> bool:
        return self.state == UPCOMING


def _reminder_words(booking: Booking, settings: FollowUpSettings, *, now: dt.datetime) -> str:
    clinic = booking.case.clinic
    if booking.reminder_sent_at is not None:
        return f"Reminder sent {when_in_words(clinic, booking.reminder_sent_at)}"
    if booking.starts_at <= now:
        return ""
    if settings.reminder_hours_before <= 0:
        return "Reminders are turned off for this clinic"
    at = reminder_plan(booking, settings)
    if at is None:
        return "No separate reminder: booked close to the day, the confirmation serves as one"
    if at <= now:
        return "Reminder going out now"
    return f"Reminder due {when_in_words(clinic, at)}"


def booking_rows(case: Any, *, now: dt.datetime | None = None) -> list[BookingRow]:
    now = now or timezone.now()
    lines = PlanLine.objects.select_related("procedure").order_by("phase", "position", "pk")
    bookings = list(
        Booking.objects.filter(case=case)
        .select_related("practitioner", "cancelled_by")
        .prefetch_related(Prefetch("lines", queryset=lines))
    )
    if not bookings:
        return []
    clinic = case.clinic
    zone = clinic_zone(clinic)
    settings = settings_for(clinic)
    rows = []
    for booking in bookings:
        booking.case = case  # the case is already loaded: no query per row
        if booking.status == Booking.Status.CANCELLED:
            state = CANCELLED
        elif booking.starts_at > now:
            state = UPCOMING
        else:
            state = PAST
        rows.append(
            BookingRow(
                booking=booking,
                state=state,
                when=when_in_words(clinic, booking.starts_at),
                ends=clock(booking.ends_at.astimezone(zone)),
                length=duration_in_words(booking.duration_minutes),
                lines=list(booking.lines.all()),
                reminder=_reminder_words(booking, settings, now=now) if state == UPCOMING else "",
            )
        )
    order = {UPCOMING: 0, PAST: 1, CANCELLED: 2}

    def sort_key(row: BookingRow) -> tuple[int, float]:
        moment = row.booking.starts_at.timestamp()
        return (order[row.state], moment if row.state == UPCOMING else -moment)

    return sorted(rows, key=sort_key)


@register.inclusion_tag("pipeline/bookings/_case_bookings.html", takes_context=True)
def case_bookings(context: template.Context, case: Any) -> dict[str, Any]:
    rows = booking_rows(case)
    reach = patient_reach(case.patient)
    return {
        "case": case,
        "patient": case.patient,
        "rows": rows,
        "reach": reach,
        "has_upcoming": any(row.is_upcoming for row in rows),
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
    }
