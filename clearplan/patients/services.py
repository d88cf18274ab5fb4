"""Every change to a patient record goes through here: validated, saved in one transaction
and written to the audit log with what changed."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record, changes_between
from clearplan.patients import phones
from clearplan.patients.models import Patient

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.accounts.models import Clinic, User

# The fields staff fill in. Anything else (clinic, ids, timestamps) is set here, never from input.
EDITABLE_FIELDS = (
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "mobile",
    "email",
    "preferred_channel",
    "consent_sms",
    "consent_email",
    "pms_id",
    "primary_dentist",
    "guardian_name",
    "guardian_relationship",
    "guardian_mobile",
    "guardian_email",
    "medical_alerts",
    "notes",
)


class StaleRecordError(Exception):
    """The record changed after the person editing it opened the form."""

    def __init__(self, patient: Patient) -> None:
        super().__init__("The patient record changed after this form was opened.")
        self.patient = patient


def record_version(patient: Patient) -> str:
    """What an edit form carries to prove it was opened on the current version of the record."""
    return patient.updated_at.isoformat() if patient.updated_at else ""


def patient_snapshot(patient: Patient) -> dict[str, Any]:
    """The record as the audit log shows it: plain values, dentist by name."""
    snapshot: dict[str, Any] = {}
    for field in EDITABLE_FIELDS:
        value = getattr(patient, field)
        if field == "primary_dentist":
            value = value.display_name if value is not None else ""
        elif field == "date_of_birth":
            value = value.isoformat() if value else ""
        snapshot[field] = value
    return snapshot


def _apply(patient: Patient, details: dict[str, Any]) -> None:
    unknown = set(details) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not patient fields that staff can set: {', '.join(sorted(unknown))}")
    country = patient.clinic.country
    for field, value in details.items():
        if field in {"mobile", "guardian_mobile"}:
            try:
                value = phones.to_e164(value or "", country=country)
            except phones.InvalidPhoneNumber as error:
                raise ValidationError({field: phones.invalid_mobile_message(country)}) from error
        elif isinstance(value, str) and field not in {"medical_alerts", "notes"}:
            value = value.strip()
        setattr(patient, field, value)


def _save(patient: Patient) -> None:
    patient.full_clean(exclude={"search_name"})
    try:
        # A savepoint, so a lost race on the practice-management ID leaves the transaction usable.
        with transaction.atomic():
            patient.save()
    except IntegrityError as error:
        if patient.pms_id and Patient.objects.filter(clinic=patient.clinic, pms_id=patient.pms_id).exists():
            raise ValidationError(
                {"pms_id": "Another patient at this clinic already has this practice-management ID."}
            ) from error
        raise


def patient_create(
    *, clinic: Clinic, by: User | None, details: dict[str, Any], request: HttpRequest | None = None
) -> Patient:
    """Register a patient at `clinic`. Raises ValidationError (by field) if a rule is broken."""
    with transaction.atomic():
        patient = Patient(clinic=clinic, created_by=by)
        _apply(patient, details)
        _save(patient)
        audit_record(
            action=AuditEvent.Action.CREATE,
            request=request,
            actor=by,
            clinic=clinic,
            obj=patient,
            changes=changes_between({}, patient_snapshot(patient)),
        )
    return patient


def patient_update(
    *,
    patient: Patient,
    by: User | None,
    details: dict[str, Any],
    expected_version: str | None = None,
    request: HttpRequest | None = None,
) -> Patient:
    """Change a patient's record. With `expected_version` (from record_version when the form was
    opened), refuses with StaleRecordError if someone else saved the record in the meantime."""
    with transaction.atomic():
        current = (
            Patient.objects.select_for_update(of=("self",))
            .select_related("clinic", "primary_dentist")
            .get(pk=patient.pk)
        )
        if expected_version is not None and record_version(current) != expected_version:
            raise StaleRecordError(current)
        before = patient_snapshot(current)
        _apply(current, details)
        changes = changes_between(before, patient_snapshot(current))
        if changes:
            _save(current)
            audit_record(
                action=AuditEvent.Action.UPDATE,
                request=request,
                actor=by,
                clinic=current.clinic,
                obj=current,
                changes=changes,
            )
    return current


def parse_version(value: str) -> str:
    """Versions travel through a hidden field; anything that is not a timestamp never matches."""
    try:
        return datetime.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        return "unreadable"
