"""Email digests: the practice digest for owners and managers, and "My patients" for practitioners.

When: at 07:00 in each clinic's time zone on its business days (FollowUpSettings.business_days).
A daily digest goes every business day; a weekly one on the first business day of the week
(Monday, normally). The worker asks every minute (`send_due_digests`); a digest not sent by
noon (the worker was down all morning) is left for the next one, because "the day ahead"
read in the afternoon is more confusing than useful.

Who: the practice digest goes to each clinic's managers and the organisation's admins (weekly
unless they choose daily or never); "My patients" to each clinic's practitioners about the
cases where they are the dentist (daily unless they choose). Anyone with access to a clinic who
is the dentist on its cases may choose it too. Inactive staff, staff who can no longer open the
clinic and staff who turned off emails about their cases (Your profile) get none.

Once: each digest is claimed by a `DigestSent` row (unique per person, clinic, kind and period)
in the same transaction as its message, so a restart or two workers at once never send it twice.

Empty: the practice digest always goes, because a quiet week is itself worth knowing and the
value waiting is the figure owners watch. "My patients" is skipped when nothing happened and
nothing is waiting for that practitioner: a daily email that says nothing teaches people to
ignore the ones that matter. A skipped digest is still recorded (without a message), so it is
not reconsidered every minute.

What: counts, values and team members' names, never a patient's name or anything about their
treatment (health information stays in Clearplan); a button opens the board or Today.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from clearplan.accounts.models import Clinic, Membership, User
from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record, changes_between
from clearplan.messaging.models import OutboundMessage
from clearplan.messaging.services import message_send
from clearplan.packs.models import PackSend, PackVisit, PatientResponse
from clearplan.pipeline.followup import settings_for
from clearplan.pipeline.models import Booking, DigestChoice, DigestFrequency, DigestKind, DigestSent, Stage
from clearplan.pipeline.selectors import case_value_subquery
from clearplan.plans.models import Case

if TYPE_CHECKING:
    from django.http import HttpRequest

logger = logging.getLogger("clearplan.pipeline.digests")

SEND_FROM = dt.time(7, 0)
SEND_UNTIL = dt.time(12, 0)
# Cases whose next step is the patient's or the team's: the value "waiting".
WAITING_STAGES: tuple[str, ...] = (Stage.SENT, Stage.FOLLOW_UP, Stage.REQUESTED)
APPOINTMENTS_LISTED = 15
ZERO = Decimal("0.00")

Kind, Frequency, Role = DigestKind, DigestFrequency, Membership.Role


# ---------------------------------------------------------------------------
# When a digest is due
# ---------------------------------------------------------------------------


def business_weekdays(business_days: str) -> frozenset[int]:
    """ISO weekdays (Monday = 1) from a clinic's setting such as "12345"."""
    return frozenset(int(day) for day in business_days if day in "1234567")


def period_start_for(*, local_now: dt.datetime, frequency: str, business_days: str) -> dt.date | None:
    """The period a digest sent at `local_now` (the clinic's own time) belongs to: the day for a
    daily digest, the week's Monday for a weekly one; None when no digest of that frequency is
    due then (outside 07:00–12:00, not a business day, or not the week's first business day)."""
    if frequency not in (Frequency.DAILY, Frequency.WEEKLY):
        return None
    if not SEND_FROM <= local_now.time() < SEND_UNTIL:
        return None
    days = business_weekdays(business_days)
    today = local_now.date()
    if today.isoweekday() not in days:
        return None
    if frequency == Frequency.DAILY:
        return today
    monday = today - dt.timedelta(days=today.weekday())
    return monday if today.isoweekday() == min(days) else None


@dataclass(frozen=True)
class Period:
    """What one digest covers, in the clinic's time zone: `back_*` is the time it reports on (the
    previous week, or since the previous business day began); `ahead_*` the appointments it
    looks forward to (today, or the rest of this week)."""

    frequency: str
    start: dt.date
    today: dt.date
    back_from: dt.datetime
    back_to: dt.datetime
    ahead_from: dt.datetime
    ahead_to: dt.datetime

    @property
    def is_weekly(self) -> bool:
        return self.frequency == Frequency.WEEKLY

    @property
    def back_label(self) -> str:
        """ "Yesterday", "Since Friday" or "Last week"."""
        if self.is_weekly:
            return "Last week"
        first_day = self.back_from.date()
        if first_day == self.today - dt.timedelta(days=1):
            return "Yesterday"
        return f"Since {first_day:%A}"

    @property
    def ahead_label(self) -> str:
        return "This week" if self.is_weekly else "Today"


