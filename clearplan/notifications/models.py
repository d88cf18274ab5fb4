"""Notifications for the team: one row per staff member per event, read or not.

The text names the patient because only staff who can see the case's clinic read it in the
app; the email sent beside it never carries the text (see services.py).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Kind(models.TextChoices):
    QUESTION = "question", "A patient asks a question"
    PROCEED = "proceed", "A patient would like to proceed"
    NOT_NOW = "not_now", "A patient says “not right now”"
    SIGNED = "signed", "A patient signs their consent"
    LINK_LOCKED = "link_locked", "A pack link locks after wrong answers"
    DELIVERY_FAILED = "delivery_failed", "A message to a patient is not delivered"
    MESSAGE = "message", "A patient sends a message"


class Notification(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="notifications")
    case = models.ForeignKey(
        "plans.Case", on_delete=models.CASCADE, related_name="notifications", null=True, blank=True
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.CharField(max_length=300)
    # An internal path such as /cases/<uuid>/, never an absolute address.
    link_url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_by_user_newest"),
            models.Index(
                fields=["recipient", "clinic"], condition=Q(read_at__isnull=True), name="notification_unread_by_user"
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class EmailChoice(models.TextChoices):
    # "My cases": the ones where the person is the treatment coordinator or the dentist.
    MY_CASES = "my_cases", "Email me for my cases"
    ALL_CASES = "all_cases", "Email me for every case"
    NEVER = "never", "Don’t email me"


# What a staff member gets by email until they choose otherwise: replies that need a person,
# on the cases they look after. Everything is always shown in the app.
DEFAULT_EMAIL: dict[str, str] = {
    Kind.QUESTION: EmailChoice.MY_CASES,
    Kind.PROCEED: EmailChoice.MY_CASES,
    Kind.SIGNED: EmailChoice.MY_CASES,
    Kind.NOT_NOW: EmailChoice.NEVER,
    Kind.LINK_LOCKED: EmailChoice.NEVER,
    Kind.DELIVERY_FAILED: EmailChoice.NEVER,
    Kind.MESSAGE: EmailChoice.MY_CASES,
}


class NotificationPreference(models.Model):
    """A staff member's email choice for one kind of notification; no row means the default."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    email = models.CharField(max_length=10, choices=EmailChoice.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_one_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_email_display()}"
