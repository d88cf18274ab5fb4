"""Every change to a case and its plan: checked, saved in one transaction and written to the
audit log (record type "case", whichever part of the case changed)."""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record, changes_between
from clearplan.catalog.fees import validate_fee_override
from clearplan.catalog.models import Procedure, TreatmentArea
from clearplan.catalog.selectors import fee_for
from clearplan.lib.clinic_time import clinic_now
from clearplan.lib.teeth import (
    ToothError,
    format_tooth,
    numbering_hint,
    parse_arch,
    parse_quadrant,
    parse_surfaces,
    parse_tooth,
)
from clearplan.plans.models import Case, PlanLine, PlanOption, PlanType
from clearplan.plans.selectors import is_practitioner_at

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.accounts.models import Clinic, User
    from clearplan.patients.models import Patient

CASE_RECORD_TYPE = "case"
NO_TREATMENT_TITLE = "No treatment — what to expect"
NO_TREATMENT_SUMMARY = (
    "What is likely to happen if nothing is done for now, so the choice can be made knowing both sides."
)
MAX_OPTIONS = 8
CASE_FIELDS = ("dentist", "coordinator", "conversation_date", "plan_type", "key_points")


def _audit(*, action: str, case: Case, by: User | None, request: HttpRequest | None, changes: dict[str, Any]) -> None:
    audit_record(
        action=action,
        request=request,
        actor=by,
        clinic=case.clinic,
        obj=case,
        object_type=CASE_RECORD_TYPE,
        changes=changes,
    )


def _case_snapshot(case: Case) -> dict[str, Any]:
    return {
        "dentist": case.dentist.display_name if case.dentist_id else None,
        "coordinator": case.coordinator.display_name if case.coordinator_id and case.coordinator else None,
        "conversation_date": case.conversation_date.isoformat() if case.conversation_date else None,
        "plan_type": case.plan_type,
        "key_points": case.key_points,
    }


def _check_people(*, clinic: Clinic, dentist: User, coordinator: User | None) -> None:
    errors: dict[str, str] = {}
    if not is_practitioner_at(dentist, clinic):
        errors["dentist"] = "Choose a dentist or other practitioner who works at this clinic."
    if coordinator is not None and not coordinator.memberships.filter(clinic=clinic).exists():
        errors["coordinator"] = "Choose someone who works at this clinic."
    if errors:
        raise ValidationError(errors)


def _check_plan_type(plan_type: str) -> None:
    if plan_type not in PlanType.values:
        raise ValidationError({"plan_type": "Choose oral health, aesthetic / elective, or both."})


def _locked_case(case: Case) -> Case:
    # Taking turns on the case keeps "one recommended option" and positions consistent when two
    # people edit the same plan at once.
    return (
        Case.objects.select_for_update(of=("self",)).select_related("clinic", "dentist", "coordinator").get(pk=case.pk)
    )


def case_create(
    *,
    patient: Patient,
    dentist: User,
    coordinator: User | None,
    conversation_date: date | None,
    plan_type: str,
    key_points: str,
    by: User,
    request: HttpRequest | None = None,
) -> Case:
    """A case for the patient at the patient's clinic, with a first (recommended) option to fill in."""
    clinic = patient.clinic
    _check_people(clinic=clinic, dentist=dentist, coordinator=coordinator)
    _check_plan_type(plan_type)
    with transaction.atomic():
        case = Case.objects.create(
            clinic=clinic,
            patient=patient,
            dentist=dentist,
            coordinator=coordinator,
            conversation_date=conversation_date or clinic_now(clinic).date(),
            plan_type=plan_type,
            key_points=key_points.strip(),
            created_by=by,
        )
        first = PlanOption.objects.create(case=case, title="Option A", is_recommended=True, position=0)
        _audit(
            action=AuditEvent.Action.CREATE,
            case=case,
            by=by,
            request=request,
            changes={**changes_between({}, _case_snapshot(case)), "patient": [None, str(patient.public_id)]}
            | {"option_added": [None, first.title]},
        )
    return case


