"""Messages sent to patients (and staff) by SMS or email, one row per message.

The row is the message's whole story: what was sent to whom, when it may go, each attempt,
the provider's id for it, and what happened in the end. Delivery (clearplan/messaging/
delivery.py) hands it to the provider with its `idempotency_key`, so a message tried twice
(a worker stopped mid-send) reaches the patient once.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from clearplan.messaging.failures import next_step_for


def new_idempotency_key() -> str:
    """160 random bits, as 40 hex digits: usable in an HTTP header and in a Message-ID."""
    return secrets.token_hex(20)


def attachment_path(instance: OutboundMessage, filename: str) -> str:
    # A random name: the original file name (which may name the patient) is kept in the row only.
    return f"message-attachments/{instance.clinic.public_id}/{uuid.uuid4().hex}"


class OutboundMessage(models.Model):
    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"

    class Purpose(models.TextChoices):
        PACK = "pack", "Treatment pack"
        VERIFICATION_CODE = "verification_code", "Verification code"
        SIGNED_COPY = "signed_copy", "Signed copy"
        STAFF_NOTIFICATION = "staff_notification", "Staff notification"
        FOLLOW_UP = "follow_up", "Follow-up"
        BOOKING_CONFIRMATION = "booking_confirmation", "Appointment confirmation"
        BOOKING_REMINDER = "booking_reminder", "Appointment reminder"
        DIGEST = "digest", "Digest"
        CONVERSATION = "conversation", "Reply in a conversation"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        QUEUED = "queued", "Waiting to send"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Not delivered"
        BOUNCED = "bounced", "Bounced"
        CANCELLED = "cancelled", "Cancelled"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="outbound_messages")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="outbound_messages", null=True, blank=True
    )
    case = models.ForeignKey("plans.Case", on_delete=models.PROTECT, related_name="messages", null=True, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    purpose = models.CharField(max_length=30, choices=Purpose.choices)
    to_address = models.CharField(max_length=254, help_text="E.164 mobile number or email address.")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="The team member the message names as sending it.",
    )
    subject = models.CharField(max_length=250, blank=True)
    body = models.TextField()
    html = models.TextField(null=True, blank=True)  # noqa: DJ001 - None: the email has no formatted version
    attachment = models.FileField(upload_to=attachment_path, blank=True)
    attachment_name = models.CharField(max_length=200, blank=True)
    attachment_type = models.CharField(max_length=100, blank=True)
    reply_to = models.CharField(max_length=600, blank=True, help_text="Reply-To addresses, separated by commas.")
    idempotency_key = models.CharField(max_length=64, unique=True, default=new_idempotency_key, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    send_after = models.DateTimeField(help_text="Not sent before this time; the next try's time after a failure.")
    attempts = models.PositiveSmallIntegerField(default=0)
    provider_message_id = models.CharField(max_length=200, blank=True)
    failure_kind = models.CharField(max_length=40, blank=True, help_text="What went wrong, without personal data.")
    failure_detail_for_staff = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["case", "-created_at"], name="message_by_case_newest"),
            models.Index(fields=["status", "send_after"], name="message_by_status_due"),
            models.Index(fields=["provider_message_id"], name="message_by_provider_id"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel="email") | (Q(html__isnull=True) & Q(attachment="") & Q(subject="")),
                name="message_sms_has_no_subject_html_or_attachment",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["scheduled", "queued", "sending", "sent", "delivered", "failed", "bounced", "cancelled"]
                ),
                name="message_status_known",
            ),
        ]

    def __str__(self) -> str:
        # Shown in the audit log and the admin: never the address or the words.
        return f"{self.get_channel_display()} message {str(self.public_id)[:8]}"

    @property
    def reference(self) -> str:
        """Names the message in log lines."""
        return str(self.public_id)[:8]

    @property
    def is_failure(self) -> bool:
        return self.status in {self.Status.FAILED, self.Status.BOUNCED}

    @property
    def masked_to(self) -> str:
        """Enough of the address for staff to recognise it: "mobile ending 678", "s…@example.com"."""
        address = self.to_address
        if self.channel == self.Channel.SMS:
            return f"mobile ending {address[-3:]}" if len(address) >= 3 else "mobile"
        local, _at, domain = address.rpartition("@")
        if not local:
            return "email"
        return f"{local[0]}…@{domain}"

    @property
    def status_time(self) -> datetime | None:
        """When the message reached its current status (for scheduled ones: when it will go)."""
        return {
            self.Status.SCHEDULED: self.send_after,
            self.Status.QUEUED: self.send_after if self.attempts else self.created_at,
            self.Status.SENDING: self.sent_at or self.created_at,
            self.Status.SENT: self.sent_at,
            self.Status.DELIVERED: self.delivered_at,
            self.Status.FAILED: self.failed_at,
            self.Status.BOUNCED: self.failed_at,
            self.Status.CANCELLED: self.cancelled_at,
        }.get(self.Status(self.status))

    @property
    def failure_next_step(self) -> str:
        """What staff can do about a failed or bounced message, in plain words."""
        return next_step_for(self.failure_kind, channel=self.channel) if self.is_failure else ""
