"""Every change to the catalogue and fee schedules: checked, saved in one transaction and
written to the audit log with what changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clearplan.accounts.models import Clinic, Organisation
from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record, changes_between
from clearplan.catalog import dependencies, starter
from clearplan.catalog.fees import FeeRow, day_in_words, latest_on, parse_amount
from clearplan.catalog.models import (
    TOOTH_AREAS,
    Category,
    Fee,
    FeeSchedule,
    Procedure,
    ProcedureDependency,
    TreatmentArea,
    normalise_code,
)
from clearplan.lib.clinic_time import clinic_now

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.accounts.models import User

PROCEDURE_RECORD_TYPE = "procedure"
FEE_SCHEDULE_RECORD_TYPE = "fee_schedule"
STANDARD_SCHEDULE_NAME = "Standard"

# What staff set on a procedure. Organisation, ids, retirement and import times are set here only.
PROCEDURE_FIELDS = (
    "code",
    "coding_system",
    "name",
    "category",
    "treatment_area",
    "surfaces_min",
    "surfaces_max",
    "default_chair_minutes",
    "usually_elective",
    "patient_explanation",
    "licensed_description",
)
SCHEDULE_FIELDS = ("name", "kind", "description")


def _procedure_snapshot(procedure: Procedure) -> dict[str, Any]:
    return {field: getattr(procedure, field) for field in PROCEDURE_FIELDS}


def _apply_procedure(procedure: Procedure, values: Mapping[str, Any]) -> None:
    unknown = set(values) - set(PROCEDURE_FIELDS)
    if unknown:
        raise ValueError(f"Not procedure fields staff can set: {', '.join(sorted(unknown))}")
    for field, value in values.items():
        if isinstance(value, str) and field not in {"patient_explanation", "licensed_description"}:
            value = value.strip()
        setattr(procedure, field, value)
    procedure.code = normalise_code(procedure.code or "")
    # Surface counts mean nothing for other areas; leftovers from an earlier choice are dropped.
    if procedure.treatment_area != TreatmentArea.TOOTH_SURFACES:
        procedure.surfaces_min = None
        procedure.surfaces_max = None


def _code_taken_error(organisation_id: int, code: str, exclude_pk: int | None) -> ValidationError | None:
    same_code = Procedure.objects.filter(organisation_id=organisation_id, code=code)
    if exclude_pk is not None:
        same_code = same_code.exclude(pk=exclude_pk)
    taken = same_code.first()
    if taken is None:
        return None
    retired = " (retired — restore it instead)" if taken.is_retired else ""
    return ValidationError({"code": f"Code {code} is already used by “{taken.name}”{retired}."})


def _save_procedure(procedure: Procedure) -> None:
    error = _code_taken_error(procedure.organisation_id, procedure.code, procedure.pk)
    if error is not None:
        raise error
    procedure.full_clean(exclude=["organisation"])
    try:
        with transaction.atomic():
            procedure.save()
    except IntegrityError as integrity_error:
        error = _code_taken_error(procedure.organisation_id, procedure.code, procedure.pk)
        if error is not None:
            raise error from integrity_error
        raise


def procedure_create(
    *, organisation: Organisation, by: User | None, values: Mapping[str, Any], request: HttpRequest | None = None
) -> Procedure:
    """Add an item to the organisation's catalogue. Raises ValidationError (by field)."""
    with transaction.atomic():
        procedure = Procedure(organisation=organisation)
        _apply_procedure(procedure, values)
        _save_procedure(procedure)
        audit_record(
            action=AuditEvent.Action.CREATE,
            request=request,
            actor=by,
            obj=procedure,
            object_type=PROCEDURE_RECORD_TYPE,
            changes=changes_between({}, _procedure_snapshot(procedure)),
        )
    return procedure


def procedure_update(
    *, procedure: Procedure, by: User | None, values: Mapping[str, Any], request: HttpRequest | None = None
) -> Procedure:
    with transaction.atomic():
        current = Procedure.objects.select_for_update().get(pk=procedure.pk)
        before = _procedure_snapshot(current)
        _apply_procedure(current, values)
        changes = changes_between(before, _procedure_snapshot(current))
        if changes:
            if "licensed_description" in changes:
                current.licensed_description_imported_at = None
            _save_procedure(current)
            audit_record(
                action=AuditEvent.Action.UPDATE,
                request=request,
                actor=by,
                obj=current,
                object_type=PROCEDURE_RECORD_TYPE,
                changes=changes,
            )
    return current


