"""The procedure catalogue (one per organisation) and each clinic's fee schedules.

Procedures carry our own plain-language names. A practice's licensed code descriptions
(the ADA's or the CDT's wording) are never shipped with Clearplan: they arrive only through
the practice's own import and live in `licensed_description`.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower

from clearplan.accounts.models import Clinic, Organisation
from clearplan.plans.models import PlanType

# A tooth has five surfaces to restore: mesial, distal, occlusal or incisal, buccal or labial,
# and lingual or palatal.
MAX_SURFACES = 5
MAX_CHAIR_MINUTES = 600
MAX_GAP_WEEKS = 104
CODE_PATTERN = r"^[A-Z0-9][A-Z0-9.\-]{0,19}$"
MAX_FEE = Decimal("99999999.99")

code_validator = RegexValidator(
    CODE_PATTERN, "Use letters, numbers, dots or hyphens only, such as 011 or D0120 (up to 20 characters)."
)


def normalise_code(code: str) -> str:
    """Codes are compared and stored in capitals without spaces: "d0120 " and "D0120" are one code."""
    return "".join(code.split()).upper()


class Category(models.TextChoices):
    DIAGNOSTIC = "diagnostic", "Diagnostic"
    PREVENTIVE = "preventive", "Preventive"
    RESTORATIVE = "restorative", "Restorative (fillings)"
    ENDODONTIC = "endodontic", "Root canal (endodontic)"
    PERIODONTIC = "periodontic", "Gum treatment (periodontic)"
    PROSTHODONTIC = "prosthodontic", "Crowns, bridges and dentures (prosthodontic)"
    IMPLANT = "implant", "Implants"
    ORAL_SURGERY = "oral_surgery", "Oral surgery and extractions"
    ORTHODONTIC = "orthodontic", "Orthodontic"
    COSMETIC = "cosmetic", "Cosmetic"
    OTHER = "other", "Other"


class TreatmentArea(models.TextChoices):
    WHOLE_MOUTH = "whole_mouth", "Whole mouth"
    ARCH = "arch", "One arch (upper or lower)"
    QUADRANT = "quadrant", "One quadrant"
    TOOTH = "tooth", "One tooth"
    TOOTH_SURFACES = "tooth_surfaces", "One tooth and its surfaces"


# The areas where a plan line names a tooth; dependency rules about "the same tooth" need one.
TOOTH_AREAS = frozenset({TreatmentArea.TOOTH, TreatmentArea.TOOTH_SURFACES})


class CodingSystem(models.TextChoices):
    ADA_AU = "ada_au", "ADA Australian Schedule item"
    CDT = "cdt", "CDT code (United States)"
    CUSTOM = "custom", "The practice's own code"


class ProcedureQuerySet(models.QuerySet["Procedure"]):
    def active(self) -> ProcedureQuerySet:
        """What new plans may use: retired items stay only for the plans that already have them."""
        return self.filter(retired_at__isnull=True)

    def retired(self) -> ProcedureQuerySet:
        return self.filter(retired_at__isnull=False)


class Procedure(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="procedures")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    coding_system = models.CharField(max_length=10, choices=CodingSystem.choices, default=CodingSystem.CUSTOM)
    code = models.CharField(max_length=20, validators=[code_validator])
    name = models.CharField(
        max_length=200, help_text="In plain words, for example “Tooth-coloured filling, two surfaces”."
    )
    patient_explanation = models.TextField(
        blank=True, help_text="What the procedure is and why it is done, in words a patient understands."
    )
    licensed_description = models.TextField(
        blank=True,
        help_text="The official description from the practice's licensed code list. Staff only; filled in by import.",
    )
    licensed_description_imported_at = models.DateTimeField(null=True, blank=True)
    category = models.CharField(max_length=20, choices=Category.choices)
    treatment_area = models.CharField(max_length=20, choices=TreatmentArea.choices)
    surfaces_min = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SURFACES)],
        help_text="Fewest surfaces this item covers.",
    )
    surfaces_max = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SURFACES)],
        help_text="Most surfaces this item covers.",
    )
    default_chair_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(MAX_CHAIR_MINUTES)]
    )
    usually_elective = models.BooleanField(
        default=False, help_text="Chosen for appearance or comfort rather than needed for oral health."
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProcedureQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="procedure_code_unique_in_organisation"),
            models.CheckConstraint(
                condition=models.Q(treatment_area="tooth_surfaces")
                | models.Q(surfaces_min__isnull=True, surfaces_max__isnull=True),
                name="procedure_surfaces_only_for_surface_work",
            ),
            models.CheckConstraint(
                condition=models.Q(surfaces_min__isnull=True)
                | models.Q(surfaces_min__gte=1, surfaces_min__lte=MAX_SURFACES),
                name="procedure_surfaces_min_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(surfaces_max__isnull=True)
                | models.Q(surfaces_max__gte=1, surfaces_max__lte=MAX_SURFACES),
                name="procedure_surfaces_max_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(surfaces_min__isnull=True)
                | models.Q(surfaces_max__isnull=True)
                | models.Q(surfaces_min__lte=models.F("surfaces_max")),
                name="procedure_surfaces_min_not_above_max",
            ),
            models.CheckConstraint(
                condition=models.Q(default_chair_minutes__gte=1, default_chair_minutes__lte=MAX_CHAIR_MINUTES),
                name="procedure_chair_minutes_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "category", "code"], name="procedure_by_category"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    @property
    def needs_tooth(self) -> bool:
        return self.treatment_area in TOOTH_AREAS

    @property
    def surface_range(self) -> tuple[int, int] | None:
        """(fewest, most) surfaces a plan line may name, or None when the item is not surface work."""
        if self.treatment_area != TreatmentArea.TOOTH_SURFACES:
            return None
        return (self.surfaces_min or 1, self.surfaces_max or MAX_SURFACES)

    @property
    def surfaces_in_words(self) -> str:
        surface_range = self.surface_range
        if surface_range is None:
            return ""
        fewest, most = surface_range
        if fewest == most:
            return f"exactly {fewest} surface{'s' if fewest != 1 else ''}"
        if most == MAX_SURFACES:
            return f"{fewest} or more surfaces"
        return f"{fewest} to {most} surfaces"

    def clean(self) -> None:
        self.code = normalise_code(self.code or "")
        errors: dict[str, str] = {}
        if self.treatment_area != TreatmentArea.TOOTH_SURFACES and (
            self.surfaces_min is not None or self.surfaces_max is not None
        ):
            errors["surfaces_min"] = "Surfaces only apply to procedures done on a tooth and its surfaces."
        if self.surfaces_min is not None and self.surfaces_max is not None and self.surfaces_min > self.surfaces_max:
            errors["surfaces_max"] = "The most surfaces cannot be fewer than the fewest surfaces."
        if errors:
            raise ValidationError(errors)


class ProcedureDependency(models.Model):
    """`procedure` is done only after `requires` (one procedure, or any procedure of a category),
    on the same tooth, at the same site, or anywhere in the mouth, at least `min_gap_weeks` later.

    For example: a crown after root canal filling on the same tooth (no gap), or an implant at
    least 12 weeks after the tooth at that site was removed. A rule orders two procedures when a
    plan has both; it does not ask for the earlier one to be planned (not every crown follows a
    root canal)."""

    class Site(models.TextChoices):
        SAME_TOOTH = "same_tooth", "On the same tooth"
        SAME_SITE = "same_site", "At the same site (where the tooth is or was)"
        ANYWHERE = "anywhere", "Anywhere in the mouth"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="dependencies")
    requires_procedure = models.ForeignKey(
        Procedure, on_delete=models.PROTECT, null=True, blank=True, related_name="required_by"
    )
    requires_category = models.CharField(max_length=20, choices=Category.choices, blank=True)
    site = models.CharField(max_length=20, choices=Site.choices, default=Site.SAME_TOOTH)
    min_gap_weeks = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(MAX_GAP_WEEKS)], help_text="0 means it can follow straight away."
    )
    note = models.CharField(max_length=300, blank=True, help_text="Why, in a sentence, for the team.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["procedure", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(requires_procedure__isnull=False) & models.Q(requires_category=""))
                | (models.Q(requires_procedure__isnull=True) & ~models.Q(requires_category="")),
                name="dependency_requires_procedure_or_category",
            ),
            models.CheckConstraint(
                condition=~models.Q(requires_procedure=models.F("procedure")),
                name="dependency_not_on_itself",
            ),
            models.CheckConstraint(
                condition=models.Q(min_gap_weeks__lte=MAX_GAP_WEEKS), name="dependency_gap_in_range"
            ),
            models.UniqueConstraint(
                fields=["procedure", "requires_procedure"],
                condition=models.Q(requires_procedure__isnull=False),
                name="dependency_one_rule_per_required_procedure",
            ),
            models.UniqueConstraint(
                fields=["procedure", "requires_category"],
                condition=~models.Q(requires_category=""),
                name="dependency_one_rule_per_required_category",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.procedure.code} after {self.requirement_label}"

    @property
    def requirement_label(self) -> str:
        if self.requires_procedure_id is not None and self.requires_procedure is not None:
            return str(self.requires_procedure)
        return f"any {Category(self.requires_category).label.lower()} procedure" if self.requires_category else ""

    @property
    def in_words(self) -> str:
        """ "After 415 Root canal cleaning, on the same tooth, at least 2 weeks later"."""
        where = {
            self.Site.SAME_TOOTH: "on the same tooth",
            self.Site.SAME_SITE: "at the same site",
            self.Site.ANYWHERE: "anywhere in the mouth",
        }[self.Site(self.site)]
        text = f"After {self.requirement_label}, {where}"
        if self.min_gap_weeks:
            text += f", at least {self.min_gap_weeks} week{'s' if self.min_gap_weeks != 1 else ''} later"
        return text


class FeeSchedule(models.Model):
    class Kind(models.TextChoices):
        STANDARD = "standard", "Standard fees"
        CONCESSION = "concession", "Concession (pensioners, students, staff…)"
        CONTRACTED = "contracted", "Contracted with a health fund or insurer"

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="fee_schedules")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.STANDARD)
    description = models.CharField(
        max_length=300, blank=True, help_text="Who these fees are for, for example “HCF members from July 2025”."
    )
    is_default = models.BooleanField(
        default=False, help_text="Plans use this schedule unless another is chosen, and fall back to it."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint("clinic", Lower("name"), name="fee_schedule_name_unique_in_clinic"),
            # "Exactly one" is kept by the services: the first schedule becomes the default, and
            # the default only ever moves to another schedule, never away.
            models.UniqueConstraint(
                fields=["clinic"], condition=models.Q(is_default=True), name="fee_schedule_one_default_per_clinic"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def currency(self) -> str:
        return self.clinic.currency


class Fee(models.Model):
    """One procedure's fee in one schedule from a date on. Rows are never edited away: a new
    fee is a new row with a later date, so what applied on any past day can be shown."""

    schedule = models.ForeignKey(FeeSchedule, on_delete=models.CASCADE, related_name="fees")
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="fees")
    amount = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_FEE)]
    )
    effective_from = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["schedule", "procedure", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "procedure", "effective_from"], name="fee_one_amount_per_day_and_schedule"
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="fee_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.procedure.code} {self.amount} from {self.effective_from:%Y-%m-%d}"


# ---------- Pack templates and the education library ----------


DEFAULT_SMS_MESSAGE = (
    "Hi {patient_first_name}, it's {team_member_name} from {clinic_name}. As promised, here is your "
    "treatment pack from {dentist_name}, to read in your own time:"
)
DEFAULT_EMAIL_SUBJECT = "Your treatment pack from {clinic_name}"
DEFAULT_EMAIL_MESSAGE = (
    "Hi {patient_first_name},\n\nThank you for coming in. As promised, here is your treatment pack from "
    "{dentist_name}: your X-rays and photos, the options we talked about, what each costs and what happens "
    "next.\n\nRead it in your own time. If anything is unclear, reply from the pack or call us on "
    "{clinic_phone}.\n\nKind regards,\n{team_member_name}\n{clinic_name}"
)
DEFAULT_CONSENT_STATEMENTS = [
    "I have read this treatment pack and had the chance to ask questions about it.",
    "I understand the options, including having no treatment, and what each is likely to cost.",
    "I understand that treatment may change once it begins, and that {dentist_name} will talk any change "
    "through with me before going ahead.",
    "I agree to go ahead with the option I have chosen.",
]


def default_consent_statements() -> list[str]:
    return list(DEFAULT_CONSENT_STATEMENTS)


class PackTemplateQuerySet(models.QuerySet["PackTemplate"]):
    def active(self) -> PackTemplateQuerySet:
        return self.filter(retired_at__isnull=True)


class PackTemplate(models.Model):
    """The words a pack starts from for one kind of treatment conversation: a cover message, the
    sections a patient reads, questions people often ask, aftercare, the options the composer
    pre-fills, and what the team member says when sending it. Text may hold placeholders
    (clearplan.catalog.placeholders); they are checked when saved and filled in per pack."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="pack_templates")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Which starter template this came from, so installing the starter set again adds nothing twice.
    starter_key = models.CharField(max_length=40, blank=True, editable=False)
    name = models.CharField(max_length=120)
    plan_type = models.CharField(max_length=20, choices=PlanType.choices)
    treatments = models.CharField(
        max_length=200,
        blank=True,
        help_text="Words that help the team find it, for example “crown, cracked tooth”.",
    )
    cover_message = models.TextField()
    what_we_found = models.TextField()
    your_options_intro = models.TextField(blank=True)
    costs_intro = models.TextField(blank=True)
    next_steps = models.TextField()
    questions = models.JSONField(default=list, blank=True)
    aftercare = models.TextField(blank=True)
    sending_script = models.TextField()
    # The message that carries the patient's link; the link itself is always added after it.
    sms_message = models.TextField(default=DEFAULT_SMS_MESSAGE)
    email_subject = models.CharField(max_length=200, default=DEFAULT_EMAIL_SUBJECT)
    email_message = models.TextField(default=DEFAULT_EMAIL_MESSAGE)
    # What the patient agrees to by signing, one statement per entry, each ticked separately.
    consent_statements = models.JSONField(default=default_consent_statements, blank=True)
    # [{"title": ..., "recommended": bool, "kind": "treatment" | "no_treatment",
    #   "lines": [{"code": ..., "quantity": int, "phase": int}]}]
    default_options = models.JSONField(default=list, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = PackTemplateQuerySet.as_manager()

    class Meta:
        ordering = ["plan_type", "name"]
        constraints = [
            models.UniqueConstraint("organisation", Lower("name"), name="pack_template_name_unique_in_organisation"),
            models.UniqueConstraint(
                fields=["organisation", "starter_key"],
                condition=~models.Q(starter_key=""),
                name="pack_template_starter_once_per_organisation",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "plan_type", "name"], name="pack_template_by_plan_type"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.retired_at is None

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


class EducationItem(models.Model):
    """A short explanation for patients about one procedure (or a whole category), shown in packs
    beside the options that include it."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="education_items")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    starter_key = models.CharField(max_length=40, blank=True, editable=False)
    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, null=True, blank=True, related_name="education_items"
    )
    category = models.CharField(max_length=20, choices=Category.choices, blank=True)
    title = models.CharField(max_length=160)
    body = models.TextField(help_text="In plain words, a few short paragraphs at most.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(procedure__isnull=False) | ~models.Q(category=""),
                name="education_item_about_procedure_or_category",
            ),
            models.UniqueConstraint(
                fields=["organisation", "starter_key"],
                condition=~models.Q(starter_key=""),
                name="education_item_starter_once_per_organisation",
            ),
        ]

    def __str__(self) -> str:
        return self.title
