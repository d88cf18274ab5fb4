"""Reading pack templates and the education library, and building the preview a patient would see.
Templates belong to the organisation of the clinic the user is working in; anything else is a 404."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.http import Http404
from django.utils.safestring import SafeString, mark_safe

from clearplan.accounts.forms import national_phone
from clearplan.accounts.models import Membership
from clearplan.catalog.models import EducationItem, PackTemplate, PackTemplateQuerySet, Procedure
from clearplan.catalog.placeholders import SAMPLE_PATIENT_FIRST_NAME, render_html, render_text
from clearplan.plans.models import PlanType

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.accounts.models import Clinic, Organisation


def pack_templates_of(organisation: Organisation | int) -> PackTemplateQuerySet:
    organisation_id = organisation if isinstance(organisation, int) else organisation.pk
    return PackTemplate.objects.filter(organisation_id=organisation_id)


def get_pack_template_for_user(request: HttpRequest, public_id: uuid.UUID | str) -> PackTemplate:
    """A template of the active clinic's organisation, or 404."""
    clinic = getattr(request, "clinic", None)
    if clinic is None or not request.user.is_authenticated:
        raise Http404("No such template.")
    try:
        key = uuid.UUID(str(public_id))
        return pack_templates_of(clinic.organisation_id).get(public_id=key)
    except (ValueError, PackTemplate.DoesNotExist) as error:
        raise Http404("No such template.") from error


@dataclass
class PlanTypeGroup:
    plan_type: str
    label: str
    templates: list[PackTemplate] = field(default_factory=list)


def pack_templates_by_plan_type(organisation: Organisation, *, include_retired: bool = False) -> list[PlanTypeGroup]:
    """Every template in one query, grouped in the order plan types are listed; empty groups left out."""
    templates = pack_templates_of(organisation).select_related("updated_by").order_by("name")
    if not include_retired:
        templates = templates.active()
    groups = {value: PlanTypeGroup(value, label) for value, label in PlanType.choices}
    for template in templates:
        groups[template.plan_type].templates.append(template)
    return [group for group in groups.values() if group.templates]


def practitioner_name_for_preview(clinic: Clinic) -> str:
    """A real practitioner's name at the clinic, so staff see the preview as patients will."""
    membership = (
        Membership.objects.filter(clinic=clinic, role=Membership.Role.PRACTITIONER)
        .select_related("user")
        .order_by("-clinical_role", "user__first_name", "user__last_name")
        .first()
    )
    return membership.user.display_name if membership is not None else ""


def sample_values(clinic: Clinic) -> dict[str, str]:
    return {
        "patient_first_name": SAMPLE_PATIENT_FIRST_NAME,
        "dentist_name": practitioner_name_for_preview(clinic),
        "clinic_name": clinic.name,
        "clinic_phone": national_phone(clinic),
    }


@dataclass(frozen=True)
class PreviewLine:
    code: str
    name: str
    quantity: int
    phase: int


@dataclass(frozen=True)
class PreviewOption:
    title: str
    recommended: bool
    no_treatment: bool
    lines: list[PreviewLine]


@dataclass(frozen=True)
class PreviewQuestion:
    question: str
    answer: SafeString


@dataclass(frozen=True)
class PreviewEducation:
    title: str
    body: SafeString


@dataclass(frozen=True)
class Preview:
    clinic_name: str
    cover_message: SafeString
    what_we_found: SafeString
    your_options_intro: SafeString
    options: list[PreviewOption]
    education: list[PreviewEducation]
    costs_intro: SafeString
    next_steps: SafeString
    questions: list[PreviewQuestion]
    aftercare: SafeString
    sending_script: str


def _html(text: Any, values: Mapping[str, str]) -> SafeString:
    # render_html escapes the text and every value before adding its own <p> and <br> tags.
    return mark_safe(render_html(text if isinstance(text, str) else "", values))


def build_preview(
    content: Mapping[str, Any], *, organisation: Organisation | int, values: Mapping[str, str]
) -> Preview:
    """What the patient would read, from saved or typed template content. Content that is not
    (yet) well formed is shown as far as it can be, so the preview keeps up while someone types."""
    raw_options = content.get("default_options")
    options_in: list[Any] = raw_options if isinstance(raw_options, list) else []
    codes = {
        str(line.get("code", "")).upper()
        for option in options_in
        if isinstance(option, Mapping) and isinstance(option.get("lines"), list)
        for line in option["lines"]
        if isinstance(line, Mapping)
    }
    procedures: dict[str, Procedure] = {}
    education: list[PreviewEducation] = []
    if codes:
        procedures = {p.code: p for p in Procedure.objects.filter(organisation=organisation, code__in=codes)}
        education = [
            PreviewEducation(item.title, _html(item.body, values))
            for item in EducationItem.objects.filter(organisation=organisation, procedure__code__in=codes).order_by(
                "procedure__code", "title"
            )
        ]
    options = []
    for option in options_in:
        if not isinstance(option, Mapping):
            continue
        lines = []
        for line in option.get("lines") or []:
            if not isinstance(line, Mapping):
                continue
            code = str(line.get("code", "")).upper()
            procedure = procedures.get(code)
            quantity = line.get("quantity", 1)
            phase = line.get("phase", 1)
            lines.append(
                PreviewLine(
                    code=code,
                    name=procedure.name if procedure is not None else f"Procedure {code}",
                    quantity=quantity if isinstance(quantity, int) else 1,
                    phase=phase if isinstance(phase, int) else 1,
                )
            )
        options.append(
            PreviewOption(
                title=str(option.get("title", "")),
                recommended=option.get("recommended") is True,
                no_treatment=option.get("kind") == "no_treatment",
                lines=lines,
            )
        )
    raw_questions = content.get("questions")
    questions = [
        PreviewQuestion(render_text(str(item.get("question", "")), values), _html(item.get("answer", ""), values))
        for item in (raw_questions if isinstance(raw_questions, list) else [])
        if isinstance(item, Mapping)
    ]
    return Preview(
        clinic_name=values.get("clinic_name", ""),
        cover_message=_html(content.get("cover_message"), values),
        what_we_found=_html(content.get("what_we_found"), values),
        your_options_intro=_html(content.get("your_options_intro"), values),
        options=options,
        education=education,
        costs_intro=_html(content.get("costs_intro"), values),
        next_steps=_html(content.get("next_steps"), values),
        questions=questions,
        aftercare=_html(content.get("aftercare"), values),
        sending_script=render_text(str(content.get("sending_script") or ""), values),
    )


def template_content(template: PackTemplate) -> dict[str, Any]:
    return {
        name: getattr(template, name)
        for name in (
            "cover_message",
            "what_we_found",
            "your_options_intro",
            "costs_intro",
            "next_steps",
            "questions",
            "aftercare",
            "sending_script",
            "default_options",
        )
    }


def education_items_of(organisation: Organisation, codes: Iterable[str]) -> list[EducationItem]:
    return list(
        EducationItem.objects.filter(organisation=organisation, procedure__code__in=list(codes)).select_related(
            "procedure"
        )
    )