def period_for(*, start: dt.date, today: dt.date, frequency: str, business_days: str, zone: dt.tzinfo) -> Period:
    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), tzinfo=zone)

    if frequency == Frequency.WEEKLY:
        return Period(
            frequency=frequency,
            start=start,
            today=today,
            back_from=midnight(start - dt.timedelta(days=7)),
            back_to=midnight(start),
            ahead_from=midnight(today),
            ahead_to=midnight(start + dt.timedelta(days=7)),
        )
    # Daily: since the start of the previous business day, so Monday's covers the weekend too.
    days = business_weekdays(business_days)
    first = today - dt.timedelta(days=1)
    for _ in range(6):
        if first.isoweekday() in days:
            break
        first -= dt.timedelta(days=1)
    return Period(
        frequency=frequency,
        start=start,
        today=today,
        back_from=midnight(first),
        back_to=midnight(today),
        ahead_from=midnight(today),
        ahead_to=midnight(today + dt.timedelta(days=1)),
    )


# ---------------------------------------------------------------------------
# Who gets which digest
# ---------------------------------------------------------------------------


def default_frequency(*, kind: str, role: str | None) -> str:
    """What someone gets until they choose: owners and managers the weekly practice digest,
    practitioners the daily "My patients"; nobody else gets a digest by default."""
    if kind == Kind.PRACTICE:
        return Frequency.WEEKLY if role == Role.MANAGER else Frequency.NEVER
    return Frequency.DAILY if role == Role.PRACTITIONER else Frequency.NEVER


def kinds_offered_to(user: User) -> list[str]:
    """The digests `user` can choose: the practice digest for owners and managers, "My patients"
    for practitioners and anyone who is the dentist on a case."""
    roles = set(user.memberships.values_list("role", flat=True))
    kinds = []
    if user.is_organisation_admin or Role.MANAGER in roles:
        kinds.append(Kind.PRACTICE.value)
    if Role.PRACTITIONER in roles or Case.objects.filter(dentist=user).exists():
        kinds.append(Kind.MY_PATIENTS.value)
    return kinds


def choices_for(user: User) -> dict[str, str]:
    """The user's frequency for each digest they are offered: their choice, or the default for
    the role they hold in most clinics (a manager somewhere counts as a manager)."""
    roles = set(user.memberships.values_list("role", flat=True))
    if user.is_organisation_admin:
        roles.add(Role.MANAGER)
    chosen = dict(DigestChoice.objects.filter(user=user).values_list("kind", "frequency"))
    result = {}
    for kind in kinds_offered_to(user):
        wanted_role = Role.MANAGER if kind == Kind.PRACTICE else Role.PRACTITIONER
        result[kind] = chosen.get(kind) or default_frequency(
            kind=kind, role=wanted_role if wanted_role in roles else None
        )
    return result


@dataclass(frozen=True)
class Recipient:
    user: User
    kind: str
    frequency: str


def recipients_for(clinic: Clinic) -> list[Recipient]:
    """Everyone who gets a digest about `clinic`, with the frequency they get it at."""
    roles: dict[int, str | None] = {}
    users: dict[int, User] = {}
    for membership in Membership.objects.filter(clinic=clinic, user__is_active=True).select_related("user"):
        roles[membership.user_id] = membership.role
        users[membership.user_id] = membership.user
    admins = set()
    for admin in User.objects.filter(
        is_active=True, is_organisation_admin=True, organisation_id=clinic.organisation_id
    ):
        admins.add(admin.pk)
        roles.setdefault(admin.pk, None)
        users[admin.pk] = admin
    chosen: dict[tuple[int, str], str] = {
        (user_id, kind): frequency
        for user_id, kind, frequency in DigestChoice.objects.filter(user_id__in=list(users)).values_list(
            "user_id", "kind", "frequency"
        )
    }
    recipients = []
    for user_id, user in sorted(users.items()):
        if not user.notify_by_email or not user.email:
            continue
        for kind in (Kind.PRACTICE, Kind.MY_PATIENTS):
            # Organisation admins act as owners of every clinic, whatever role they also hold.
            role = Role.MANAGER if kind == Kind.PRACTICE and user_id in admins else roles[user_id]
            if kind == Kind.PRACTICE and role != Role.MANAGER:
                continue
            frequency = chosen.get((user_id, kind)) or default_frequency(kind=kind, role=role)
            if frequency != Frequency.NEVER:
                recipients.append(Recipient(user=user, kind=kind.value, frequency=frequency))
    return recipients


