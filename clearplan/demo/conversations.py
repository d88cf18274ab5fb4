"""The demo practice's conversations: the threads a front desk would have after a normal week.

- Every message the demo sent a patient (packs, follow-ups) is kept in the patient's thread, and
  every reply they gave on the pack page lands there too, as Clearplan does for real ones.
- About 25 patients have written in by SMS or email: the cost and spreading it, whether it will
  hurt, time off work, what their health fund covers, "can I think about it?", a parent asking
  for their child, a reschedule, running late, a thank you. The team's calm answers are signed by
  the demo team; some threads have internal notes ("Called, left a voicemail"), some are unread,
  assigned, one is snoozed and several are closed.
- One patient, followed up automatically by SMS, texted back (which stopped the follow-up) and
  asked a question on the pack page: both sit in one unread thread for whoever tries the demo to
  answer with a quick reply.
- Each clinic has its saved replies.

Threads are built through the real services (`message_receive`, `conversation_reply`, `note_add`,
the inbox actions, the pack page's `response_record`), then dated back to plausible moments in the
clinic's business hours. Loaded once, after the pipeline: an organisation with any conversation
message or saved reply gets nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from clearplan.accounts.models import Clinic, Membership, Organisation, User
from clearplan.messaging.conversations import services as conversations
from clearplan.messaging.models import (
    Channel,
    Conversation,
    ConversationMessage,
    Direction,
    OutboundMessage,
    SavedReply,
)
from clearplan.packs.models import PackLink, PackSession, PackVersion, PackVisit, PatientResponse
from clearplan.pipeline import followup
from clearplan.pipeline.models import CaseProgress, FollowUpRun, Stage
from clearplan.plans.models import Case

SEED = 20240615
S, Role = Stage, Membership.Role
LATE_HOUR = 17  # the team answers before this; patients write at any time

SAVED_REPLIES = [
    (
        "Thanks — we'll call you",
        "Thanks for your message. One of the team will give you a call today to talk it through. "
        "If there's a time that suits you best, just let us know.",
    ),
    (
        "Spreading the cost",
        "You can spread the cost over your visits: a deposit at the first appointment, then the rest "
        "across the appointments that follow, with no interest or extra fees. We can send you a "
        "visit-by-visit breakdown so you can see what each one costs.",
    ),
    (
        "Health fund estimate",
        "If you send us your health fund's name and your membership number, we'll ask them for an "
        "estimate using the item numbers on your plan. It usually comes back within a day, and we'll "
        "let you know what you'd pay after the rebate.",
    ),
    (
        "What to expect on the day",
        "On the day, please arrive 10 minutes early. You can eat normally beforehand unless we've "
        "said otherwise. The area will be numbed, so you'll feel some pressure but shouldn't feel "
        "pain. Most people go back to their usual day afterwards.",
    ),
    (
        "Time off work",
        "Most people go back to work the same day or the next. If you have a physical job, plan for a "
        "day off after the surgical visits. We're happy to give you a certificate for your employer.",
    ),
    (
        "Happy to wait",
        "Of course — take the time you need. Your plan stays on the link we sent, so you can look at "
        "it again whenever suits. We'll check in with you in a couple of weeks, and you can reply "
        "here any time.",
    ),
    (
        "Moving an appointment",
        "No trouble at all. Let us know which days and times suit you and we'll find the closest "
        "one. We'll send the new time by text so you have it.",
    ),
    (
        "Running late",
        "Thanks for letting us know. No need to rush — drive safely and we'll see you when you get here.",
    ),
    (
        "Feeling nervous",
        "That's a very common feeling, and we'll go at your pace. You can stop at any time by raising "
        "your hand, and the dentist will explain each step before doing it. If you'd like to talk it "
        "over first, we can book a short chat.",
    ),
]


@dataclass(frozen=True)
class Step:
    """One entry in a scripted thread: who writes, on which business day after the first message
    (0 the same day), at what time, and the words. Names in braces are filled in for the case."""

    who: str  # "patient", "guardian", a role (the team's reply), or "note:<role>" for an internal note
    day: int
    clock: str
    text: str
    channel: str = Channel.SMS
    subject: str = ""


@dataclass(frozen=True)
class Script:
    key: str
    stages: tuple[str, ...]
    steps: tuple[Step, ...]
    started_days_ago: int
    end: str = "read"  # "unread", "read", "assigned", "snoozed", "closed"
    assign_to: str = Role.COORDINATOR
    templates: tuple[str, ...] = ()
    guardian: bool = False
    # On the day of the case's appointment, minutes before it starts (the steps' clocks ignored).
    at_appointment: bool = False


C, F, M, D = Role.COORDINATOR, Role.FRONT_DESK, Role.MANAGER, Role.PRACTITIONER
OPEN_STAGES = (S.SENT, S.FOLLOW_UP)

SCRIPTS = [
    Script(
        "spread_cost",
        OPEN_STAGES,
        (
            Step(
                "patient",
                0,
                "19:42",
                "Hi, thanks for sending the plan through. Is there any way to spread the cost? It's a bit "
                "more than we'd budgeted for right now.",
            ),
            Step(
                C,
                1,
                "09:10",
                "Hi {first}, thanks for asking. Yes, you can: a deposit at the first visit, then the rest "
                "across the appointments after that, with no interest. I can send you a visit-by-visit "
                "breakdown if that would help.",
            ),
            Step("patient", 1, "09:31", "That would be great, thank you. Email is easiest."),
            Step("note:" + C, 1, "10:05", "Emailed the visit-by-visit breakdown. Check back on Thursday."),
        ),
        started_days_ago=3,
        end="assigned",
    ),
    Script(
        "implant_hurt",
        OPEN_STAGES,
        (
            Step(
                "patient",
                0,
                "12:15",
                "Will the implant hurt? Honestly that worries me more than the cost.",
            ),
            Step(
                C,
                0,
                "14:02",
                "Hi {first}, that's a really common worry, and a fair one. The area is numbed well before "
                "{dentist} starts, so you'll feel pressure but not pain. Afterwards most people say it "
                "feels like having a tooth out: tender for a few days, and regular pain relief is "
                "enough. Would a 10-minute chat with {dentist} before you decide help?",
            ),
            Step("patient", 0, "18:47", "Ok that helps a lot. Yes please, a chat would be good."),
        ),
        started_days_ago=1,
        end="unread",
        templates=("implant",),
    ),
    Script(
        "time_off",
        OPEN_STAGES,
        (
            Step(
                "patient",
                0,
                "07:55",
                "Hi, how much time off work should I plan for? I'm a chef, so I'm on my feet all day and "
                "can't really take painkillers that make me drowsy.",
                channel=Channel.EMAIL,
                subject="Time off work",
            ),
            Step(
                C,
                0,
                "11:20",
                "Hi {first}, most people go back to work the next day. With your job on your feet, I'd "
                "plan for one day off after the first visit, and we'll book it for a day before your "
                "days off if we can. Ordinary paracetamol and ibuprofen are usually all you need, so "
                "nothing drowsy. We're happy to give you a certificate for work.",
                channel=Channel.EMAIL,
            ),
            Step(
                "patient",
                0,
                "15:03",
                "Perfect, that's really helpful. I'm off Mondays and Tuesdays, so a Sunday would be ideal "
                "but I know that's unlikely! A Friday would work.",
                channel=Channel.EMAIL,
            ),
            Step(
                C,
                1,
                "09:05",
                "Thanks {first}. I'll give you a call this morning to find a Friday.",
                channel=Channel.EMAIL,
            ),
        ),
        started_days_ago=6,
        end="closed",
        templates=("root_canal", "extraction", "implant", "periodontal"),
    ),
    Script(
        "health_fund",
        OPEN_STAGES,
        (
            Step("patient", 0, "13:20", "What will HCF cover? I'm on their mid-level extras."),
            Step(
                F,
                0,
                "13:48",
                "Hi {first}, good question. If you send us your HCF membership number, we'll ask HCF for "
                "an estimate using the item numbers on your plan. It usually comes back within a day, "
                "and we'll tell you what you'd pay after the rebate.",
            ),
            Step("patient", 0, "20:12", "Sure, it's 4417 2290 (I'm the main member)."),
            Step(
                "note:" + F, 1, "08:40", "Estimate requested from HCF for the items on the plan. Waiting to hear back."
            ),
        ),
        started_days_ago=1,
        end="snoozed",
        assign_to=F,
    ),
    Script(
        "think_about_it",
        (S.FOLLOW_UP,),
        (
            Step(
                "patient",
                0,
                "10:30",
                "Can I think about it for a couple of weeks? Not saying no, just want to talk it over at home first.",
            ),
            Step(
                C,
                0,
                "10:52",
                "Of course, {first}. Take the time you need. Your plan stays on the link we sent, so you "
                "can look at it together whenever suits. I'll check in with you in a couple of weeks, and "
                "you can text us here any time in between.",
            ),
            Step("patient", 0, "11:04", "Thanks, I appreciate that."),
        ),
        started_days_ago=4,
        end="closed",
    ),
    Script(
        "parent_for_child",
        (S.SENT, S.FOLLOW_UP, S.REQUESTED),
        (
            Step(
                "guardian",
                0,
                "16:10",
                "Hi, it's {parent_first}, {first}'s {relationship}. Will {first} need to miss school for "
                "the appointments? And how often are the check-ups once everything's on?",
            ),
            Step(
                C,
                1,
                "08:55",
                "Hi {parent_first}, thanks for getting in touch. The first appointment takes about an "
                "hour, so an after-school time is best if that suits. After that, check-ups are every 6 "
                "to 8 weeks and take about 20 minutes, and we keep after-school times for them where we "
                "can.",
            ),
            Step("guardian", 1, "12:30", "Perfect, thank you. We'd like to go ahead. Could we do a Thursday?"),
            Step(
                "note:" + F,
                1,
                "15:45",
                "Called to book a Thursday: left a voicemail. Will try again after 3:30 pm tomorrow.",
            ),
        ),
        started_days_ago=2,
        end="assigned",
        assign_to=F,
        guardian=True,
    ),
    Script(
        "reschedule",
        (S.BOOKED,),
        (
            Step(
                "patient",
                0,
                "08:12",
                "Hi, something's come up at work. Is it possible to move my appointment to next week?",
            ),
            Step(
                F,
                0,
                "08:40",
                "Hi {first}, no trouble at all. Next week we have Tuesday at 9:30 am or Wednesday at "
                "2:00 pm. Would either of those suit?",
            ),
        ),
        started_days_ago=0,
        end="assigned",
        assign_to=F,
    ),
    Script(
        "running_late",
        (S.COMPLETED,),
        (
            Step("patient", 0, "09:52", "So sorry, running about 10 minutes late. Stuck in traffic."),
            Step(F, 0, "09:54", "Thanks for letting us know, {first}. No need to rush, see you soon."),
        ),
        started_days_ago=5,
        end="closed",
        at_appointment=True,
    ),
    Script(
        "thank_you",
        (S.COMPLETED,),
        (
            Step(
                "patient",
                0,
                "18:05",
                "Just wanted to say thank you to {dentist} and the team. It feels great and I can finally "
                "chew on that side again!",
            ),
            Step(
                C,
                1,
                "09:20",
                "That's lovely to hear, {first}, thank you. I'll pass it on to {dentist}. Take care, and "
                "we'll see you at your next check-up.",
            ),
        ),
        started_days_ago=3,
        end="closed",
    ),
    Script(
        "voicemail",
        OPEN_STAGES,
        (
            Step(
                "patient",
                0,
                "11:40",
                "Got your message, thanks. Is the price on the plan before or after the health fund rebate?",
            ),
            Step("note:" + C, 0, "14:15", "Called, left a voicemail. Will try again after 4 pm."),
        ),
        started_days_ago=1,
        end="assigned",
    ),
    Script(
        "nervous",
        OPEN_STAGES,
        (
            Step(
                "patient",
                0,
                "21:18",
                "I get really anxious at the dentist, to the point I put things off. Is there anything "
                "you can do to help with that?",
            ),
            Step(
                C,
                1,
                "08:50",
                "Hi {first}, thank you for telling us. You're far from the only one, and we'll go at your "
                "pace. You can stop at any time by raising your hand, and {dentist} will explain each "
                "step before doing it. If you'd like, we can book a short visit just to talk it through "
                "first, with nothing done on the day.",
            ),
            Step("patient", 1, "12:02", "That sounds good. Can I bring my partner along to that?"),
        ),
        started_days_ago=2,
        end="unread",
    ),
    Script(
        "quote_question",
        OPEN_STAGES,
        (
            Step(
                "patient",
                0,
                "10:05",
                "Hi, could you tell me if the quote includes the review appointment afterwards, or is "
                "that extra? Thanks.",
                channel=Channel.EMAIL,
                subject="Question about my quote",
            ),
        ),
        started_days_ago=0,
        end="unread",
    ),
    Script(
        "earlier_appointment",
        (S.BOOKED,),
        (
            Step(
                "patient",
                0,
                "07:48",
                "Hi, is there any chance of an earlier appointment? Happy to take a cancellation at short notice.",
            ),
        ),
        started_days_ago=0,
        end="unread",
    ),
    Script(
        "pay_deposit",
        (S.REQUESTED, S.BOOKED),
        (
            Step("patient", 0, "12:25", "Can I pay the deposit over the phone?"),
            Step(
                F,
                0,
                "12:41",
                "Hi {first}, yes, you can. Give us a call any time between 8 am and 5 pm and we'll take "
                "it over the phone.",
            ),
            Step("patient", 0, "12:44", "Great, will call this afternoon."),
        ),
        started_days_ago=4,
        end="closed",
    ),
]

SHOWCASE_SMS = (
    "Hi, sorry for the slow reply, it's been a hectic week. Still keen to go ahead, just need to "
    "sort out the money side. I've put a question in on the link."
)
SHOWCASE_QUESTION = (
    "Is there any way to spread the cost over a few months? And roughly what would HCF give back? "
    "I'm on their mid-level extras."
)


class Loader:
    def __init__(self, organisation: Organisation) -> None:
        self.organisation = organisation
        self.rng = random.Random(SEED)  # noqa: S311 - repeatable made-up history, not security
        self.now = timezone.now()
        self.clinics = list(organisation.clinics.order_by("pk"))
        self.used_patients: set[int] = set()
        self.touched: dict[int, dt.datetime] = {}  # case id → the latest patient message on it
        self.notified: list[tuple[str, dt.datetime]] = []

    def load(self) -> int:
        self.activity = dict(
            CaseProgress.objects.filter(clinic__in=self.clinics).values_list("case_id", "last_activity_at")
        )
        self._saved_replies()
        self._sent_messages()
        self._pack_replies()
        from clearplan.messaging.sms import sms_configured

        showcase, scripted = None, 0
        if sms_configured():  # the team answers most patients by SMS
            showcase = self._showcase()
            scripted = sum(self._scripts_for(clinic) for clinic in self.clinics)
        self._settle()
        return scripted + (1 if showcase else 0)

    # ----- what the demo already has -----

    def _saved_replies(self) -> None:
        SavedReply.objects.bulk_create(
            [
                SavedReply(clinic=clinic, title=title, body=body, position=position)
                for clinic in self.clinics
                for position, (title, body) in enumerate(SAVED_REPLIES, start=1)
            ]
        )

    def _sent_messages(self) -> None:
        """Every message the demo sent a patient lands in their thread, as `message_send` does."""
        messages = OutboundMessage.objects.filter(
            clinic__in=self.clinics, patient__isnull=False, purpose__in=conversations.THREAD_PURPOSES
        ).order_by("created_at", "pk")
        for message in messages.select_related("patient", "case"):
            conversations.outbound_copy(message=message)
        ConversationMessage.objects.filter(conversation__clinic__in=self.clinics, outbound__isnull=False).update(
            created_at=Subquery(OutboundMessage.objects.filter(pk=OuterRef("outbound_id")).values("created_at")[:1])
        )

    def _pack_replies(self) -> None:
        """The replies the packs demo recorded land in the thread, as the pack page does for real ones."""
        from clearplan.packs.responses import _into_conversation

        responses = list(
            PatientResponse.objects.filter(case__clinic__in=self.clinics)
            .select_related("case__patient", "case__clinic")
            .order_by("created_at", "pk")
        )
        for response in responses:
            _into_conversation(response)
        ConversationMessage.objects.filter(conversation__clinic__in=self.clinics, pack_response__isnull=False).update(
            created_at=Subquery(
                PatientResponse.objects.filter(pk=OuterRef("pack_response_id")).values("created_at")[:1]
            )
        )
        # A reply the packs demo recorded in its last minutes may be dated a moment ahead.
        ConversationMessage.objects.filter(conversation__clinic__in=self.clinics, created_at__gt=self.now).update(
            created_at=self.now
        )
        # Replies the team has seen: their threads are read, and the older ones closed.
        unseen: dict[int, int] = defaultdict(int)
        seen: dict[int, tuple[dt.datetime, User | None]] = {}
        for response in responses:
            patient_id = response.case.patient_id
            if response.seen_at is None:
                unseen[patient_id] += 1
            else:
                seen[patient_id] = (response.seen_at, response.seen_by)
        threads = Conversation.objects.filter(patient_id__in={r.case.patient_id for r in responses})
        for thread in threads:
            waiting = unseen.get(thread.patient_id, 0)
            thread.unread_count = waiting
            thread.status = Conversation.Status.OPEN
            when, by = seen.get(thread.patient_id, (None, None))
            if not waiting and when is not None and (self.now - when).days >= 3:
                thread.status = Conversation.Status.CLOSED
                thread.closed_at, thread.closed_by = when + dt.timedelta(minutes=20), by
        Conversation.objects.bulk_update(threads, ["unread_count", "status", "closed_at", "closed_by"])

    # ----- when things happen -----

    def _zone(self, clinic: Clinic) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(clinic.time_zone)

    def _workdays(self, clinic: Clinic) -> frozenset[int]:
        return frozenset(int(day) for day in followup.settings_for(clinic).business_days) or frozenset(range(1, 6))

    def _business_day(self, clinic: Clinic, start: dt.date, step: int) -> dt.date:
        """`step` business days after (or, negative, before) `start`."""
        days = self._workdays(clinic)
        day = start
        direction = 1 if step >= 0 else -1
        for _ in range(abs(step)):
            day += dt.timedelta(days=direction)
            while day.isoweekday() not in days:
                day += dt.timedelta(days=direction)
        return day

    def _moments(self, clinic: Clinic, script_steps: tuple[Step, ...], days_ago: int) -> list[dt.datetime]:
        """The moments of a thread's steps, starting `days_ago` business days back, moved a day
        earlier until the last step is in the past."""
        zone = self._zone(clinic)
        today = self.now.astimezone(zone).date()
        while today.isoweekday() not in self._workdays(clinic):
            today -= dt.timedelta(days=1)
        start = self._business_day(clinic, today, -days_ago)
        while True:
            moments = []
            for step in script_steps:
                hour, minute = (int(part) for part in step.clock.split(":"))
                day = self._business_day(clinic, start, step.day)
                moments.append(dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone))
            if moments[-1] < self.now - dt.timedelta(minutes=10):
                return moments
            start = self._business_day(clinic, start, -1)

    # ----- one patient's thread -----

    def _people(self, clinic: Clinic) -> dict[str, User]:
        members = Membership.objects.filter(clinic=clinic).select_related("user").order_by("pk")
        people: dict[str, User] = {}
        for membership in members:
            people.setdefault(membership.role, membership.user)
        return people

    def _words(self, text: str, case: Case) -> str:
        patient = case.patient
        dentist = case.dentist
        return text.format(
            first=patient.preferred_name or patient.first_name,
            parent_first=(patient.guardian_name or "").split(" ")[0],
            relationship=(patient.guardian_relationship or "parent").lower(),
            dentist=f"Dr {dentist.last_name}" if dentist is not None and dentist.last_name else "the dentist",
        )

    def _patient_says(self, case: Case, step: Step, at: dt.datetime, *, notify: bool) -> ConversationMessage:
        patient = case.patient
        guardian = step.who == "guardian"
        if step.channel == Channel.EMAIL:
            address = patient.guardian_email if guardian else patient.email
        else:
            address = patient.guardian_mobile if guardian else patient.mobile
        message, _ = conversations.message_receive(
            patient=patient,
            channel=step.channel,
            body=self._words(step.text, case),
            from_address=address,
            from_whom="guardian" if guardian else "patient",
            provider_message_id=f"demo-{secrets.token_hex(8)}",
            subject=step.subject,
            notify=notify,
        )
        if notify:
            self.notified.append((conversations.conversation_url(message.conversation), at))
        ConversationMessage.objects.filter(pk=message.pk).update(created_at=at)
        # The message stopped automatic follow-up on the patient's cases when it arrived.
        CaseProgress.objects.filter(case__patient=patient, follow_ups_stopped_at__gte=self.now).update(
            follow_ups_stopped_at=at
        )
        for each in conversations.current_cases(patient):
            self.touched[each.pk] = max(at, self.touched.get(each.pk, at))
        return message

    def _team_says(self, conversation: Conversation, case: Case, step: Step, at: dt.datetime, by: User) -> None:
        if step.who.startswith("note:"):
            note = conversations.note_add(conversation=conversation, by=by, body=self._words(step.text, case))
            ConversationMessage.objects.filter(pk=note.pk).update(created_at=at)
            return
        reply = conversations.conversation_reply(
            conversation=conversation, by=by, body=self._words(step.text, case), channel=step.channel
        )
        ConversationMessage.objects.filter(pk=reply.pk).update(created_at=at)
        # Sent and delivered at the time, like the rest of the demo's history.
        OutboundMessage.objects.filter(conversation_message=reply).update(
            created_at=at,
            send_after=at,
            status=OutboundMessage.Status.DELIVERED,
            attempts=1,
            sent_at=at + dt.timedelta(seconds=3),
            delivered_at=at + dt.timedelta(seconds=8),
            provider_message_id=f"demo-{secrets.token_hex(8)}",
        )

    def _can_write(self, case: Case, script: Script) -> bool:
        patient = case.patient
        if patient.pk in self.used_patients or patient.has_guardian != script.guardian:
            return False
        for step in script.steps:
            if step.who == "guardian" and not (patient.guardian_mobile and patient.consent_sms):
                return False
            if step.who == "patient" and step.channel == Channel.SMS and not (patient.mobile and patient.consent_sms):
                return False
            if (
                step.who == "patient"
                and step.channel == Channel.EMAIL
                and not (patient.email and patient.consent_email)
            ):
                return False
        return True

    def _when(self, clinic: Clinic, script: Script, case: Case, shift: int) -> list[dt.datetime]:
        if script.at_appointment:
            from clearplan.pipeline.models import Booking

            visit = Booking.objects.filter(case=case, status="booked").order_by("-starts_at").first()
            if visit is None:
                return []
            return [visit.starts_at - dt.timedelta(minutes=8 - 2 * index) for index in range(len(script.steps))]
        return [
            moment + dt.timedelta(minutes=shift)
            for moment in self._moments(clinic, script.steps, script.started_days_ago)
        ]

    def _starts_after(self, case: Case) -> dt.datetime:
        latest = self.latest.get(case.patient_id)
        since = case.progress.stage_since
        return max(latest, since) if latest and since else (latest or since or self.now)

    def _case_for(self, clinic: Clinic, script: Script, candidates: list[Case], shift: int) -> Case | None:
        fits = [
            case
            for case in candidates
            if case.progress.stage in script.stages
            and self._can_write(case, script)
            and (moments := self._when(clinic, script, case, shift))
            and self._starts_after(case) < moments[0]
            and moments[-1] < self.now
        ]
        if script.templates:
            preferred = [
                case for case in fits if case.template is not None and case.template.starter_key in script.templates
            ]
            fits = preferred or fits
        return self.rng.choice(fits) if fits else None

    def _scripts_for(self, clinic: Clinic) -> int:
        people = self._people(clinic)
        candidates = list(
            Case.objects.filter(clinic=clinic)
            .exclude(pk__in=self._skip_cases())
            .select_related("patient", "progress", "template", "dentist", "coordinator", "clinic")
            .order_by("pk")
        )
        self.latest = dict(
            ConversationMessage.objects.filter(conversation__clinic=clinic)
            .values("conversation__patient_id")
            .annotate(latest=Max("created_at"))
            .values_list("conversation__patient_id", "latest")
        )
        written = 0
        # The second clinic's week runs a little differently.
        shift = 0 if clinic == self.clinics[0] else self.rng.choice([-35, -20, 25])
        for script in SCRIPTS:
            case = self._case_for(clinic, script, candidates, shift)
            if case is None:
                continue
            self.used_patients.add(case.patient_id)
            self._play(clinic, script, case, people, self._when(clinic, script, case, shift))
            written += 1
        return written

    def _skip_cases(self) -> list[int]:
        """The printed demo link's case stays untouched, and so does the case whose calm follow-up
        message is waiting for the worker."""
        from clearplan.demo.packs import demo_link_token
        from clearplan.packs.links import token_digest

        skip = list(
            PackLink.objects.filter(token_sha256=token_digest(demo_link_token())).values_list("case_id", flat=True)
        )
        skip += list(
            OutboundMessage.objects.filter(
                purpose=OutboundMessage.Purpose.FOLLOW_UP, status=OutboundMessage.Status.QUEUED, case__isnull=False
            ).values_list("case_id", flat=True)
        )
        return [case_id for case_id in skip if case_id is not None]

    def _play(
        self, clinic: Clinic, script: Script, case: Case, people: dict[str, User], moments: list[dt.datetime]
    ) -> None:
        conversation = conversations.conversation_for_patient(patient=case.patient)
        last_patient_step = max(i for i, step in enumerate(script.steps) if step.who in ("patient", "guardian"))
        for index, (step, at) in enumerate(zip(script.steps, moments, strict=True)):
            if step.who in ("patient", "guardian"):
                notify = script.end == "unread" and index == last_patient_step
                self._patient_says(case, step, at, notify=notify)
            else:
                role = step.who.removeprefix("note:")
                by = (case.coordinator if role == C else None) or people.get(role) or case.coordinator or case.dentist
                assert by is not None
                conversation.refresh_from_db()
                self._team_says(conversation, case, step, at, by)
        conversation.refresh_from_db()
        lead = people.get(script.assign_to) or case.coordinator
        if script.assign_to == C and case.coordinator is not None:
            lead = case.coordinator
        assert lead is not None
        end = moments[-1]
        if script.end == "read":
            conversations.conversation_mark_read(conversation=conversation)
        elif script.end == "assigned":
            conversations.conversation_mark_read(conversation=conversation)
            conversations.conversation_assign(conversation=conversation, by=lead, to=lead)
        elif script.end == "snoozed":
            conversations.conversation_mark_read(conversation=conversation)
            conversation = conversations.conversation_assign(conversation=conversation, by=lead, to=lead)
            zone = self._zone(clinic)
            wake_day = self._business_day(clinic, self.now.astimezone(zone).date(), 1)
            until = dt.datetime.combine(wake_day, dt.time(10, 0), tzinfo=zone)
            conversations.conversation_snooze(conversation=conversation, by=lead, until=until)
        elif script.end == "closed":
            conversation = conversations.conversation_close(conversation=conversation, by=lead)
            Conversation.objects.filter(pk=conversation.pk).update(
                closed_at=min(end + dt.timedelta(minutes=15), self.now)
            )

    # ----- the thread for the "done when" -----

    def _showcase(self) -> Case | None:
        """A patient followed up automatically by SMS texts back, which stops the follow-up, then asks a
        question on the pack page: both in one unread thread."""
        from clearplan.packs.responses import response_record

        runs = (
            FollowUpRun.objects.filter(
                case__clinic=self.clinics[0],
                outcome=FollowUpRun.Outcome.MESSAGED,
                message__channel=OutboundMessage.Channel.SMS,
                message__status=OutboundMessage.Status.DELIVERED,
                case__progress__stage__in=OPEN_STAGES,
                case__progress__follow_ups_stopped_at__isnull=True,
                case__patient__consent_sms=True,
                case__patient__guardian_name="",
            )
            .exclude(case__patient__mobile="")
            .exclude(case_id__in=self._skip_cases())
            .select_related("case__patient", "case__clinic", "message")
            .order_by("-created_at", "-pk")
        )
        run = next((run for run in runs if run.message is not None and self._link_for(run.case) is not None), None)
        if run is None or run.message is None:
            return None
        case = run.case
        clinic = case.clinic
        texted = max(run.message.created_at + dt.timedelta(hours=3), self._latest_workday_moment(clinic, "12:40"))
        texted = min(texted, self.now - dt.timedelta(minutes=40))
        asked = texted + dt.timedelta(minutes=25)
        self._patient_says(case, Step("patient", 0, "00:00", SHOWCASE_SMS), texted, notify=True)
        link = self._link_for(case)
        version = PackVersion.objects.filter(case=case).order_by("-number").first()
        assert link is not None
        assert version is not None
        session = PackSession.objects.create(
            link=link,
            key_sha256=secrets.token_hex(32),
            expires_at=self.now + dt.timedelta(hours=1),
            verified_at=self.now,
            verified_by=link.verification,
            user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)",
            device_type="phone",
        )
        response = response_record(
            session=session,
            version=version,
            kind=PatientResponse.Kind.QUESTION,
            message=SHOWCASE_QUESTION,
            submission_key=secrets.token_hex(16),
        )
        PackSession.objects.filter(pk=session.pk).update(
            created_at=asked - dt.timedelta(minutes=4), verified_at=asked - dt.timedelta(minutes=4), last_seen_at=asked
        )
        PatientResponse.objects.filter(pk=response.pk).update(created_at=asked)
        ConversationMessage.objects.filter(pack_response=response).update(created_at=asked)
        PackLink.objects.filter(pk=link.pk, first_opened_at__isnull=True).update(
            first_opened_at=asked - dt.timedelta(minutes=4)
        )
        PackLink.objects.filter(pk=link.pk).update(last_opened_at=asked - dt.timedelta(minutes=4))
        # The visit in which they read the costs before asking, so the case's engagement says so.
        visit = PackVisit.objects.create(
            session=session,
            link=link,
            case=case,
            version=version,
            seconds_viewed=212,
            sections=["cover", "images", "what-we-found", "options", "costs", "next-steps", "questions"],
            device_type="phone",
            measured_by_script=True,
        )
        PackVisit.objects.filter(pk=visit.pk).update(started_at=asked - dt.timedelta(minutes=4), last_seen_at=asked)
        self.touched[case.pk] = asked
        from django.urls import reverse

        self.notified.append((reverse("plans:detail", kwargs={"public_id": case.public_id}), asked))
        self.used_patients.add(case.patient_id)
        return case

    def _link_for(self, case: Case) -> PackLink | None:
        return (
            PackLink.objects.filter(case=case, revoked_at__isnull=True, expires_at__gt=self.now)
            .order_by("-created_at", "-pk")
            .first()
        )

    def _latest_workday_moment(self, clinic: Clinic, clock: str) -> dt.datetime:
        [moment] = self._moments(clinic, (Step("patient", 0, clock, ""),), 0)
        return moment

    # ----- tidying up -----

    def _settle(self) -> None:
        """Each thread's summary (last message, its preview, the last channel the patient used) from
        its dated messages; the cases' last activity and the team's notices at the patients' times."""
        threads = {thread.pk: thread for thread in Conversation.objects.filter(clinic__in=self.clinics)}
        messages = (
            ConversationMessage.objects.filter(conversation_id__in=list(threads))
            .exclude(direction=Direction.INTERNAL)
            .only("conversation_id", "direction", "channel", "body", "subject", "created_at")
            .order_by("created_at", "pk")
        )
        first: dict[int, dt.datetime] = {}
        for message in messages:
            thread = threads[message.conversation_id]
            first.setdefault(thread.pk, message.created_at)
            thread.last_message_at = message.created_at
            thread.last_message_preview = conversations.preview_of(message.body or message.subject)
            thread.last_message_direction = message.direction
            if message.direction == Direction.INBOUND:
                thread.last_inbound_at, thread.last_inbound_channel = message.created_at, message.channel
        for thread in threads.values():
            thread.created_at = first.get(thread.pk, self.now)
        Conversation.objects.bulk_update(
            list(threads.values()),
            [
                "created_at",
                "last_message_at",
                "last_message_preview",
                "last_message_direction",
                "last_inbound_at",
                "last_inbound_channel",
            ],
            batch_size=200,
        )
        for case_id, at in self.touched.items():
            before = self.activity.get(case_id)
            CaseProgress.objects.filter(case_id=case_id).update(last_activity_at=max(at, before) if before else at)
        from clearplan.notifications.models import Notification

        for link_url, at in self.notified:
            Notification.objects.filter(link_url=link_url, created_at__gt=at).update(created_at=at)


def load_demo_conversations(organisation: Organisation) -> int:
    """Give the demo its conversations and saved replies unless it has any already; returns how many
    patients' threads were written by hand (the scripted ones)."""
    clinics = organisation.clinics.all()
    if SavedReply.objects.filter(clinic__in=clinics).exists():
        return 0
    if ConversationMessage.objects.filter(conversation__clinic__in=clinics).exists():
        return 0
    if not CaseProgress.objects.filter(clinic__in=clinics).exclude(stage=S.NOT_SENT).exists():
        return 0  # the pipeline demo did not run
    with transaction.atomic():
        return Loader(organisation).load()


__all__: list[str] = ["SAVED_REPLIES", "SCRIPTS", "load_demo_conversations"]
