"""Conversations: one thread per patient, holding every message between the patient (or their
parent or guardian) and the team, on every channel, and the team's internal notes.

- `Conversation` is the thread and its inbox state: open or closed, who it is assigned to,
  snoozed until when, and whether a patient message is waiting that nobody has opened yet.
  Its `reply_token` makes the address email replies come back to; its `unsubscribe_token`
  the patient's "stop emails" link. Neither carries anything about the patient.
- `ConversationMessage` is one entry: a message from the patient (SMS, email or the pack
  page), a message to the patient (with the OutboundMessage that carries it, and so its
  delivery status), or an internal note the patient never sees.
- `ConversationAttachment` is an image or document on a message or note.
- `SavedReply` is one of a clinic's quick replies.
- `SmsOptOut` / `EmailOptOut` record a number or address that asked for no more messages
  ("STOP", the unsubscribe link); `message_send` refuses to write to them.
- `UnmatchedInbound` keeps a message from a number or address no patient has, so nothing a
  patient sends is lost.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


def new_conversation_token() -> str:
    """128 random bits in lower-case hex: safe inside an email address's local part."""
    return secrets.token_hex(16)


def conversation_attachment_path(instance: ConversationAttachment, filename: str) -> str:
    # A random name: the original (which may name the patient) is kept in the row only.
    return f"conversation-attachments/{uuid.uuid4().hex}"


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"
    PACK = "pack", "Pack page"
    NOTE = "note", "Internal note"


class Direction(models.TextChoices):
    INBOUND = "in", "From the patient"
    OUTBOUND = "out", "To the patient"
    INTERNAL = "internal", "Internal note"


class Conversation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="conversations")
    patient = models.OneToOneField("patients.Patient", on_delete=models.PROTECT, related_name="conversation")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CLOSED)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    snoozed_until = models.DateTimeField(null=True, blank=True)
    # Patient messages nobody on the team has opened yet (the inbox's "Unread"); the team
    # shares one inbox, so opening the thread reads it for everyone.
    unread_count = models.PositiveIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_message_preview = models.CharField(max_length=200, blank=True)
    last_message_direction = models.CharField(max_length=10, choices=Direction.choices, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_inbound_channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    reply_token = models.CharField(max_length=32, unique=True, default=new_conversation_token, editable=False)
    unsubscribe_token = models.CharField(max_length=32, unique=True, default=new_conversation_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-last_message_at", "-id"]
        indexes = [
            models.Index(fields=["clinic", "status", "-last_message_at"], name="conversation_inbox_by_status"),
            models.Index(
                fields=["clinic", "-last_message_at"], condition=Q(unread_count__gt=0), name="conversation_inbox_unread"
            ),
            models.Index(fields=["assigned_to", "status", "-last_message_at"], name="conversation_inbox_assigned"),
            models.Index(
                fields=["clinic", "snoozed_until"],
                condition=Q(snoozed_until__isnull=False),
                name="conversation_inbox_snoozed",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["open", "closed"]), name="conversation_status_known"),
        ]

    def __str__(self) -> str:
        # Shown in the audit log: never the patient's name.
        return f"Conversation {str(self.public_id)[:8]}"


class ConversationMessage(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT, related_name="messages")
    case = models.ForeignKey(
        "plans.Case", on_delete=models.PROTECT, related_name="conversation_messages", null=True, blank=True
    )
    direction = models.CharField(max_length=10, choices=Direction.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The team member who wrote it (none for the patient's messages and Clearplan's own).",
    )
    # For a patient's message: the number or address it came from, and who that is on file
    # ("patient", "guardian", or "" when it is not on file).
    from_address = models.CharField(max_length=254, blank=True)
    from_whom = models.CharField(max_length=10, blank=True)
    subject = models.CharField(max_length=250, blank=True)
    # What the thread shows: plain text, with an email's quoted history taken off.
    body = models.TextField()
    # An email's formatted version, sanitised (quoted history taken off too); None when there is none.
    html = models.TextField(null=True, blank=True)  # noqa: DJ001 - None: no formatted version
    # The whole text as received, quoted history included, behind "Show the earlier messages".
    full_text = models.TextField(blank=True)
    outbound = models.OneToOneField(
        "messaging.OutboundMessage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="conversation_message",
    )
    pack_response = models.OneToOneField(
        "packs.PatientResponse",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="conversation_message",
    )
    # The provider's id of a patient's message (Twilio's MessageSid, an email's Message-ID):
    # the same message delivered twice is stored once.
    provider_message_id = models.CharField(max_length=250, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="conversation_message_in_order"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_message_id"],
                condition=Q(direction="in") & ~Q(provider_message_id=""),
                name="conversation_inbound_once_per_provider_id",
            ),
            models.CheckConstraint(
                condition=(Q(direction="internal") & Q(channel="note"))
                | (Q(direction="in") & Q(channel__in=["sms", "email", "pack"]))
                | (Q(direction="out") & Q(channel__in=["sms", "email"])),
                name="conversation_message_direction_matches_channel",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} message {str(self.public_id)[:8]}"

    @property
    def is_note(self) -> bool:
        return self.direction == Direction.INTERNAL


class ConversationAttachment(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    message = models.ForeignKey(ConversationMessage, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=conversation_attachment_path)
    name = models.CharField(max_length=150)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Attachment {str(self.public_id)[:8]}"


class SavedReply(models.Model):
    """A quick reply the clinic's team can drop into a message and edit before sending."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="saved_replies")
    title = models.CharField(max_length=80)
    body = models.TextField()
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["position", "title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "title"], name="saved_reply_title_unique_in_clinic"),
        ]

    def __str__(self) -> str:
        return self.title


class SmsOptOut(models.Model):
    """A mobile number that texted STOP (or a similar word): no more SMS to it until it texts START."""

    number = models.CharField(max_length=20, unique=True, help_text="E.164.")
    keyword = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"SMS opt-out {self.pk}"


class EmailOptOut(models.Model):
    """An email address whose owner used the unsubscribe link: no more email to it from the clinic."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="email_opt_outs")
    address = models.CharField(max_length=254, help_text="Lower case.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "address"], name="email_opt_out_once_per_clinic"),
        ]

    def __str__(self) -> str:
        return f"Email opt-out {self.pk}"


class ReceivedSms(models.Model):
    """A text message exactly as the provider delivered it, kept the moment it arrives (once per
    MessageSid) so the webhook can answer at once; the worker then puts it in the patient's thread
    (`processed_at`)."""

    provider_message_id = models.CharField(max_length=64, unique=True)
    from_number = models.CharField(max_length=20, help_text="E.164.")
    to_number = models.CharField(max_length=254, blank=True)
    body = models.TextField(blank=True)
    media_count = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["received_at"], condition=Q(processed_at__isnull=True), name="received_sms_waiting"),
        ]

    def __str__(self) -> str:
        return f"Received text message {self.pk}"


class UnmatchedInbound(models.Model):
    """A message from a number or address that no patient has on file."""

    channel = models.CharField(max_length=10, choices=[("sms", "SMS"), ("email", "Email")])
    from_address = models.CharField(max_length=254)
    to_address = models.CharField(max_length=254, blank=True)
    body = models.TextField()
    provider_message_id = models.CharField(max_length=250, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="unmatched_inbound_once_per_provider_id",
            ),
        ]

    def __str__(self) -> str:
        return f"Unmatched {self.channel} message {self.pk}"
