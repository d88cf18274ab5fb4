"""The composer: a case started from a pack template, suggested procedures added with a tooth,
"Ready to send", and the pack page a patient will read.

A template's options are created with the case. Lines for the whole mouth are added at once;
lines that need a place in the mouth (a tooth, an arch or a quadrant) are not guessed: they are
offered as suggestions on their option until someone gives the place. A code the practice's
catalogue does not have (or has retired) is left out with a note, never half-added.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from clearplan.accounts.forms import national_phone
from clearplan.audit.models import AuditEvent
from clearplan.catalog.models import EducationItem, PackTemplate, Procedure, TreatmentArea, normalise_code
from clearplan.catalog.placeholders import render_html, render_text
from clearplan.plans import services
from clearplan.plans.models import Case, CaseImage, PlanLine, PlanOption
from clearplan.plans.selectors import OptionView, options_with_totals
from clearplan.plans.services import LineInput

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.accounts.models import User
    from clearplan.patients.models import Patient

PLACED_AREAS = (TreatmentArea.TOOTH, TreatmentArea.TOOTH_SURFACES, TreatmentArea.ARCH, TreatmentArea.QUADRANT)


@dataclass
class ComposedCase:
    case: Case
    notes: list[str] = field(default_factory=list)


def _template_options(template: PackTemplate) -> list[dict[str, Any]]:
    raw = template.default_options if isinstance(template.default_options, list) else []
    return [option for option in raw if isinstance(option, dict)]


def _template_lines(option: dict[str, Any]) -> list[dict[str, Any]]:
    raw = option.get("lines") if option.get("kind", "treatment") == "treatment" else None
    return [line for line in (raw or []) if isinstance(line, dict)]


def _whole_number(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else default


def _active_procedures(organisation_id: int, codes: set[str]) -> dict[str, Procedure]:
    found = Procedure.objects.filter(organisation_id=organisation_id, code__in=codes, retired_at__isnull=True)
    return {procedure.code: procedure for procedure in found}


def case_create_from_template(
    *,
    patient: Patient,
    template: PackTemplate,
    dentist: User,
    coordinator: User | None,
    conversation_date: date | None,
    by: User,
    request: HttpRequest | None = None,
) -> ComposedCase:
    """A new case with the template's options and the lines that need no place in the mouth.
    Every change is written to the case's audit history, in one transaction."""
    if template.organisation_id != patient.clinic.organisation_id or template.is_retired:
        raise ValidationError({"template": "Choose one of this practice's current templates."})
    options = _template_options(template)
    codes = {normalise_code(str(line.get("code", ""))) for option in options for line in _template_lines(option)}
    procedures = _active_procedures(patient.clinic.organisation_id, codes)
    notes: list[str] = []
    with transaction.atomic():
        case = services.case_create(
            patient=patient,
            dentist=dentist,
            coordinator=coordinator,
            conversation_date=conversation_date,
            plan_type=template.plan_type,
            key_points="",
            by=by,
            request=request,
        )
        case.template = template
        case.save(update_fields=["template", "updated_at"])
        placeholder = case.options.get()
        created: list[tuple[PlanOption, dict[str, Any]]] = []
        for index, spec in enumerate(options):
            kind = spec.get("kind", PlanOption.Kind.TREATMENT)
            title = str(spec.get("title", "")).strip()
            if index == 0 and kind == PlanOption.Kind.TREATMENT:
                option = services.option_rename(option=placeholder, title=title or "Option A", by=by, request=request)
            else:
                option = services.option_add(case=case, title=title, kind=kind, by=by, request=request)
            created.append((option, spec))
        if options and created[0][0].pk != placeholder.pk:
            services.option_remove(option=placeholder, by=by, request=request)
        recommended = next((option for option, spec in created if spec.get("recommended") is True), None)
        if recommended is not None:
            services.option_set_recommended(option=recommended, by=by, request=request)
        for option, spec in created:
            for line in _template_lines(spec):
                code = normalise_code(str(line.get("code", "")))
                procedure = procedures.get(code)
                if procedure is None:
                    notes.append(
                        f"Item {code} in “{option.title}” is not in this practice's current catalogue, "
                        "so it was left out. Add the right procedure yourself if it is needed."
                    )
                    continue
                if procedure.treatment_area in PLACED_AREAS:
                    continue  # offered as a suggestion until someone says where
                data = LineInput(
                    procedure=procedure,
                    quantity=_whole_number(line.get("quantity"), 1),
                    phase=_whole_number(line.get("phase"), 1),
                )
                try:
                    services.line_add(option=option, data=data, by=by, request=request)
                except ValidationError as error:
                    notes.append(f"{procedure.name} in “{option.title}” was left out: {' '.join(error.messages)}")
        services._audit(
            action=AuditEvent.Action.UPDATE,
            case=case,
            by=by,
            request=request,
            changes={"template": [None, template.name]} | ({"left_out": [None, notes]} if notes else {}),
        )
    case.refresh_from_db()
    return ComposedCase(case=case, notes=notes)


# ---------- Suggested procedures ----------