def digest_choices_set(*, user: User, choices: Mapping[str, str], request: HttpRequest | None = None) -> dict[str, str]:
    """Store the user's frequency for each digest they are offered (others are ignored). Choices
    equal to the default are stored too, so a later change of default does not change them."""
    with transaction.atomic():
        before = choices_for(user)
        after = dict(before)
        for kind, frequency in choices.items():
            if kind not in before:
                continue
            after[kind] = Frequency(frequency).value
            DigestChoice.objects.update_or_create(user=user, kind=kind, defaults={"frequency": after[kind]})
        changes = changes_between(
            {f"digest_{kind}": value for kind, value in before.items()},
            {f"digest_{kind}": value for kind, value in after.items()},
        )
        if changes:
            audit_record(action=AuditEvent.Action.UPDATE, request=request, actor=user, obj=user, changes=changes)
    return after


# ---------------------------------------------------------------------------
# The figures
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Appointment:
    starts_at: dt.datetime  # in the clinic's time zone
    practitioner: str
    minutes: int
    confirmed: bool


@dataclass(frozen=True)
class Waiting:
    stage: str
    label: str
    cases: int
    value: Decimal


@dataclass(frozen=True)
class TeamMember:
    name: str
    sent: int
    waiting: int
    value: Decimal


@dataclass
class Activity:
    """What happened in the period looked back on."""

    sent: int = 0
    opened: int = 0
    requested: int = 0
    questions: int = 0
    booked: int = 0

    @property
    def is_empty(self) -> bool:
        return not (self.sent or self.opened or self.requested or self.questions or self.booked)


@dataclass
class PracticeFigures:
    activity: Activity
    appointments: list[Appointment]
    confirmed: int
    waiting: list[Waiting]
    team: list[TeamMember] = field(default_factory=list)

    @property
    def waiting_cases(self) -> int:
        return sum(row.cases for row in self.waiting)

    @property
    def waiting_value(self) -> Decimal:
        return sum((row.value for row in self.waiting), ZERO)

    @property
    def appointments_listed(self) -> list[Appointment]:
        return self.appointments[:APPOINTMENTS_LISTED]

    @property
    def appointments_not_listed(self) -> int:
        return max(0, len(self.appointments) - APPOINTMENTS_LISTED)


@dataclass
class PatientFigures:
    activity: Activity
    appointments: list[Appointment]
    requests_waiting: int

    @property
    def is_empty(self) -> bool:
        return self.activity.is_empty and not self.appointments and not self.requests_waiting


def _between(period: Period, name: str) -> dict[str, dt.datetime]:
    return {f"{name}__gte": period.back_from, f"{name}__lt": period.back_to}


def _activity(cases: Q, period: Period) -> tuple[Activity, dict[int, int]]:
    """The period's activity on the cases matching `cases` (a Q on a case's fields, prefixed
    `case__`), and the packs sent by each team member."""
    sent_by = dict(
        PackSend.objects.filter(cases, status=PackSend.Status.SENT, **_between(period, "send_at"))
        .order_by()
        .values("sent_by")
        .annotate(sends=Count("pk"))
        .values_list("sent_by", "sends")
    )
    responses = dict(
        PatientResponse.objects.filter(cases, **_between(period, "created_at"))
        .order_by()
        .values("kind")
        .annotate(patients=Count("case", distinct=True))
        .values_list("kind", "patients")
    )
    activity = Activity(
        sent=sum(sent_by.values()),
        opened=PackVisit.objects.filter(cases, **_between(period, "started_at"))
        .order_by()
        .values("case")
        .distinct()
        .count(),
        requested=responses.get(PatientResponse.Kind.PROCEED, 0),
        questions=responses.get(PatientResponse.Kind.QUESTION, 0),
        booked=Booking.objects.filter(cases, status=Booking.Status.BOOKED, **_between(period, "created_at")).count(),
    )
    return activity, sent_by