def case_update(
    *,
    case: Case,
    dentist: User,
    coordinator: User | None,
    conversation_date: date,
    plan_type: str,
    key_points: str,
    by: User,
    request: HttpRequest | None = None,
) -> Case:
    _check_people(clinic=case.clinic, dentist=dentist, coordinator=coordinator)
    _check_plan_type(plan_type)
    with transaction.atomic():
        current = _locked_case(case)
        before = _case_snapshot(current)
        current.dentist = dentist
        current.coordinator = coordinator
        current.conversation_date = conversation_date
        current.plan_type = plan_type
        current.key_points = key_points.strip()
        changes = changes_between(before, _case_snapshot(current))
        if changes:
            current.save()
            _audit(action=AuditEvent.Action.UPDATE, case=current, by=by, request=request, changes=changes)
    return current


def case_mark_no_pack(*, case: Case, reason: str, note: str = "", by: User, request: HttpRequest | None = None) -> Case:
    """Record that this conversation needs no pack. The reason is required so each exception is
    deliberate and can be counted."""
    if reason not in {choice for choice in Case.NoPackReason.values if choice}:
        raise ValidationError({"reason": "Choose why this case needs no treatment pack."})
    with transaction.atomic():
        current = _locked_case(case)
        before = {"pack_needed": current.pack_needed, "no_pack_reason": current.no_pack_reason}
        current.pack_needed = False
        current.no_pack_reason = reason
        current.no_pack_note = note.strip()[:300]
        current.save(update_fields=["pack_needed", "no_pack_reason", "no_pack_note", "updated_at"])
        _audit(
            action=AuditEvent.Action.UPDATE,
            case=current,
            by=by,
            request=request,
            changes=changes_between(before, {"pack_needed": False, "no_pack_reason": reason})
            | ({"no_pack_note": [None, current.no_pack_note]} if current.no_pack_note else {}),
        )
    return current


def case_clear_no_pack(*, case: Case, by: User, request: HttpRequest | None = None) -> Case:
    with transaction.atomic():
        current = _locked_case(case)
        if current.pack_needed:
            return current
        before = {"pack_needed": False, "no_pack_reason": current.no_pack_reason}
        current.pack_needed = True
        current.no_pack_reason = ""
        current.no_pack_note = ""
        current.save(update_fields=["pack_needed", "no_pack_reason", "no_pack_note", "updated_at"])
        _audit(
            action=AuditEvent.Action.UPDATE,
            case=current,
            by=by,
            request=request,
            changes=changes_between(before, {"pack_needed": True, "no_pack_reason": ""}),
        )
    return current


# ---------- Options ----------


def _clean_title(title: str) -> str:
    cleaned = " ".join(title.split())
    if not cleaned:
        raise ValidationError({"title": "Give the option a name, for example “Option B: bridge”."})
    if len(cleaned) > 120:
        raise ValidationError({"title": "Keep the name under 120 characters."})
    return cleaned


def _next_title(case: Case) -> str:
    taken = set(case.options.values_list("title", flat=True))
    for letter in string.ascii_uppercase:
        if f"Option {letter}" not in taken:
            return f"Option {letter}"
    return "Another option"


def _next_position(case: Case) -> int:
    highest = case.options.aggregate(highest=Max("position"))["highest"]
    return 0 if highest is None else highest + 1


def option_add(
    *,
    case: Case,
    title: str = "",
    kind: str = PlanOption.Kind.TREATMENT,
    by: User,
    request: HttpRequest | None = None,
) -> PlanOption:
    """A new option at the end. The case's first option is the recommended one until another is chosen."""
    with transaction.atomic():
        current = _locked_case(case)
        if current.options.count() >= MAX_OPTIONS:
            raise ValidationError({"title": f"A plan can have at most {MAX_OPTIONS} options."})
        if kind == PlanOption.Kind.NO_TREATMENT:
            if current.options.filter(kind=PlanOption.Kind.NO_TREATMENT).exists():
                raise ValidationError({"title": "This plan already has a “No treatment” option."})
            title, summary = NO_TREATMENT_TITLE, NO_TREATMENT_SUMMARY
        else:
            kind, summary = PlanOption.Kind.TREATMENT, ""
            title = _clean_title(title) if title.strip() else _next_title(current)
        option = PlanOption.objects.create(
            case=current,
            title=title,
            kind=kind,
            summary=summary,
            is_recommended=not current.options.exists(),
            position=_next_position(current),
        )
        _audit(
            action=AuditEvent.Action.UPDATE,
            case=current,
            by=by,
            request=request,
            changes={"option_added": [None, title]},
        )
    return option


