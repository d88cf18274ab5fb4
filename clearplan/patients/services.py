"""Every change to a patient record goes through here: validated, saved in one transaction
and written to the audit log with what changed."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record, changes_between
from clearplan.patients import phones
from clearplan.patients.models import ContactConsentChange, Patient

if TYPE_CHECKING:
    import uuid

    from django.http import HttpRequest

    from clearplan.accounts.models import Clinic, User
    from clearplan.messaging.models import SmsOptOut

PATIENT_LIST_RECORD_TYPE = "patient_list"

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


class PatientAlreadyCreated(Exception):
    """The "Add a patient" form was submitted again after it had already added `patient`."""

    def __init__(self, patient: Patient) -> None:
        super().__init__("This form has already added a patient.")
        self.patient = patient


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
                value = phones.mobile_to_e164(value or "", country=country)
            except phones.InvalidPhoneNumber as error:
                raise ValidationError({field: error.message}) from error
        elif isinstance(value, str) and field not in {"medical_alerts", "notes"}:
            value = value.strip()
        setattr(patient, field, value)


def _save(patient: Patient) -> None:
    # The creation token is checked by patient_create and, in a race, by the unique index below.
    patient.full_clean(exclude={"search_name", "creation_token"})
    try:
        # A savepoint, so a lost race leaves the transaction usable for the checks below.
        with transaction.atomic():
            patient.save()
    except IntegrityError as error:
        if patient.creation_token is not None:
            _refuse_a_second_patient_from_one_form(patient.clinic, patient.creation_token)
        if patient.pms_id and Patient.objects.filter(clinic=patient.clinic, pms_id=patient.pms_id).exists():
            raise ValidationError(
                {"pms_id": "Another patient at this clinic already has this practice-management ID."}
            ) from error
        raise


def _refuse_a_second_patient_from_one_form(clinic: Clinic, creation_token: uuid.UUID) -> None:
    earlier = Patient.objects.filter(creation_token=creation_token).select_related("clinic").first()
    if earlier is None:
        return
    if earlier.clinic_id == clinic.pk:
        raise PatientAlreadyCreated(earlier)
    # Only possible when the clinic was switched in another tab between two submissions.
    raise ValidationError("This form has already added a patient at another clinic. Open “Add a patient” again.")


def patient_create(
    *,
    clinic: Clinic,
    by: User | None,
    details: dict[str, Any],
    creation_token: uuid.UUID | None = None,
    request: HttpRequest | None = None,
) -> Patient:
    """Register a patient at `clinic`. Raises ValidationError (by field) if a rule is broken.

    `creation_token` comes from the form: if a patient was already added with it, raises
    PatientAlreadyCreated with that patient instead of adding a second."""
    with transaction.atomic():
        if creation_token is not None:
            _refuse_a_second_patient_from_one_form(clinic, creation_token)
        patient = Patient(clinic=clinic, created_by=by, creation_token=creation_token)
        _apply(patient, details)
        _refuse_sms_consent_after_stop(patient, was_agreeing=False, numbers_before=())
        _save(patient)
        _record_consent_changes(patient, before={"consent_sms": False, "consent_email": False}, by=by)
        audit_record(
            action=AuditEvent.Action.CREATE,
            request=request,
            actor=by,
            clinic=clinic,
            obj=patient,
            changes=changes_between({}, patient_snapshot(patient)),
        )
    return patient


# The patient list is audited once per page of results shown. Showing exactly the same
# patients again within this long (a reload, the back button, a keystroke that did not change
# the results) is not recorded again, so searching as you type does not flood the log.
LIST_VIEW_REPEAT_AFTER = timedelta(minutes=1)
LIST_VIEW_SESSION_KEY = "clearplan_patient_list_recorded"


def patient_list_shown(
    *, request: HttpRequest, clinic: Clinic, patients: Sequence[Patient], page_number: int, search_token: str = ""
) -> AuditEvent | None:
    """Record that a page of the patient list (names, birth dates, mobiles) was shown. The search
    is recorded by its token only: the text is often a name or a phone number."""
    if not patients:
        return None
    shown = hashlib.sha256(f"{clinic.pk}:{page_number}:{','.join(str(p.pk) for p in patients)}".encode()).hexdigest()
    now = timezone.now()
    last = request.session.get(LIST_VIEW_SESSION_KEY) or {}
    if last.get("shown") == shown and now.timestamp() - last.get("at", 0) < LIST_VIEW_REPEAT_AFTER.total_seconds():
        return None
    changes: dict[str, Any] = {"patients_shown": len(patients), "page": page_number}
    if search_token:
        changes["search_token"] = search_token
    # One insert, atomic on its own; nothing else is written with it.
    event = audit_record(
        action=AuditEvent.Action.VIEW,
        request=request,
        clinic=clinic,
        object_type=PATIENT_LIST_RECORD_TYPE,
        object_label="Patient search" if search_token else "All patients",
        changes=changes,
    )
    request.session[LIST_VIEW_SESSION_KEY] = {"shown": shown, "at": now.timestamp()}
    return event


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
        _refuse_sms_consent_after_stop(
            current,
            was_agreeing=before["consent_sms"],
            numbers_before=(before["mobile"], before["guardian_mobile"]),
        )
        changes = changes_between(before, patient_snapshot(current))
        if changes:
            _save(current)
            _record_consent_changes(current, before=before, by=by)
            audit_record(
                action=AuditEvent.Action.UPDATE,
                request=request,
                actor=by,
                clinic=current.clinic,
                obj=current,
                changes=changes,
            )
    return current


# ---------- Consent to SMS and email ----------


def sms_stops_on_file(patient: Patient) -> list[SmsOptOut]:
    """The patient's mobile numbers (theirs, their guardian's) that texted STOP, oldest first."""
    from clearplan.messaging.models import SmsOptOut

    numbers = [number for number in (patient.mobile, patient.guardian_mobile) if number]
    if not numbers:
        return []
    return list(SmsOptOut.objects.filter(number__in=numbers).order_by("created_at", "id"))


def sms_stop_warning(patient: Patient, stop: SmsOptOut) -> str:
    from clearplan.lib.clinic_time import clinic_zone

    when = stop.created_at.astimezone(clinic_zone(patient.clinic))
    whose = "The parent or guardian's number" if stop.number != patient.mobile else "This number"
    return (
        f"{whose} texted {stop.keyword or 'STOP'} on {when.day} {when:%B %Y}; "
        "text messages stay off until the patient texts START."
    )


def _refuse_sms_consent_after_stop(patient: Patient, *, was_agreeing: bool, numbers_before: Sequence[str]) -> None:
    """A number that texted STOP is texted again only after it texts START: the patient's own
    word, which the team cannot give for them. Refused when SMS consent is ticked (or the numbers
    changed) and every mobile on the record has opted out."""
    numbers = {number for number in (patient.mobile, patient.guardian_mobile) if number}
    if not patient.consent_sms or not numbers:
        return
    if was_agreeing and set(filter(None, numbers_before)) == numbers:
        return
    stops = sms_stops_on_file(patient)
    if len({stop.number for stop in stops}) < len(numbers):
        return
    raise ValidationError({"consent_sms": sms_stop_warning(patient, stops[-1])}, code="sms_opted_out")


def _record_consent_changes(patient: Patient, *, before: dict[str, Any], by: User | None) -> None:
    """Each consent box the team ticked or unticked goes into the patient's consent history."""
    for field, channel in (("consent_sms", Patient.Channel.SMS), ("consent_email", Patient.Channel.EMAIL)):
        agrees = bool(getattr(patient, field))
        if agrees != bool(before[field]):
            ContactConsentChange.objects.create(
                patient=patient,
                channel=channel,
                agrees=agrees,
                source=ContactConsentChange.Source.STAFF,
                changed_by=by,
            )


def consent_history(patient: Patient, *, limit: int = 20) -> list[ContactConsentChange]:
    """The latest changes to the patient's SMS and email consent, newest first."""
    return list(patient.consent_changes.select_related("changed_by").order_by("-created_at", "-id")[:limit])


def parse_version(value: str) -> str:
    """Versions travel through a hidden field; anything that is not a timestamp never matches."""
    try:
        return datetime.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        return "unreadable"