def _appointments(bookings: Q, period: Period, zone: dt.tzinfo) -> list[Appointment]:
    found = (
        Booking.objects.filter(
            bookings,
            status=Booking.Status.BOOKED,
            starts_at__gte=period.ahead_from,
            starts_at__lt=period.ahead_to,
        )
        .select_related("practitioner")
        .order_by("starts_at", "pk")
    )
    return [
        Appointment(
            starts_at=booking.starts_at.astimezone(zone),
            practitioner=booking.practitioner.display_name,
            minutes=booking.duration_minutes,
            confirmed=booking.patient_confirmed_at is not None,
        )
        for booking in found
    ]


def practice_figures(*, clinic: Clinic, period: Period) -> PracticeFigures:
    zone = zoneinfo.ZoneInfo(clinic.time_zone)
    activity, sent_by = _activity(Q(case__clinic=clinic), period)
    appointments = _appointments(Q(case__clinic=clinic), period, zone)
    rows = (
        Case.objects.filter(clinic=clinic, progress__stage__in=WAITING_STAGES)
        .annotate(value=case_value_subquery())
        .values_list("progress__stage", "coordinator_id", "value")
    )
    by_stage: dict[str, list[Decimal]] = defaultdict(list)
    by_member: dict[int, list[Decimal]] = defaultdict(list)
    for stage, coordinator_id, value in rows:
        amount = Decimal(value or 0).quantize(Decimal("0.01"))
        by_stage[stage].append(amount)
        if coordinator_id is not None:
            by_member[coordinator_id].append(amount)
    waiting = [
        Waiting(
            stage=stage,
            label=Stage(stage).label,
            cases=len(by_stage[stage]),
            value=sum(by_stage[stage], ZERO),
        )
        for stage in WAITING_STAGES
    ]
    member_ids = {pk for pk in (*sent_by, *by_member) if pk is not None}
    names = {user.pk: user.display_name for user in User.objects.filter(pk__in=member_ids)}
    team = sorted(
        (
            TeamMember(
                name=names.get(pk, "A former team member"),
                sent=sent_by.get(pk, 0),
                waiting=len(by_member.get(pk, [])),
                value=sum(by_member.get(pk, []), ZERO),
            )
            for pk in member_ids
        ),
        key=lambda member: (-member.value, -member.sent, member.name),
    )
    return PracticeFigures(
        activity=activity,
        appointments=appointments,
        confirmed=sum(1 for appointment in appointments if appointment.confirmed),
        waiting=waiting,
        team=team,
    )


def patient_figures(*, clinic: Clinic, dentist: User, period: Period) -> PatientFigures:
    """The figures for "My patients": the cases at `clinic` where `dentist` is the dentist, and the
    appointments with them."""
    zone = zoneinfo.ZoneInfo(clinic.time_zone)
    activity, _ = _activity(Q(case__clinic=clinic, case__dentist=dentist), period)
    return PatientFigures(
        activity=activity,
        appointments=_appointments(Q(case__clinic=clinic, practitioner=dentist), period, zone),
        requests_waiting=Case.objects.filter(clinic=clinic, dentist=dentist, progress__stage=Stage.REQUESTED).count(),
    )


# ---------------------------------------------------------------------------
# The email
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestEmail:
    subject: str
    text: str
    html: str


