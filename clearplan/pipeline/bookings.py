"""Appointments recorded for a case, their confirmations, reminders and calendar files.

Appointments are recorded by hand for now (a practice-management sync comes later):

- `booking_create` records one (a repeated `submission_key` gives back the booking already made,
  so a double click books once), moves the case to Booked and stops automatic follow-up
  (`events.booking_made`), and sends the patient a confirmation with a calendar file and a link
  to confirm — all in one transaction, so a refusal leaves nothing behind.
- `booking_update` changes it; a new time or length raises the calendar SEQUENCE, asks the patient
  to confirm again and sends the updated calendar file.
- `booking_cancel` cancels it with a reason; the patient gets a notice whose calendar file removes
  the event, and the case goes back to follow-up when it was its last appointment
  (`events.booking_cancelled`).
- `send_due_reminders` is run every minute by every worker (schedule.py) and sends each reminder
  once, however many workers overlap or restart.

The patient's confirm link carries a random token; only its SHA-256 is kept. A message that asks
the patient to confirm carries a new token (the earlier link then stops working), since the token
itself is never stored to be sent again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from clearplan.accounts.models import Membership
from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record
from clearplan.lib.clinic_time import clinic_zone
from clearplan.pipeline import booking_messages, events
from clearplan.pipeline.booking_messages import BOOKED, CANCELLED, CHANGED, REMINDER, patient_reach
from clearplan.pipeline.followup import settings_for
from clearplan.pipeline.models import Booking, FollowUpSettings
from clearplan.pipeline.stages import activity_touch
from clearplan.plans import services as plan_services
from clearplan.plans.models import Case, PlanLine

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.accounts.models import User

MIN_MINUTES = 5
MAX_MINUTES = 8 * 60
MAX_DAYS_AHEAD = 2 * 366
NOTE_MAX = 300
REASON_MAX = 300
TOKEN_BYTES = 24
# A second "Send the confirmation again" within this long is a double click, not a new request.
RESEND_PAUSE = dt.timedelta(seconds=60)
# How late a reminder may still go outside the contact hours (a worker a few minutes behind).
REMINDER_GRACE = dt.timedelta(minutes=30)
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


# ---------- The confirm link ----------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_digest(token)


def confirm_url(token: str, request: HttpRequest | None = None) -> str:
    from clearplan.packs.sending import absolute_url

    return absolute_url(reverse("pipeline:booking_confirm", args=[token]), request)


def booking_for_token(token: str) -> Booking | None:
    """The booking a confirm link belongs to, or None for anything that is not a current link."""
    if not _TOKEN_SHAPE.match(token or ""):
        return None
    return Booking.objects.select_related("case__clinic").filter(confirm_token_sha256=token_digest(token)).first()


# ---------- Checks ----------


def _check_fields(
    *,
    case: Case,
    starts_at: dt.datetime | None,
    duration_minutes: int | None,
    practitioner: User | None,
    lines: Sequence[PlanLine],
    note: str,
    check_time: bool,
) -> None:
    """Every problem at once, each at its field, before anything is written."""
    errors: dict[str, str] = {}
    now = timezone.now()
    if starts_at is None or timezone.is_naive(starts_at):
        errors["starts_at"] = "Choose the day and time of the appointment."
    elif check_time and starts_at <= now:
        errors["starts_at"] = "That time has passed. Choose a time still to come."
    elif check_time and starts_at > now + dt.timedelta(days=MAX_DAYS_AHEAD):
        errors["starts_at"] = "Choose a day within the next two years."
    if duration_minutes is None or not MIN_MINUTES <= duration_minutes <= MAX_MINUTES:
        errors["duration_minutes"] = (
            f"An appointment takes between {MIN_MINUTES} minutes and {MAX_MINUTES // 60} hours."
        )
    if practitioner is None:
        errors["practitioner"] = "Choose who the appointment is with."
    elif not practitioner.is_active or not Membership.objects.filter(user=practitioner, clinic=case.clinic).exists():
        errors["practitioner"] = "Choose someone who works at this clinic."
    if any(line.option.case_id != case.pk for line in lines):
        errors["lines"] = "Choose treatment from this case's plan."
    if len(note) > NOTE_MAX:
        errors["note"] = f"Keep the note to {NOTE_MAX} characters."
    if errors:
        raise ValidationError(errors)


def _summary(booking: Booking) -> dict[str, Any]:
    return {
        "starts_at": booking.starts_at.astimezone(dt.UTC).isoformat(),
        "duration_minutes": booking.duration_minutes,
        "practitioner": booking.practitioner.display_name,
    }


# ---------- Telling the patient ----------


def _ask_to_confirm(booking: Booking, *, kind: str, by: User | None, request: HttpRequest | None) -> bool:
    """Send `kind` (booked or changed) with a fresh confirm link; records when, or that nothing
    could go (confirmation_sent_at empty). Returns whether anything was sent."""
    token, digest = _new_token()
    booking.confirm_token_sha256 = digest
    reach = patient_reach(booking.case.patient)
    sent = booking_messages.message_patient(
        booking=booking,
        kind=kind,
        reach=reach,
        channels=reach.channels,
        url=confirm_url(token, request),
        sender=by,
    )
    booking.confirmation_sent_at = timezone.now() if sent else None
    booking.save(update_fields=["confirm_token_sha256", "confirmation_sent_at"])
    return bool(sent)


# ---------- Recording, changing and cancelling ----------


def _existing(case: Case, key: str) -> Booking | None:
    found = Booking.objects.filter(submission_key=key).first()
    if found is not None and found.case_id != case.pk:
        # Keys are random per form: one used for another case is a mistake, not a repeat.
        raise ValidationError("This form was already used for another case. Open it again from the case.")
    return found


def booking_create(
    *,
    case: Case,
    by: User,
    starts_at: dt.datetime | None,
    duration_minutes: int | None,
    practitioner: User | None,
    lines: Sequence[PlanLine] = (),
    note: str = "",
    submission_key: str,
    request: HttpRequest | None = None,
) -> Booking:
    """Record an appointment. Raises ValidationError by field ("starts_at", "duration_minutes",
    "practitioner", "lines", "note") with nothing saved."""
    key = (submission_key or "").strip()
    if not key or len(key) > 64:
        raise ValidationError("This form is missing its key. Open it again from the case.")
    existing = _existing(case, key)
    if existing is not None:
        return existing
    note = (note or "").strip()
    lines = list(lines)
    _check_fields(
        case=case,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        practitioner=practitioner,
        lines=lines,
        note=note,
        check_time=True,
    )
    assert starts_at is not None
    assert duration_minutes is not None
    assert practitioner is not None
    try:
        with transaction.atomic():
            booking = Booking.objects.create(
                case=case,
                starts_at=starts_at,
                duration_minutes=duration_minutes,
                practitioner=practitioner,
                note=note,
                created_by=by,
                submission_key=key,
            )
            booking.lines.set(lines)
            events.booking_made(booking=booking)
            _ask_to_confirm(booking, kind=BOOKED, by=by, request=request)
            plan_services._audit(
                case=case,
                by=by,
                request=request,
                action=AuditEvent.Action.CREATE,
                changes={
                    "appointment": [None, str(booking.public_id)],
                    **{name: [None, value] for name, value in _summary(booking).items()},
                    "lines": [None, len(lines)],
                    "confirmation_sent": [None, booking.confirmation_sent_at is not None],
                },
            )
    except IntegrityError:
        # The same form submitted twice at the same moment: the other submission's booking stands.
        existing = _existing(case, key)
        if existing is None:
            raise
        return existing
    return booking


def _locked(booking: Booking) -> Booking:
    return (
        Booking.objects.select_for_update(of=("self",))
        .select_related("case__clinic", "case__patient", "practitioner")
        .get(pk=booking.pk)
    )


def booking_update(
    *,
    booking: Booking,
    by: User,
    starts_at: dt.datetime | None,
    duration_minutes: int | None,
    practitioner: User | None,
    lines: Sequence[PlanLine] = (),
    note: str = "",
    request: HttpRequest | None = None,
) -> Booking:
    """Change an appointment. A new time or length is a reschedule: the calendar SEQUENCE goes
    up, the patient's earlier confirmation no longer counts, a reminder is due again, and the
    patient is sent the new time with a new confirm link. Saving the same values again changes
    nothing and sends nothing."""
    note = (note or "").strip()
    lines = list(lines)
    with transaction.atomic():
        current = _locked(booking)
        if current.status == Booking.Status.CANCELLED:
            raise ValidationError("This appointment was cancelled. Record a new one instead.")
        moved = starts_at != current.starts_at or duration_minutes != current.duration_minutes
        _check_fields(
            case=current.case,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            practitioner=practitioner,
            lines=lines,
            note=note,
            check_time=starts_at != current.starts_at,
        )
        assert starts_at is not None
        assert duration_minutes is not None
        assert practitioner is not None
        before = {**_summary(current), "note": current.note, "lines": sorted(line.pk for line in current.lines.all())}
        current.starts_at = starts_at
        current.duration_minutes = duration_minutes
        current.practitioner = practitioner
        current.note = note
        current.save(update_fields=["starts_at", "duration_minutes", "practitioner", "note"])
        current.lines.set(lines)
        after = {**_summary(current), "note": note, "lines": sorted(line.pk for line in lines)}
        changes = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
        if moved:
            current.sequence += 1
            current.patient_confirmed_at = None
            current.reminder_sent_at = None
            current.save(update_fields=["sequence", "patient_confirmed_at", "reminder_sent_at"])
            _ask_to_confirm(current, kind=CHANGED, by=by, request=request)
            changes["confirmation_sent"] = [None, current.confirmation_sent_at is not None]
        if changes:
            changes["appointment"] = [str(current.public_id), str(current.public_id)]
            plan_services._audit(
                case=current.case, by=by, request=request, action=AuditEvent.Action.UPDATE, changes=changes
            )
            activity_touch(case=current.case)
    return current


def booking_cancel(
    *, booking: Booking, by: User, reason: str, tell_patient: bool = True, request: HttpRequest | None = None
) -> Booking:
    """Cancel with a reason. The patient is told (unless `tell_patient` is off, or the time has
    passed), with a calendar file that removes the event. Cancelling twice is harmless."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why it is cancelled, for the team."})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"Keep the reason to {REASON_MAX} characters."})
    with transaction.atomic():
        current = _locked(booking)
        if current.status == Booking.Status.CANCELLED:
            return current
        now = timezone.now()
        current.status = Booking.Status.CANCELLED
        current.cancelled_at = now
        current.cancelled_by = by
        current.cancel_reason = reason
        current.sequence += 1
        # The patient's link keeps working, to say the appointment is cancelled.
        current.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason", "sequence"])
        events.booking_cancelled(booking=current)
        told = False
        if tell_patient and current.starts_at > now:
            reach = patient_reach(current.case.patient)
            told = bool(
                booking_messages.message_patient(
                    booking=current, kind=CANCELLED, reach=reach, channels=reach.channels, sender=by
                )
            )
        plan_services._audit(
            case=current.case,
            by=by,
            request=request,
            action=AuditEvent.Action.UPDATE,
            changes={
                "appointment": [str(current.public_id), str(current.public_id)],
                "status": [Booking.Status.BOOKED.value, Booking.Status.CANCELLED.value],
                "reason": [None, reason],
                "patient_told": [None, told],
            },
        )
    return current