def option_rename(
    *, option: PlanOption, title: str, summary: str | None = None, by: User, request: HttpRequest | None = None
) -> PlanOption:
    cleaned = _clean_title(title)
    with transaction.atomic():
        case = _locked_case(option.case)
        current = case.options.get(pk=option.pk)
        before = {"title": current.title, "summary": current.summary}
        current.title = cleaned
        if summary is not None:
            current.summary = summary.strip()
        changes = changes_between(before, {"title": current.title, "summary": current.summary})
        if changes:
            current.save(update_fields=["title", "summary"])
            _audit(
                action=AuditEvent.Action.UPDATE,
                case=case,
                by=by,
                request=request,
                changes={f"option {before['title']}: {field}": values for field, values in changes.items()},
            )
    return current


def option_remove(*, option: PlanOption, by: User, request: HttpRequest | None = None) -> None:
    """Remove an option and its lines. When it was the recommended one, the first remaining option
    becomes recommended, so a plan with options always has exactly one."""
    with transaction.atomic():
        case = _locked_case(option.case)
        current = case.options.get(pk=option.pk)
        line_count = current.lines.count()
        was_recommended = current.is_recommended
        current.delete()
        new_recommended = None
        if was_recommended:
            new_recommended = case.options.order_by("position", "pk").first()
            if new_recommended is not None:
                new_recommended.is_recommended = True
                new_recommended.save(update_fields=["is_recommended"])
        changes: dict[str, Any] = {"option_removed": [f"{current.title} ({line_count} lines)", None]}
        if new_recommended is not None:
            changes["recommended"] = [current.title, new_recommended.title]
        _audit(action=AuditEvent.Action.UPDATE, case=case, by=by, request=request, changes=changes)


def option_reorder(
    *, case: Case, order: list[PlanOption], by: User, request: HttpRequest | None = None
) -> list[PlanOption]:
    """Put the case's options in `order`, which must name each of them once."""
    with transaction.atomic():
        current = _locked_case(case)
        options = {option.pk: option for option in current.options.all()}
        wanted = [option.pk for option in order]
        if sorted(wanted) != sorted(options):
            raise ValueError("The new order must list each of the case's options once.")
        before = [options[pk].title for pk in sorted(options, key=lambda pk: (options[pk].position, pk))]
        for position, pk in enumerate(wanted):
            if options[pk].position != position:
                options[pk].position = position
                options[pk].save(update_fields=["position"])
        after = [options[pk].title for pk in wanted]
        if before != after:
            _audit(
                action=AuditEvent.Action.UPDATE,
                case=current,
                by=by,
                request=request,
                changes={"order": [before, after]},
            )
    return [options[pk] for pk in wanted]


def option_set_recommended(*, option: PlanOption, by: User, request: HttpRequest | None = None) -> PlanOption:
    with transaction.atomic():
        case = _locked_case(option.case)
        current = case.options.get(pk=option.pk)
        if current.is_recommended:
            return current
        previous = case.options.filter(is_recommended=True).first()
        # Cleared first: the database allows one recommended option per case at any moment.
        case.options.filter(is_recommended=True).update(is_recommended=False)
        current.is_recommended = True
        current.save(update_fields=["is_recommended"])
        _audit(
            action=AuditEvent.Action.UPDATE,
            case=case,
            by=by,
            request=request,
            changes={"recommended": [previous.title if previous else None, current.title]},
        )
    return current


# ---------- Lines ----------


@dataclass(frozen=True)
class LineInput:
    """A line as typed: the tooth and area in the clinic's own notation; `fee_override` blank
    means the fee comes from the fee schedule."""

    procedure: Procedure | None
    tooth: str = ""
    surfaces: str = ""
    area: str = ""
    quantity: int | None = 1
    phase: int | None = 1
    note: str = ""
    fee_override: str | Decimal = ""
    override_reason: str = ""