def _day(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def open_path(*, clinic: Clinic, where: str) -> str:
    """The digest's button: opens the board or Today in the digest's clinic."""
    return reverse("pipeline:digest_open", kwargs={"clinic_id": clinic.public_id, "where": where})


def email_for(*, kind: str, user: User, clinic: Clinic, period: Period, figures: Any) -> DigestEmail:
    """The subject, plain text and HTML of one digest. Subjects name the clinic and the day only."""
    when = f"the week of {period.start.day} {period.start:%B}" if period.is_weekly else _day(period.today)
    if kind == Kind.PRACTICE:
        subject = f"{clinic.name}: your practice digest for {when}"
        where, button = "board", "Open the pipeline"
        template = "pipeline/digests/practice_email"
    else:
        subject = f"Your patients at {clinic.name}: {when}"
        where, button = "today", "Open Today"
        template = "pipeline/digests/my_patients_email"
    context = {
        "user": user,
        "clinic": clinic,
        "period": period,
        "figures": figures,
        "when": when,
        "open_url": settings.SITE_URL + open_path(clinic=clinic, where=where),
        "button": button,
        "choices_url": settings.SITE_URL + reverse("pipeline:digest_choices"),
        "frequency_label": Frequency(period.frequency).label.split(" ")[0].lower(),
    }
    # Times in the email read in the clinic's time zone, whatever the worker's.
    with timezone.override(zoneinfo.ZoneInfo(clinic.time_zone)):
        return DigestEmail(
            subject=subject,
            text=render_to_string(f"{template}.txt", context),
            html=render_to_string(f"{template}.html", context),
        )


# ---------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------


def _claim_and_send(
    *, recipient: Recipient, clinic: Clinic, period: Period, email: DigestEmail | None, at: dt.datetime
) -> bool:
    """Record the digest and queue its email together; False when it was already recorded (by an
    earlier round or another worker) or there was nothing to send."""
    try:
        with transaction.atomic():
            record = DigestSent.objects.create(
                user=recipient.user,
                clinic=clinic,
                kind=recipient.kind,
                period_start=period.start,
                frequency=recipient.frequency,
                created_at=at,
            )
            if email is None:
                return False
            try:
                with transaction.atomic():
                    message = message_send(
                        clinic=clinic,
                        channel=OutboundMessage.Channel.EMAIL,
                        to=recipient.user.email,
                        subject=email.subject,
                        body=email.text,
                        html=email.html,
                        purpose=OutboundMessage.Purpose.DIGEST,
                    )
            except ValidationError:
                # An unusable stored address: recorded as handled, so it is not retried every minute.
                logger.warning("Digest not queued for staff member %s: unusable address", recipient.user.public_id)
                return False
            DigestSent.objects.filter(pk=record.pk).update(message=message)
            return True
    except IntegrityError:
        return False


def _due(
    recipients: Iterable[Recipient], *, local_now: dt.datetime, business_days: str
) -> list[tuple[Recipient, dt.date]]:
    due = []
    for recipient in recipients:
        start = period_start_for(local_now=local_now, frequency=recipient.frequency, business_days=business_days)
        if start is not None:
            due.append((recipient, start))
    return due


def send_digests_for(*, clinic: Clinic, now: dt.datetime) -> int:
    """Send the digests about `clinic` that are due at `now`; returns how many were queued."""
    zone = zoneinfo.ZoneInfo(clinic.time_zone)
    local_now = now.astimezone(zone)
    if not SEND_FROM <= local_now.time() < SEND_UNTIL:
        return 0
    business_days = settings_for(clinic).business_days
    if local_now.isoweekday() not in business_weekdays(business_days):
        return 0
    due = _due(recipients_for(clinic), local_now=local_now, business_days=business_days)
    if not due:
        return 0
    done = set(
        DigestSent.objects.filter(
            clinic=clinic, user_id__in={recipient.user.pk for recipient, _ in due}, period_start__in={s for _, s in due}
        ).values_list("user_id", "kind", "period_start")
    )
    practice: dict[str, PracticeFigures] = {}
    queued = 0
    for recipient, start in due:
        if (recipient.user.pk, recipient.kind, start) in done:
            continue
        period = period_for(
            start=start, today=local_now.date(), frequency=recipient.frequency, business_days=business_days, zone=zone
        )
        email: DigestEmail | None
        if recipient.kind == Kind.PRACTICE:
            if recipient.frequency not in practice:
                practice[recipient.frequency] = practice_figures(clinic=clinic, period=period)
            email = email_for(
                kind=recipient.kind,
                user=recipient.user,
                clinic=clinic,
                period=period,
                figures=practice[recipient.frequency],
            )
        else:
            figures = patient_figures(clinic=clinic, dentist=recipient.user, period=period)
            email = (
                None
                if figures.is_empty
                else email_for(kind=recipient.kind, user=recipient.user, clinic=clinic, period=period, figures=figures)
            )
        if _claim_and_send(recipient=recipient, clinic=clinic, period=period, email=email, at=now):
            queued += 1
    return queued


def send_due_digests(*, now: dt.datetime | None = None) -> int:
    """Send the digests that are due; returns how many."""
    moment = now or timezone.now()
    queued = 0
    for clinic in Clinic.objects.select_related("organisation").order_by("pk"):
        try:
            queued += send_digests_for(clinic=clinic, now=moment)
        except Exception:
            # One clinic's trouble must not hold up the others' digests; the next round tries again.
            logger.exception("Digests for clinic %s were not sent this round", clinic.public_id)
    return queued
