"""Treatment packs as the patient receives them.

A *version* is what a patient was shown: a frozen snapshot of the case (data, the rendered
page and a SHA-256 over both), never changed once made. A *send* is one decision to send the
pack (channels, words, when). A *link* is the patient's (or guardian's) way in: a random token
of which only the SHA-256 is stored. Opening a link starts a *session* held in a cookie; the
session is verified (date of birth or a one-time code) before anything about the patient shows.
*Visits* record engagement; *responses* and *signatures* record what the patient decided.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class Recipient(models.TextChoices):
    PATIENT = "patient", "Patient"
    GUARDIAN = "guardian", "Parent or guardian"


class VerificationMethod(models.TextChoices):
    DATE_OF_BIRTH = "date_of_birth", "Date of birth"
    CODE = "code", "One-time code by SMS or email"


class DeviceType(models.TextChoices):
    PHONE = "phone", "Phone"
    TABLET = "tablet", "Tablet"
    COMPUTER = "computer", "Computer"
    UNKNOWN = "unknown", "Unknown"


class ImmutableError(Exception):
    """A frozen record was about to be changed."""


class PackVersion(models.Model):
    case = models.ForeignKey("plans.Case", on_delete=models.PROTECT, related_name="pack_versions")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.PositiveSmallIntegerField()
    # The pack's content as data (clearplan.packs.snapshot), and the page body rendered from it.
    snapshot = models.JSONField()
    body_html = models.TextField()
    sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="pack_version_number_unique_in_case"),
        ]

    def __str__(self) -> str:
        return f"Version {self.number}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise ImmutableError("A pack version is frozen once made.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


def version_image_path(instance: PackVersionImage, filename: str) -> str:
    return f"pack-versions/{uuid.uuid4().hex}{filename[filename.rfind('.') :]}"


class PackVersionImage(models.Model):
    """A copy of a key image's web sizes at the moment the version was frozen, so later edits or
    removal of the case image never change what the patient was shown."""

    version = models.ForeignKey(PackVersion, on_delete=models.PROTECT, related_name="images")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    source = models.ForeignKey("plans.CaseImage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    thumb = models.FileField(upload_to=version_image_path, max_length=200)
    medium = models.FileField(upload_to=version_image_path, max_length=200)
    large = models.FileField(upload_to=version_image_path, max_length=200)

    class Meta:
        ordering = ["version", "position"]

    def __str__(self) -> str:
        return f"Image {self.position + 1} of version {self.version.number}"


class PackLink(models.Model):
    case = models.ForeignKey("plans.Case", on_delete=models.PROTECT, related_name="pack_links")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # SHA-256 of the random token in the patient's link; the token itself is never stored.
    token_sha256 = models.CharField(max_length=64, unique=True)
    recipient = models.CharField(max_length=10, choices=Recipient.choices, default=Recipient.PATIENT)
    verification = models.CharField(max_length=20, choices=VerificationMethod.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # Wrong answers since the last right one; at the limit the link locks until locked_until.
    failed_verifications = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    first_opened_at = models.DateTimeField(null=True, blank=True)
    last_opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["case", "-created_at"], name="pack_link_by_case_newest")]

    def __str__(self) -> str:
        return f"Pack link for {self.get_recipient_display().lower()}"


class PackSend(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled"

    case = models.ForeignKey("plans.Case", on_delete=models.PROTECT, related_name="pack_sends")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    version = models.ForeignKey(PackVersion, on_delete=models.PROTECT, related_name="sends")
    link = models.ForeignKey(PackLink, on_delete=models.PROTECT, related_name="sends")
    recipient = models.CharField(max_length=10, choices=Recipient.choices, default=Recipient.PATIENT)
    by_sms = models.BooleanField(default=False)
    by_email = models.BooleanField(default=False)
    sms_text = models.TextField(blank=True)
    email_subject = models.CharField(max_length=200, blank=True)
    email_text = models.TextField(blank=True)
    send_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENT)
    # Public ids of the messaging.OutboundMessage rows that carry it (delivery status lives there).
    sms_message_id = models.UUIDField(null=True, blank=True)
    email_message_id = models.UUIDField(null=True, blank=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # A random key from the send form, so a double click sends once.
    submission_key = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["case", "-created_at"], name="pack_send_by_case_newest")]
        constraints = [
            models.CheckConstraint(condition=Q(by_sms=True) | Q(by_email=True), name="pack_send_has_a_channel"),
        ]

    def __str__(self) -> str:
        return f"Pack sent {self.send_at:%d %b %Y %H:%M}"


class PackSession(models.Model):
    """A browser's time with a link. The cookie holds a random key; only its SHA-256 is stored."""

    link = models.ForeignKey(PackLink, on_delete=models.CASCADE, related_name="sessions")
    key_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(auto_now_add=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.CharField(max_length=20, choices=VerificationMethod.choices, blank=True)
    # A one-time code sent to the patient's own mobile or email (SHA-256 only), when the clinic verifies by code.
    code_sha256 = models.CharField(max_length=64, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    code_sent_at = models.DateTimeField(null=True, blank=True)
    code_sent_to = models.CharField(max_length=80, blank=True, help_text="Masked, e.g. “mobile ending 678”.")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    device_type = models.CharField(max_length=10, choices=DeviceType.choices, default=DeviceType.UNKNOWN)

    class Meta:
        indexes = [models.Index(fields=["link", "-created_at"], name="pack_session_by_link_newest")]

    def __str__(self) -> str:
        return f"Session on {self.created_at:%d %b %Y %H:%M}"


class PackVisit(models.Model):
    """One reading of the pack: from opening the page until the reader leaves it."""

    session = models.ForeignKey(PackSession, on_delete=models.CASCADE, related_name="visits")
    link = models.ForeignKey(PackLink, on_delete=models.CASCADE, related_name="visits")
    case = models.ForeignKey("plans.Case", on_delete=models.CASCADE, related_name="pack_visits")
    version = models.ForeignKey(PackVersion, on_delete=models.PROTECT, related_name="visits")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    started_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now_add=True)
    seconds_viewed = models.PositiveIntegerField(default=0)
    sections = models.JSONField(default=list, blank=True, help_text="Section names the reader scrolled to.")
    device_type = models.CharField(max_length=10, choices=DeviceType.choices, default=DeviceType.UNKNOWN)
    # False until the page's script reports in: a visit without JavaScript is still recorded as opened.
    measured_by_script = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["case", "-started_at"], name="pack_visit_by_case_newest")]

    def __str__(self) -> str:
        return f"Visit on {self.started_at:%d %b %Y %H:%M}"


