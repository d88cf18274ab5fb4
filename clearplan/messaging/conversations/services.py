"""Writing to conversations: every change to a thread goes through here.

- `message_receive`: a patient's message (SMS, email, the pack page) lands in their thread once,
  however often the provider delivers it; the thread opens and counts as unread, automatic
  follow-up stops on the patient's cases, and the team is told.
- `outbound_copy`: every message Clearplan sends a patient (`message_send`) is kept in the thread
  too, so the team sees the whole story in one place.
- `conversation_reply`: a team member's answer, on the channel the patient used last (or their
  preferred one), signed with the team member's name.
- `note_add`, `conversation_assign`, `conversation_snooze`, `conversation_close`,
  `conversation_reopen`, `conversation_mark_read`: the inbox's actions.

Each runs in one transaction with its audit row; nothing is half-saved.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record
from clearplan.messaging.models import (
    Channel,
    Conversation,
    ConversationAttachment,
    ConversationMessage,
    Direction,
    OutboundMessage,
)

if TYPE_CHECKING:
    from clearplan.accounts.models import User
    from clearplan.packs.models import PatientResponse
    from clearplan.patients.models import Patient
    from clearplan.plans.models import Case

logger = logging.getLogger("clearplan.messaging.conversations")

CONVERSATION_RECORD_TYPE = "conversation"
CONVERSATION_MESSAGE_RECORD_TYPE = "conversation_message"
WORDS_MAX_CHARS = 5000  # a reply or a note
PREVIEW_CHARS = 140

# What Clearplan sends a patient that belongs in their thread (not verification codes, which
# are a sign-in step, nor staff notices and digests, which are not to the patient).
THREAD_PURPOSES = frozenset(
    {
        OutboundMessage.Purpose.PACK,
        OutboundMessage.Purpose.SIGNED_COPY,
        OutboundMessage.Purpose.FOLLOW_UP,
        OutboundMessage.Purpose.BOOKING_CONFIRMATION,
        OutboundMessage.Purpose.BOOKING_REMINDER,
        OutboundMessage.Purpose.CONVERSATION,
        OutboundMessage.Purpose.OTHER,
    }
)
_SENT_BY_ITSELF = frozenset({OutboundMessage.Purpose.FOLLOW_UP, OutboundMessage.Purpose.BOOKING_REMINDER})
# Stages in which a case is still being followed up, so a patient's message concerns it.
_FINISHED_STAGES = ("completed",)


@dataclass(frozen=True)
class IncomingAttachment:
    name: str
    content: bytes
    content_type: str


# ---------- Finding the thread ----------


def conversation_for_patient(*, patient: Patient) -> Conversation:
    """The patient's conversation, made the first time it is needed (safe when two requests race)."""
    existing = Conversation.objects.filter(patient=patient).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Conversation.objects.create(patient=patient, clinic_id=patient.clinic_id)
    except IntegrityError:
        return Conversation.objects.get(patient=patient)


def current_cases(patient: Patient) -> list[Case]:
    """The patient's cases still being followed up, newest first."""
    from clearplan.plans.models import Case

    return list(
        Case.objects.filter(patient=patient)
        .exclude(progress__stage__in=_FINISHED_STAGES)
        .select_related("clinic", "patient")
        .order_by("-created_at", "-id")
    )


def conversation_url(conversation: Conversation) -> str:
    return reverse("messaging:conversation", kwargs={"public_id": conversation.public_id})


def preview_of(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1].rstrip() + "…"


_PACK_LINK = re.compile(r"https?://\S+/p/[A-Za-z0-9_-]+/?")
_APPOINTMENT_LINK = re.compile(r"https?://\S+/a/[A-Za-z0-9_-]+/?")
_UNSUBSCRIBE_LINK = re.compile(r"https?://\S+/u/[A-Za-z0-9_-]+/?")


def without_private_links(text: str) -> str:
    """The patient's own links (their pack, their appointment, their unsubscribe link) are keys to
    their records; the thread says what they were instead of showing them."""
    text = _PACK_LINK.sub("[link to their treatment pack]", text)
    text = _APPOINTMENT_LINK.sub("[link to confirm their appointment]", text)
    return _UNSUBSCRIBE_LINK.sub("[unsubscribe link]", text)