def booking_confirmation_resend(*, booking: Booking, by: User, request: HttpRequest | None = None) -> Booking:
    """Send the confirmation again (after the patient's record gained a mobile or email, or the
    patient lost the message), with a new confirm link. Raises ValidationError when it cannot go."""
    with transaction.atomic():
        current = _locked(booking)
        if current.status == Booking.Status.CANCELLED:
            raise ValidationError("This appointment was cancelled.")
        now = timezone.now()
        if current.starts_at <= now:
            raise ValidationError("This appointment's time has passed.")
        if current.confirmation_sent_at is not None and now - current.confirmation_sent_at < RESEND_PAUSE:
            return current
        reach = patient_reach(current.case.patient)
        if not reach.channels:
            raise ValidationError(" ".join(reach.problems) or "There is no way to reach the patient.")
        _ask_to_confirm(current, kind=CHANGED if current.sequence else BOOKED, by=by, request=request)
        plan_services._audit(
            case=current.case,
            by=by,
            request=request,
            action=AuditEvent.Action.UPDATE,
            changes={"appointment_confirmation_sent_again": [None, str(current.public_id)]},
        )
    return current


def booking_confirm_by_patient(*, booking: Booking, request: HttpRequest | None = None) -> bool:
    """The patient's "Confirm" on their link. True the first time; False when it was already
    confirmed, cancelled, or has passed."""
    now = timezone.now()
    with transaction.atomic():
        confirmed = Booking.objects.filter(
            pk=booking.pk, status=Booking.Status.BOOKED, patient_confirmed_at__isnull=True, starts_at__gt=now
        ).update(patient_confirmed_at=now)
        if not confirmed:
            return False
        case = Case.objects.select_related("clinic").get(pk=booking.case_id)
        audit_record(
            action=AuditEvent.Action.UPDATE,
            request=request,
            clinic=case.clinic,
            obj=case,
            object_type=plan_services.CASE_RECORD_TYPE,
            changes={"appointment_confirmed_by_patient": [None, str(booking.public_id)]},
        )
        activity_touch(case=case, at=now)
    booking.patient_confirmed_at = now
    return True


