"""A case's whole story, oldest first, in the clinic's time zone: the case opened, the pack's
story (frozen, sent, opened with the sections read, replies, signatures, anything undelivered,
from packs.engagement_selectors), messages to the patient (follow-ups, including the automatic
ones, appointment confirmations and reminders, signed copies), stage moves, tasks added and
ticked, appointments booked, confirmed or cancelled, and the conversation: the patient's texts
and emails about the case, the team's replies and internal notes, each linking to the thread.

A fixed number of queries however long the story is. The patient's own words are not repeated
here: they are shown with the responses on the case, and in the conversation (replies on the
pack page are told once, as the pack's replies).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from clearplan.lib.clinic_time import clinic_zone
from clearplan.messaging.conversations.services import conversation_url, preview_of
from clearplan.messaging.models import Channel, ConversationMessage, Direction, OutboundMessage
from clearplan.packs.engagement_selectors import (
    DEVICE_WORDS,
    SECTION_LABELS,
    TimelineEntry,
    case_timeline,
    duration_label,
    when_label,
)
from clearplan.packs.models import PackVisit, Recipient
from clearplan.pipeline.models import Booking, CaseTask, FollowUpRun, MoveCause, StageMove

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from clearplan.plans.models import Case

CLEARPLAN = "Clearplan"

# Messages the timeline tells about. Packs are told as sends; verification codes and staff
# notifications are not part of the patient's story.
MESSAGE_PURPOSES = (
    OutboundMessage.Purpose.FOLLOW_UP,
    OutboundMessage.Purpose.BOOKING_CONFIRMATION,
    OutboundMessage.Purpose.BOOKING_REMINDER,
    OutboundMessage.Purpose.SIGNED_COPY,
    OutboundMessage.Purpose.OTHER,
)

MESSAGE_WORDS = {
    OutboundMessage.Purpose.FOLLOW_UP: "Follow-up message",
    OutboundMessage.Purpose.BOOKING_CONFIRMATION: "Appointment confirmation",
    OutboundMessage.Purpose.BOOKING_REMINDER: "Appointment reminder",
    OutboundMessage.Purpose.SIGNED_COPY: "Signed copy",
    OutboundMessage.Purpose.OTHER: "Message",
}


@dataclass(frozen=True)
class LinkedEntry(TimelineEntry):
    """An entry with somewhere to read more (the conversation it belongs to)."""

    url: str = ""
    link_text: str = ""


class _Story:
    """Collects entries; sorted by time, then by the order they were added."""

    def __init__(self, zone: ZoneInfo, now: dt.datetime) -> None:
        self.zone = zone
        self.now = now
        self.rows: list[tuple[dt.datetime, int, TimelineEntry]] = []

    def add(self, when: dt.datetime, kind: str, what: str, who: str = "", detail: str = "", url: str = "") -> None:
        entry = TimelineEntry(
            when=when.astimezone(self.zone),
            what=what,
            who=who,
            kind=kind,
            detail=detail,
            when_label=when_label(when, self.zone, now=self.now),
        )
        if url:
            entry = LinkedEntry(**vars(entry), url=url, link_text="Open the conversation")
        self.rows.append((when, len(self.rows), entry))

    def keep(self, entry: TimelineEntry) -> None:
        self.rows.append((entry.when, len(self.rows), entry))

    def entries(self) -> list[TimelineEntry]:
        return [entry for _when, _order, entry in sorted(self.rows, key=lambda row: (row[0], row[1]))]


def _name(user: Any) -> str:
    return user.display_name if user is not None else ""


def _opened(story: _Story, case: Case) -> None:
    """Each opening of the pack, with how long and which sections were read."""
    visits = (
        PackVisit.objects.filter(case=case)
        .annotate(recipient=F("link__recipient"))
        .only("started_at", "seconds_viewed", "sections", "device_type", "measured_by_script", "link_id")
        .order_by("started_at", "id")
    )
    for visit in visits:
        device = DEVICE_WORDS.get(visit.device_type)  # type: ignore[call-overload]
        parts = [f"Read for {duration_label(visit.seconds_viewed)}"] if visit.measured_by_script else []
        seen = [label for key, label in SECTION_LABELS.items() if key in visit.sections]
        if seen:
            parts.append("sections: " + ", ".join(seen))
        if not visit.measured_by_script:
            parts.append("time not measured (scripts were off)")
        detail = " · ".join(parts)
        who = Recipient(visit.recipient).label
        story.add(
            visit.started_at,
            "opened",
            f"Opened on {device}" if device else "Opened",
            who,
            detail[:1].upper() + detail[1:],
        )


def _moves(story: _Story, case: Case) -> None:
    for move in StageMove.objects.filter(case=case).select_related("moved_by").order_by("created_at", "id"):
        what = f"Moved to “{move.get_to_stage_display()}”"
        parts = []
        if move.cause != MoveCause.BY_HAND:
            parts.append(move.get_cause_display())
        if move.not_proceeding_reason:
            parts.append(f"Reason: {move.get_not_proceeding_reason_display()}")
        if move.look_again_on:
            parts.append(f"look again on {move.look_again_on.day} {move.look_again_on:%b %Y}")
        if move.note:
            parts.append(move.note)
        who = _name(move.moved_by) if move.moved_by_id else CLEARPLAN
        story.add(move.created_at, "stage", what, who, " · ".join(parts))


def _tasks(story: _Story, case: Case) -> None:
    tasks = CaseTask.objects.filter(case=case).select_related("done_by", "created_by").order_by("created_at", "id")
    for task in tasks:
        if task.kind != CaseTask.Kind.CHECKLIST:
            who = _name(task.created_by) if task.created_by_id else CLEARPLAN
            label = "Follow-up task added" if task.kind == CaseTask.Kind.FOLLOW_UP else "Task added"
            story.add(task.created_at, "task_added", f"{label}: {task.title}", who)
        if task.done_at is not None:
            who = _name(task.done_by) if task.done_by_id else CLEARPLAN
            story.add(task.done_at, "task_done", f"Done: {task.title}", who)


def _appointment(booking: Booking, zone: ZoneInfo) -> str:
    local = booking.starts_at.astimezone(zone)
    hour = local.hour % 12 or 12
    clock = f"{hour}:{local.minute:02d} {'am' if local.hour < 12 else 'pm'}"
    return f"{local:%a} {local.day} {local:%b %Y}, {clock}"


def _bookings(story: _Story, case: Case) -> None:
    bookings = Booking.objects.filter(case=case).select_related("practitioner", "created_by", "cancelled_by")
    for booking in bookings.order_by("created_at", "id"):
        when = _appointment(booking, story.zone)
        detail = f"{booking.duration_minutes} min with {_name(booking.practitioner)}"
        story.add(booking.created_at, "booked", f"Appointment booked for {when}", _name(booking.created_by), detail)
        if booking.patient_confirmed_at is not None:
            story.add(booking.patient_confirmed_at, "confirmed", f"Patient confirmed the appointment on {when}")
        if booking.cancelled_at is not None:
            story.add(
                booking.cancelled_at,
                "cancelled",
                f"Appointment on {when} cancelled",
                _name(booking.cancelled_by),
                booking.cancel_reason,
            )


def _messages(story: _Story, case: Case) -> None:
    automatic = FollowUpRun.objects.filter(message=OuterRef("pk"))
    messages = (
        OutboundMessage.objects.filter(case=case, purpose__in=MESSAGE_PURPOSES)
        .annotate(automatic=Exists(automatic))
        .select_related("sender")
        .only(
            "channel",
            "purpose",
            "to_address",
            "status",
            "attempts",
            "created_at",
            "send_after",
            "sent_at",
            "delivered_at",
            "failed_at",
            "cancelled_at",
            "sender__first_name",
            "sender__last_name",
            "sender__email",
        )
        .order_by("created_at", "id")
    )
    for message in messages:
        words = MESSAGE_WORDS.get(message.purpose, "Message")  # type: ignore[call-overload]
        channel = "SMS" if message.channel == OutboundMessage.Channel.SMS else "email"
        if message.status == OutboundMessage.Status.SCHEDULED:
            what = f"{words} by {channel} scheduled for {when_label(message.send_after, story.zone, now=story.now)}"
            when = message.created_at
        else:
            what = f"{words} by {channel}"
            when = message.sent_at or message.created_at
        who = f"{CLEARPLAN} (automatic)" if message.automatic else (_name(message.sender) or CLEARPLAN)
        detail = f"To {message.masked_to} · {message.get_status_display()}"
        story.add(when, "message", what, who, detail)


def _conversation(story: _Story, case: Case) -> None:
    """The patient's texts and emails about the case, the team's replies and internal notes. Messages
    Clearplan sent by itself are told above (from OutboundMessage), pack-page replies with the pack."""
    patient_wrote = Q(direction=Direction.INBOUND) & ~Q(channel=Channel.PACK)
    team_wrote = Q(direction=Direction.INTERNAL) | Q(
        direction=Direction.OUTBOUND, outbound__purpose=OutboundMessage.Purpose.CONVERSATION
    )
    messages = (
        ConversationMessage.objects.filter(patient_wrote | team_wrote, case=case)
        .select_related("conversation", "author", "outbound")
        .only(
            "direction",
            "channel",
            "from_whom",
            "body",
            "created_at",
            "conversation__public_id",
            "author__first_name",
            "author__last_name",
            "author__email",
            "outbound__channel",
            "outbound__to_address",
            "outbound__status",
            "outbound__sent_at",
        )
        .order_by("created_at", "id")
    )
    for message in messages:
        url = conversation_url(message.conversation)
        channel = "SMS" if message.channel == Channel.SMS else "email"
        if message.direction == Direction.INBOUND:
            who = Recipient(message.from_whom).label if message.from_whom in Recipient.values else "Patient"
            story.add(message.created_at, "conversation_in", f"Message by {channel}", who, "", url)
        elif message.direction == Direction.INTERNAL:
            story.add(
                message.created_at,
                "conversation_note",
                "Internal note",
                _name(message.author),
                preview_of(message.body),
                url,
            )
        else:
            outbound = message.outbound
            detail = f"To {outbound.masked_to} · {outbound.get_status_display()}" if outbound is not None else ""
            story.add(
                message.created_at, "conversation_reply", f"Reply by {channel}", _name(message.author), detail, url
            )


def case_full_timeline(case: Case) -> list[TimelineEntry]:
    """Everything that happened on `case`, oldest first, with times in the clinic's zone."""
    clinic = case.clinic
    story = _Story(clinic_zone(clinic), timezone.now())
    creator = (
        type(case)
        .objects.filter(pk=case.pk)
        .select_related("created_by")
        .only("created_at", "created_by__first_name", "created_by__last_name", "created_by__email")
        .first()
    )
    if creator is not None:
        story.add(creator.created_at, "created", "Case opened", _name(creator.created_by))
    for entry in case_timeline(case):
        if entry.kind != "opened":  # told again below, with the sections read
            story.keep(replace(entry))
    # Added in the order causes come before their effects, for entries at the same moment:
    # a booking, then its confirmation, then the move it made, then the step it ticked.
    _opened(story, case)
    _bookings(story, case)
    _messages(story, case)
    _moves(story, case)
    _tasks(story, case)
    _conversation(story, case)
    return story.entries()