def _lock(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_for_update().get(pk=conversation.pk)


def _save_attachments(message: ConversationMessage, attachments: Sequence[IncomingAttachment]) -> None:
    for attachment in attachments:
        stored = ConversationAttachment(
            message=message, name=attachment.name, content_type=attachment.content_type, size=len(attachment.content)
        )
        stored.file.save(attachment.name, ContentFile(attachment.content), save=False)
        stored.save()


# ---------- The patient writes ----------


def message_receive(
    *,
    patient: Patient,
    channel: str,
    body: str,
    from_address: str = "",
    from_whom: str = "",
    provider_message_id: str = "",
    subject: str = "",
    html: str | None = None,
    full_text: str = "",
    attachments: Sequence[IncomingAttachment] = (),
    pack_response: PatientResponse | None = None,
    notify: bool = True,
) -> tuple[ConversationMessage, bool]:
    """Put a patient's message in their thread. Returns (message, True) the first time and
    (the stored message, False) when the provider's id was seen before. `body` is already clean
    plain text (quoted history off); `html` already sanitised. Call inside or outside a
    transaction: the message, its attachments, the thread's state, the audit row, stopping
    follow-up and the team's notifications are saved together."""
    if channel not in (Channel.SMS, Channel.EMAIL, Channel.PACK):
        raise ValueError(f"A patient's message comes by SMS, email or the pack page, not {channel!r}.")
    provider_message_id = provider_message_id.strip()[:250]
    if provider_message_id:
        seen = ConversationMessage.objects.filter(
            channel=channel, direction=Direction.INBOUND, provider_message_id=provider_message_id
        ).first()
        if seen is not None:
            return seen, False
    conversation = conversation_for_patient(patient=patient)
    try:
        with transaction.atomic():
            conversation = _lock(conversation)
            cases = current_cases(patient)
            case = pack_response.case if pack_response is not None else (cases[0] if cases else None)
            message = ConversationMessage.objects.create(
                conversation=conversation,
                case=case,
                direction=Direction.INBOUND,
                channel=channel,
                from_address=from_address[:254],
                from_whom=from_whom[:10],
                subject=subject[:250],
                body=body,
                html=html,
                full_text=full_text,
                pack_response=pack_response,
                provider_message_id=provider_message_id,
            )
            _save_attachments(message, attachments)
            now = message.created_at
            Conversation.objects.filter(pk=conversation.pk).update(
                status=Conversation.Status.OPEN,
                closed_at=None,
                closed_by=None,
                snoozed_until=None,
                unread_count=F("unread_count") + 1,
                last_message_at=now,
                last_message_preview=preview_of(body or subject or "(attachment)"),
                last_message_direction=Direction.INBOUND,
                last_inbound_at=now,
                last_inbound_channel=channel,
            )
            audit_record(
                action=AuditEvent.Action.CREATE,
                clinic=patient.clinic,
                obj=message,
                object_type=CONVERSATION_MESSAGE_RECORD_TYPE,
                changes={
                    "direction": "in",
                    "channel": channel,
                    "conversation": str(conversation.public_id),
                    "attachments": len(attachments),
                },
            )
            if pack_response is None:
                from clearplan.pipeline import events as pipeline_events

                because = f"The patient replied by {channel_words(channel)}"
                for each in cases:
                    pipeline_events.patient_replied(case=each, because=because)
            if notify:
                _tell_the_team(conversation=conversation, patient=patient, case=case, channel=channel)
    except IntegrityError:
        # The same provider message, delivered twice at the same moment: the other request stored it.
        if not provider_message_id:
            raise
        stored = ConversationMessage.objects.get(
            channel=channel, direction=Direction.INBOUND, provider_message_id=provider_message_id
        )
        return stored, False
    return message, True


def channel_words(channel: str) -> str:
    return {"sms": "SMS", "email": "email", "pack": "the pack page"}.get(channel, channel)


def _tell_the_team(*, conversation: Conversation, patient: Patient, case: Case | None, channel: str) -> None:
    from clearplan.notifications.models import Kind
    from clearplan.notifications.services import notify_team

    also = [conversation.assigned_to] if conversation.assigned_to is not None else []
    notify_team(
        case=case,
        clinic=patient.clinic,
        kind=Kind.MESSAGE,
        text=f"{patient.full_name} sent a message by {channel_words(channel)}",
        link_url=conversation_url(conversation),
        also=also,
    )


# ---------- Clearplan writes to the patient ----------


def outbound_copy(*, message: OutboundMessage) -> ConversationMessage | None:
    """Keep a message sent to a patient in their thread (called by `message_send`, inside its
    transaction). Messages Clearplan sends by itself do not open or reopen the thread."""
    if message.patient_id is None or message.purpose not in THREAD_PURPOSES:
        return None
    patient = message.patient
    assert patient is not None
    conversation = _lock(conversation_for_patient(patient=patient))
    body = without_private_links(message.body)
    copy = ConversationMessage.objects.create(
        conversation=conversation,
        case=message.case,
        direction=Direction.OUTBOUND,
        channel=message.channel,
        # A person sent a pack, a reply or a confirmation; follow-ups and reminders went by themselves.
        author=None if message.purpose in _SENT_BY_ITSELF else message.sender,
        subject=message.subject,
        body=body,
        outbound=message,
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_at=copy.created_at,
        last_message_preview=preview_of(body),
        last_message_direction=Direction.OUTBOUND,
    )
    return copy


def reply_address(conversation: Conversation) -> str:
    """Where the patient's email replies come back to; empty when inbound email is not set up."""
    domain = settings.INBOUND_EMAIL_DOMAIN
    return f"reply+{conversation.reply_token}@{domain}" if domain else ""


@dataclass(frozen=True)
class ReplyRoute:
    """Where a reply would go: channel, address, how staff see it, and why not (empty when it can go)."""

    channel: str
    address: str
    masked: str
    problem: str
    to_whom: str

    @property
    def usable(self) -> bool:
        return not self.problem


def reply_routes(conversation: Conversation) -> dict[str, ReplyRoute]:
    """SMS and email for this patient's thread: to whoever wrote last when that number or address is on
    file (a parent texting for their child), otherwise to the pack's usual recipient."""
    from clearplan.packs.sending import default_recipient, destinations, recipient_name

    patient = conversation.patient
    last_in = (
        ConversationMessage.objects.filter(conversation=conversation, direction=Direction.INBOUND)
        .exclude(from_whom="")
        .order_by("-created_at", "-id")
        .values_list("from_whom", flat=True)
        .first()
    )
    recipient = last_in if last_in in ("patient", "guardian") else default_recipient(patient)
    if recipient == "guardian" and not patient.has_guardian:
        recipient = "patient"
    found = destinations(patient, recipient)
    to_whom = recipient_name(patient, recipient)
    return {
        channel: ReplyRoute(
            channel=channel,
            address=destination.address,
            masked=destination.masked,
            problem=destination.problem,
            to_whom=to_whom,
        )
        for channel, destination in found.items()
    }


def reply_channel(conversation: Conversation, routes: dict[str, ReplyRoute] | None = None) -> str:
    """The channel a reply goes on by default: the one the patient used last, else their preferred
    one, else whichever can be used; empty when neither can."""
    routes = routes if routes is not None else reply_routes(conversation)
    patient = conversation.patient
    for candidate in (conversation.last_inbound_channel, patient.preferred_channel, Channel.SMS, Channel.EMAIL):
        route = routes.get(candidate)
        if route is not None and route.usable:
            return candidate
    return ""


def signed_body(*, body: str, by: User, conversation: Conversation, channel: str) -> str:
    """The team member's words with their name, so the patient knows who they are talking to."""
    clinic = conversation.clinic
    name = by.first_name or by.display_name
    if channel == Channel.SMS:
        # A plain hyphen: an en dash is outside the GSM alphabet and would send every reply as
        # Unicode, 70 characters to a text instead of 160.
        return f"{body}\n- {name}, {clinic.name}"
    return f"{body}\n\n{by.display_name}\n{clinic.name}"


def reply_subject(conversation: Conversation) -> str:
    last_subject = (
        ConversationMessage.objects.filter(conversation=conversation, channel=Channel.EMAIL)
        .exclude(subject="")
        .order_by("-created_at", "-id")
        .values_list("subject", flat=True)
        .first()
    )
    if last_subject:
        return last_subject if last_subject.lower().startswith("re:") else f"Re: {last_subject}"
    return f"A message from {conversation.clinic.name}"


def _check_words(body: str, *, what: str, required: bool) -> None:
    """The words of a reply or a note: present (unless a file says it all) and not too long."""
    if required and not body:
        raise ValidationError({"body": f"Write the {what} first."}, code="required")
    if len(body) > WORDS_MAX_CHARS:
        raise ValidationError(
            {"body": f"Please keep a {what} to {WORDS_MAX_CHARS} characters (it has {len(body)})."}, code="too_long"
        )


def conversation_reply(
    *,
    conversation: Conversation,
    by: User,
    body: str,
    channel: str = "",
    attachment: IncomingAttachment | None = None,
    submission_key: str = "",
) -> ConversationMessage:
    """Send a team member's reply. `channel` empty: the default (see `reply_channel`). Raises
    ValidationError keyed by field ("body", "channel", "attachment") before anything is saved.
    The same `submission_key` (the composer's, per page load) sends once: a double submit gives
    back the message already sent."""
    from clearplan.messaging.services import message_send

    body = (body or "").strip()
    _check_words(body, what="message", required=True)
    routes = reply_routes(conversation)
    channel = channel or reply_channel(conversation, routes)
    route = routes.get(channel)
    if route is None:
        raise ValidationError(
            {"channel": "Neither SMS nor email can be used for this patient. Check consent on their record."},
            code="no_channel",
        )
    if route.problem:
        raise ValidationError({"channel": route.problem}, code="not_agreed")
    if attachment is not None and channel == Channel.SMS:
        raise ValidationError(
            {"attachment": "A text message cannot carry a file. Send it by email, or add it to an internal note."},
            code="sms_attachment",
        )
    cases = current_cases(conversation.patient)
    with transaction.atomic():
        locked = _lock(conversation)
        sent = _already_submitted(locked, submission_key)
        if sent is not None:
            return sent
        outbound = message_send(
            clinic=locked.clinic,
            channel=channel,
            to=route.address,
            body=signed_body(body=body, by=by, conversation=locked, channel=channel),
            purpose=OutboundMessage.Purpose.CONVERSATION,
            subject=reply_subject(locked) if channel == Channel.EMAIL else "",
            patient=locked.patient,
            case=cases[0] if cases else None,
            sender=by,
            attachment=(attachment.name, attachment.content, attachment.content_type) if attachment else None,
        )
        copy = outbound.conversation_message
        _remember_submission(copy, submission_key)
        if attachment is not None:
            _save_attachments(copy, [attachment])
        Conversation.objects.filter(pk=locked.pk).update(unread_count=0)
        audit_record(
            action=AuditEvent.Action.CREATE,
            actor=by,
            clinic=locked.clinic,
            obj=copy,
            object_type=CONVERSATION_MESSAGE_RECORD_TYPE,
            changes={"direction": "out", "channel": channel, "conversation": str(locked.public_id)},
        )
    return copy


def _submission_id(submission_key: str) -> str:
    # The team's own messages have no provider id, so the composer's key is kept there (the
    # once-per-provider-id constraint covers only patients' messages).
    key = "".join(ch for ch in submission_key if ch.isalnum() or ch in "-_")[:64]
    return f"submission:{key}" if key else ""


def _already_submitted(conversation: Conversation, submission_key: str) -> ConversationMessage | None:
    """The team's message already made from this submission (call with the thread locked)."""
    key = _submission_id(submission_key)
    if not key:
        return None
    return (
        ConversationMessage.objects.filter(conversation=conversation, provider_message_id=key)
        .exclude(direction=Direction.INBOUND)
        .first()
    )


def _remember_submission(message: ConversationMessage, submission_key: str) -> None:
    key = _submission_id(submission_key)
    if key:
        ConversationMessage.objects.filter(pk=message.pk).update(provider_message_id=key)
        message.provider_message_id = key


# ---------- The team's own actions ----------


def note_add(
    *,
    conversation: Conversation,
    by: User,
    body: str,
    attachments: Sequence[IncomingAttachment] = (),
    submission_key: str = "",
) -> ConversationMessage:
    """An internal note: the team sees it in the thread; the patient never does. The same
    `submission_key` adds it once."""
    body = (body or "").strip()
    _check_words(body, what="note", required=not attachments)
    with transaction.atomic():
        locked = _lock(conversation)
        added = _already_submitted(locked, submission_key)
        if added is not None:
            return added
        cases = current_cases(locked.patient)
        note = ConversationMessage.objects.create(
            conversation=locked,
            case=cases[0] if cases else None,
            direction=Direction.INTERNAL,
            channel=Channel.NOTE,
            author=by,
            body=body,
            provider_message_id=_submission_id(submission_key),
        )
        _save_attachments(note, attachments)
        audit_record(
            action=AuditEvent.Action.CREATE,
            actor=by,
            clinic=locked.clinic,
            obj=note,
            object_type=CONVERSATION_MESSAGE_RECORD_TYPE,
            changes={"direction": "internal", "conversation": str(locked.public_id), "attachments": len(attachments)},
        )
    return note


def _change(
    conversation: Conversation, *, by: User, changes: dict[str, list[object]], **fields: object
) -> Conversation:
    with transaction.atomic():
        locked = _lock(conversation)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(fields))
        audit_record(
            action=AuditEvent.Action.UPDATE,
            actor=by,
            clinic=locked.clinic,
            obj=locked,
            object_type=CONVERSATION_RECORD_TYPE,
            changes=changes,
        )
    return locked


