"""The demo practice's pipeline: a believable week at Harbour & Hills Dental.

Each case's stage follows from its pack's history (see demo/packs.py), the way Clearplan's own
rules would have moved it:

- never sent: Not yet sent;
- sent and not opened: Sent, with the gentle reminder the "not opened" rule sends after one
  business day; still unopened a week later: Follow-up required, moved by the coordinator with
  a task to call;
- opened, no reply: Sent (viewed) for the first three business days, then Follow-up required by
  the "viewed, no response" rule with a task to call (done, for the older ones, by the coordinator);
  one case also gets the rule's calm message a week after sending, queued for the worker (the
  demo's outbox);
- asked a question: Sent (viewed) with automatic follow-up stopped; older ones moved to
  Follow-up required by the coordinator after answering, with a task to check back;
- asked to proceed or signed: Requested to proceed, then Booked for most (an upcoming
  appointment, some confirmed by the patient, one moved after a cancellation), and Completed for
  a few of the oldest;
- "not right now": Not proceeding for now with the patient's reason and a date to look again;
  a few opened-but-silent older cases end there too after the coordinator's call.

Every move has its StageMove (who and why, or the event that caused it and its key), checklist
steps Clearplan performs are ticked at the moment they happened, and open work is assigned to
the team so each demo login's Today has a sensible list. Rows are written directly, in bulk, with
a seeded random number generator; dates are relative to now. Loaded once: an organisation whose
cases already have stage history or bookings gets nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from clearplan.accounts.models import Membership, Organisation, User
from clearplan.messaging.models import OutboundMessage
from clearplan.packs.links import link_create, link_path, token_digest
from clearplan.packs.models import ConsentSignature, PackLink, PackSend, PatientResponse
from clearplan.pipeline import checklist, followup
from clearplan.pipeline.models import (
    Booking,
    CaseProgress,
    CaseTask,
    FollowUpRun,
    MoveCause,
    NotProceedingReason,
    RuleKind,
    Stage,
    StageMove,
)
from clearplan.plans.models import Case, PlanLine

SEED = 20240614
S, K, Role = Stage, RuleKind, Membership.Role
# "Viewed, no response" becomes Follow-up required after this many business days (the default rule).
VIEWED_DAYS = 3
NOT_OPENED_DAYS = 1
NO_RESPONSE_DAYS = 7
COMPLETED_AFTER_DAYS = 40
COMPLETED_PER_CLINIC = 3
OLD_CASE_DAYS = 30


def _business_days_after(
    start: dt.datetime, days: int, zone: zoneinfo.ZoneInfo, weekdays: frozenset[int]
) -> dt.datetime:
    """`days` business days after `start`, at the same time of day (as the follow-up rules count)."""
    moment = start.astimezone(zone)
    while days > 0:
        moment += dt.timedelta(days=1)
        if moment.isoweekday() in weekdays:
            days -= 1
    return moment


def _at_hour(day: dt.date, hour: int, minute: int, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)


@dataclass
class Team:
    front_desk: User | None
    manager: User | None


@dataclass
class Plan:
    """What the loader writes for one case: its final progress and the rows of its history."""

    case: Case
    now: dt.datetime
    stage: str = S.NOT_SENT
    since: dt.datetime | None = None
    reason: str = ""
    look_again_on: dt.date | None = None
    stopped_at: dt.datetime | None = None
    stopped_because: str = ""
    contacts: int = 0
    moves: list[StageMove] = field(default_factory=list)

    def move(self, to_stage: str, *, at: dt.datetime, cause: str, by: User | None = None, **extra: Any) -> None:
        # A patient's reply recorded in the last minutes of the packs demo may be dated a moment ahead.
        at = min(at, self.now)
        self.moves.append(
            StageMove(
                case=self.case,
                from_stage=self.stage,
                to_stage=to_stage,
                cause=cause,
                moved_by=by,
                created_at=at,
                **extra,
            )
        )
        self.stage, self.since = to_stage, at
        if to_stage == S.NOT_PROCEEDING:
            self.reason, self.look_again_on = extra.get("not_proceeding_reason", ""), extra.get("look_again_on")
        else:
            self.reason, self.look_again_on = "", None

    def stop(self, because: str, at: dt.datetime) -> None:
        if self.stopped_at is None:
            self.stopped_at, self.stopped_because = min(at, self.now), because


class Loader:
    def __init__(self, organisation: Organisation) -> None:
        self.organisation = organisation
        self.rng = random.Random(SEED)  # noqa: S311 - repeatable made-up history, not security
        self.now = timezone.now()
        self.tasks: list[CaseTask] = []
        self.runs: list[FollowUpRun] = []
        self.bookings: list[tuple[Booking, list[int]]] = []
        self.ticks: list[tuple[int, str, dt.datetime]] = []
        self.completed: dict[int, int] = defaultdict(int)
        # Clinics with a request to proceed still waiting for a time (every clinic shows one).
        self.waiting_to_book: set[int] = set()
        self.showcase_message_sent = False
        # Patients' replies the team has seen: (response, when, by whom).
        self.seen: list[tuple[int, dt.datetime, User | None]] = []

    # ----- reading what the packs demo did -----

    def load(self) -> int:
        cases = list(
            Case.objects.filter(clinic__organisation=self.organisation)
            .select_related("clinic", "patient", "dentist", "coordinator")
            .order_by("conversation_date", "pk")
        )
        if not cases:
            return 0
        ids = [case.pk for case in cases]
        self.sends: dict[int, list[PackSend]] = defaultdict(list)
        for send in PackSend.objects.filter(case_id__in=ids, status=PackSend.Status.SENT).order_by("send_at", "pk"):
            self.sends[send.case_id].append(send)
        self.opened: dict[int, dt.datetime] = {}
        for case_id, opened in PackLink.objects.filter(case_id__in=ids, first_opened_at__isnull=False).values_list(
            "case_id", "first_opened_at"
        ):
            if opened is not None:
                self.opened[case_id] = min(opened, self.opened.get(case_id, opened))
        self.responses: dict[int, list[PatientResponse]] = defaultdict(list)
        for response in PatientResponse.objects.filter(case_id__in=ids).order_by("created_at", "pk"):
            self.responses[response.case_id].append(response)
        self.signatures = {
            signature.case_id: signature for signature in ConsentSignature.objects.filter(case_id__in=ids)
        }
        self.lines: dict[int, list[int]] = defaultdict(list)
        for case_id, line_id, recommended in PlanLine.objects.filter(option__case_id__in=ids).values_list(
            "option__case_id", "pk", "option__is_recommended"
        ):
            if recommended:
                self.lines[case_id].append(line_id)
        from clearplan.demo.packs import demo_link_token

        self.demo_case_id = (
            PackLink.objects.filter(token_sha256=token_digest(demo_link_token()))
            .values_list("case_id", flat=True)
            .first()
        )
        self.teams = {clinic.pk: self._team(clinic) for clinic in self.organisation.clinics.all()}
        self.rules = {clinic.pk: followup.rules_for(clinic) for clinic in self.organisation.clinics.all()}
        self.weekdays = {
            clinic.pk: frozenset(int(day) for day in followup.settings_for(clinic).business_days)
            for clinic in self.organisation.clinics.all()
        }
        plans = [self._plan(case) for case in cases]
        self._write(plans)
        return len(plans)

    def _team(self, clinic: Any) -> Team:
        members = {m.role: m.user for m in clinic.memberships.select_related("user").order_by("-pk")}
        return Team(front_desk=members.get(Role.FRONT_DESK), manager=members.get(Role.MANAGER))

    # ----- one case -----

    def _plan(self, case: Case) -> Plan:
        plan = Plan(case=case, now=self.now, since=self._created(case))
        sends = self.sends.get(case.pk, [])
        if not sends:
            return plan
        zone = zoneinfo.ZoneInfo(case.clinic.time_zone)
        first, last = sends[0], sends[-1]
        plan.move(S.SENT, at=first.send_at, cause=MoveCause.PACK_SENT, event_key=f"pack_send:{first.public_id}")
        self.ticks.append((case.pk, checklist.SEND_PACK, first.send_at))
        if case.pk == self.demo_case_id:
            return plan  # kept as it is for whoever tries the printed link
        responses = self.responses.get(case.pk, [])
        proceed = next((r for r in responses if r.kind == PatientResponse.Kind.PROCEED), None)
        not_now = next((r for r in responses if r.kind == PatientResponse.Kind.NOT_NOW), None)
        question = next((r for r in responses if r.kind == PatientResponse.Kind.QUESTION), None)
        opened = self.opened.get(case.pk)
        weekdays = self.weekdays[case.clinic_id]
        if proceed is not None:
            self._proceeding(plan, proceed, zone)
        elif not_now is not None:
            look_again = max(
                not_now.created_at.astimezone(zone).date() + dt.timedelta(days=90),
                self._today(zone) + dt.timedelta(days=7),
            )
            plan.move(
                S.NOT_PROCEEDING,
                at=not_now.created_at,
                cause=MoveCause.PATIENT_NOT_NOW,
                event_key=f"pack_response:{not_now.public_id}",
                not_proceeding_reason=not_now.reason or NotProceedingReason.OTHER,
                look_again_on=look_again,
            )
            plan.stop("The patient said not right now", not_now.created_at)
            self.seen.append((not_now.pk, not_now.created_at + dt.timedelta(hours=3), case.coordinator))
        elif question is not None:
            plan.stop("The patient asked a question", question.created_at)
            self._question(plan, question, zone)
        elif opened is not None:
            self._opened_no_reply(plan, opened, last, zone, weekdays)
        else:
            self._not_opened(plan, last, zone, weekdays)
        return plan

    def _created(self, case: Case) -> dt.datetime:
        """When the treatment conversation was written up (the demo's cases are all made at load time)."""
        zone = zoneinfo.ZoneInfo(case.clinic.time_zone)
        return min(_at_hour(case.conversation_date, 9, 30, zone), self.now)

    def _today(self, zone: zoneinfo.ZoneInfo) -> dt.date:
        return self.now.astimezone(zone).date()

    def _person_for(self, case: Case, role: str) -> User | None:
        team = self.teams[case.clinic_id]
        return {
            "": case.coordinator or case.dentist,
            Role.PRACTITIONER: case.dentist,
            Role.COORDINATOR: case.coordinator,
            Role.FRONT_DESK: team.front_desk,
            Role.MANAGER: team.manager,
        }.get(role, case.coordinator)

    def _task(
        self,
        case: Case,
        title: str,
        *,
        who: User | None,
        due: dt.date,
        at: dt.datetime,
        done_at: dt.datetime | None = None,
        kind: str = CaseTask.Kind.FOLLOW_UP,
        by: User | None = None,
    ) -> None:
        self.tasks.append(
            CaseTask(
                case=case,
                kind=kind,
                title=title,
                position=100 + len(self.tasks) % 50,
                assigned_to=who,
                due_on=due,
                created_at=at,
                created_by=by,
                done_at=done_at,
                done_by=who if done_at else None,
            )
        )

    def _first(self, case: Case) -> str:
        return case.patient.preferred_name or case.patient.first_name

    def _proceeding(self, plan: Plan, proceed: PatientResponse, zone: zoneinfo.ZoneInfo) -> None:
        case = plan.case
        signature = self.signatures.get(case.pk)
        plan.move(
            S.REQUESTED,
            at=proceed.created_at,
            cause=MoveCause.PATIENT_PROCEED,
            event_key=f"pack_response:{proceed.public_id}",
            note=proceed.option_title[:300],
        )
        plan.stop("The patient asked to proceed", proceed.created_at)
        if (self.now - proceed.created_at).days >= 1:
            self.seen.append((proceed.pk, proceed.created_at + dt.timedelta(hours=2), case.coordinator))
        if signature is not None:
            self.ticks.append((case.pk, checklist.FINALISE_AND_SIGN, signature.signed_at))
        age = (self.now - proceed.created_at).days
        booker = self.teams[case.clinic_id].front_desk or case.coordinator or case.dentist
        if age >= COMPLETED_AFTER_DAYS and self.completed[case.clinic_id] < COMPLETED_PER_CLINIC:
            self.completed[case.clinic_id] += 1
            booked_at = proceed.created_at + dt.timedelta(days=self.rng.randint(1, 3), hours=2)
            visit = _at_hour(
                (booked_at + dt.timedelta(days=self.rng.randint(7, 20))).astimezone(zone).date(),
                self.rng.choice([9, 10, 14]),
                0,
                zone,
            )
            booking = self._booking(case, booker, created=booked_at, starts=visit, confirmed=True)
            plan.move(S.BOOKED, at=booked_at, cause=MoveCause.BOOKED, event_key=f"booking:{booking.public_id}")
            done = visit + dt.timedelta(hours=2)
            plan.move(S.COMPLETED, at=done, cause=MoveCause.BY_HAND, by=case.dentist, note="Treatment finished.")
            return
        first_in_clinic = case.clinic_id not in self.waiting_to_book
        if age < 1 or first_in_clinic or (age < 7 and self.rng.random() < 0.5):
            # Waiting to be booked: the front desk calls to find a time.
            self.waiting_to_book.add(case.clinic_id)
            self._task(
                case,
                f"Call {self._first(case)} to book their treatment",
                who=booker,
                due=self._today(zone),
                at=proceed.created_at,
                kind=CaseTask.Kind.OTHER,
                by=case.coordinator,
            )
            return
        booked_at = min(
            proceed.created_at + dt.timedelta(hours=self.rng.randint(3, 30)), self.now - dt.timedelta(hours=1)
        )
        visit_day = self._today(zone) + dt.timedelta(days=self.rng.randint(0, 20))
        visit = _at_hour(visit_day, self.rng.choice([8, 9, 10, 11, 13, 14, 15, 16]), self.rng.choice([0, 30]), zone)
        if visit <= self.now:
            visit = _at_hour(self._today(zone) + dt.timedelta(days=1), 10, 0, zone)
        if not any(b.status == Booking.Status.CANCELLED for b, _ in self.bookings) and age > 4:
            # One patient moved their appointment: cancelled, back to follow-up, booked again.
            first = self._booking(case, booker, created=booked_at, starts=visit - dt.timedelta(days=2), cancelled=True)
            plan.move(S.BOOKED, at=booked_at, cause=MoveCause.BOOKED, event_key=f"booking:{first.public_id}")
            cancelled_at = first.cancelled_at or booked_at
            plan.move(
                S.FOLLOW_UP,
                at=cancelled_at,
                cause=MoveCause.BOOKING_CANCELLED,
                event_key=f"booking_cancelled:{first.public_id}",
            )
            booked_at = cancelled_at + dt.timedelta(minutes=20)
        confirmed = (self.now - booked_at).days >= 1 and self.rng.random() < 0.6
        booking = self._booking(case, booker, created=booked_at, starts=visit, confirmed=confirmed)
        plan.move(S.BOOKED, at=booked_at, cause=MoveCause.BOOKED, event_key=f"booking:{booking.public_id}")
        plan.stop("An appointment was booked", booked_at)
        self.ticks.append((case.pk, checklist.SCHEDULE_TREATMENT, booked_at))

    def _booking(
        self,
        case: Case,
        by: User | None,
        *,
        created: dt.datetime,
        starts: dt.datetime,
        confirmed: bool = False,
        cancelled: bool = False,
    ) -> Booking:
        reminder_hours = 48
        booking = Booking(
            case=case,
            starts_at=starts,
            duration_minutes=self.rng.choice([30, 45, 60, 90]),
            practitioner=case.dentist,
            status=Booking.Status.CANCELLED if cancelled else Booking.Status.BOOKED,
            created_by=by or case.dentist,
            created_at=created,
            cancelled_at=created + dt.timedelta(days=1) if cancelled else None,
            cancelled_by=by if cancelled else None,
            cancel_reason="The patient asked to move it to later in the week." if cancelled else "",
            confirm_token_sha256=secrets.token_hex(32),
            patient_confirmed_at=created + dt.timedelta(hours=self.rng.randint(2, 20)) if confirmed else None,
            confirmation_sent_at=created + dt.timedelta(seconds=30),
            # A reminder that was due has gone; the others are the worker's to send.
            reminder_sent_at=(starts - dt.timedelta(hours=reminder_hours))
            if starts - dt.timedelta(hours=reminder_hours) < self.now
            else None,
            submission_key=secrets.token_hex(16),
        )
        if booking.patient_confirmed_at and booking.patient_confirmed_at > self.now:
            booking.patient_confirmed_at = self.now - dt.timedelta(minutes=10)
        self.bookings.append((booking, self.lines.get(case.pk, [])))
        return booking

    def _question(self, plan: Plan, question: PatientResponse, zone: zoneinfo.ZoneInfo) -> None:
        case = plan.case
        if (self.now - question.created_at).days < 3:
            self._task(
                case,
                f"Answer {self._first(case)}’s question",
                who=case.coordinator or case.dentist,
                due=self._today(zone),
                at=question.created_at,
                kind=CaseTask.Kind.OTHER,
            )
            return
        answered = question.created_at + dt.timedelta(hours=self.rng.randint(2, 26))
        plan.move(
            S.FOLLOW_UP,
            at=answered,
            cause=MoveCause.BY_HAND,
            by=case.coordinator,
            note="Answered their question by phone; they are thinking it over.",
        )
        self.seen.append((question.pk, answered, case.coordinator))
        due = answered.astimezone(zone).date() + dt.timedelta(days=5)
        title = f"Check back with {self._first(case)} about their treatment plan"
        if (self.now - answered).days > 30:
            # Long ago: the check-back call happened, and the patient chose to wait.
            called = answered + dt.timedelta(days=5, hours=2)
            self._task(case, title, who=case.coordinator, due=due, at=answered, done_at=called, by=case.coordinator)
            plan.move(
                S.NOT_PROCEEDING,
                at=called + dt.timedelta(minutes=5),
                cause=MoveCause.BY_HAND,
                by=case.coordinator,
                note="Checked back: they would like to think about it for a while.",
                not_proceeding_reason=self.rng.choice([NotProceedingReason.COST, NotProceedingReason.SECOND_OPINION]),
                look_again_on=self._today(zone) + dt.timedelta(days=self.rng.randint(10, 70)),
            )
            return
        self._task(
            case,
            title,
            who=case.coordinator,
            due=max(due, self._today(zone) - dt.timedelta(days=2)),
            at=answered,
            by=case.coordinator,
        )

    def _rule_move(self, plan: Plan, at: dt.datetime, anchor: str, detail: str) -> None:
        plan.move(
            S.FOLLOW_UP, at=at, cause=MoveCause.FOLLOW_UP_RULE, event_key=f"follow_up:{plan.case.public_id}:{anchor}"
        )
        self.runs.append(
            FollowUpRun(
                case=plan.case,
                kind=K.VIEWED_NO_RESPONSE,
                anchor=anchor,
                outcome=FollowUpRun.Outcome.MOVED,
                detail=detail,
                created_at=at,
            )
        )

    def _opened_no_reply(
        self, plan: Plan, opened: dt.datetime, send: PackSend, zone: zoneinfo.ZoneInfo, weekdays: frozenset[int]
    ) -> None:
        case = plan.case
        due = _business_days_after(opened, VIEWED_DAYS, zone, weekdays)
        if due > self.now:
            return  # Sent, viewed: still within the calm wait
        link_id = (
            PackLink.objects.filter(case=case, first_opened_at__isnull=False)
            .order_by("first_opened_at", "pk")
            .values_list("pk", flat=True)
            .first()
        )
        who = case.coordinator or case.dentist
        title = f"Call {self._first(case)} about their treatment plan"
        self._rule_move(
            plan,
            due,
            f"opened:{link_id}",
            f"Moved to Follow-up required, with a task for {who.display_name}: “{title}”.",
        )
        message_due = _business_days_after(send.send_at, NO_RESPONSE_DAYS, zone, weekdays)
        # One case waits for the rule's calm message: its call task is still open, so the rule sends it.
        showcase = not self.showcase_message_sent and message_due <= self.now and (self.now - message_due).days < 7
        called = (self.now - due).days >= 2 and not showcase
        done_at = due + dt.timedelta(hours=self.rng.randint(2, 30)) if called else None
        if done_at and done_at > self.now:
            done_at, called = None, False
        self._task(case, title, who=who, due=due.astimezone(zone).date(), at=due, done_at=done_at)
        # Older silent cases mostly end, after the call, as not proceeding for now.
        gives_up = called and (self.now - opened).days > 30 and self.rng.random() < 0.7
        spoke = (done_at or due) + dt.timedelta(minutes=5)
        if message_due <= self.now and not (gives_up and spoke < message_due):
            if called and done_at is not None and done_at < message_due:
                self._already_followed_up(case, send, who=who, title=title, at=message_due)
            elif showcase:
                # Queued now, for the worker to deliver (in the demo, to the outbox).
                self.showcase_message_sent = True
                self._calm_message(plan, send, queued=True, at=self.now, kind=K.NO_RESPONSE_MESSAGE)
            else:
                self._calm_message(plan, send, queued=False, at=message_due, kind=K.NO_RESPONSE_MESSAGE)
        if gives_up:
            reason = self.rng.choice([NotProceedingReason.TIMING, NotProceedingReason.COST, NotProceedingReason.WORRY])
            plan.move(
                S.NOT_PROCEEDING,
                at=spoke,
                cause=MoveCause.BY_HAND,
                by=who,
                note="Spoke on the phone: would like to wait a few months.",
                not_proceeding_reason=reason,
                look_again_on=self._today(zone) + dt.timedelta(days=self.rng.randint(20, 80)),
            )
        elif called:
            self._task(
                case,
                f"Follow up again with {self._first(case)}",
                who=who,
                due=self._today(zone) + dt.timedelta(days=self.rng.randint(-1, 4)),
                at=done_at or due,
                by=who,
            )

    def _not_opened(self, plan: Plan, send: PackSend, zone: zoneinfo.ZoneInfo, weekdays: frozenset[int]) -> None:
        reminder_due = _business_days_after(send.send_at, NOT_OPENED_DAYS, zone, weekdays)
        if reminder_due > self.now:
            return
        self._calm_message(plan, send, queued=False, at=reminder_due, kind=K.NOT_OPENED)
        chase = _business_days_after(send.send_at, NO_RESPONSE_DAYS, zone, weekdays)
        if chase > self.now:
            return
        case = plan.case
        who = case.coordinator or case.dentist
        plan.move(
            S.FOLLOW_UP,
            at=chase - dt.timedelta(hours=3),
            cause=MoveCause.BY_HAND,
            by=who,
            note="Not opened after the reminder: calling instead.",
        )
        title = f"Call {self._first(case)}: their pack has not been opened"
        done = (self.now - chase).days > 3
        done_at = chase - dt.timedelta(hours=2) if done else None
        self._task(
            case,
            title,
            who=who,
            due=chase.astimezone(zone).date(),
            at=chase - dt.timedelta(hours=3),
            done_at=done_at,
            by=who,
        )
        if done_at is not None and (self.now - chase).days > 25 and self.rng.random() < 0.6:
            plan.move(
                S.NOT_PROCEEDING,
                at=done_at + dt.timedelta(minutes=5),
                cause=MoveCause.BY_HAND,
                by=who,
                note="Reached by phone: not ready yet, happy to hear from us later.",
                not_proceeding_reason=NotProceedingReason.TIMING,
                look_again_on=self._today(zone) + dt.timedelta(days=self.rng.randint(14, 60)),
            )
        elif done_at is not None:
            self._already_followed_up(case, send, who=who, title=title, at=chase)
        else:
            self._calm_message(plan, send, queued=False, at=chase, kind=K.NO_RESPONSE_MESSAGE)

    def _already_followed_up(self, case: Case, send: PackSend, *, who: User, title: str, at: dt.datetime) -> None:
        """The "still no response" rule skips a case whose follow-up task a person has done (its words)."""
        self.runs.append(
            FollowUpRun(
                case=case,
                kind=K.NO_RESPONSE_MESSAGE,
                anchor=f"send:{send.pk}",
                outcome=FollowUpRun.Outcome.SKIPPED,
                detail=f"No message: {who.display_name} already followed up (“{title}”).",
                created_at=at,
            )
        )

    def _calm_message(self, plan: Plan, send: PackSend, *, queued: bool, at: dt.datetime, kind: str) -> None:
        """The rule's message, as followup._contact writes it: a new link, on the pack's first channel."""
        case = plan.case
        sender = followup.assigned_person(case)
        words = followup.message_words(
            self.rules[case.clinic_id][kind], followup.message_values(case, recipient=send.recipient, sender=sender)
        )
        link, token = link_create(case=case, recipient=send.recipient, by=sender)
        PackLink.objects.filter(pk=link.pk).update(created_at=at)
        from django.conf import settings

        url = f"{settings.SITE_URL}{link_path(token)}"
        patient = case.patient
        guardian = send.recipient == "guardian"
        by_sms = send.by_sms
        message = OutboundMessage.objects.create(
            clinic=case.clinic,
            patient=patient,
            case=case,
            channel=OutboundMessage.Channel.SMS if by_sms else OutboundMessage.Channel.EMAIL,
            purpose=OutboundMessage.Purpose.FOLLOW_UP,
            to_address=(patient.guardian_mobile if guardian else patient.mobile)
            if by_sms
            else (patient.guardian_email if guardian else patient.email),
            sender=sender,
            subject="" if by_sms else words["email_subject"],
            body=f"{words['sms_text'] if by_sms else words['email_text']}\n\n{url}",
            status=OutboundMessage.Status.QUEUED if queued else OutboundMessage.Status.DELIVERED,
            send_after=at,
            attempts=0 if queued else 1,
            provider_message_id="" if queued else f"demo-{secrets.token_hex(8)}",
        )
        if not queued:
            OutboundMessage.objects.filter(pk=message.pk).update(
                created_at=at, sent_at=at + dt.timedelta(seconds=4), delivered_at=at + dt.timedelta(seconds=9)
            )
        what = "Reminder" if kind == K.NOT_OPENED else "Message"
        channel = "SMS" if by_sms else "email"
        self.runs.append(
            FollowUpRun(
                case=case,
                kind=kind,
                anchor=f"send:{send.pk}",
                outcome=FollowUpRun.Outcome.MESSAGED,
                detail=f"{what} sent by {channel} in the name of {sender.display_name}.",
                message=message,
                created_at=at,
            )
        )
        plan.contacts += 1

    # ----- writing -----

    def _write(self, plans: list[Plan]) -> None:
        StageMove.objects.bulk_create([move for plan in plans for move in plan.moves])
        progress = {row.case_id: row for row in CaseProgress.objects.filter(case_id__in=[p.case.pk for p in plans])}
        changed = []
        for plan in plans:
            row = progress.get(plan.case.pk)
            if row is None:
                continue
            if not plan.moves:
                # Not yet sent since the treatment conversation.
                row.stage_since = row.last_activity_at = plan.since or row.stage_since
                changed.append(row)
                continue
            row.stage, row.stage_since = plan.stage, plan.since or row.stage_since
            row.last_activity_at = max([plan.since or row.stage_since, *[m.created_at for m in plan.moves]])
            row.not_proceeding_reason, row.look_again_on = plan.reason, plan.look_again_on
            row.follow_ups_stopped_at, row.follow_ups_stopped_because = plan.stopped_at, plan.stopped_because[:120]
            row.automatic_contacts, row.revision = plan.contacts, len(plan.moves)
            changed.append(row)
        CaseProgress.objects.bulk_update(
            changed,
            [
                "stage",
                "stage_since",
                "last_activity_at",
                "not_proceeding_reason",
                "look_again_on",
                "follow_ups_stopped_at",
                "follow_ups_stopped_because",
                "automatic_contacts",
                "revision",
            ],
            batch_size=200,
        )
        Booking.objects.bulk_create([booking for booking, _ in self.bookings])
        Through = Booking.lines.through
        Through.objects.bulk_create(
            [Through(booking_id=booking.pk, planline_id=line) for booking, lines in self.bookings for line in lines]
        )
        FollowUpRun.objects.bulk_create(self.runs)
        for response_id, seen_at, seen_by in self.seen:
            PatientResponse.objects.filter(pk=response_id).update(seen_at=min(seen_at, self.now), seen_by=seen_by)
        self._manager_tasks(plans)
        CaseTask.objects.bulk_create(self.tasks)
        for case_id, key, at in self.ticks:
            checklist.step_done_automatically_for(case_id=case_id, key=key, at=at)
        self._images_added(plans)
        self._backdate_cases(plans)
        self._assign_checklists(plans)
        self._everyone_has_work(plans)

    def _backdate_cases(self, plans: list[Plan]) -> None:
        """Each case was opened on the day of its conversation, not when the demo was loaded, so the
        case's timeline starts where its story does."""
        cases = [plan.case for plan in plans]
        for case in cases:
            case.created_at = self._created(case)
        Case.objects.bulk_update(cases, ["created_at"], batch_size=200)
        CaseTask.objects.filter(case__in=cases, kind=CaseTask.Kind.CHECKLIST).update(
            created_at=Subquery(Case.objects.filter(pk=OuterRef("case_id")).values("created_at")[:1])
        )

    def _images_added(self, plans: list[Plan]) -> None:
        """The demo's pictures are written in bulk, past the receiver that ticks "Add the X-rays and
        photos" for an uploaded image; tick it here, an hour after the case was opened."""
        from clearplan.plans.models import CaseImage

        by_case = {plan.case.pk: plan for plan in plans}
        with_pictures = set(CaseImage.objects.filter(case_id__in=list(by_case)).values_list("case_id", flat=True))
        for case_id in with_pictures:
            at = min(self._created(by_case[case_id].case) + dt.timedelta(hours=1), self.now)
            checklist.step_done_automatically_for(case_id=case_id, key=checklist.IMAGES, at=at)

    def _manager_tasks(self, plans: list[Plan]) -> None:
        """Owners and managers look at the payment options for a couple of waiting cases per clinic."""
        given: dict[int, int] = defaultdict(int)
        for plan in reversed(plans):
            case = plan.case
            manager = self.teams[case.clinic_id].manager
            if manager is None or plan.stage not in (S.REQUESTED, S.FOLLOW_UP) or given[case.clinic_id] >= 2:
                continue
            given[case.clinic_id] += 1
            zone = zoneinfo.ZoneInfo(case.clinic.time_zone)
            self._task(
                case,
                f"Check the payment plan options for {self._first(case)}",
                who=manager,
                due=self._today(zone) + dt.timedelta(days=given[case.clinic_id] - 1),
                at=plan.since or self.now,
                kind=CaseTask.Kind.OTHER,
                by=case.coordinator,
            )

    def _everyone_has_work(self, plans: list[Plan]) -> None:
        """A practitioner whose checklist steps are all done still reviews an upcoming patient's plan."""
        busy = set(
            CaseTask.objects.filter(done_at=None, assigned_to__isnull=False).values_list("assigned_to", flat=True)
        )
        extra: list[CaseTask] = []
        for membership in Membership.objects.filter(clinic__organisation=self.organisation).select_related("user"):
            user = membership.user
            if user.pk in busy:
                continue
            mine = [p for p in plans if p.case.clinic_id == membership.clinic_id and p.case.dentist_id == user.pk]
            mine = [p for p in mine if p.stage in (S.BOOKED, S.REQUESTED, S.FOLLOW_UP, S.SENT)] or [
                p for p in plans if p.case.clinic_id == membership.clinic_id and p.stage in (S.BOOKED, S.REQUESTED)
            ]
            if not mine:
                continue
            plan = mine[-1]
            zone = zoneinfo.ZoneInfo(plan.case.clinic.time_zone)
            what = "before their appointment" if plan.stage == S.BOOKED else "and the options discussed"
            extra.append(
                CaseTask(
                    case=plan.case,
                    kind=CaseTask.Kind.OTHER,
                    title=f"Review {self._first(plan.case)}’s treatment plan {what}",
                    position=150,
                    assigned_to=user,
                    due_on=self._today(zone),
                    created_at=plan.since or self.now,
                    created_by=plan.case.coordinator,
                )
            )
            busy.add(user.pk)
        CaseTask.objects.bulk_create(extra)

    def _assign_checklists(self, plans: list[Plan]) -> None:
        """Open checklist steps go to the person in the step's role; the older cases' steps were done."""
        by_case = {plan.case.pk: plan for plan in plans}
        tasks = list(
            CaseTask.objects.filter(case_id__in=list(by_case), kind=CaseTask.Kind.CHECKLIST, done_at__isnull=True)
        )
        for task in tasks:
            plan = by_case[task.case_id]
            case = plan.case
            task.assigned_to = self._person_for(case, task.role)
            finished = plan.stage in (S.COMPLETED, S.NOT_PROCEEDING, S.BOOKED)
            started = self._created(case)
            old = (self.now - started).days > OLD_CASE_DAYS
            if not task.automatic and task.assigned_to is not None and (finished or old):
                task.done_at = min(started + dt.timedelta(days=1, hours=self.rng.randint(1, 8)), self.now)
                task.done_by = task.assigned_to
        CaseTask.objects.bulk_update(tasks, ["assigned_to", "done_at", "done_by"], batch_size=500)


def load_demo_pipeline(organisation: Organisation) -> int:
    """Give the demo's cases their stages and histories unless any case has a stage move or a
    booking already; returns how many cases were placed."""
    cases = Case.objects.filter(clinic__organisation=organisation)
    if StageMove.objects.filter(case__in=cases).exists() or Booking.objects.filter(case__in=cases).exists():
        return 0
    if not PackSend.objects.filter(case__in=cases).exists():
        return 0  # the packs demo did not run (the catalogue was changed by hand)
    with transaction.atomic():
        return Loader(organisation).load()