def _resolve_where(clinic: Clinic, procedure: Procedure, data: LineInput) -> dict[str, Any]:
    """Tooth, surfaces, arch and quadrant for the procedure's treatment area, as stored; a
    ValidationError names the field at fault."""
    system = clinic.tooth_numbering
    area = procedure.treatment_area
    name = procedure.name
    tooth_text, surfaces_text, area_text = data.tooth.strip(), data.surfaces.strip(), data.area.strip()
    errors: dict[str, str] = {}
    stored: dict[str, Any] = {"tooth": None, "surfaces": "", "arch": "", "quadrant": None}
    if area in (TreatmentArea.TOOTH, TreatmentArea.TOOTH_SURFACES):
        if area_text:
            errors["area"] = f"{name} is done on one tooth: enter the tooth, not an arch or quadrant."
        if not tooth_text:
            errors["tooth"] = f"Enter the tooth for {name}. {numbering_hint(system)}"
        else:
            try:
                tooth = parse_tooth(tooth_text, system)
            except ToothError as error:
                errors["tooth"] = error.message
            else:
                stored["tooth"] = tooth.fdi
                surface_range = procedure.surface_range
                if surface_range is None:
                    if surfaces_text:
                        errors["surfaces"] = (
                            f"{name} is for the whole tooth, so it takes no surfaces. Leave this empty."
                        )
                else:
                    try:
                        surfaces = parse_surfaces(surfaces_text, tooth, system=system)
                    except ToothError as error:
                        errors["surfaces"] = error.message
                    else:
                        fewest, most = surface_range
                        label = format_tooth(tooth.fdi, system)
                        if not surfaces:
                            errors["surfaces"] = (
                                f"Enter the surfaces of tooth {label} for {name}, for example MO or MOD."
                            )
                        elif not fewest <= len(surfaces) <= most:
                            errors["surfaces"] = (
                                f"{name} covers {procedure.surfaces_in_words}; you entered {len(surfaces)} "
                                f"({''.join(surfaces)}). Check the surfaces or choose another procedure."
                            )
                        else:
                            stored["surfaces"] = "".join(surfaces)
    else:
        where = {
            TreatmentArea.WHOLE_MOUTH: "the whole mouth",
            TreatmentArea.ARCH: "a whole arch",
            TreatmentArea.QUADRANT: "a whole quadrant",
        }[TreatmentArea(area)]
        if tooth_text:
            errors["tooth"] = f"{name} is for {where}, so it does not take a tooth. Leave the tooth empty."
        if surfaces_text:
            errors["surfaces"] = f"{name} is for {where}, so it takes no surfaces. Leave this empty."
        if area == TreatmentArea.WHOLE_MOUTH:
            if area_text:
                errors["area"] = f"{name} is for the whole mouth. Leave the arch or quadrant empty."
        elif area == TreatmentArea.ARCH:
            try:
                stored["arch"] = parse_arch(area_text).value
            except ToothError as error:
                errors["area"] = f"{error.message} {name} is done on one arch."
        else:
            try:
                stored["quadrant"] = int(parse_quadrant(area_text))
            except ToothError as error:
                errors["area"] = f"{error.message} {name} is done on one quadrant."
    if errors:
        raise ValidationError(errors)
    return stored


