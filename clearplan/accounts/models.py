"""Organisations, clinics, staff and their roles in each clinic."""

from __future__ import annotations

import datetime
import uuid
import zoneinfo
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a time zone name such as Australia/Sydney.")


class Organisation(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    require_two_factor = models.BooleanField(
        default=False, help_text="Every staff member must set up an authenticator app before using Clearplan."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Clinic(models.Model):
    class Locale(models.TextChoices):
        EN_AU = "en-AU", "English (Australia)"
        EN_US = "en-US", "English (United States)"
        EN_GB = "en-GB", "English (United Kingdom)"

    class ToothNumbering(models.TextChoices):
        FDI = "fdi", "FDI (two-digit, e.g. 36)"
        UNIVERSAL = "universal", "Universal (1–32)"
        PALMER = "palmer", "Palmer (quadrant and number)"

    LOCALE_COUNTRY = {"en-AU": "AU", "en-US": "US", "en-GB": "GB"}

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="clinics")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    address = models.TextField(blank=True)
    phone = models.CharField(max_length=32, blank=True, help_text="Stored in international format.")
    email = models.EmailField(blank=True)
    time_zone = models.CharField(max_length=64, default="Australia/Sydney", validators=[validate_time_zone])
    locale = models.CharField(max_length=5, choices=Locale.choices, default=Locale.EN_AU)
    currency = models.CharField(
        max_length=3, default="AUD", validators=[RegexValidator(r"^[A-Z]{3}$", "Use a three-letter code such as AUD.")]
    )
    tooth_numbering = models.CharField(max_length=10, choices=ToothNumbering.choices, default=ToothNumbering.FDI)
    logo = models.ImageField(upload_to="clinic-logos/", blank=True)
    brand_colour = models.CharField(
        max_length=7,
        default="#1F6F78",
        validators=[RegexValidator(r"^#[0-9A-Fa-f]{6}$", "Use a colour such as #1F6F78.")],
    )
    pack_verification = models.CharField(
        "how patients prove who they are",
        max_length=20,
        choices=[
            ("date_of_birth", "Date of birth"),
            ("code", "A one-time code sent by SMS or email"),
        ],
        default="date_of_birth",
        help_text="Asked before a patient sees anything in their pack.",
    )
    pack_link_days = models.PositiveSmallIntegerField(
        "days a pack link works",
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="After this a patient asks the clinic for a new link.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="clinic_name_unique_in_organisation"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def country(self) -> str:
        """Two-letter country used to read phone numbers typed without a country code."""
        return self.LOCALE_COUNTRY.get(self.locale, "AU")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A member of a practice's team. Signs in with an email address."""

    username = None  # type: ignore[assignment]
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField("email address", unique=True)
    first_name = models.CharField("first name", max_length=150)
    last_name = models.CharField("last name", max_length=150, blank=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="staff", null=True, blank=True
    )
    is_organisation_admin = models.BooleanField(
        default=False, help_text="Sees and manages every clinic in the organisation."
    )
    notify_by_email = models.BooleanField(default=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["first_name"]
    # An email-login manager stands in for Django's username-based one.
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        ordering = ["first_name", "last_name"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_unique_ignoring_case")]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email


class Membership(models.Model):
    """A staff member's role in one clinic."""

    class Role(models.TextChoices):
        MANAGER = "manager", "Owner / manager"
        PRACTITIONER = "practitioner", "Practitioner"
        COORDINATOR = "coordinator", "Treatment coordinator"
        FRONT_DESK = "front_desk", "Front desk / dental assistant"

    class ClinicalRole(models.TextChoices):
        NONE = "", "—"
        DENTIST = "dentist", "Dentist"
        ORTHODONTIST = "orthodontist", "Orthodontist"
        HYGIENIST = "hygienist", "Hygienist"
        ORAL_HEALTH_THERAPIST = "oral_health_therapist", "Oral-health therapist"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    clinical_role = models.CharField(max_length=30, choices=ClinicalRole.choices, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "clinic"], name="membership_one_role_per_clinic"),
            models.CheckConstraint(
                condition=~models.Q(role="practitioner") | ~models.Q(clinical_role=""),
                name="membership_practitioner_has_clinical_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.clinic}"


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def pending(self) -> InvitationQuerySet:
        """Not yet accepted or withdrawn; may still have expired (see Invitation.status)."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)


class Invitation(models.Model):
    """An emailed offer to join a clinic in a role.

    Only a SHA-256 of the link's token is stored, so a copy of the database cannot be
    used to accept someone else's invitation. Resending makes a fresh token.
    """

    VALID_FOR_DAYS = 7

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a reply"
        EXPIRED = "expired", "Expired"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Withdrawn"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField()
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=20, choices=Membership.Role.choices)
    clinical_role = models.CharField(max_length=30, choices=Membership.ClinicalRole.choices, blank=True, default="")
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open invitation per person per clinic: a second invite is a resend.
            models.UniqueConstraint(
                "clinic",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email_and_clinic",
            ),
            models.CheckConstraint(
                condition=~models.Q(role="practitioner") | ~models.Q(clinical_role=""),
                name="invitation_practitioner_has_clinical_role",
            ),
        ]
        indexes = [models.Index(fields=["clinic", "-created_at"], name="invitation_by_clinic_newest")]

    def __str__(self) -> str:
        return f"Invitation for {self.email} to {self.clinic}"

    def status_at(self, now: datetime.datetime) -> str:
        if self.accepted_at is not None:
            return self.Status.ACCEPTED
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if now >= self.expires_at:
            return self.Status.EXPIRED
        return self.Status.PENDING

    @property
    def status(self) -> str:
        return self.status_at(timezone.now())


class SignInThrottle(models.Model):
    """Sign-in attempts for one email address, and the lock they lead to.

    Keyed by the address typed, not by a user, so an address with no account is
    counted and locked exactly like a real one and the form gives nothing away.

    An attempt is counted (`attempts`) before its password is checked, so requests
    sent side by side cannot each try a password before any failure is recorded;
    `failures` counts the ones that turned out wrong.
    """

    email = models.CharField(max_length=254, unique=True, help_text="Lower-cased address as typed.")
    attempts = models.PositiveIntegerField(default=0, help_text="Attempts counted in the current lock-out period.")
    failures = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["last_attempt_at"], name="throttle_by_last_attempt")]

    def __str__(self) -> str:
        return f"{self.email}: {self.failures} unsuccessful sign-ins"

    def is_locked_at(self, now: datetime.datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until