# ---------- Reminders ----------


def on_the_clock(zone: Any, wall: dt.datetime) -> dt.datetime:
    """A wall-clock time in `zone` as a real moment. A time the clocks skip (02:30 when they go
    forward) becomes the moment an hour later on the clock; a time that happens twice, the first."""
    aware = wall.replace(tzinfo=zone, fold=0)
    return aware.astimezone(dt.UTC).astimezone(zone)


def reminder_time(
    *, starts_at: dt.datetime, zone: Any, hours_before: int, contact_from: dt.time, contact_until: dt.time
) -> dt.datetime:
    """When the reminder for an appointment at `starts_at` goes.

    `hours_before` is counted on the clinic's clock, not in elapsed hours: 48 hours before 9:30 am
    on a Monday is 9:30 am on the Saturday even when the clocks change over that weekend, which
    is what a patient expects ("two days before").

    A reminder that would fall outside the clinic's contact hours (`contact_from` to
    `contact_until`, every day of the week) goes at the end of the previous contact window
    instead: one due at 7 am goes at 6 pm the evening before, one due at 10 pm goes at 6 pm that
    day. Moving it earlier, never later, keeps it before the visit; and it is not held to
    business days as follow-up is, because a reminder of the patient's own appointment on a
    Sunday evening is welcome where a follow-up message would not be.
    """
    local_start = starts_at.astimezone(zone)
    due = on_the_clock(zone, local_start.replace(tzinfo=None) - dt.timedelta(hours=hours_before))
    moment = due.time()
    if contact_from <= moment < contact_until:
        return due
    day = due.date() if moment >= contact_until else due.date() - dt.timedelta(days=1)
    return on_the_clock(zone, dt.datetime.combine(day, contact_until))