def conversation_assign(*, conversation: Conversation, by: User, to: User | None) -> Conversation:
    """Assign the thread to a team member who works at its clinic (None: to no one)."""
    if to is not None:
        clinic = conversation.clinic
        works_here = to.memberships.filter(clinic_id=clinic.pk).exists() or (
            to.is_organisation_admin and to.organisation_id == clinic.organisation_id
        )
        if not works_here or not to.is_active:
            raise ValidationError({"assigned_to": "Choose someone who works at this clinic."}, code="invalid")
    before = conversation.assigned_to.display_name if conversation.assigned_to else None
    return _change(
        conversation,
        by=by,
        changes={"assigned_to": [before, to.display_name if to else None]},
        assigned_to=to,
    )


def conversation_snooze(*, conversation: Conversation, by: User, until: dt.datetime) -> Conversation:
    """Hide the thread from the open views until `until`; a message from the patient wakes it sooner."""
    if timezone.is_naive(until):
        raise ValidationError({"until": "Give the time with its time zone."}, code="invalid")
    now = timezone.now()
    if until <= now:
        raise ValidationError({"until": "Choose a time in the future."}, code="past")
    if until > now + dt.timedelta(days=366):
        raise ValidationError({"until": "Choose a time within a year."}, code="too_far")
    return _change(
        conversation,
        by=by,
        changes={"snoozed_until": [None, until.isoformat()]},
        snoozed_until=until,
        status=Conversation.Status.OPEN,
    )