def _resolve_line(case: Case, data: LineInput) -> dict[str, Any]:
    """Everything a line stores, or a ValidationError with every problem at its own field."""
    errors: dict[str, Any] = {}
    procedure = data.procedure
    values: dict[str, Any] = {}
    if procedure is None:
        errors["procedure"] = "Choose a procedure."
    elif procedure.organisation_id != case.clinic.organisation_id:
        errors["procedure"] = "Choose a procedure from this practice's catalogue."
    elif procedure.is_retired:
        errors["procedure"] = f"{procedure} has been retired from the catalogue. Choose a current procedure."
    else:
        try:
            values.update(_resolve_where(case.clinic, procedure, data))
        except ValidationError as error:
            errors.update(error.message_dict)
    if data.quantity is None or data.quantity < 1:
        errors["quantity"] = "Enter how many, 1 or more."
    elif data.quantity > 99:
        errors["quantity"] = "Enter at most 99; add another line for more."
    if data.phase is None or data.phase < 1:
        errors["phase"] = "Enter the phase, 1 or more. Phase 1 is done first."
    elif data.phase > 20:
        errors["phase"] = "Use phases 1 to 20."
    note = data.note.strip()
    if len(note) > 300:
        errors["note"] = "Keep the note under 300 characters."
    override_typed = str(data.fee_override).strip() if data.fee_override is not None else ""
    if override_typed or data.override_reason.strip():
        try:
            override = validate_fee_override(
                data.fee_override, data.override_reason, amount_field="fee_override", reason_field="override_reason"
            )
        except ValidationError as error:
            errors.update(error.message_dict)
        else:
            values.update(
                fee=override.amount,
                fee_source=PlanLine.FeeSource.OVERRIDE,
                override_reason=override.reason,
                fee_schedule=None,
                fee_effective_from=None,
            )
    elif procedure is not None and "procedure" not in errors:
        quote = fee_for(
            clinic=case.clinic, procedure=procedure, on_date=case.conversation_date, schedule=case.fee_schedule
        )
        if not quote.is_set:
            errors["fee_override"] = f"{quote.reason} Enter the fee for this plan and say why."
        else:
            values.update(
                fee=quote.amount,
                fee_source=PlanLine.FeeSource.SCHEDULE,
                override_reason="",
                fee_schedule_id=quote.schedule_id,
                fee_effective_from=quote.effective_from,
            )
    if errors:
        raise ValidationError(errors)
    values.update(procedure=procedure, quantity=data.quantity, phase=data.phase, note=note)
    return values


def _line_snapshot(line: PlanLine, system: str) -> dict[str, Any]:
    return {
        "procedure": line.procedure.code,
        "tooth": format_tooth(line.tooth, system) if line.tooth else "",
        "surfaces": line.surfaces,
        "arch": line.arch,
        "quadrant": line.quadrant,
        "quantity": line.quantity,
        "fee": str(line.fee),
        "fee_source": line.fee_source,
        "override_reason": line.override_reason,
        "phase": line.phase,
        "note": line.note,
    }


def _refuse_lines_on_no_treatment(option: PlanOption) -> None:
    if option.kind == PlanOption.Kind.NO_TREATMENT:
        raise ValidationError({"procedure": "The “No treatment” option has no procedures; describe it instead."})


def line_add(*, option: PlanOption, data: LineInput, by: User, request: HttpRequest | None = None) -> PlanLine:
    with transaction.atomic():
        case = _locked_case(option.case)
        current = case.options.get(pk=option.pk)
        _refuse_lines_on_no_treatment(current)
        values = _resolve_line(case, data)
        highest = current.lines.aggregate(highest=Max("position"))["highest"]
        line = PlanLine.objects.create(option=current, position=0 if highest is None else highest + 1, **values)
        snapshot = _line_snapshot(line, case.clinic.tooth_numbering)
        _audit(
            action=AuditEvent.Action.UPDATE,
            case=case,
            by=by,
            request=request,
            changes={"line_added": [None, {"option": current.title, **snapshot}]},
        )
    return line


def line_update(*, line: PlanLine, data: LineInput, by: User, request: HttpRequest | None = None) -> PlanLine:
    """Change a line. Its fee is looked up again unless a fee with a reason is given."""
    with transaction.atomic():
        case = _locked_case(line.option.case)
        current = PlanLine.objects.select_related("option", "procedure").get(pk=line.pk, option__case=case)
        system = case.clinic.tooth_numbering
        before = _line_snapshot(current, system)
        values = _resolve_line(case, data)
        for field, value in values.items():
            setattr(current, field, value)
        after = _line_snapshot(current, system)
        changes = changes_between(before, after)
        if changes:
            current.save()
            _audit(
                action=AuditEvent.Action.UPDATE,
                case=case,
                by=by,
                request=request,
                changes={f"line {before['procedure']}: {field}": values for field, values in changes.items()},
            )
    return current


def line_remove(*, line: PlanLine, by: User, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        case = _locked_case(line.option.case)
        current = PlanLine.objects.select_related("option", "procedure").get(pk=line.pk, option__case=case)
        snapshot = _line_snapshot(current, case.clinic.tooth_numbering)
        current.delete()
        _audit(
            action=AuditEvent.Action.UPDATE,
            case=case,
            by=by,
            request=request,
            changes={"line_removed": [{"option": current.option.title, **snapshot}, None]},
        )