class PatientResponse(models.Model):
    class Kind(models.TextChoices):
        PROCEED = "proceed", "Would like to proceed"
        QUESTION = "question", "Has a question"
        NOT_NOW = "not_now", "Not right now"

    class NotNowReason(models.TextChoices):
        NONE = "", "—"
        COST = "cost", "The cost"
        TIMING = "timing", "The timing"
        WORRY = "worry", "I'm worried about the treatment"
        SECOND_OPINION = "second_opinion", "I'd like a second opinion"
        INSURANCE = "insurance", "Waiting on my insurance or health fund"
        OTHER = "other", "Something else"

    case = models.ForeignKey("plans.Case", on_delete=models.PROTECT, related_name="pack_responses")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    version = models.ForeignKey(PackVersion, on_delete=models.PROTECT, related_name="responses")
    session = models.ForeignKey(PackSession, on_delete=models.PROTECT, related_name="responses")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    option_public_id = models.UUIDField(null=True, blank=True)
    option_title = models.CharField(max_length=120, blank=True)
    preferred_times = models.CharField(max_length=500, blank=True)
    message = models.TextField(blank=True)
    reason = models.CharField(max_length=20, choices=NotNowReason.choices, blank=True, default="")
    responder = models.CharField(max_length=10, choices=Recipient.choices, default=Recipient.PATIENT)
    created_at = models.DateTimeField(auto_now_add=True)
    submission_key = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField(null=True, blank=True)
    seen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["case", "-created_at"], name="pack_response_by_case_newest")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="proceed") | Q(option_public_id__isnull=False), name="pack_proceed_names_an_option"
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


def signature_pdf_path(instance: ConsentSignature, filename: str) -> str:
    return f"signed-packs/{uuid.uuid4().hex}.pdf"


class ConsentSignature(models.Model):
    class Relationship(models.TextChoices):
        SELF = "self", "The patient"
        PARENT = "parent", "Parent"
        GUARDIAN = "guardian", "Legal guardian"
        OTHER = "other", "Other person responsible"

    case = models.ForeignKey("plans.Case", on_delete=models.PROTECT, related_name="signatures")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    version = models.ForeignKey(PackVersion, on_delete=models.PROTECT, related_name="signatures")
    version_sha256 = models.CharField(max_length=64)
    session = models.ForeignKey(PackSession, on_delete=models.PROTECT, related_name="signatures")
    option_public_id = models.UUIDField(null=True, blank=True)
    option_title = models.CharField(max_length=120, blank=True)
    signer_name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=10, choices=Relationship.choices)
    verified_by = models.CharField(max_length=20, choices=VerificationMethod.choices)
    signed_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    consent_statements = models.JSONField(help_text="The exact wording of each statement ticked.")
    # The drawn signature as SVG path data in a 0–1000 × 0–300 box; empty when only typed.
    drawn_signature = models.TextField(blank=True)
    pdf = models.FileField(upload_to=signature_pdf_path, max_length=200, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    submission_key = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-signed_at"]
        indexes = [models.Index(fields=["case", "-signed_at"], name="pack_signature_by_case_newest")]
        constraints = [
            models.UniqueConstraint(fields=["version", "session"], name="pack_signature_once_per_version_session"),
        ]

    def __str__(self) -> str:
        return f"Signed by {self.signer_name} on {self.signed_at:%d %b %Y}"

    def clean(self) -> None:
        if not self.signer_name.strip():
            raise ValidationError({"signer_name": "Type your full name to sign."})