def _set_retired(*, procedure: Procedure, retired: bool, by: User | None, request: HttpRequest | None) -> Procedure:
    with transaction.atomic():
        current = Procedure.objects.select_for_update().get(pk=procedure.pk)
        if current.is_retired == retired:
            return current
        if not retired:
            error = _code_taken_error(current.organisation_id, current.code, current.pk)
            if error is not None:
                raise error
        current.retired_at = timezone.now() if retired else None
        current.save(update_fields=["retired_at", "updated_at"])
        audit_record(
            action=AuditEvent.Action.UPDATE,
            request=request,
            actor=by,
            obj=current,
            object_type=PROCEDURE_RECORD_TYPE,
            changes={"retired": [not retired, retired]},
        )
    return current


def procedure_retire(*, procedure: Procedure, by: User | None, request: HttpRequest | None = None) -> Procedure:
    """Hide the item from new plans. Plans, fees and rules that already use it keep it."""
    return _set_retired(procedure=procedure, retired=True, by=by, request=request)


def procedure_restore(*, procedure: Procedure, by: User | None, request: HttpRequest | None = None) -> Procedure:
    return _set_retired(procedure=procedure, retired=False, by=by, request=request)


# ---------- Order rules ----------


def _check_dependency(
    procedure: Procedure, requires_procedure: Procedure | None, requires_category: str, site: str
) -> None:
    if (requires_procedure is None) == (not requires_category):
        raise ValidationError("Choose either one procedure or a whole category that must come first, not both.")
    if requires_procedure is not None:
        if requires_procedure.organisation_id != procedure.organisation_id:
            raise ValidationError({"requires_procedure": "Choose a procedure from your own catalogue."})
        if requires_procedure.pk == procedure.pk:
            raise ValidationError({"requires_procedure": "A procedure cannot have to come after itself."})
        if requires_procedure.is_retired:
            raise ValidationError(
                {"requires_procedure": f"{requires_procedure.code} is retired; restore it first or choose another."}
            )
    elif requires_category not in Category.values:
        raise ValidationError({"requires_category": "Choose one of the categories in the list."})
    if site in (ProcedureDependency.Site.SAME_TOOTH, ProcedureDependency.Site.SAME_SITE):
        where = ProcedureDependency.Site(site).label.lower()
        if procedure.treatment_area not in TOOTH_AREAS:
            raise ValidationError(
                {"site": f"{procedure.code} is not done on one tooth, so it cannot be “{where}”. Choose “anywhere”."}
            )
        if requires_procedure is not None and requires_procedure.treatment_area not in TOOTH_AREAS:
            raise ValidationError(
                {
                    "site": f"{requires_procedure.code} is not done on one tooth, so it cannot be “{where}”. "
                    "Choose “anywhere”."
                }
            )


def dependency_add(
    *,
    procedure: Procedure,
    by: User | None,
    requires_procedure: Procedure | None = None,
    requires_category: str = "",
    site: str = ProcedureDependency.Site.SAME_TOOTH,
    min_gap_weeks: int = 0,
    note: str = "",
    request: HttpRequest | None = None,
) -> ProcedureDependency:
    """`procedure` must come after `requires_procedure` (or any procedure of `requires_category`).
    Refuses a rule that would make two procedures each wait for the other."""
    with transaction.atomic():
        # One rule change at a time per catalogue, so two people cannot close a loop together.
        organisation = Organisation.objects.select_for_update().get(pk=procedure.organisation_id)
        _check_dependency(procedure, requires_procedure, requires_category, site)
        duplicate = ProcedureDependency.objects.filter(procedure=procedure)
        duplicate = (
            duplicate.filter(requires_procedure=requires_procedure)
            if requires_procedure is not None
            else duplicate.filter(requires_category=requires_category)
        )
        if duplicate.exists():
            raise ValidationError("This procedure already has a rule about that. Remove it first to change it.")
        existing = [
            dependencies.Rule(rule.procedure_id, rule.requires_procedure_id, rule.requires_category)
            for rule in ProcedureDependency.objects.filter(procedure__organisation=organisation)
        ]
        categories = dict(Procedure.objects.filter(organisation=organisation).values_list("pk", "category"))
        new = dependencies.Rule(procedure.pk, requires_procedure.pk if requires_procedure else None, requires_category)
        loop = dependencies.circular_with(existing, new, categories)
        if loop:
            codes = ", ".join(sorted(Procedure.objects.filter(pk__in=loop).values_list("code", flat=True)))
            raise ValidationError(
                f"This would be circular: {codes} already has to come after {procedure.code}, "
                "so no plan could put them in order."
            )
        dependency = ProcedureDependency(
            procedure=procedure,
            requires_procedure=requires_procedure,
            requires_category=requires_category,
            site=site,
            min_gap_weeks=min_gap_weeks,
            note=note.strip(),
        )
        dependency.full_clean()
        dependency.save()
        audit_record(
            action=AuditEvent.Action.UPDATE,
            request=request,
            actor=by,
            obj=procedure,
            object_type=PROCEDURE_RECORD_TYPE,
            changes={"order_rule": [None, dependency.in_words]},
        )
    return dependency


