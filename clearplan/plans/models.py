"""A case is one treatment conversation with one patient. Its plan has one or more options,
each a list of procedure lines; its images are the X-rays and photos that explain it.

Teeth are stored as FDI codes (clearplan.lib.teeth) and shown in the clinic's numbering.
Money is Decimal in the clinic's currency.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class PlanType(models.TextChoices):
    ORAL_HEALTH = "oral_health", "Oral health"
    ELECTIVE = "elective", "Aesthetic / elective"
    BOTH = "both", "Oral health and aesthetic"


class Case(models.Model):
    class Source(models.TextChoices):
        BUILT = "built", "Built in Clearplan"
        PMS = "pms", "Imported from the practice-management system"

    class NoPackReason(models.TextChoices):
        NONE = "", "—"
        PROCEDURAL_FOLLOW_UP = "procedural_follow_up", "Procedural follow-up treatment"
        NO_NEW_INFORMATION = "no_new_information", "No new information or decision needed"

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="cases")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="cases")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    dentist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases_as_dentist")
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="cases_as_coordinator",
        null=True,
        blank=True,
    )
    conversation_date = models.DateField(help_text="The day of the treatment conversation, in the clinic's time zone.")
    plan_type = models.CharField(max_length=20, choices=PlanType.choices)
    key_points = models.TextField(blank=True, help_text="The dentist's key points for the team.")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.BUILT)
    pms_reference = models.CharField(max_length=64, blank=True)
    fee_schedule = models.ForeignKey(
        "catalog.FeeSchedule",
        on_delete=models.PROTECT,
        related_name="cases",
        null=True,
        blank=True,
        help_text="Which of the clinic's fee schedules prices this plan; the clinic's default when empty.",
    )
    pack_needed = models.BooleanField(default=True)
    no_pack_reason = models.CharField(max_length=30, choices=NoPackReason.choices, blank=True, default="")
    no_pack_note = models.CharField(max_length=300, blank=True)
    template = models.ForeignKey(
        "catalog.PackTemplate",
        on_delete=models.PROTECT,
        related_name="cases",
        null=True,
        blank=True,
        help_text="The pack template the words of this case's pack come from.",
    )
    # "Ready to send" is a checkpoint, not a lock: the plan can still be changed until the pack is sent.
    ready_at = models.DateTimeField(null=True, blank=True)
    ready_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-conversation_date", "-created_at"]
        indexes = [
            models.Index(fields=["clinic", "-conversation_date"], name="case_by_clinic_newest"),
            models.Index(fields=["patient", "-conversation_date"], name="case_by_patient_newest"),
        ]
        constraints = [
            # "No pack needed" is always a deliberate, counted exception with a reason.
            models.CheckConstraint(
                condition=Q(pack_needed=True, no_pack_reason="") | (Q(pack_needed=False) & ~Q(no_pack_reason="")),
                name="case_no_pack_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Case for {self.patient} on {self.conversation_date:%d %b %Y}"


class PlanOption(models.Model):
    class Kind(models.TextChoices):
        TREATMENT = "treatment", "Treatment option"
        NO_TREATMENT = "no_treatment", "No treatment — what to expect"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="options")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TREATMENT)
    summary = models.TextField(blank=True, help_text="A few plain sentences for the patient.")
    is_recommended = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(is_recommended=True), name="plan_option_one_recommended_per_case"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class PlanLine(models.Model):
    class FeeSource(models.TextChoices):
        SCHEDULE = "schedule", "From the fee schedule"
        OVERRIDE = "override", "Changed for this plan"

    option = models.ForeignKey(PlanOption, on_delete=models.CASCADE, related_name="lines")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    procedure = models.ForeignKey("catalog.Procedure", on_delete=models.PROTECT, related_name="plan_lines")
    tooth = models.PositiveSmallIntegerField(null=True, blank=True, help_text="FDI tooth code.")
    surfaces = models.CharField(max_length=7, blank=True, help_text="Canonical surface letters, e.g. MOD.")
    arch = models.CharField(max_length=5, blank=True, help_text="upper or lower, for arch procedures.")
    quadrant = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1 to 4, for quadrant procedures.")
    quantity = models.PositiveSmallIntegerField(default=1)
    fee = models.DecimalField(max_digits=10, decimal_places=2, help_text="Fee for one, in the clinic's currency.")
    fee_source = models.CharField(max_length=10, choices=FeeSource.choices, default=FeeSource.SCHEDULE)
    fee_schedule = models.ForeignKey(
        "catalog.FeeSchedule", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    fee_effective_from = models.DateField(null=True, blank=True)
    override_reason = models.CharField(max_length=300, blank=True)
    phase = models.PositiveSmallIntegerField(default=1)
    note = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["phase", "position", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="plan_line_quantity_at_least_one"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="plan_line_fee_not_negative"),
            models.CheckConstraint(condition=Q(phase__gte=1), name="plan_line_phase_from_one"),
            models.CheckConstraint(
                condition=~Q(fee_source="override") | ~Q(override_reason=""),
                name="plan_line_override_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(tooth__isnull=True) | Q(tooth__gte=11, tooth__lte=48) | Q(tooth__gte=51, tooth__lte=85),
                name="plan_line_tooth_is_fdi",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.procedure} ×{self.quantity}"


def case_image_path(instance: CaseImage, filename: str) -> str:
    # Random names only: nothing about the patient in a path on disk.
    return f"case-images/{instance.case.clinic.public_id}/{uuid.uuid4().hex}{filename[filename.rfind('.') :]}"


class CaseImage(models.Model):
    class Kind(models.TextChoices):
        XRAY = "xray", "X-ray"
        PHOTO = "photo", "Photo"
        SCAN = "scan", "Intra-oral scan"
        OTHER = "other", "Other"

    class Processing(models.TextChoices):
        PENDING = "pending", "Preparing"
        READY = "ready", "Ready"
        FAILED = "failed", "Could not be prepared"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="images")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PHOTO)
    source_format = models.CharField(max_length=10, help_text="JPEG, PNG, WEBP or DICOM, read from the content.")
    original = models.FileField(upload_to=case_image_path, max_length=200)
    original_sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    thumb = models.FileField(upload_to=case_image_path, max_length=200, blank=True)
    medium = models.FileField(upload_to=case_image_path, max_length=200, blank=True)
    large = models.FileField(upload_to=case_image_path, max_length=200, blank=True)
    processing = models.CharField(max_length=10, choices=Processing.choices, default=Processing.PENDING)
    caption = models.CharField(max_length=300, blank=True)
    markup = models.JSONField(
        default=list,
        blank=True,
        help_text="Arrows, circles and boxes drawn over the image, in coordinates from 0 to 1; the file is untouched.",
    )
    is_key = models.BooleanField(default=False, help_text="One of the images chosen for the pack.")
    key_order = models.PositiveSmallIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_key", "key_order", "uploaded_at", "pk"]
        indexes = [models.Index(fields=["case", "is_key", "key_order"], name="case_image_key_first")]

    def __str__(self) -> str:
        return self.caption or f"{self.get_kind_display()} {self.uploaded_at:%d %b %Y}"