def reminder_plan(booking: Booking, settings: FollowUpSettings) -> dt.datetime | None:
    """When this booking's reminder goes, or None when it gets none: the clinic turned reminders
    off (0 hours), or the appointment was booked (or moved) so close that the reminder time had
    already passed when the patient was sent the confirmation, which then serves as the reminder."""
    if settings.reminder_hours_before <= 0:
        return None
    at = reminder_time(
        starts_at=booking.starts_at,
        zone=clinic_zone(booking.case.clinic),
        hours_before=settings.reminder_hours_before,
        contact_from=settings.contact_from,
        contact_until=settings.contact_until,
    )
    told_at = booking.confirmation_sent_at or booking.created_at
    if at <= told_at or at >= booking.starts_at:
        return None
    return at


def _in_contact_hours(moment: dt.datetime, zone: Any, settings: FollowUpSettings) -> bool:
    local = moment.astimezone(zone).time()
    return settings.contact_from <= local < settings.contact_until


def _send_reminder(booking: Booking, *, now: dt.datetime) -> bool:
    """Claim the reminder and send it in one transaction. The claim is a conditional UPDATE (only
    while no reminder is recorded and the booking is unchanged): of two workers racing, the second
    waits for the first's row lock and then matches nothing (PostgreSQL), or waits for the write
    lock and matches nothing (SQLite). If the message cannot be written, the claim is rolled
    back with it and the next round tries again."""
    patient = booking.case.patient
    reach = patient_reach(patient)
    channels = booking_messages.reminder_channels(patient, reach)
    if not channels:
        return False
    with transaction.atomic():
        claimed = Booking.objects.filter(
            pk=booking.pk,
            status=Booking.Status.BOOKED,
            reminder_sent_at__isnull=True,
            sequence=booking.sequence,
            starts_at=booking.starts_at,
        ).update(reminder_sent_at=now)
        if not claimed:
            return False
        url = ""
        if booking.patient_confirmed_at is None:
            token, digest = _new_token()
            Booking.objects.filter(pk=booking.pk).update(confirm_token_sha256=digest)
            url = confirm_url(token)
        sent = booking_messages.message_patient(booking=booking, kind=REMINDER, reach=reach, channels=channels, url=url)
        if not sent:
            transaction.set_rollback(True)
            return False
    return True