@dataclass(frozen=True)
class Suggestion:
    """A template line that needs a place in the mouth, not yet on its option."""

    key: str
    procedure: Procedure
    quantity: int
    phase: int

    @property
    def needs_tooth(self) -> bool:
        return self.procedure.treatment_area in (TreatmentArea.TOOTH, TreatmentArea.TOOTH_SURFACES)

    @property
    def needs_surfaces(self) -> bool:
        return self.procedure.surface_range is not None

    @property
    def area_label(self) -> str:
        if self.procedure.treatment_area == TreatmentArea.ARCH:
            return "Arch (upper or lower)"
        if self.procedure.treatment_area == TreatmentArea.QUADRANT:
            return "Quadrant (for example upper right)"
        return ""


def suggestions_for(case: Case, options: Sequence[PlanOption]) -> dict[int, list[Suggestion]]:
    """For each option made from the case's template (matched by title), the template's placed
    lines whose procedure is not on the option yet. Renaming an option lets its suggestions go."""
    template = case.template
    if template is None:
        return {}
    by_title = {option.title: option for option in options}
    wanted: list[tuple[PlanOption, int, dict[str, Any]]] = []
    for spec in _template_options(template):
        option = by_title.get(str(spec.get("title", "")).strip())
        if option is None or option.kind != PlanOption.Kind.TREATMENT:
            continue
        for index, line in enumerate(_template_lines(spec)):
            wanted.append((option, index, line))
    codes = {normalise_code(str(line.get("code", ""))) for _, _, line in wanted}
    procedures = _active_procedures(case.clinic.organisation_id, codes)
    present = set(PlanLine.objects.filter(option__case=case).values_list("option_id", "procedure_id"))
    result: dict[int, list[Suggestion]] = {}
    for option, index, line in wanted:
        procedure = procedures.get(normalise_code(str(line.get("code", ""))))
        if procedure is None or procedure.treatment_area not in PLACED_AREAS:
            continue
        if (option.pk, procedure.pk) in present:
            continue
        result.setdefault(option.pk, []).append(
            Suggestion(
                key=f"{index}",
                procedure=procedure,
                quantity=_whole_number(line.get("quantity"), 1),
                phase=_whole_number(line.get("phase"), 1),
            )
        )
    return result


@dataclass(frozen=True)
class SuggestionPick:
    suggestion: Suggestion
    tooth: str = ""
    surfaces: str = ""
    area: str = ""


def option_add_suggestions(
    *, option: PlanOption, picks: Sequence[SuggestionPick], by: User, request: HttpRequest | None = None
) -> list[PlanLine]:
    """Add the chosen suggestions to the option, all or none: a ValidationError maps
    "<key>-<field>" to the message for each suggestion that could not be added."""
    if not picks:
        raise ValidationError({"__all__": "Tick at least one procedure to add."})
    errors: dict[str, list[str]] = {}
    added: list[PlanLine] = []
    with transaction.atomic():
        for pick in picks:
            data = LineInput(
                procedure=pick.suggestion.procedure,
                tooth=pick.tooth if pick.suggestion.needs_tooth else "",
                surfaces=pick.surfaces,
                area=pick.area,
                quantity=pick.suggestion.quantity,
                phase=pick.suggestion.phase,
            )
            try:
                # Each line in its own savepoint so every problem is reported, then none is kept.
                with transaction.atomic():
                    added.append(services.line_add(option=option, data=data, by=by, request=request))
            except ValidationError as error:
                for name, messages in error.message_dict.items():
                    errors.setdefault(f"{pick.suggestion.key}-{name}", []).extend(messages)
        if errors:
            transaction.set_rollback(True)
    if errors:
        raise ValidationError(errors)
    return added


# ---------- Ready to send ----------


def check_plan_complete(case: Case, *, before: str) -> None:
    """What a pack needs, checked when it is marked ready and again when it is sent: the case needs a
    pack, has at least one option, and no treatment option is empty. `before` ends each message."""
    if not case.pack_needed:
        raise ValidationError("This case is marked as needing no pack. Say a pack is needed first.")
    options = list(case.options.all())
    if not options:
        raise ValidationError(f"Add at least one option {before}.")
    empty = [
        option.title for option in options if option.kind == PlanOption.Kind.TREATMENT and not option.lines.exists()
    ]
    if empty:
        names = ", ".join(f"“{title}”" for title in empty)
        raise ValidationError(f"Add procedures to {names}, or remove the option, {before}.")


def case_mark_ready(*, case: Case, by: User, request: HttpRequest | None = None) -> Case:
    """Mark the pack ready for sending. The plan stays editable until it is sent; marking again
    after changes records the new time."""
    with transaction.atomic():
        current = services._locked_case(case)
        check_plan_complete(current, before="before the pack is ready")
        previous = current.ready_at
        current.ready_at = timezone.now()
        current.ready_by = by
        current.save(update_fields=["ready_at", "ready_by", "updated_at"])
        services._audit(
            action=AuditEvent.Action.UPDATE,
            case=current,
            by=by,
            request=request,
            changes={"ready_to_send": [previous.isoformat() if previous else None, current.ready_at.isoformat()]},
        )
    return current


