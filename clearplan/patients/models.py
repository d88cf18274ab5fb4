"""Patients of a clinic, with their contact details, consent, guardian and alerts."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import RegexValidator
from django.db import models, router

from clearplan.accounts.models import Clinic, Membership
from clearplan.lib.clinic_time import clinic_now
from clearplan.patients import phones
from clearplan.patients.search import search_text_for

ADULT_AGE = 18
EARLIEST_BIRTH_DATE = date(1900, 1, 1)

e164_validator = RegexValidator(
    phones.E164_PATTERN, "Store phone numbers in international format, such as +61412345678."
)


def clinic_today(clinic: Clinic) -> date:
    """Today's date where the clinic is; a birthday starts at midnight in Perth, not in UTC."""
    return clinic_now(clinic).date()


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class Patient(models.Model):
    class Channel(models.TextChoices):
        SMS = "sms", "SMS (text message)"
        EMAIL = "email", "Email"

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    first_name = models.CharField("legal first name", max_length=150)
    last_name = models.CharField("legal last name", max_length=150)
    preferred_name = models.CharField(
        "preferred name", max_length=150, blank=True, help_text="What the patient likes to be called, if different."
    )
    date_of_birth = models.DateField("date of birth")

    mobile = models.CharField(max_length=20, blank=True, validators=[e164_validator])
    email = models.EmailField(max_length=254, blank=True)
    preferred_channel = models.CharField(
        "preferred way to contact", max_length=10, choices=Channel.choices, default=Channel.SMS
    )
    consent_sms = models.BooleanField("agrees to receive SMS", default=False)
    consent_email = models.BooleanField("agrees to receive email", default=False)

    pms_id = models.CharField(
        "practice-management system ID",
        max_length=64,
        blank=True,
        help_text="The patient's number in your practice-management software, if they have one.",
    )
    primary_dentist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="primary_patients",
        verbose_name="primary dentist",
    )

    guardian_name = models.CharField("parent or guardian's name", max_length=200, blank=True)
    guardian_relationship = models.CharField("relationship to the patient", max_length=100, blank=True)
    guardian_mobile = models.CharField(
        "parent or guardian's mobile", max_length=20, blank=True, validators=[e164_validator]
    )
    guardian_email = models.EmailField("parent or guardian's email", max_length=254, blank=True)

    medical_alerts = models.TextField(blank=True)
    notes = models.TextField(blank=True)

    # Folded copy of the names (see search.py); refreshed on every save so it cannot drift.
    search_name = models.CharField(max_length=700, editable=False, default="")

    # Random, from the "Add a patient" form: a second submission of the same form (a double
    # click, a resend after a slow network) finds this patient instead of adding another.
    creation_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["search_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "pms_id"],
                condition=~models.Q(pms_id=""),
                name="patient_pms_id_unique_in_clinic",
                violation_error_message="Another patient at this clinic already has this practice-management ID.",
            ),
            models.CheckConstraint(
                condition=models.Q(date_of_birth__gte=EARLIEST_BIRTH_DATE),
                name="patient_born_after_1900",
                violation_error_message="The date of birth must be after 1 January 1900.",
            ),
        ]
        indexes = [
            # The patient list: one clinic's patients by last name, and name searches within it.
            models.Index(fields=["clinic", "search_name"], name="patient_search_by_name"),
            models.Index(fields=["clinic", "date_of_birth"], name="patient_search_by_birth_date"),
            models.Index(fields=["clinic", "mobile"], name="patient_search_by_mobile"),
            # A parent's text finds their child, and the inbox searches their number.
            models.Index(fields=["clinic", "guardian_mobile"], name="patient_by_guardian_mobile"),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_name = search_text_for(
            first_name=self.first_name, last_name=self.last_name, preferred_name=self.preferred_name
        )
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_name"}
        super().save(*args, **kwargs)

    # -- Names and age ------------------------------------------------------------------

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def list_name(self) -> str:
        """Last name first, as the patient list sorts."""
        return f"{self.last_name}, {self.first_name}"

    @property
    def shows_preferred_name(self) -> bool:
        return bool(self.preferred_name) and self.preferred_name.casefold() != self.first_name.casefold()

    def age_on(self, day: date) -> int:
        return age_on(self.date_of_birth, day)

    @property
    def age(self) -> int:
        return self.age_on(clinic_today(self.clinic))

    @property
    def age_in_words(self) -> str:
        today = clinic_today(self.clinic)
        years = self.age_on(today)
        if years >= 2:
            return f"{years} years"
        months = (today.year - self.date_of_birth.year) * 12 + today.month - self.date_of_birth.month
        if today.day < self.date_of_birth.day:
            months -= 1
        if months < 1:
            return "under 1 month"
        return "1 month" if months == 1 else f"{months} months"

    @property
    def is_minor(self) -> bool:
        return self.age < ADULT_AGE

    @property
    def has_guardian(self) -> bool:
        return bool(self.guardian_name)

    # -- Rules that hold however a patient is saved (forms, imports, the demo) -------------

    def clean(self) -> None:
        errors = patient_rule_errors(self, skip=getattr(self, "unreadable_fields", frozenset()))
        if errors:
            raise ValidationError(errors)

    # Database constraints report at the field they are about, not at the top of the form.
    CONSTRAINT_FIELDS = {"patient_pms_id_unique_in_clinic": "pms_id", "patient_born_after_1900": "date_of_birth"}

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        errors: dict[str, list[str]] = {}
        using = router.db_for_write(self.__class__, instance=self)
        for model_class, constraints in self.get_constraints():
            for constraint in constraints:
                try:
                    # django-stubs leaves out BaseConstraint.validate, which every constraint has.
                    constraint.validate(model_class, self, exclude=exclude, using=using)  # type: ignore[attr-defined]
                except ValidationError as error:
                    field = self.CONSTRAINT_FIELDS.get(constraint.name, NON_FIELD_ERRORS)
                    errors.setdefault(field, []).extend(error.messages)
        if errors:
            raise ValidationError(errors)


def patient_rule_errors(patient: Patient, *, skip: frozenset[str] | set[str] = frozenset()) -> dict[str, str]:
    """Field → message for every rule the patient breaks. Rules that depend on a field listed in
    `skip` (typed, but unreadable, so already reported at that field) are not checked."""
    errors: dict[str, str] = {}
    clinic = patient.clinic if patient.clinic_id else None

    if clinic is not None and patient.date_of_birth and "date_of_birth" not in skip:
        today = clinic_today(clinic)
        if patient.date_of_birth > today:
            errors["date_of_birth"] = "The date of birth can't be in the future."
        elif patient.date_of_birth < EARLIEST_BIRTH_DATE:
            errors["date_of_birth"] = "Check the year: the date of birth must be after 1 January 1900."
        elif patient.age_on(today) < ADULT_AGE:
            if not patient.guardian_name.strip():
                errors["guardian_name"] = "Patients under 18 need a parent or guardian. Enter their name."
            if not patient.guardian_relationship.strip():
                errors["guardian_relationship"] = "Enter how they are related to the patient, for example mother."

    contact_fields = {"mobile", "guardian_mobile", "email", "guardian_email"}
    if not contact_fields & set(skip):
        has_mobile = bool(patient.mobile or patient.guardian_mobile)
        has_email = bool(patient.email or patient.guardian_email)
        country = clinic.country if clinic is not None else phones.FALLBACK_COUNTRY
        for field in ("mobile", "guardian_mobile"):
            problem = phones.mobile_problem(getattr(patient, field), country=country)
            if problem:
                errors[field] = problem
        if patient.consent_sms and not has_mobile:
            errors["consent_sms"] = "Add a mobile number to send SMS, or untick this box."
        if patient.consent_email and not has_email:
            errors["consent_email"] = "Add an email address to send email, or untick this box."

        if patient.preferred_channel == Patient.Channel.SMS and "consent_sms" not in errors:
            if not has_mobile:
                errors["preferred_channel"] = "Add a mobile number to contact this patient by SMS, or choose email."
            elif not patient.consent_sms:
                errors["preferred_channel"] = (
                    "The patient hasn't agreed to SMS. Tick “Agrees to receive SMS”, or choose email."
                )
        elif patient.preferred_channel == Patient.Channel.EMAIL and "consent_email" not in errors:
            if not has_email:
                errors["preferred_channel"] = "Add an email address to contact this patient by email, or choose SMS."
            elif not patient.consent_email:
                errors["preferred_channel"] = (
                    "The patient hasn't agreed to email. Tick “Agrees to receive email”, or choose SMS."
                )

    if clinic is not None and patient.primary_dentist_id and "primary_dentist" not in skip:
        works_here = Membership.objects.filter(
            user_id=patient.primary_dentist_id, clinic=clinic, role=Membership.Role.PRACTITIONER
        ).exists()
        if not works_here:
            errors["primary_dentist"] = "Choose a dentist or other practitioner who works at this clinic."

    return errors


class ContactConsentChange(models.Model):
    """One change to whether the patient agrees to SMS or email, and where it came from: the
    patient's record, a "STOP" text, the unsubscribe link. Shown on the patient's page."""

    class Source(models.TextChoices):
        STAFF = "staff", "Changed by the team"
        SMS_KEYWORD = "sms_keyword", "The patient texted"
        UNSUBSCRIBE_LINK = "unsubscribe_link", "The patient used the unsubscribe link"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consent_changes")
    channel = models.CharField(max_length=10, choices=Patient.Channel.choices)
    agrees = models.BooleanField()
    source = models.CharField(max_length=20, choices=Source.choices)
    # The word the patient texted ("STOP", "START"), when that is the source.
    keyword = models.CharField(max_length=20, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "-created_at"], name="consent_change_by_patient")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} consent {'given' if self.agrees else 'withdrawn'}"