def send_due_reminders(*, now: dt.datetime | None = None) -> int:
    """Send the reminders that are due; returns how many.

    Candidates are read through the `booking_reminder_due` index: booked, no reminder yet, and
    starting soon enough that the reminder may be due (the largest `reminder_hours_before` of any
    clinic, plus a day for a reminder moved back to the previous evening). A reminder found late
    (the worker was stopped) still goes while the appointment is ahead, but only in contact hours.
    """
    moment = now or timezone.now()
    largest = FollowUpSettings.objects.aggregate(largest=Max("reminder_hours_before"))["largest"] or 0
    hours = max(largest, FollowUpSettings._meta.get_field("reminder_hours_before").get_default())
    horizon = moment + dt.timedelta(hours=hours, days=1, minutes=90)
    candidates = (
        Booking.objects.filter(
            status=Booking.Status.BOOKED,
            reminder_sent_at__isnull=True,
            starts_at__gt=moment,
            starts_at__lte=horizon,
        )
        .select_related("case__clinic", "case__patient")
        .order_by("starts_at")
    )
    clinic_settings: dict[int, FollowUpSettings] = {}
    sent = 0
    for booking in candidates:
        clinic = booking.case.clinic
        if clinic.pk not in clinic_settings:
            clinic_settings[clinic.pk] = settings_for(clinic)
        settings = clinic_settings[clinic.pk]
        at = reminder_plan(booking, settings)
        if at is None or at > moment:
            continue
        if moment - at > REMINDER_GRACE and not _in_contact_hours(moment, clinic_zone(clinic), settings):
            continue
        if _send_reminder(booking, now=moment):
            sent += 1
    return sent