def conversation_close(*, conversation: Conversation, by: User) -> Conversation:
    return _change(
        conversation,
        by=by,
        changes={"status": [conversation.status, Conversation.Status.CLOSED.value]},
        status=Conversation.Status.CLOSED,
        closed_at=timezone.now(),
        closed_by=by,
        snoozed_until=None,
        unread_count=0,
    )


def conversation_reopen(*, conversation: Conversation, by: User) -> Conversation:
    return _change(
        conversation,
        by=by,
        changes={"status": [conversation.status, Conversation.Status.OPEN.value]},
        status=Conversation.Status.OPEN,
        closed_at=None,
        closed_by=None,
    )


def conversation_mark_read(*, conversation: Conversation) -> int:
    """Opening the thread reads it for the whole team. Decided by the database, not the copy in
    hand (a message may have arrived since it was loaded, or another tab read it first): returns
    1 if the thread was unread and now is not, 0 if it was already read."""
    changed = Conversation.objects.filter(pk=conversation.pk, unread_count__gt=0).update(unread_count=0)
    conversation.unread_count = 0
    return changed


def snoozes_wake(*, now: dt.datetime | None = None) -> int:
    """Bring back threads whose snooze has ended (run by the worker's upkeep); they show as unread
    so someone looks again. Returns how many woke."""
    now = now or timezone.now()
    return Conversation.objects.filter(snoozed_until__lte=now).update(
        snoozed_until=None, unread_count=F("unread_count") + 1
    )


def unsubscribe_url(conversation: Conversation) -> str:
    """The patient's "stop emails from the clinic" link, for the foot of every email to them."""
    return settings.SITE_URL + reverse("unsubscribe:unsubscribe", kwargs={"token": conversation.unsubscribe_token})