# ---------- The pack page ----------


@dataclass(frozen=True)
class PackLine:
    name: str
    explanation: str
    where: PlanLine
    quantity: int
    amount: Decimal


@dataclass(frozen=True)
class PackOption:
    view: OptionView
    lines: list[PackLine]

    @property
    def option(self) -> PlanOption:
        return self.view.option


@dataclass(frozen=True)
class PackQuestion:
    question: str
    answer: SafeString


@dataclass(frozen=True)
class PackEducation:
    title: str
    body: SafeString


@dataclass(frozen=True)
class PackImage:
    image: CaseImage
    url: str
    srcset: str = ""


@dataclass(frozen=True)
class PackPage:
    case: Case
    patient_first_name: str
    dentist_name: str
    clinic_name: str
    clinic_phone: str
    cover_message: SafeString
    what_we_found: SafeString
    your_options_intro: SafeString
    costs_intro: SafeString
    next_steps: SafeString
    aftercare: SafeString
    questions: list[PackQuestion]
    options: list[PackOption]
    images: list[PackImage]
    education: list[PackEducation]
    logo_url: str = ""

    @property
    def recommended(self) -> PackOption | None:
        return next((option for option in self.options if option.option.is_recommended), None)


def placeholder_values(case: Case) -> dict[str, str]:
    patient = case.patient
    return {
        "patient_first_name": patient.preferred_name or patient.first_name,
        "dentist_name": case.dentist.display_name,
        "clinic_name": case.clinic.name,
        "clinic_phone": national_phone(case.clinic),
        "team_member_name": case.coordinator.display_name if case.coordinator_id and case.coordinator else "",
    }


def key_images(case: Case) -> list[CaseImage]:
    return list(
        case.images.filter(is_key=True, processing=CaseImage.Processing.READY).order_by("key_order", "uploaded_at")
    )


def build_pack_page(
    case: Case,
    *,
    image_url: Callable[[CaseImage], str],
    image_srcset: Callable[[CaseImage], str] | None = None,
    logo_url: str = "",
) -> PackPage:
    """Everything the patient's pack page shows, with placeholders filled in for this patient.
    `image_url` says where the reader fetches a picture (the staff preview's or the patient's own
    routes), `image_srcset` the responsive sizes, `logo_url` the clinic's logo."""
    values = placeholder_values(case)
    template = case.template

    def html(text: str | None) -> SafeString:
        # render_html escapes the text and every value before adding its own <p> and <br> tags.
        return mark_safe(render_html(text or "", values))

    views = options_with_totals(case)
    options = [
        PackOption(
            view=view,
            lines=[
                PackLine(
                    name=line.procedure.name,
                    explanation=line.procedure.patient_explanation,
                    where=line,
                    quantity=line.quantity,
                    amount=(line.fee * line.quantity).quantize(Decimal("0.01")),
                )
                for line in view.lines
            ],
        )
        for view in views
    ]
    procedure_ids = {line.procedure_id for view in views for line in view.lines}
    categories = {line.procedure.category for view in views for line in view.lines}
    education_items = EducationItem.objects.filter(
        organisation_id=case.clinic.organisation_id, procedure_id__in=procedure_ids
    )
    education_by_category = EducationItem.objects.filter(
        organisation_id=case.clinic.organisation_id, procedure__isnull=True, category__in=categories
    )
    seen: set[int] = set()
    education = []
    for item in [*education_items.order_by("title"), *education_by_category.order_by("title")]:
        if item.pk not in seen:
            seen.add(item.pk)
            education.append(PackEducation(item.title, html(item.body)))
    raw_questions = template.questions if template is not None and isinstance(template.questions, list) else []
    questions = [
        PackQuestion(render_text(str(item.get("question", "")), values), html(str(item.get("answer", ""))))
        for item in raw_questions
        if isinstance(item, dict) and item.get("question")
    ]
    return PackPage(
        case=case,
        patient_first_name=values["patient_first_name"],
        dentist_name=values["dentist_name"],
        clinic_name=values["clinic_name"],
        clinic_phone=values["clinic_phone"],
        cover_message=html(template.cover_message if template else ""),
        what_we_found=html(template.what_we_found if template else ""),
        your_options_intro=html(template.your_options_intro if template else ""),
        costs_intro=html(template.costs_intro if template else ""),
        next_steps=html(template.next_steps if template else ""),
        aftercare=html(template.aftercare if template else ""),
        questions=questions,
        options=options,
        images=[
            PackImage(image=image, url=image_url(image), srcset=image_srcset(image) if image_srcset else "")
            for image in key_images(case)
        ],
        education=education,
        logo_url=logo_url,
    )


def readable_text_colour(brand_colour: str) -> str:
    """Black or white, whichever reads better on the brand colour (WCAG relative luminance)."""
    red, green, blue = (int(brand_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
    # Contrast with white is 1.05 / (L + 0.05); with black (L + 0.05) / 0.05. Pick the larger.
    return "#ffffff" if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 else "#111111"