def dependency_remove(*, dependency: ProcedureDependency, by: User | None, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        procedure = dependency.procedure
        described = dependency.in_words
        dependency.delete()
        audit_record(
            action=AuditEvent.Action.UPDATE,
            request=request,
            actor=by,
            obj=procedure,
            object_type=PROCEDURE_RECORD_TYPE,
            changes={"order_rule": [described, None]},
        )


# ---------- Starter catalogues ----------


@dataclass(frozen=True)
class StarterInstall:
    added: int
    already_there: int
    rules_added: int


def catalog_install_starter(
    *, organisation: Organisation, region: str, by: User | None, request: HttpRequest | None = None
) -> StarterInstall:
    """Add the starter items (and their order rules) the catalogue does not have yet. Items with the
    same code, even edited or retired ones, are left as they are, so running it again changes nothing."""
    items = starter.starter_items(region)
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        existing = set(Procedure.objects.filter(organisation=organisation).values_list("code", flat=True))
        new = [
            Procedure(
                organisation=organisation,
                coding_system=starter.CODING_SYSTEMS[region],
                code=item.code,
                name=item.name,
                patient_explanation=item.patient_explanation,
                category=item.category,
                treatment_area=item.treatment_area,
                surfaces_min=item.surfaces_min,
                surfaces_max=item.surfaces_max,
                default_chair_minutes=item.chair_minutes,
                usually_elective=item.usually_elective,
            )
            for item in items
            if item.code not in existing
        ]
        for procedure in new:
            procedure.full_clean(exclude=["organisation"], validate_unique=False, validate_constraints=False)
        Procedure.objects.bulk_create(new)
        rules_added = _install_starter_rules(organisation, region)
        if new or rules_added:
            audit_record(
                action=AuditEvent.Action.CREATE,
                request=request,
                actor=by,
                object_type=PROCEDURE_RECORD_TYPE,
                object_label=f"{starter.REGIONS[region]} starter catalogue",
                changes={"procedures_added": len(new), "order_rules_added": rules_added},
            )
    return StarterInstall(added=len(new), already_there=len(items) - len(new), rules_added=rules_added)


def _install_starter_rules(organisation: Organisation, region: str) -> int:
    by_code = {p.code: p for p in Procedure.objects.filter(organisation=organisation)}
    have = {
        (rule.procedure_id, rule.requires_procedure_id, rule.requires_category)
        for rule in ProcedureDependency.objects.filter(procedure__organisation=organisation)
    }
    added = 0
    for rule in starter.starter_rules(region):
        procedure = by_code.get(rule.procedure)
        required = by_code.get(rule.requires_code) if rule.requires_code else None
        if procedure is None or (rule.requires_code and required is None):
            continue
        key = (procedure.pk, required.pk if required else None, rule.requires_category)
        if key in have:
            continue
        ProcedureDependency.objects.create(
            procedure=procedure,
            requires_procedure=required,
            requires_category=rule.requires_category,
            site=rule.site,
            min_gap_weeks=rule.min_gap_weeks,
            note=rule.note,
        )
        have.add(key)
        added += 1
    return added


# ---------- Licensed descriptions ----------


def procedure_descriptions_import(
    *,
    organisation: Organisation,
    descriptions: Mapping[str, str],
    by: User | None,
    file_name: str = "",
    request: HttpRequest | None = None,
) -> int:
    """Set the licensed description of each catalogue item by code, all or nothing. Codes not in
    the catalogue are ignored. Returns how many items changed."""
    now = timezone.now()
    with transaction.atomic():
        procedures = list(
            Procedure.objects.select_for_update().filter(organisation=organisation, code__in=list(descriptions))
        )
        changed = []
        for procedure in procedures:
            description = descriptions[procedure.code]
            if procedure.licensed_description != description:
                procedure.licensed_description = description
                procedure.licensed_description_imported_at = now
                procedure.full_clean(exclude=["organisation"], validate_unique=False, validate_constraints=False)
                changed.append(procedure)
        Procedure.objects.bulk_update(changed, ["licensed_description", "licensed_description_imported_at"])
        if changed:
            audit_record(
                action=AuditEvent.Action.UPDATE,
                request=request,
                actor=by,
                object_type=PROCEDURE_RECORD_TYPE,
                object_label="Licensed descriptions imported",
                changes={
                    "file": file_name,
                    "procedures_updated": len(changed),
                    "codes": ", ".join(sorted(p.code for p in changed)),
                },
            )
    return len(changed)


# ---------- Fee schedules ----------


def _schedule_snapshot(schedule: FeeSchedule) -> dict[str, Any]:
    return {field: getattr(schedule, field) for field in SCHEDULE_FIELDS}


def _check_schedule_name(schedule: FeeSchedule) -> None:
    schedule.name = " ".join(schedule.name.split())
    clash = FeeSchedule.objects.filter(clinic_id=schedule.clinic_id, name__iexact=schedule.name).exclude(pk=schedule.pk)
    if clash.exists():
        raise ValidationError({"name": f"This clinic already has a fee schedule called “{schedule.name}”."})


def _save_schedule(schedule: FeeSchedule) -> None:
    _check_schedule_name(schedule)
    schedule.full_clean(exclude=["clinic"], validate_constraints=False)
    try:
        with transaction.atomic():
            schedule.save()
    except IntegrityError as error:
        _check_schedule_name(schedule)
        raise error


def fee_schedule_create(
    *,
    clinic: Clinic,
    by: User | None,
    name: str,
    kind: str = FeeSchedule.Kind.STANDARD,
    description: str = "",
    request: HttpRequest | None = None,
) -> FeeSchedule:
    """A new, empty schedule. The clinic's first schedule becomes its default."""
    with transaction.atomic():
        clinic = Clinic.objects.select_for_update().get(pk=clinic.pk)
        schedule = FeeSchedule(
            clinic=clinic,
            name=name,
            kind=kind,
            description=description.strip(),
            is_default=not FeeSchedule.objects.filter(clinic=clinic).exists(),
        )
        _save_schedule(schedule)
        audit_record(
            action=AuditEvent.Action.CREATE,
            request=request,
            actor=by,
            clinic=clinic,
            obj=schedule,
            object_type=FEE_SCHEDULE_RECORD_TYPE,
            changes={**changes_between({}, _schedule_snapshot(schedule)), "default": [None, schedule.is_default]},
        )
    return schedule


def fee_schedule_update(
    *, schedule: FeeSchedule, by: User | None, values: Mapping[str, Any], request: HttpRequest | None = None
) -> FeeSchedule:
    unknown = set(values) - set(SCHEDULE_FIELDS)
    if unknown:
        raise ValueError(f"Not fee schedule fields staff can set: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        current = FeeSchedule.objects.select_for_update().select_related("clinic").get(pk=schedule.pk)
        before = _schedule_snapshot(current)
        for field, value in values.items():
            setattr(current, field, value.strip() if isinstance(value, str) else value)
        _check_schedule_name(current)
        changes = changes_between(before, _schedule_snapshot(current))
        if changes:
            _save_schedule(current)
            audit_record(
                action=AuditEvent.Action.UPDATE,
                request=request,
                actor=by,
                clinic=current.clinic,
                obj=current,
                object_type=FEE_SCHEDULE_RECORD_TYPE,
                changes=changes,
            )
    return current


def fee_schedule_set_default(
    *, schedule: FeeSchedule, by: User | None, request: HttpRequest | None = None
) -> FeeSchedule:
    """Make `schedule` the one plans use unless told otherwise; the previous default stops being it."""
    with transaction.atomic():
        clinic = Clinic.objects.select_for_update().get(pk=schedule.clinic_id)
        current = FeeSchedule.objects.select_for_update().get(pk=schedule.pk)
        if current.is_default:
            return current
        previous = FeeSchedule.objects.filter(clinic=clinic, is_default=True).first()
        # Cleared first: the database allows one default per clinic at any moment.
        FeeSchedule.objects.filter(clinic=clinic, is_default=True).update(is_default=False, updated_at=timezone.now())
        current.is_default = True
        current.save(update_fields=["is_default", "updated_at"])
        audit_record(
            action=AuditEvent.Action.SETTINGS,
            request=request,
            actor=by,
            clinic=clinic,
            obj=current,
            object_type=FEE_SCHEDULE_RECORD_TYPE,
            changes={"default_schedule": [previous.name if previous else None, current.name]},
        )
    return current


def fees_set(
    *,
    schedule: FeeSchedule,
    by: User | None,
    effective_from: date,
    amounts: Mapping[Procedure, Decimal | str],
    request: HttpRequest | None = None,
) -> int:
    """New fees in `schedule` from `effective_from`. Earlier fees stay as they were, so plans and
    quotes for earlier days are unchanged. A fee equal to the one already applying that day is
    skipped; a second change on the same day replaces the first. Returns how many fees changed."""
    with transaction.atomic():
        schedule = FeeSchedule.objects.select_for_update().select_related("clinic").get(pk=schedule.pk)
        errors: list[str] = []
        parsed: dict[Procedure, Decimal] = {}
        for procedure, amount in amounts.items():
            if procedure.organisation_id != schedule.clinic.organisation_id:
                raise ValueError("That procedure belongs to another organisation.")
            try:
                parsed[procedure] = parse_amount(amount)
            except ValueError as error:
                errors.append(f"Fee for {procedure.code}: {error}")
        if errors:
            raise ValidationError(errors)
        existing: dict[int, list[FeeRow]] = {}
        same_day: dict[int, Fee] = {}
        for fee in Fee.objects.filter(schedule=schedule, procedure__in=list(parsed)):
            existing.setdefault(fee.procedure_id, []).append(
                FeeRow(schedule_id=schedule.pk, amount=fee.amount, effective_from=fee.effective_from)
            )
            if fee.effective_from == effective_from:
                same_day[fee.procedure_id] = fee
        changes: dict[str, list[Any]] = {}
        for procedure, amount in sorted(parsed.items(), key=lambda item: item[0].code):
            applying = latest_on(existing.get(procedure.pk, []), schedule_id=schedule.pk, on_date=effective_from)
            if applying is not None and applying.amount == amount:
                continue
            if procedure.pk in same_day:
                fee = same_day[procedure.pk]
                fee.amount = amount
                fee.created_by = by
                fee.save(update_fields=["amount", "created_by"])
            else:
                Fee.objects.create(
                    schedule=schedule, procedure=procedure, amount=amount, effective_from=effective_from, created_by=by
                )
            changes[procedure.code] = [str(applying.amount) if applying else None, str(amount)]
        if changes:
            schedule.save(update_fields=["updated_at"])
            audit_record(
                action=AuditEvent.Action.UPDATE,
                request=request,
                actor=by,
                clinic=schedule.clinic,
                obj=schedule,
                object_type=FEE_SCHEDULE_RECORD_TYPE,
                changes={"fees_from": day_in_words(effective_from), **changes},
            )
    return len(changes)


def fee_schedule_create_standard(
    *,
    clinic: Clinic,
    by: User | None,
    effective_from: date | None = None,
    request: HttpRequest | None = None,
) -> FeeSchedule:
    """The clinic's "Standard" schedule with the starter fees (in the clinic's currency) for the
    starter items in the catalogue. Fees already in the schedule are kept; running it again adds
    only what is missing."""
    region = starter.region_for_currency(clinic.currency)
    if region is None:
        raise ValidationError(
            f"Starter fees come in AUD and USD; this clinic uses {clinic.currency}. Add a schedule and enter its fees."
        )
    starting = effective_from or clinic_now(clinic).date()
    with transaction.atomic():
        schedule = FeeSchedule.objects.filter(clinic=clinic, name__iexact=STANDARD_SCHEDULE_NAME).first()
        if schedule is None:
            schedule = fee_schedule_create(
                clinic=clinic, by=by, name=STANDARD_SCHEDULE_NAME, kind=FeeSchedule.Kind.STANDARD, request=request
            )
        starter_fees = {item.code: item.fee for item in starter.starter_items(region)}
        priced = set(Fee.objects.filter(schedule=schedule).values_list("procedure_id", flat=True))
        missing = {
            procedure: starter_fees[procedure.code]
            for procedure in Procedure.objects.filter(organisation_id=clinic.organisation_id, code__in=starter_fees)
            .active()
            .order_by("code")
            if procedure.pk not in priced
        }
        if missing:
            fees_set(schedule=schedule, by=by, effective_from=starting, amounts=missing, request=request)
    return schedule
